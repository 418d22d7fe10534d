/**
 * The forward pass: sends an authenticated API request upstream and relays
 * the response, as a few named steps over one small state. The body streams
 * through in both directions; nothing waits for a whole message.
 */
import type http from 'node:http';
import type { Socket } from 'node:net';
import { GatewayFailure } from './api-error.js';
import type { GatewayConfig } from './config.js';
import type { Exchange } from './exchange.js';
import { endToEndHeaders, type Headers } from './headers.js';
import { HeldEnd } from './held-end.js';
import { bodyOverLimit } from './limit.js';
import { msSince } from './log.js';
import { ResponseTap } from './response-tap.js';
import type { Upstream } from './upstream.js';

/** What is known about a failed attempt when deciding whether to send the request again. */
export interface FailedAttempt {
  /** How many times the request has been sent so far, this attempt included. */
  attempts: number;
  reusedSocket: boolean;
  /** Bytes of this request handed to the socket; undefined when unknown. */
  bytesWritten: number | undefined;
  /** The client has already been sent a status line. */
  responseStarted: boolean;
  /** Every body byte received so far is still at hand to send again. */
  bodyKept: boolean;
}

/**
 * A request is sent again only when the upstream cannot have seen it: a
 * pooled socket failed before a single byte of this request was handed to
 * it (the upstream closed the idle connection as it was picked). Once any
 * byte went out the upstream may have read the whole request and be
 * generating (and billing) the reply, so the answer is a 502, which Claude
 * Code retries itself. The short upstream keep-alive makes that case rare.
 * https://nodejs.org/api/http.html#requestreusedsocket
 */
export function mayResend(failed: FailedAttempt): boolean {
  return failed.attempts === 1 && failed.reusedSocket && failed.bytesWritten === 0 && !failed.responseStarted && failed.bodyKept;
}

/** An upstream that switches protocols has left HTTP; the Messages API never does. */
function switchedProtocols(upstream: Upstream): GatewayFailure {
  return new GatewayFailure(
    502,
    'api_error',
    `Upstream ${upstream.host} answered 101 Switching Protocols, which the gateway does not relay.`,
  );
}

export interface ForwardOptions {
  exchange: Exchange;
  upstream: Upstream;
  config: GatewayConfig;
  /** Already filtered and authenticated. */
  headers: Headers;
  target: URL;
  /** The whole body, when a pass read it before forwarding (team mode); otherwise it streams from the client. */
  body?: Buffer;
}

export function forward(options: ForwardOptions): void {
  new Forwarding(options).start();
}

/** sending: in flight; failed: the gateway gave up and answers itself; client-gone: nobody to answer. */
type State = 'sending' | 'failed' | 'client-gone';

class Forwarding {
  private state: State = 'sending';
  private failure: GatewayFailure | undefined;
  private attempts = 0;
  private attempt!: http.ClientRequest;

  constructor(private readonly o: ForwardOptions) {}

  start(): void {
    const { req, res } = this.o.exchange;
    if (this.o.body) this.send(this.o.body);
    else {
      req.on('data', (chunk: Buffer) => this.limitBody(chunk));
      this.send();
    }
    // A client that leaves takes its upstream request with it, so an
    // abandoned generation stops costing tokens.
    res.on('close', () => {
      if (res.writableFinished) return;
      this.state = 'client-gone';
      req.unpipe(this.attempt);
      this.attempt.destroy();
    });
  }

  /** The body is streamed through, counted against the limit and kept while small. */
  private limitBody(chunk: Buffer): void {
    const { body, req } = this.o.exchange;
    body.take(chunk);
    if (body.bytes > this.o.config.maxBodyBytes) {
      req.unpipe(this.attempt);
      this.fail(bodyOverLimit(this.o.config.maxBodyBytes));
    }
  }

  /** Gives up on the request: the failure becomes the answer once the attempt reports its error. */
  private fail(failure: GatewayFailure): void {
    if (this.state !== 'sending') return;
    this.state = 'failed';
    this.failure = failure;
    this.o.exchange.entry.error = failure.message;
    this.attempt.destroy(failure);
  }

  /** Sends the request upstream: the live body the first time, the kept copy on a resend. */
  private send(resend?: Buffer): void {
    const { upstream, config, headers, target, exchange } = this.o;
    this.attempts += 1;
    exchange.forwarded = true;
    const attempt = upstream.request({
      protocol: upstream.url.protocol,
      hostname: upstream.hostname,
      port: upstream.port,
      method: exchange.req.method,
      path: upstream.basePath + target.pathname + target.search,
      headers: { ...headers, host: upstream.host },
      agent: upstream.agent,
    });
    this.attempt = attempt;
    attempt.setNoDelay(true);
    // The socket's byte count when it was handed to this attempt: a pooled
    // socket has carried earlier requests.
    let writtenBefore: number | undefined;
    attempt.on('socket', (socket: Socket) => {
      writtenBefore = socket.bytesWritten;
      this.limitConnect(socket);
    });
    const bytesWritten = () => {
      const now = attempt.socket?.bytesWritten;
      return now === undefined || writtenBefore === undefined ? undefined : now - writtenBefore;
    };
    // Idle timeout: no bytes either way on the upstream socket for this long.
    attempt.setTimeout(config.idleTimeoutMs, () =>
      this.fail(new GatewayFailure(504, 'api_error', `Upstream ${upstream.host} sent nothing for ${config.idleTimeoutMs} ms.`)),
    );
    attempt.on('error', (error: NodeJS.ErrnoException) => this.attemptFailed(attempt, error, bytesWritten()));
    attempt.on('response', (upstreamRes) => this.relay(upstreamRes));
    // A 101 with Upgrade headers ends HTTP on the socket: Node reports it
    // only here and then neither answers nor fails the request, so without
    // this the client would wait forever. (A bare 101 arrives as a response.)
    attempt.on('upgrade', (_res, socket: Socket) => {
      socket.destroy();
      this.refuse(switchedProtocols(upstream));
    });
    if (resend?.length) attempt.write(resend);
    // The rest of the body, if any, follows from the client.
    if (exchange.req.readableEnded) attempt.end();
    else exchange.req.pipe(attempt);
  }

  /** Connect timeout: only for a fresh socket, until TCP (and TLS) is up. A pooled socket skips it. */
  private limitConnect(socket: Socket): void {
    if (!socket.connecting) return;
    const { upstream, config } = this.o;
    // The pool's idle timeout is set on every new socket; while connecting it
    // would surface as this request's idle timeout. The timer below covers
    // this phase, and the request's own idle timeout starts on connect.
    socket.setTimeout(0);
    const timer = setTimeout(
      () =>
        this.fail(
          new GatewayFailure(
            504,
            'api_error',
            `Upstream ${upstream.host} did not accept a connection within ${config.connectTimeoutMs} ms.`,
          ),
        ),
      config.connectTimeoutMs,
    );
    const clear = () => clearTimeout(timer);
    socket.once(upstream.readyEvent, clear);
    socket.once('close', clear);
  }

  private attemptFailed(attempt: http.ClientRequest, error: NodeJS.ErrnoException, bytesWritten: number | undefined): void {
    if (this.state === 'client-gone') return;
    const { exchange } = this.o;
    const resend =
      this.state === 'sending' &&
      !(error instanceof GatewayFailure) &&
      mayResend({
        attempts: this.attempts,
        reusedSocket: attempt.reusedSocket,
        bytesWritten,
        responseStarted: exchange.res.headersSent,
        bodyKept: this.o.body !== undefined || exchange.body.resendable,
      });
    if (resend) {
      exchange.req.unpipe(attempt);
      exchange.entry.attempts = this.attempts + 1;
      this.send(this.o.body ?? exchange.body.received());
      return;
    }
    const failure =
      this.failure ??
      (error instanceof GatewayFailure
        ? error
        : new GatewayFailure(502, 'api_error', `Upstream ${this.o.upstream.host} is unreachable (${error.code ?? error.message}).`));
    if (this.state === 'sending') {
      this.state = 'failed';
      exchange.entry.error = failure.message;
    }
    this.answer(failure);
  }

  /** Gives up and answers now, for failures that the attempt will not report as an error. */
  private refuse(failure: GatewayFailure): void {
    if (this.state === 'client-gone') return;
    this.fail(failure);
    this.answer(failure);
  }

  /** Tells the client: an error response if nothing was sent yet, otherwise a cut connection. */
  private answer(failure: GatewayFailure): void {
    const { req, res } = this.o.exchange;
    if (res.writableEnded) return;
    if (!res.headersSent) {
      this.o.exchange.answer(failure, { closeConnection: failure.status === 413 || !req.complete });
    } else {
      // Mid-stream: the status is already sent, so the only honest signal
      // left is to cut the connection rather than end the body cleanly.
      res.destroy();
    }
  }

  /** Relays the upstream's response as it arrives, reading usage from a private tap. */
  private relay(upstreamRes: http.IncomingMessage): void {
    const { exchange } = this.o;
    const { res, entry } = exchange;
    entry.upstreamMs = msSince(exchange.startHr);
    if (upstreamRes.statusCode === 101) {
      upstreamRes.on('error', () => {});
      upstreamRes.destroy();
      this.refuse(switchedProtocols(this.o.upstream));
      return;
    }
    const requestId = upstreamRes.headers['request-id'];
    if (typeof requestId === 'string') entry.requestId = requestId;
    const tap = new ResponseTap(upstreamRes.headers['content-type'], upstreamRes.headers['content-encoding'] as string | undefined);
    exchange.readUsageFrom(tap);

    res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.statusMessage, endToEndHeaders(upstreamRes.headers));
    // Send the status line and headers now: an SSE client should see the
    // stream open even before the first event.
    res.flushHeaders();
    upstreamRes.on('data', (chunk: Buffer) => {
      entry.bytesOut += chunk.length;
      tap.push(chunk);
    });
    // Once a response has begun, a lost upstream surfaces here rather than
    // on the request; cut the client's connection, as above.
    upstreamRes.on('error', () => {
      if (this.state === 'sending') entry.error = 'upstream connection lost mid-response';
      res.destroy();
    });
    // Team mode: the reply's end waits for its ledger row (held-end.ts).
    if (exchange.holdsEnd) upstreamRes.pipe(new HeldEnd(upstreamRes.headers['content-length'], () => exchange.endAfterRow())).pipe(res);
    else upstreamRes.pipe(res);
  }
}
