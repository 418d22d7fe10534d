/**
 * Shared pieces for the gateway tests: a fake upstream on loopback that
 * records what reached it, a gateway started in-process on an ephemeral
 * port, and a small HTTP client that returns status, headers and body.
 */
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import type { GatewayConfig } from '../../lib/gateway/config.js';
import type { RequestLog } from '../../lib/gateway/log.js';
import { createGateway, type Gateway } from '../../lib/gateway/server.js';

export const CLIENT_TOKEN = 'cctl-client-token-0123456789abcdef';
export const TEAM_KEY = 'sk-ant-team-key-THIS-MUST-NOT-LEAK';

export interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface Upstream {
  port: number;
  url: string;
  seen: Seen[];
  /** The upstream side of every connection the gateway opened, open or closed. */
  sockets: net.Socket[];
  close(): Promise<void>;
}

export type UpstreamHandler = (req: http.IncomingMessage, res: http.ServerResponse, body: string) => void;

/** A fake Messages API. The default handler answers 200 with a small JSON message. */
export async function startUpstream(
  handler?: UpstreamHandler,
  options: { readBody?: boolean; keepAliveTimeoutMs?: number } = {},
): Promise<Upstream> {
  const seen: Seen[] = [];
  const sockets: net.Socket[] = [];
  const server = http.createServer((req, res) => {
    if (options.readBody === false) {
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body: '' });
      (handler ?? defaultReply)(req, res, '');
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      (handler ?? defaultReply)(req, res, body);
    });
  });
  server.on('connection', (socket: net.Socket) => sockets.push(socket));
  if (options.keepAliveTimeoutMs !== undefined) server.keepAliveTimeout = options.keepAliveTimeoutMs;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    seen,
    sockets,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function defaultReply(_req: http.IncomingMessage, res: http.ServerResponse): void {
  const body = JSON.stringify({
    id: 'msg_1',
    type: 'message',
    role: 'assistant',
    model: 'claude-test-1',
    content: [{ type: 'text', text: 'hi' }],
    stop_reason: 'end_turn',
    usage: { input_tokens: 11, output_tokens: 7, cache_read_input_tokens: 3 },
  });
  res.writeHead(200, { 'content-type': 'application/json', 'request-id': 'req_fake_1' });
  res.end(body);
}

export interface Started {
  gateway: Gateway;
  port: number;
  logs: RequestLog[];
  rawLogs: string[];
}

export async function startGateway(upstreamUrl: string, overrides: Partial<GatewayConfig> = {}): Promise<Started> {
  const rawLogs: string[] = [];
  const logs: RequestLog[] = [];
  const gateway = createGateway({
    port: 0,
    upstreamUrl: new URL(upstreamUrl),
    authMode: 'team-key',
    clientToken: CLIENT_TOKEN,
    teamCredential: { kind: 'api-key', value: TEAM_KEY },
    maxBodyBytes: 1024 * 1024,
    connectTimeoutMs: 2000,
    idleTimeoutMs: 5000,
    log: (line) => {
      rawLogs.push(line);
      logs.push(JSON.parse(line) as RequestLog);
    },
    ...overrides,
  });
  const port = await gateway.listen(0, '127.0.0.1');
  return { gateway, port, logs, rawLogs };
}

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export function send(
  port: number,
  options: { method?: string; path?: string; headers?: http.OutgoingHttpHeaders; body?: string | Buffer; agent?: http.Agent | false } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method: options.method ?? (options.body === undefined ? 'GET' : 'POST'),
        path: options.path ?? '/v1/messages',
        headers: options.headers ?? {},
        agent: options.agent ?? false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** Resolves when the predicate holds, polling; rejects after timeoutMs so no test hangs. */
export async function waitFor(predicate: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Rejects after ms, for racing against something that must not hang. */
export function deadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms);
    }),
  ]);
}

/** A port that nothing listens on: bind one, then let it go. */
export async function freePort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Body of an Anthropic-style error. */
export function errorOf(reply: Reply): { type: string; message: string } {
  const parsed = JSON.parse(reply.body) as { type: string; error: { type: string; message: string } };
  if (parsed.type !== 'error') throw new Error(`not an error body: ${reply.body}`);
  return parsed.error;
}

export function sse(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** Sends raw bytes to the gateway and resolves with everything it answers, once it closes (bounded). */
export function rawExchange(port: number, payload: string, options: { end?: boolean; timeoutMs?: number } = {}): Promise<string> {
  return deadline(
    new Promise<string>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      let got = '';
      socket.on('data', (d) => (got += d.toString()));
      socket.on('error', () => resolve(got));
      socket.on('close', () => resolve(got));
      socket.write(payload);
      if (options.end) socket.end();
    }),
    options.timeoutMs ?? 5000,
    'a raw exchange',
  );
}

export const messagesBody = (extra: Record<string, unknown> = {}) =>
  JSON.stringify({ model: 'claude-asked-for', max_tokens: 16, messages: [{ role: 'user', content: 'SECRET-PROMPT-TEXT' }], ...extra });
