/**
 * The built-in API gateway: the `proxy` service that Claude Code reaches at
 * ANTHROPIC_BASE_URL. It holds the team's credential so the workspace
 * container never sees it, streams both directions without buffering, and
 * writes one JSON line per request with the usage the response reported.
 *
 * Node builtins only, one file: the compiled dist/proxy/gateway.js is copied
 * alone into a small image (docker/proxy.Dockerfile), with no node_modules.
 *
 *   node gateway.js          serve on $PORT (default 3000)
 *   node gateway.js health   probe http://127.0.0.1:$PORT/health, exit 0/1
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync, realpathSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { StringDecoder } from 'node:string_decoder';
import { pathToFileURL } from 'node:url';
import zlib from 'node:zlib';

/** Kept in step with package.json by a unit test; the image has no package.json to read. */
export const GATEWAY_VERSION = '0.1.0';

export type AuthMode = 'team-key' | 'login';

export interface TeamCredential {
  /** api-key goes upstream as `x-api-key`, auth-token as `Authorization: Bearer`. */
  kind: 'api-key' | 'auth-token';
  value: string;
}

export interface GatewayConfig {
  port: number;
  upstreamUrl: URL;
  authMode: AuthMode;
  /** Required in team-key mode: what claude-cli presents instead of a real key. */
  clientToken?: string;
  /** Required in team-key mode. */
  teamCredential?: TeamCredential;
  maxBodyBytes: number;
  connectTimeoutMs: number;
  idleTimeoutMs: number;
  /** Receives each log line without its newline; defaults to stdout. */
  log?: (line: string) => void;
}

export const DEFAULTS = {
  port: 3000,
  upstreamUrl: 'https://api.anthropic.com',
  // The Messages API itself refuses bodies over 32 MB; refusing here too
  // saves uploading a body the upstream would reject anyway.
  maxBodyBytes: 32 * 1024 * 1024,
  connectTimeoutMs: 10_000,
  // Non-streamed Messages calls send nothing until the whole reply is ready,
  // and Claude Code itself waits 10 minutes (API_TIMEOUT_MS), so a shorter
  // idle limit here would cut off answers the client is still waiting for.
  idleTimeoutMs: 600_000,
} as const;

export class GatewayConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GatewayConfigError';
  }
}

// ---------------------------------------------------------------------------
// Configuration

type Env = Record<string, string | undefined>;

/**
 * Reads NAME, or the file that NAME_FILE points at (Docker/Compose secrets).
 * A trailing newline in the file is not part of the secret.
 */
function secretFromEnv(env: Env, name: string, readFile: (path: string) => string): string | undefined {
  const direct = env[name];
  const file = env[`${name}_FILE`];
  if (direct && file) throw new GatewayConfigError(`Set ${name} or ${name}_FILE, not both.`);
  if (direct) return direct.trim();
  if (!file) return undefined;
  let text: string;
  try {
    text = readFile(file);
  } catch (error) {
    throw new GatewayConfigError(`${name}_FILE: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? error})`);
  }
  const value = text.trim();
  if (!value) throw new GatewayConfigError(`${name}_FILE: ${file} is empty.`);
  return value;
}

function intFromEnv(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  if (!/^\d+$/.test(raw)) throw new GatewayConfigError(`${name} must be a whole number, got "${raw}".`);
  const value = Number(raw);
  if (value < min || value > max) throw new GatewayConfigError(`${name} must be between ${min} and ${max}, got ${value}.`);
  return value;
}

/**
 * Builds the configuration from the environment names in docs/CONTRACT.md.
 * Throws GatewayConfigError with a message meant for whoever reads the
 * container log.
 */
export function loadConfig(env: Env = process.env, readFile: (path: string) => string = (p) => readFileSync(p, 'utf8')): GatewayConfig {
  const upstreamText = env.CCTL_UPSTREAM_URL?.trim() || DEFAULTS.upstreamUrl;
  let upstreamUrl: URL;
  try {
    upstreamUrl = new URL(upstreamText);
  } catch {
    throw new GatewayConfigError(`CCTL_UPSTREAM_URL is not a URL: "${upstreamText}".`);
  }
  if (upstreamUrl.protocol !== 'http:' && upstreamUrl.protocol !== 'https:') {
    throw new GatewayConfigError(`CCTL_UPSTREAM_URL must be http:// or https://, got ${upstreamUrl.protocol}`);
  }
  // Credentials in the URL would end up in logs and error messages; the key
  // variables exist so that they never have to.
  if (upstreamUrl.username || upstreamUrl.password) {
    throw new GatewayConfigError('CCTL_UPSTREAM_URL must not carry credentials; use ANTHROPIC_API_KEY or ANTHROPIC_AUTH_TOKEN.');
  }
  if (upstreamUrl.search || upstreamUrl.hash) {
    throw new GatewayConfigError('CCTL_UPSTREAM_URL must not have a query or fragment.');
  }

  const apiKey = secretFromEnv(env, 'ANTHROPIC_API_KEY', readFile);
  const authToken = secretFromEnv(env, 'ANTHROPIC_AUTH_TOKEN', readFile);
  const clientToken = secretFromEnv(env, 'CCTL_CLIENT_TOKEN', readFile);

  const modeText = env.CCTL_AUTH_MODE?.trim() || (apiKey || authToken ? 'team-key' : 'login');
  if (modeText !== 'team-key' && modeText !== 'login') {
    throw new GatewayConfigError(`CCTL_AUTH_MODE must be team-key or login, got "${modeText}".`);
  }

  const config: GatewayConfig = {
    port: intFromEnv(env, 'PORT', DEFAULTS.port, 0, 65535),
    upstreamUrl,
    authMode: modeText,
    maxBodyBytes: intFromEnv(env, 'CCTL_MAX_BODY_BYTES', DEFAULTS.maxBodyBytes, 1, Number.MAX_SAFE_INTEGER),
    connectTimeoutMs: intFromEnv(env, 'CCTL_CONNECT_TIMEOUT_MS', DEFAULTS.connectTimeoutMs, 1, 3_600_000),
    idleTimeoutMs: intFromEnv(env, 'CCTL_IDLE_TIMEOUT_MS', DEFAULTS.idleTimeoutMs, 1, 86_400_000),
  };

  if (modeText === 'team-key') {
    if (apiKey && authToken) {
      throw new GatewayConfigError('Set ANTHROPIC_API_KEY or ANTHROPIC_AUTH_TOKEN for the team, not both.');
    }
    if (!apiKey && !authToken) {
      throw new GatewayConfigError('team-key mode needs the team credential: ANTHROPIC_API_KEY or ANTHROPIC_AUTH_TOKEN (or a *_FILE variant).');
    }
    if (!clientToken) {
      throw new GatewayConfigError('team-key mode needs CCTL_CLIENT_TOKEN (cctl init writes it to .cctl/proxy.env).');
    }
    config.clientToken = clientToken;
    config.teamCredential = apiKey ? { kind: 'api-key', value: apiKey } : { kind: 'auth-token', value: authToken! };
  }
  return config;
}

// ---------------------------------------------------------------------------
// Errors in the Messages API's own shape, so Claude Code shows them sensibly

export type ApiErrorType =
  | 'api_error'
  | 'authentication_error'
  | 'invalid_request_error'
  | 'not_found_error'
  | 'request_too_large';

export function apiErrorBody(type: ApiErrorType, message: string): string {
  return JSON.stringify({ type: 'error', error: { type, message } });
}

/** A failure the gateway answers itself, with the status it maps to. */
class GatewayFailure extends Error {
  constructor(
    readonly status: number,
    readonly type: ApiErrorType,
    message: string,
  ) {
    super(message);
  }
}

// ---------------------------------------------------------------------------
// Headers

/** RFC 9110 §7.6.1: meaningful for one connection only, never forwarded. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

type Headers = http.IncomingHttpHeaders;

/** Copies headers without the hop-by-hop ones, including any that Connection names. */
export function endToEndHeaders(headers: Headers): Headers {
  const listed = new Set<string>();
  const connection = headers.connection;
  if (connection) {
    for (const token of String(connection).split(',')) listed.add(token.trim().toLowerCase());
  }
  const out: Headers = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.has(name) || listed.has(name)) continue;
    out[name] = value;
  }
  return out;
}

/** Hashing first makes the comparison constant-time even when the lengths differ. */
function sameSecret(presented: string, expected: string): boolean {
  const a = createHash('sha256').update(presented).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

function presentedCredentials(headers: Headers): string[] {
  const found: string[] = [];
  const auth = headers.authorization;
  if (auth) {
    const match = /^Bearer\s+(.+)$/i.exec(auth.trim());
    if (match?.[1]) found.push(match[1].trim());
  }
  const apiKey = headers['x-api-key'];
  if (typeof apiKey === 'string' && apiKey.trim()) found.push(apiKey.trim());
  return found;
}

// ---------------------------------------------------------------------------
// Usage from the response, read as it passes

export interface Usage {
  input_tokens?: number;
  output_tokens?: number;
  cache_creation_input_tokens?: number;
  cache_read_input_tokens?: number;
}

export interface ResponseFacts {
  model?: string;
  usage?: Usage;
  stopReason?: string;
  /** `error.type` of an error body, or of an `event: error` in a stream. */
  errorType?: string;
}

const USAGE_FIELDS = ['input_tokens', 'output_tokens', 'cache_creation_input_tokens', 'cache_read_input_tokens'] as const;

function pickUsage(source: unknown, into: Usage = {}): Usage {
  if (source && typeof source === 'object') {
    for (const field of USAGE_FIELDS) {
      const value = (source as Record<string, unknown>)[field];
      if (typeof value === 'number') into[field] = value;
    }
  }
  return into;
}

/** A JSON body is only kept for parsing up to this size; Messages replies are far smaller. */
const JSON_CAPTURE_LIMIT = 1024 * 1024;
/** An SSE line longer than this is skipped (the usage events are a few hundred bytes). */
const SSE_LINE_LIMIT = 1024 * 1024;
const SSE_EVENTS_OF_INTEREST = new Set(['message_start', 'message_delta', 'error']);

/**
 * Watches a response body for model, usage and errors without holding it
 * back: the proxy pipes the body to the client and hands the same chunks to
 * push(). Streams are parsed line by line and only the few events that carry
 * usage are JSON-parsed, so long streams cost little.
 */
export class ResponseTap {
  readonly facts: ResponseFacts = {};
  private kind: 'sse' | 'json' | 'none';
  private readonly decompressor: zlib.Gunzip | zlib.Inflate | zlib.BrotliDecompress | undefined;
  private readonly decoder = new StringDecoder('utf8');
  private jsonChunks: Buffer[] = [];
  private jsonBytes = 0;
  private jsonOverflow = false;
  private pending = '';
  private skippingLongLine = false;
  private event = '';
  private data = '';

  constructor(contentType: string | undefined, contentEncoding: string | undefined) {
    const type = (contentType ?? '').toLowerCase();
    this.kind = type.startsWith('text/event-stream') ? 'sse' : type.includes('json') ? 'json' : 'none';
    const encoding = (contentEncoding ?? '').trim().toLowerCase();
    if (this.kind === 'none' || !encoding || encoding === 'identity') return;
    // The client asked for compression and the upstream obliged; the bytes go
    // to the client as they are, and a private copy is inflated for reading.
    this.decompressor =
      encoding === 'gzip' || encoding === 'x-gzip'
        ? zlib.createGunzip()
        : encoding === 'deflate'
          ? zlib.createInflate()
          : encoding === 'br'
            ? zlib.createBrotliDecompress()
            : undefined;
    if (!this.decompressor) {
      this.kind = 'none';
      return;
    }
    this.decompressor.on('data', (chunk: Buffer) => this.consume(chunk));
    this.decompressor.on('error', () => {
      // Unreadable for us is not a problem for the client; just stop reading.
      this.kind = 'none';
    });
  }

  push(chunk: Buffer): void {
    if (this.kind === 'none') return;
    if (this.decompressor) this.decompressor.write(chunk);
    else this.consume(chunk);
  }

  /** Calls back once every pushed byte has been read. */
  finish(done: (facts: ResponseFacts) => void): void {
    const complete = () => {
      if (this.kind === 'json') this.parseJson();
      else if (this.kind === 'sse') this.consumeText(this.decoder.end() + '\n\n');
      done(this.facts);
    };
    if (!this.decompressor || this.kind === 'none') {
      complete();
      return;
    }
    let called = false;
    const once = () => {
      if (called) return;
      called = true;
      complete();
    };
    this.decompressor.once('end', once);
    this.decompressor.once('error', once);
    this.decompressor.once('close', once);
    this.decompressor.end();
    // A truncated compressed stream may emit neither end nor error until it
    // is read; resume() drains it so one of them fires.
    this.decompressor.resume();
  }

  private consume(chunk: Buffer): void {
    if (this.kind === 'json') {
      if (this.jsonOverflow) return;
      this.jsonBytes += chunk.length;
      if (this.jsonBytes > JSON_CAPTURE_LIMIT) {
        this.jsonOverflow = true;
        this.jsonChunks = [];
        return;
      }
      this.jsonChunks.push(chunk);
    } else if (this.kind === 'sse') {
      this.consumeText(this.decoder.write(chunk));
    }
  }

  private parseJson(): void {
    if (this.jsonOverflow || this.jsonChunks.length === 0) return;
    let body: unknown;
    try {
      body = JSON.parse(Buffer.concat(this.jsonChunks).toString('utf8'));
    } catch {
      return;
    } finally {
      this.jsonChunks = [];
    }
    if (!body || typeof body !== 'object') return;
    const record = body as Record<string, unknown>;
    if (typeof record.model === 'string') this.facts.model = record.model;
    if (record.usage) this.facts.usage = pickUsage(record.usage);
    if (typeof record.stop_reason === 'string') this.facts.stopReason = record.stop_reason;
    if (record.type === 'error') this.facts.errorType = errorTypeOf(record);
  }

  private consumeText(text: string): void {
    let start = 0;
    for (;;) {
      const newline = text.indexOf('\n', start);
      if (newline < 0) break;
      const piece = text.slice(start, newline);
      start = newline + 1;
      if (this.skippingLongLine) {
        this.skippingLongLine = false;
        this.pending = '';
        continue;
      }
      let line = this.pending ? this.pending + piece : piece;
      this.pending = '';
      if (line.endsWith('\r')) line = line.slice(0, -1);
      this.line(line);
    }
    if (this.skippingLongLine) return;
    this.pending += text.slice(start);
    if (this.pending.length > SSE_LINE_LIMIT) {
      this.pending = '';
      this.skippingLongLine = true;
    }
  }

  /** One SSE line (https://html.spec.whatwg.org/multipage/server-sent-events.html). */
  private line(line: string): void {
    if (line === '') {
      this.dispatch();
      return;
    }
    if (line.startsWith('event:')) {
      this.event = line.slice(6).trim();
    } else if (line.startsWith('data:')) {
      // Anthropic names each event before its data; an unnamed event is kept
      // too, in case a gateway upstream omits the event line.
      if (this.event === '' || SSE_EVENTS_OF_INTEREST.has(this.event)) {
        const value = line.slice(line.startsWith('data: ') ? 6 : 5);
        this.data = this.data ? `${this.data}\n${value}` : value;
      }
    }
  }

  private dispatch(): void {
    const event = this.event;
    const data = this.data;
    this.event = '';
    this.data = '';
    if (!data || (event === '' && !/"type"\s*:\s*"(message_start|message_delta|error)"/.test(data))) return;
    let payload: Record<string, unknown>;
    try {
      payload = JSON.parse(data) as Record<string, unknown>;
    } catch {
      return;
    }
    switch (payload.type) {
      case 'message_start': {
        const message = payload.message as Record<string, unknown> | undefined;
        if (typeof message?.model === 'string') this.facts.model = message.model;
        if (message?.usage) this.facts.usage = pickUsage(message.usage, this.facts.usage);
        break;
      }
      case 'message_delta': {
        // message_delta usage is cumulative, so its counts replace the start's.
        if (payload.usage) this.facts.usage = pickUsage(payload.usage, this.facts.usage);
        const delta = payload.delta as Record<string, unknown> | undefined;
        if (typeof delta?.stop_reason === 'string') this.facts.stopReason = delta.stop_reason;
        break;
      }
      case 'error':
        this.facts.errorType = errorTypeOf(payload);
        break;
    }
  }
}

function errorTypeOf(body: Record<string, unknown>): string | undefined {
  const error = body.error as Record<string, unknown> | undefined;
  return typeof error?.type === 'string' ? error.type : undefined;
}

/** Up to this much of a request body is kept to read `model` (and `stream`) from. */
const REQUEST_SNIFF_LIMIT = 256 * 1024;

/**
 * The requested model, for requests that end before a response names one
 * (errors, aborts). A body within the sniff limit is parsed; a longer one is
 * only trusted when `model` is its first key, which is the one match that
 * cannot be a nested `"model"` inside messages or tool input.
 */
export function requestedModel(head: Buffer, complete: boolean): string | undefined {
  if (head.length === 0) return undefined;
  if (complete) {
    try {
      const body = JSON.parse(head.toString('utf8')) as Record<string, unknown>;
      return typeof body?.model === 'string' ? body.model : undefined;
    } catch {
      return undefined;
    }
  }
  const match = /^\s*\{\s*"model"\s*:\s*"([^"\\]{1,200})"/.exec(head.subarray(0, 4096).toString('utf8'));
  return match?.[1];
}

// ---------------------------------------------------------------------------
// The server

export interface RequestLog {
  time: string;
  method: string;
  /** Path only: the query string is left out so nothing secret can leak through it. */
  path: string;
  status: number;
  durationMs: number;
  /** Until the upstream's response headers arrived. */
  upstreamMs?: number;
  bytesIn: number;
  bytesOut: number;
  model?: string;
  usage?: Usage;
  stopReason?: string;
  errorType?: string;
  /** The upstream's request-id header, which Anthropic support asks for. */
  requestId?: string;
  /** Set when the exchange did not complete; says why. */
  error?: string;
  /** The client went away before the response was complete. */
  aborted?: true;
}

export interface Gateway {
  readonly server: http.Server;
  /** Resolves with the bound port (pass 0 for an ephemeral one). */
  listen(port?: number, host?: string): Promise<number>;
  /** Stops accepting, waits up to graceMs for requests in flight, then cuts the rest. */
  close(graceMs?: number): Promise<void>;
}

/**
 * The keep-alive pool towards the upstream. Free sockets are dropped after
 * 4 s, below the 5 s keep-alive that Node servers (and many gateways) use, so
 * the gateway rarely reuses a socket the upstream is just closing. Node's own
 * docs call out that race: https://nodejs.org/api/http.html#requestreusedsocket
 */
function upstreamAgent(url: URL): http.Agent {
  const options = { keepAlive: true, keepAliveMsecs: 1000, maxFreeSockets: 256, scheduling: 'lifo' as const, timeout: 4000 };
  return url.protocol === 'https:' ? new https.Agent(options) : new http.Agent(options);
}

export function createGateway(config: GatewayConfig): Gateway {
  const started = Date.now();
  const log = config.log ?? ((line: string) => void process.stdout.write(`${line}\n`));
  const agent = upstreamAgent(config.upstreamUrl);
  const transport = config.upstreamUrl.protocol === 'https:' ? https : http;
  const basePath = config.upstreamUrl.pathname.replace(/\/+$/, '');
  const upstreamHost = config.upstreamUrl.host;
  // URL keeps IPv6 literals in brackets; the socket layer wants them bare.
  const upstreamHostname = config.upstreamUrl.hostname.replace(/^\[(.*)\]$/, '$1');
  const upstreamPort = config.upstreamUrl.port || (config.upstreamUrl.protocol === 'https:' ? '443' : '80');

  const server = http.createServer({ noDelay: true }, (req, res) => {
    try {
      handle(req, res);
    } catch (error) {
      // A bug in one request must not take the others down with it.
      if (!res.headersSent) sendError(res, 500, 'api_error', 'The gateway failed to handle this request.');
      else res.destroy();
      log(JSON.stringify({ time: new Date().toISOString(), event: 'internal-error', message: String(error) }));
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

  function sendError(res: http.ServerResponse, status: number, type: ApiErrorType, message: string, closeConnection = false): number {
    const body = apiErrorBody(type, message);
    const headers: http.OutgoingHttpHeaders = {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
    };
    // The rest of an unread request body would otherwise be read as the next request.
    if (closeConnection) headers.connection = 'close';
    res.writeHead(status, headers);
    res.end(body);
    return Buffer.byteLength(body);
  }

  function handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const startedAt = Date.now();
    const startHr = process.hrtime.bigint();
    const entry: RequestLog = {
      time: new Date(startedAt).toISOString(),
      method: req.method ?? 'GET',
      path: '/',
      status: 0,
      durationMs: 0,
      bytesIn: 0,
      bytesOut: 0,
    };
    req.on('error', () => {
      /* a reset mid-upload; the 'close' handling below cleans up */
    });
    res.on('error', () => {
      /* the client went away mid-write; same */
    });

    // Normalising through URL resolves "..", "%2e%2e" and absolute-form
    // targets, so the /v1 check below cannot be walked around.
    let target: URL;
    try {
      target = new URL(req.url ?? '/', 'http://gateway.invalid');
    } catch {
      target = new URL('http://gateway.invalid/');
    }
    entry.path = target.pathname;

    // The first bytes of the request body, kept to learn the model.
    const sniffed: Buffer[] = [];
    let sniffedBytes = 0;
    let sniffComplete = true;
    const modelAskedFor = () => requestedModel(Buffer.concat(sniffed), sniffComplete && req.complete);

    let logged = false;
    let finishFacts: ((done: () => void) => void) | undefined;
    const writeLog = () => {
      if (logged) return;
      logged = true;
      // 499 is nginx's "client closed request": nothing was sent, so there is
      // no real status to report.
      entry.status = res.headersSent ? res.statusCode : 499;
      entry.durationMs = Math.round((Number(process.hrtime.bigint() - startHr) / 1e6) * 1000) / 1000;
      if (!res.writableFinished && !entry.error) entry.aborted = true;
      // A passing health probe every few seconds would bury the requests
      // that matter; a failing one is still worth a line.
      if (entry.path === '/health' && entry.status === 200) return;
      const emit = () => log(JSON.stringify(entry));
      if (finishFacts) {
        finishFacts(emit);
      } else {
        // No response reached us (refused, aborted, failed): the request
        // still says which model it wanted.
        entry.model ??= modelAskedFor();
        emit();
      }
    };
    res.on('close', writeLog);

    if (target.pathname === '/health') {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        entry.bytesOut = sendError(res, 405, 'invalid_request_error', 'Use GET /health.');
        return;
      }
      const body = JSON.stringify({
        status: 'ok',
        version: GATEWAY_VERSION,
        uptimeSeconds: Math.floor((Date.now() - started) / 1000),
        mode: config.authMode,
      });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
      res.end(req.method === 'HEAD' ? undefined : body);
      entry.bytesOut = req.method === 'HEAD' ? 0 : Buffer.byteLength(body);
      return;
    }

    if (target.pathname !== '/v1' && !target.pathname.startsWith('/v1/')) {
      entry.bytesOut = sendError(res, 404, 'not_found_error', `Not found: ${req.method} ${target.pathname}. The gateway serves /v1/* and /health.`);
      return;
    }

    const headers = endToEndHeaders(req.headers);
    // Node answers "Expect: 100-continue" itself; passing it on would make
    // the upstream wait for a continue that the gateway never relays.
    delete headers.expect;

    if (config.authMode === 'team-key') {
      const presented = presentedCredentials(req.headers);
      const accepted = presented.some((value) => sameSecret(value, config.clientToken!));
      if (!accepted) {
        entry.error = presented.length ? 'client token rejected' : 'no client credential';
        entry.bytesOut = sendError(
          res,
          401,
          'authentication_error',
          presented.length
            ? 'The gateway did not accept this credential. Use the client token that cctl init stored for this project.'
            : 'No credential. Send the project client token as Authorization: Bearer or x-api-key.',
          true,
        );
        return;
      }
      delete headers.authorization;
      delete headers['x-api-key'];
      const team = config.teamCredential!;
      if (team.kind === 'api-key') headers['x-api-key'] = team.value;
      else headers.authorization = `Bearer ${team.value}`;
    }

    const declaredLength = req.headers['content-length'] === undefined ? undefined : Number(req.headers['content-length']);
    if (declaredLength !== undefined && declaredLength > config.maxBodyBytes) {
      entry.error = 'request body over the limit';
      entry.bytesOut = sendError(res, 413, 'request_too_large', `Request body is ${declaredLength} bytes; the gateway accepts at most ${config.maxBodyBytes}.`, true);
      return;
    }

    headers.host = upstreamHost;

    let failed: GatewayFailure | undefined;
    let clientGone = false;
    let retried = false;
    let upstreamReq: http.ClientRequest;

    const fail = (failure: GatewayFailure) => {
      if (failed) return;
      failed = failure;
      entry.error = failure.message;
      upstreamReq.destroy(failure);
    };

    // Request body: streamed through, counted against the limit, and the
    // first bytes kept to learn the model (and to replay, see below).
    req.on('data', (chunk: Buffer) => {
      entry.bytesIn += chunk.length;
      if (entry.bytesIn > config.maxBodyBytes) {
        req.unpipe(upstreamReq);
        fail(new GatewayFailure(413, 'request_too_large', `Request body is over the gateway's limit of ${config.maxBodyBytes} bytes.`));
        return;
      }
      if (sniffComplete) {
        if (sniffedBytes + chunk.length <= REQUEST_SNIFF_LIMIT) {
          sniffed.push(chunk);
          sniffedBytes += chunk.length;
        } else {
          sniffComplete = false;
          // Keep only what the first-key match needs.
          const head = [...sniffed, chunk];
          sniffed.splice(0, sniffed.length, Buffer.concat(head, Math.min(4096, sniffedBytes + chunk.length)));
        }
      }
    });

    /** Sends the request upstream: the live body the first time, the kept copy on a retry. */
    const open = (replay?: Buffer) => {
      upstreamReq = transport.request({
        protocol: config.upstreamUrl.protocol,
        hostname: upstreamHostname,
        port: upstreamPort,
        method: req.method,
        path: basePath + target.pathname + target.search,
        headers,
        agent,
      });
      const attempt = upstreamReq;
      attempt.setNoDelay(true);

      // Connect timeout: only for a fresh socket, until TCP (and TLS) is up.
      // A pooled socket is already connected and skips it.
      attempt.on('socket', (socket: Socket) => {
        if (!socket.connecting) return;
        const readyEvent = config.upstreamUrl.protocol === 'https:' ? 'secureConnect' : 'connect';
        const timer = setTimeout(
          () => fail(new GatewayFailure(504, 'api_error', `Upstream ${upstreamHost} did not accept a connection within ${config.connectTimeoutMs} ms.`)),
          config.connectTimeoutMs,
        );
        const clear = () => clearTimeout(timer);
        socket.once(readyEvent, clear);
        socket.once('close', clear);
      });
      // Idle timeout: no bytes either way on the upstream socket for this long.
      attempt.setTimeout(config.idleTimeoutMs, () =>
        fail(new GatewayFailure(504, 'api_error', `Upstream ${upstreamHost} sent nothing for ${config.idleTimeoutMs} ms.`)),
      );

      attempt.on('error', (error: NodeJS.ErrnoException) => {
        if (clientGone) return;
        // A pooled socket that the upstream closed just as this request went
        // out fails before any response. That is the race Node documents for
        // keep-alive (https://nodejs.org/api/http.html#requestreusedsocket);
        // the upstream did not answer it, so sending it once more on a fresh
        // socket is safe, when the whole body is at hand to resend.
        if (
          !failed &&
          !retried &&
          attempt.reusedSocket &&
          !res.headersSent &&
          (error.code === 'ECONNRESET' || error.code === 'EPIPE') &&
          req.complete &&
          sniffComplete
        ) {
          retried = true;
          open(Buffer.concat(sniffed));
          return;
        }
        const failure =
          failed ??
          (error instanceof GatewayFailure
            ? error
            : new GatewayFailure(502, 'api_error', `Upstream ${upstreamHost} is unreachable (${error.code ?? error.message}).`));
        if (!failed) entry.error = failure.message;
        if (!res.headersSent) {
          entry.bytesOut = sendError(res, failure.status, failure.type, failure.message, failure.status === 413 || !req.complete);
        } else {
          // Mid-stream: the status is already sent, so the only honest signal
          // left is to cut the connection rather than end the body cleanly.
          res.destroy();
        }
      });

      attempt.on('response', (upstreamRes) => {
        entry.upstreamMs = Math.round((Number(process.hrtime.bigint() - startHr) / 1e6) * 1000) / 1000;
        const requestId = upstreamRes.headers['request-id'];
        if (typeof requestId === 'string') entry.requestId = requestId;
        const tap = new ResponseTap(upstreamRes.headers['content-type'], upstreamRes.headers['content-encoding'] as string | undefined);
        finishFacts = (done) =>
          tap.finish((facts) => {
            entry.model = facts.model ?? modelAskedFor();
            if (facts.usage) entry.usage = facts.usage;
            if (facts.stopReason) entry.stopReason = facts.stopReason;
            if (facts.errorType) entry.errorType = facts.errorType;
            done();
          });

        res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.statusMessage, endToEndHeaders(upstreamRes.headers));
        // Send the status line and headers now: an SSE client should see the
        // stream open even before the first event.
        res.flushHeaders();
        upstreamRes.on('data', (chunk: Buffer) => {
          entry.bytesOut += chunk.length;
          tap.push(chunk);
        });
        // Once a response has begun, a lost upstream surfaces here rather
        // than on the request; cut the client's connection, as above.
        upstreamRes.on('error', () => {
          if (!failed) entry.error = 'upstream connection lost mid-response';
          res.destroy();
        });
        upstreamRes.pipe(res);
      });

      if (replay) attempt.end(replay);
      else req.pipe(attempt);
    };
    open();

    // A client that leaves takes its upstream request with it, so an
    // abandoned generation stops costing tokens.
    res.on('close', () => {
      if (res.writableFinished) return;
      clientGone = true;
      req.unpipe(upstreamReq);
      upstreamReq.destroy();
    });
  }

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
          agent.destroy();
          resolve();
        });
        server.closeIdleConnections();
      });
      return closing;
    },
  };
}

// ---------------------------------------------------------------------------
// Command line

/** `node gateway.js health`: the compose health check. Resolves to the exit code. */
export function probeHealth(port: number, timeoutMs = 3000): Promise<number> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/health', timeout: timeoutMs, agent: false }, (res) => {
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

async function main(argv: string[]): Promise<void> {
  if (argv[0] === 'health') {
    let port: number;
    try {
      port = intFromEnv(process.env, 'PORT', DEFAULTS.port, 1, 65535);
    } catch (error) {
      process.stderr.write(`gateway health: ${(error as Error).message}\n`);
      process.exit(1);
    }
    process.exit(await probeHealth(port));
  }
  if (argv.length > 0) {
    process.stderr.write('usage: node gateway.js [health]\n');
    process.exit(2);
  }

  let config: GatewayConfig;
  try {
    config = loadConfig();
  } catch (error) {
    if (!(error instanceof GatewayConfigError)) throw error;
    process.stderr.write(`gateway: ${error.message}\n`);
    process.exit(2);
  }
  const gateway = createGateway(config);
  const port = await gateway.listen();
  const lifecycle = (event: string, extra: Record<string, unknown> = {}) =>
    process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), event, ...extra })}\n`);
  lifecycle('listening', {
    port,
    version: GATEWAY_VERSION,
    mode: config.authMode,
    upstream: config.upstreamUrl.origin + config.upstreamUrl.pathname.replace(/\/+$/, ''),
  });

  // As PID 1 in a container, Node gets no default SIGTERM handling; without
  // these `docker stop` would wait its full timeout and then SIGKILL.
  const stop = (signal: string) => {
    lifecycle('stopping', { signal });
    void gateway.close(8000).then(() => process.exit(0));
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

function isEntryPoint(): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return import.meta.url === pathToFileURL(realpathSync(entry)).href;
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    process.stderr.write(`gateway: ${(error as Error)?.stack ?? String(error)}\n`);
    process.exit(1);
  });
}
