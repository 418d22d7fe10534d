/**
 * Absolute-form plain-HTTP requests (`GET http://host/path`), as HTTP_PROXY
 * clients send them: checked like a CONNECT, then relayed on a connection of
 * their own, dialled at the address checked after one lookup
 * (address-check.ts). No credential is ever added; the gateway's team key
 * is only for the API routes.
 */
import http from 'node:http';
import { endToEndHeaders } from '../headers.js';
import { type Decision, decide, resolveDestination } from './decide.js';
import { hostPort } from './grammar.js';
import { EgressRecord } from './record.js';
import { answerResponse, denialAnswer, failureAnswer } from './respond.js';
import type { EgressContext } from './tunnel.js';

/** Whether the request target is a URL (a proxy request) rather than a path. */
export function isAbsoluteForm(url: string | undefined): boolean {
  return url !== undefined && /^[a-z][a-z0-9+.-]*:\/\//i.test(url);
}

function httpUrl(target: string | undefined): URL | undefined {
  try {
    const url = new URL(target ?? '');
    return url.protocol === 'http:' ? url : undefined;
  } catch {
    return undefined;
  }
}

export function forwardHttp(ctx: EgressContext, req: http.IncomingMessage, res: http.ServerResponse): void {
  const source = req.socket.remoteAddress;
  const record = new EgressRecord(ctx.write, 'http', source, req.method);
  let bytesUp = 0;
  let bytesDown = 0;
  req.on('error', () => {});
  res.on('error', () => {});
  res.on('close', () => record.finish(bytesUp, bytesDown));

  const url = httpUrl(req.url);
  // HTTPS goes through CONNECT: an https:// URL here would need the gateway to speak TLS for the client.
  const decision: Decision = url
    ? decide(ctx.egress, source, url.host, 80)
    : {
        allowed: false,
        reason: 'bad-target',
        status: 400,
        message: 'cctl gateway: only http:// URLs are proxied this way; HTTPS goes through CONNECT.\n',
      };
  if (decision.destination) record.destination(decision.destination);
  if (!decision.allowed || !url) {
    const denial = decision.allowed ? undefined : decision;
    const answer = denialAnswer(
      denial ?? { allowed: false, reason: 'bad-target', status: 400, message: 'cctl gateway: not an http:// URL.\n' },
    );
    record.denied(denial?.reason ?? 'bad-target', answer.status);
    answerResponse(res, answer);
    return;
  }

  const { destination } = decision;
  // One deadline for the lookup and the connection together.
  let answered = false;
  const fail = (code: string) => {
    if (answered || res.headersSent) return;
    answered = true;
    const answer = failureAnswer(code, hostPort(destination));
    record.error = code;
    record.status = answer.status;
    answerResponse(res, answer);
  };
  let pending: http.ClientRequest | undefined;
  const connectTimer = setTimeout(() => {
    fail('timeout');
    pending?.destroy();
  }, ctx.connectTimeoutMs);
  res.on('close', () => clearTimeout(connectTimer));
  void resolveDestination(ctx.egress!, destination).then((resolved) => {
    if (answered || res.destroyed) return;
    if ('error' in resolved) {
      clearTimeout(connectTimer);
      fail(resolved.error);
      return;
    }
    record.address = resolved.address;
    if ('denial' in resolved) {
      clearTimeout(connectTimer);
      answered = true;
      record.denied(resolved.denial.reason, resolved.denial.status);
      answerResponse(res, denialAnswer(resolved.denial));
      return;
    }
    relay(resolved.address);
  });

  /** The request, on a connection of its own to the checked address (createConnection: no second lookup). */
  function relay(address: string): void {
    const headers = endToEndHeaders(req.headers);
    headers.host = url!.host;
    delete headers.expect;
    const upstream = http.request({
      host: address,
      port: destination.port,
      method: req.method,
      path: url!.pathname + url!.search,
      headers,
      // No agent: a connection of its own, made by createConnection (an agent would dial by itself).
      createConnection: () => ctx.egress!.net.connect({ host: address, port: destination.port }),
    });
    pending = upstream;
    upstream.on('socket', (socket) => socket.once('connect', () => clearTimeout(connectTimer)));
    upstream.setTimeout(ctx.idleTimeoutMs, () => upstream.destroy(Object.assign(new Error('idle timeout'), { code: 'idle timeout' })));
    upstream.on('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(connectTimer);
      const code = error.code ?? error.message;
      if (res.headersSent) {
        record.error = code;
        res.destroy();
        return;
      }
      fail(code);
    });
    upstream.on('response', (upstreamRes) => {
      record.status = upstreamRes.statusCode ?? 502;
      res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.statusMessage, endToEndHeaders(upstreamRes.headers));
      upstreamRes.on('data', (chunk: Buffer) => (bytesDown += chunk.length));
      upstreamRes.on('error', () => res.destroy());
      upstreamRes.pipe(res);
    });
    req.on('data', (chunk: Buffer) => (bytesUp += chunk.length));
    req.pipe(upstream);
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
  }
}
