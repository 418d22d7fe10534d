/**
 * GET /health, and `node main.js health`: the compose health check that
 * probes it from inside the container.
 */
import http from 'node:http';
import https from 'node:https';
import type { AuthMode } from './config.js';
import { GATEWAY_VERSION } from './config.js';
import type { Exchange } from './exchange.js';

export interface HealthFacts {
  startedAt: number;
  mode: AuthMode;
  egress: boolean;
}

export function serveHealth(exchange: Exchange, facts: HealthFacts): void {
  const { req, res, entry } = exchange;
  const body = JSON.stringify({
    status: 'ok',
    version: GATEWAY_VERSION,
    uptimeSeconds: Math.floor((Date.now() - facts.startedAt) / 1000),
    mode: facts.mode,
    egress: facts.egress ? 'on' : 'off',
  });
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
  res.end(req.method === 'HEAD' ? undefined : body);
  entry.bytesOut = req.method === 'HEAD' ? 0 : Buffer.byteLength(body);
}

/**
 * Probes http://127.0.0.1:PORT/health (https:// when the gateway serves TLS
 * itself; its certificate names the public host, not 127.0.0.1, so it is not
 * checked on this loopback probe). Resolves to the exit code: 0 healthy, 1 not.
 */
export function probeHealth(port: number, timeoutMs = 3000, tls = false): Promise<number> {
  return new Promise((resolve) => {
    const get = tls ? https.get : http.get;
    const req = get({ host: '127.0.0.1', port, path: '/health', timeout: timeoutMs, agent: false, rejectUnauthorized: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        if (body.length < 4096) body += chunk;
      });
      res.on('end', () => {
        let ok = false;
        try {
          ok = res.statusCode === 200 && (JSON.parse(body) as { status?: string }).status === 'ok';
        } catch {
          ok = false;
        }
        if (!ok) process.stderr.write(`gateway health: HTTP ${res.statusCode} ${body.slice(0, 200)}\n`);
        resolve(ok ? 0 : 1);
      });
      res.on('error', () => resolve(1));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (error) => {
      process.stderr.write(`gateway health: ${error.message}\n`);
      resolve(1);
    });
  });
}
