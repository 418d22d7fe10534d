/**
 * The gateway's HTTP server: each request goes through the passes in order
 * (route, authenticate, limit, forward; the exchange writes the log line),
 * and each pass can answer and stop the chain.
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { apiErrorBody, GatewayFailure, sendError } from './api-error.js';
import { authenticate } from './authenticate.js';
import type { GatewayConfig } from './config.js';
import { Exchange } from './exchange.js';
import { forward } from './forward.js';
import { outgoingRequestHeaders } from './headers.js';
import { serveHealth } from './health.js';
import { declaredTooLarge } from './limit.js';
import { logEvent, stdoutWriter } from './log.js';
import { routeOf } from './route.js';
import { createUpstream } from './upstream.js';

export interface Gateway {
  readonly server: http.Server;
  /** Resolves with the bound port (pass 0 for an ephemeral one). */
  listen(port?: number, host?: string): Promise<number>;
  /** Stops accepting, waits up to graceMs for requests in flight, then cuts the rest. */
  close(graceMs?: number): Promise<void>;
}

export function createGateway(config: GatewayConfig): Gateway {
  const startedAt = Date.now();
  const write = config.log ?? stdoutWriter;
  const upstream = createUpstream(config);

  const handle = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const exchange = new Exchange(req, res, write);
    const route = routeOf(req);
    exchange.entry.path = route.target.pathname;
    switch (route.kind) {
      case 'health':
        serveHealth(exchange, { startedAt, mode: config.authMode });
        return;
      case 'health-method':
        exchange.answer(new GatewayFailure(405, 'invalid_request_error', 'Use GET /health.'));
        return;
      case 'not-found':
        exchange.answer(
          new GatewayFailure(404, 'not_found_error', `Not found: ${req.method} ${route.target.pathname}. The gateway serves /v1/* and /health.`),
        );
        return;
      case 'api': {
        const headers = outgoingRequestHeaders(req.headers);
        const refusal = authenticate(config, req.headers, headers) ?? declaredTooLarge(req.headers, config.maxBodyBytes);
        if (refusal) {
          exchange.answer(refusal.failure, { reason: refusal.reason, closeConnection: true });
          return;
        }
        forward({ exchange, upstream, config, headers, target: route.target });
      }
    }
  };

  const server = http.createServer({ noDelay: true }, (req, res) => {
    try {
      handle(req, res);
    } catch (error) {
      // A bug in one request must not take the others down with it.
      if (!res.headersSent) sendError(res, 500, 'api_error', 'The gateway failed to handle this request.');
      else res.destroy();
      logEvent(write, 'internal-error', { message: String(error) });
    }
  });

  // Malformed requests and resets: answer 400 where a socket can still take
  // it, and never let the error reach the process.
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
    if (error.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const body = apiErrorBody('invalid_request_error', 'Malformed HTTP request.');
    socket.end(`HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
  });

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
        const force = setTimeout(() => server.closeAllConnections(), graceMs);
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
  };
}
