/**
 * Absolute-form plain-HTTP requests (`GET http://host/path`), as HTTP_PROXY
 * clients send them: checked like a CONNECT, then relayed on a connection of
 * their own. No credential is ever added; the gateway's team key is only
 * for the API routes.
 */
import http from 'node:http';
import { endToEndHeaders } from '../headers.js';
import { hostPort } from './allow-list.js';
import { type Decision, decide } from './decide.js';
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
    : { allowed: false, reason: 'bad-target', status: 400, message: 'cctl gateway: only http:// URLs are proxied this way; HTTPS goes through CONNECT.\n' };
  if (decision.destination) record.destination(decision.destination);
  if (!decision.allowed || !url) {
    const denial = decision.allowed ? undefined : decision;
    const answer = denialAnswer(denial ?? { allowed: false, reason: 'bad-target', status: 400, message: 'cctl gateway: not an http:// URL.\n' });
    record.denied(denial?.reason ?? 'bad-target', answer.status);
    answerResponse(res, answer);
    return;
  }

  const { destination } = decision;
  const headers = endToEndHeaders(req.headers);
  headers.host = url.host;
  delete headers.expect;
  const upstream = http.request({
    host: destination.host,
    port: destination.port,
    method: req.method,
    path: url.pathname + url.search,
    headers,
    agent: false,
  });
  const connectTimer = setTimeout(() => upstream.destroy(Object.assign(new Error('timeout'), { code: 'timeout' })), ctx.connectTimeoutMs);
  upstream.on('socket', (socket) => socket.once('connect', () => clearTimeout(connectTimer)));
  upstream.setTimeout(ctx.idleTimeoutMs, () => upstream.destroy(Object.assign(new Error('idle timeout'), { code: 'idle timeout' })));
  upstream.on('error', (error: NodeJS.ErrnoException) => {
    clearTimeout(connectTimer);
    const code = error.code ?? error.message;
    record.error = code;
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const answer = failureAnswer(code, hostPort(destination));
    record.status = answer.status;
    answerResponse(res, answer);
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
    clearTimeout(connectTimer);
    if (!res.writableFinished) upstream.destroy();
  });
}
