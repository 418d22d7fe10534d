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
import { bodyOverLimit } from './limit.js';
import { msSince } from './log.js';
import { ResponseTap } from './response-tap.js';
import type { Upstream } from './upstream.js';

/** What is known about a failed attempt when deciding whether to send the request again. */
export interface FailedAttempt {
  code: string | undefined;
  /** How many times the request has been sent so far, this attempt included. */
  attempts: number;
  reusedSocket: boolean;
  /** The client has already been sent a status line. */
  responseStarted: boolean;
  /** The client's whole body has arrived. */
  requestComplete: boolean;
  /** Every body byte received is still at hand to send again. */
  bodyKept: boolean;
}

/**
 * A pooled socket that the upstream closed just as this request went out
 * fails before any response. That is the race Node documents for keep-alive
 * (https://nodejs.org/api/http.html#requestreusedsocket); sending it once
 * more on a fresh socket is safe when the whole body is at hand to resend.
 */
export function mayResend(failed: FailedAttempt): boolean {
  return (
    failed.attempts === 1 &&
    failed.reusedSocket &&
    !failed.responseStarted &&
    (failed.code === 'ECONNRESET' || failed.code === 'EPIPE') &&
    failed.requestComplete &&
    failed.bodyKept
  );
}

export interface ForwardOptions {
  exchange: Exchange;
  upstream: Upstream;
  config: GatewayConfig;
  /** Already filtered and authenticated. */
  headers: Headers;
  target: URL;
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
    req.on('data', (chunk: Buffer) => this.limitBody(chunk));
    this.send();
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
    attempt.on('socket', (socket: Socket) => this.limitConnect(socket));
    // Idle timeout: no bytes either way on the upstream socket for this long.
    attempt.setTimeout(config.idleTimeoutMs, () =>
      this.fail(new GatewayFailure(504, 'api_error', `Upstream ${upstream.host} sent nothing for ${config.idleTimeoutMs} ms.`)),
    );
    attempt.on('error', (error: NodeJS.ErrnoException) => this.attemptFailed(attempt, error));
    attempt.on('response', (upstreamRes) => this.relay(upstreamRes));
    if (resend) attempt.end(resend);
    else exchange.req.pipe(attempt);
  }

  /** Connect timeout: only for a fresh socket, until TCP (and TLS) is up. A pooled socket skips it. */
  private limitConnect(socket: Socket): void {
    if (!socket.connecting) return;
    const { upstream, config } = this.o;
    const timer = setTimeout(
      () => this.fail(new GatewayFailure(504, 'api_error', `Upstream ${upstream.host} did not accept a connection within ${config.connectTimeoutMs} ms.`)),
      config.connectTimeoutMs,
    );
    const clear = () => clearTimeout(timer);
    socket.once(upstream.readyEvent, clear);
    socket.once('close', clear);
  }

  private attemptFailed(attempt: http.ClientRequest, error: NodeJS.ErrnoException): void {
    if (this.state === 'client-gone') return;
    const { exchange } = this.o;
    const resend =
      this.state === 'sending' &&
      mayResend({
        code: error.code,
        attempts: this.attempts,
        reusedSocket: attempt.reusedSocket,
        responseStarted: exchange.res.headersSent,
        requestComplete: exchange.req.complete,
        bodyKept: exchange.body.resendable,
      });
    if (resend) {
      this.send(exchange.body.received());
      return;
    }
    const failure =
      this.failure ??
      (error instanceof GatewayFailure ? error : new GatewayFailure(502, 'api_error', `Upstream ${this.o.upstream.host} is unreachable (${error.code ?? error.message}).`));
    if (this.state === 'sending') {
      this.state = 'failed';
      exchange.entry.error = failure.message;
    }
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
    upstreamRes.pipe(res);
  }
}
