/**
 * What the team gateway benches share: a fake upstream that answers every
 * Messages request at once, gateway processes started as the image runs them
 * (dist/gateway/main.js on Node 22), a keep-alive client that times each
 * request, sustained load over a set of gateways (round-robin) with its rate
 * over the measured time, and the machine's figures to print beside results.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { node22, ROOT } from '../test/gateway/team-fixtures.js';

const REPLY = JSON.stringify({
  id: 'msg_b',
  type: 'message',
  model: 'claude-sonnet-4-5',
  content: [{ type: 'text', text: 'ok' }],
  usage: { input_tokens: 10, output_tokens: 3, cache_read_input_tokens: 50 },
});

/** The fake Anthropic upstream, in this process. */
export async function startUpstream(): Promise<{ url: string; close(): void }> {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(REPLY) });
      res.end(REPLY);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => server.close() };
}

export interface Proc {
  port: number;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** A gateway process; resolves on its `listening` line (a Postgres one may log that it waits for the database first). */
export function startGateway(
  upstreamUrl: string,
  env: Record<string, string>,
  main = join(ROOT, 'dist', 'gateway', 'main.js'),
): Promise<Proc> {
  const child = spawn(node22(), ['--disable-warning=ExperimentalWarning', main], {
    env: { PATH: process.env.PATH, PORT: '0', CCTL_UPSTREAM_URL: upstreamUrl, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`gateway exited with ${code}`)));
    // Request log lines go to stdout as in production; only the start is read, the rest drained.
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      const event = JSON.parse(line) as { event?: string; port?: number };
      if (event.event !== 'listening') return;
      lines.removeAllListeners('line');
      lines.on('line', () => {});
      const stop = () =>
        new Promise<void>((r) => {
          child.removeAllListeners('exit');
          child.once('exit', () => r());
          child.kill('SIGTERM');
        });
      resolve({ port: event.port!, child, stop });
    });
  });
}

export interface Timed {
  ms: number;
  status: number;
  body: string;
}

/** A keep-alive client; request() times one request from send to the last byte of the reply. */
export function client(maxSockets: number) {
  const agent = new http.Agent({ keepAlive: true, maxSockets });
  const once = (port: number, token: string, path: string, method: string): Promise<Timed> => {
    const started = process.hrtime.bigint();
    return new Promise((resolve, reject) => {
      const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'x-cctl-project': 'bench' };
      const req = http.request({ host: '127.0.0.1', port, path, method, agent, headers }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ ms: Number(process.hrtime.bigint() - started) / 1e6, status: res.statusCode!, body }));
      });
      req.on('error', (error: NodeJS.ErrnoException) => reject(Object.assign(error, { reused: req.reusedSocket })));
      req.end(method === 'POST' ? '{"model":"claude-sonnet-4-5","max_tokens":5,"messages":[]}' : undefined);
    });
  };
  // A kept-alive socket the server closes as the request goes out (its keep-alive timeout, when a pause
  // between parts outlasts it) resets before the server read anything: sent again once, on a new socket.
  const request = (port: number, token: string, path = '/v1/messages', method = 'POST'): Promise<Timed> =>
    once(port, token, path, method).catch((error: NodeJS.ErrnoException & { reused?: boolean }) => {
      if (error.reused && error.code === 'ECONNRESET') return once(port, token, path, method);
      throw error;
    });
  return { request, close: () => agent.destroy() };
}

export interface Sustained {
  ok: number;
  /** The 200s each target answered, in the order of TARGETS. */
  okBy: number[];
  failed: number;
  /** Measured: from the first request sent to the last reply received (the last ones end after the deadline). */
  seconds: number;
  rate: number;
}

/**
 * CONCURRENCY loops sending for MS milliseconds, each request to the next
 * target in turn (round-robin over every loop's requests, as a load balancer
 * in front of replicas would); loop c sends as member c of the target's
 * TOKENS (so a team's members, not one member's locked row, are measured).
 */
export async function sustain(
  request: (port: number, token: string) => Promise<Timed>,
  targets: readonly { port: number; tokens: readonly string[] }[],
  ms: number,
  concurrency: number,
): Promise<Sustained> {
  let ok = 0;
  const okBy = targets.map(() => 0);
  let failed = 0;
  let next = 0;
  const started = process.hrtime.bigint();
  const until = Date.now() + ms;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, c) => {
      while (Date.now() < until) {
        const k = next++ % targets.length;
        const { port, tokens } = targets[k]!;
        const r = await request(port, tokens[c % tokens.length]!);
        if (r.status === 200) {
          ok++;
          okBy[k]!++;
        } else failed++;
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { ok, okBy, failed, seconds, rate: ok / seconds };
}

export const pct = (xs: readonly number[], p: number): number =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;
export const rssMb = (pid: number): number => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
export const f = (n: number, d = 3): string => n.toFixed(d);

/** "2 cores, load 3.1 2.5 2.0": the machine a figure was measured on, printed beside it. */
export function machine(): string {
  return `${availableParallelism()} cores, load average ${loadavg()
    .map((x) => x.toFixed(1))
    .join(' ')}`;
}

/** Least-squares slope of Y against X (same units as Y per unit of X). */
export function slope(points: readonly (readonly [number, number])[]): number {
  const n = points.length;
  if (n < 2) return NaN;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  let num = 0;
  let den = 0;
  for (const [x, y] of points) {
    num += (x - mx) * (y - my);
    den += (x - mx) ** 2;
  }
  return num / den;
}
