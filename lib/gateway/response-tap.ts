/**
 * The response tap: usage read from the response as it passes, never holding
 * it back.
 */
import { StringDecoder } from 'node:string_decoder';
import zlib from 'node:zlib';

export interface Usage {
  input_tokens?: number;
  output_tokens?: number;
  cache_creation_input_tokens?: number;
  cache_read_input_tokens?: number;
  /** usage.server_tool_use.web_search_requests: searches the upstream ran, billed beside the tokens. */
  web_search_requests?: number;
}

export interface ResponseFacts {
  model?: string;
  usage?: Usage;
  stopReason?: string;
  /** `error.type` of an error body, or of an `event: error` in a stream. */
  errorType?: string;
  /** Why the reply could not be read in full (an encoding, a corrupt stream, a body that is not JSON or SSE). */
  unreadable?: string;
}

const USAGE_FIELDS = ['input_tokens', 'output_tokens', 'cache_creation_input_tokens', 'cache_read_input_tokens'] as const;

function pickUsage(source: unknown, into: Usage = {}): Usage {
  if (source && typeof source === 'object') {
    for (const field of USAGE_FIELDS) {
      const value = (source as Record<string, unknown>)[field];
      if (typeof value === 'number') into[field] = value;
    }
    const searches = ((source as Record<string, unknown>).server_tool_use as Record<string, unknown> | undefined)?.web_search_requests;
    if (typeof searches === 'number') into.web_search_requests = searches;
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
  /** A stream's final (cumulative) usage came: message_delta. */
  private finalUsage = false;

  constructor(contentType: string | undefined, contentEncoding: string | undefined) {
    const type = (contentType ?? '').toLowerCase();
    this.kind = type.startsWith('text/event-stream') ? 'sse' : type.includes('json') ? 'json' : 'none';
    if (this.kind === 'none') this.facts.unreadable = `content-type ${type || '(none)'} is neither JSON nor an event stream`;
    const encoding = (contentEncoding ?? '').trim().toLowerCase();
    if (this.kind === 'none' || !encoding || encoding === 'identity') return;
    // The gateway asks upstream only for codings it can decode (headers.ts);
    // the bytes go to the client as they are, and a private copy is inflated
    // for reading.
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
      this.facts.unreadable = `content-encoding ${encoding} cannot be decoded`;
      return;
    }
    this.decompressor.on('data', (chunk: Buffer) => this.consume(chunk));
    this.decompressor.on('error', (error) => {
      // Unreadable for us is not a problem for the client; just stop reading.
      this.kind = 'none';
      this.facts.unreadable = `${encoding} stream is corrupt (${error.message})`;
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
      else if (this.kind === 'sse') {
        this.consumeText(this.decoder.end() + '\n\n');
        // message_start says 1 output token; the bill comes in message_delta, after the text.
        // A stream cut before it (a client that hangs up once it has the text) is not read as 1 token.
        if (!this.finalUsage && !this.facts.errorType) this.facts.unreadable ??= 'the stream ended before its final usage (message_delta)';
      }
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
        this.facts.unreadable = `JSON reply over ${JSON_CAPTURE_LIMIT} bytes`;
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
      this.facts.unreadable = 'reply is not valid JSON';
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
        if (payload.usage) {
          this.facts.usage = pickUsage(payload.usage, this.facts.usage);
          this.finalUsage = true;
        }
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
