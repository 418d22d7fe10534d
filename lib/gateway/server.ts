/**
 * The gateway's HTTP server: each request goes through the passes in order
 * (route, authenticate, limit, forward; the exchange writes the log line),
 * and each pass can answer and stop the chain.
 */
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { GatewayFailure, sendError } from './api-error.js';
import { authenticate } from './authenticate.js';
import { refusedBeta } from './betas.js';
import { answerClientErrors } from './client-error.js';
import { DEFAULTS, type GatewayConfig } from './config.js';
import { Exchange } from './exchange.js';
import { forward } from './forward.js';
import { outgoingRequestHeaders, upstreamAcceptEncoding } from './headers.js';
import { serveHealth } from './health.js';
import { bodyOverLimit, declaredTooLarge } from './limit.js';
import { logEvent, stdoutWriter } from './log.js';
import { readWholeBody } from './request-body.js';
import { refusedApiMessage, routeOf } from './route.js';
import { createUpstream } from './upstream.js';
import { forwardHttp, isAbsoluteForm } from './egress/http-forward.js';
import { type EgressContext, handleConnect } from './egress/tunnel.js';
import type { MemberPass, TeamGateway } from './team/team.js';

export interface Gateway {
  readonly server: http.Server;
  /** Resolves with the bound port (pass 0 for an ephemeral one). */
  listen(port?: number, host?: string): Promise<number>;
  /** Stops accepting, waits up to graceMs for requests in flight and tunnels, then cuts the rest. */
  close(graceMs?: number): Promise<void>;
  /** How many CONNECT tunnels are open now. */
  activeTunnels(): number;
}

function serverOptions(config: GatewayConfig): http.ServerOptions {
  const headersTimeout = config.headersTimeoutMs ?? DEFAULTS.headersTimeoutMs;
  return {
    noDelay: true,
    headersTimeout,
    // Node's default for the whole request; it must not be the shorter one.
    requestTimeout: Math.max(300_000, headersTimeout),
    // How often Node looks for connections past those timeouts.
    connectionsCheckingInterval: Math.min(30_000, Math.max(25, Math.floor(headersTimeout / 4))),
  };
}

/** With `team`, the gateway is a team gateway: member tokens, the ledger, the admin API and dashboard, and TLS when configured. */
export function createGateway(config: GatewayConfig, team?: TeamGateway): Gateway {
  const startedAt = Date.now();
  const write = config.log ?? stdoutWriter;
  const upstream = createUpstream(config);
  const egress: EgressContext = {
    egress: config.egress,
    write,
    connectTimeoutMs: config.connectTimeoutMs,
    idleTimeoutMs: config.idleTimeoutMs,
    tunnels: new Set(),
  };

  const handle = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    // A URL as the target is a forward-proxy request. With egress off the
    // target is read as a path, as it always was.
    if (config.egress && isAbsoluteForm(req.url)) {
      forwardHttp(egress, req, res);
      return;
    }
    const exchange = new Exchange(req, res, write);
    const route = routeOf(req);
    exchange.entry.path = route.target.pathname;
    switch (route.kind) {
      case 'health':
        serveHealth(exchange, { startedAt, mode: config.authMode, egress: config.egress !== undefined });
        return;
      case 'health-method':
        exchange.answer(new GatewayFailure(405, 'invalid_request_error', 'Use GET /health.'));
        return;
      case 'not-found':
        if (team?.serve(exchange, route.target)) return;
        exchange.answer(
          new GatewayFailure(
            404,
            'not_found_error',
            `Not found: ${req.method} ${route.target.pathname}. The gateway serves the Messages API under /v1 and /health.`,
          ),
        );
        return;
      case 'api-refused':
        // Before any credential is looked at: these routes never reach the upstream, for anyone.
        exchange.answer(new GatewayFailure(404, 'not_found_error', refusedApiMessage(req.method ?? 'GET', route.target.pathname)), {
          reason: 'API route not relayed',
          closeConnection: !req.complete,
        });
        return;
      case 'api': {
        exchange.billed = route.billed;
        const headers = outgoingRequestHeaders(req.headers);
        // Only codings the response tap can decode, so the usage of every reply is read.
        headers['accept-encoding'] = upstreamAcceptEncoding(req.headers['accept-encoding']);
        // Before any credential is looked at, as a refused route: no member row, nothing upstream.
        const beta = refusedBeta(req.headers);
        const admitted = beta ?? (team ? team.admit(exchange, headers) : authenticate(config, req.headers, headers));
        const refusal = (admitted && 'failure' in admitted ? admitted : undefined) ?? declaredTooLarge(req.headers, config.maxBodyBytes);
        if (refusal) {
          exchange.answer(refusal.failure, { reason: refusal.reason, closeConnection: true });
          return;
        }
        if (admitted) {
          reserveThenForward(exchange, admitted as MemberPass, headers, route.target, route.billed).catch((error: unknown) => {
            if (!exchange.res.headersSent)
              exchange.answer(new GatewayFailure(500, 'api_error', 'The gateway failed to handle this request.'), {
                reason: String(error),
              });
            logEvent(write, 'internal-error', { message: String(error) });
          });
        } else forward({ exchange, upstream, config, headers, target: route.target });
      }
    }
  };

  /** Team mode: the token, then the whole body (its size and max_tokens make the estimate), then the reservation, then upstream. */
  const reserveThenForward = async (
    exchange: Exchange,
    pass: MemberPass,
    headers: Record<string, string | string[] | undefined>,
    target: URL,
    billed: boolean,
  ) => {
    const stranger = await pass.ready();
    if (stranger) {
      if (!exchange.res.destroyed) exchange.answer(stranger.failure, { reason: stranger.reason, closeConnection: true });
      return;
    }
    const body = await readWholeBody(exchange.req, exchange.body, config.maxBodyBytes);
    if (body === undefined) return;
    if (body === 'too-large') {
      const failure = bodyOverLimit(config.maxBodyBytes);
      exchange.answer(failure, { reason: failure.message, closeConnection: true });
      return;
    }
    const refusal = await pass.reserve(body, billed);
    if (exchange.res.destroyed || exchange.res.writableEnded) return;
    if (refusal) {
      exchange.answer(refusal.failure, { reason: refusal.reason });
      return;
    }
    forward({ exchange, upstream, config, headers, target, body });
  };

  const listener = (req: http.IncomingMessage, res: http.ServerResponse) => {
    try {
      handle(req, res);
    } catch (error) {
      // A bug in one request must not take the others down with it.
      if (!res.headersSent) sendError(res, 500, 'api_error', 'The gateway failed to handle this request.');
      else res.destroy();
      logEvent(write, 'internal-error', { message: String(error) });
    }
  };
  const server: http.Server = team?.tls
    ? https.createServer({ ...serverOptions(config), ...team.tls }, listener)
    : http.createServer(serverOptions(config), listener);
  server.on('clientError', answerClientErrors(write));
  server.on('connect', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => handleConnect(egress, req, socket, head));

  let closing: Promise<void> | undefined;
  return {
    server,
    listen(port = config.port, host = '0.0.0.0') {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          resolve((server.address() as AddressInfo).port);
        });
      });
    },
    close(graceMs = 5000) {
      closing ??= new Promise<void>((resolve) => {
        // Tunnels left the HTTP server's books when they were handed over,
        // so they are ended here, with the connections still open at the end.
        const force = setTimeout(() => {
          server.closeAllConnections();
          for (const socket of egress.tunnels) socket.destroy();
        }, graceMs);
        force.unref();
        server.close(() => {
          clearTimeout(force);
          upstream.agent.destroy();
          resolve();
        });
        server.closeIdleConnections();
      });
      return closing;
    },
    activeTunnels: () => egress.tunnels.size,
  };
}
