/**
 * The gateway's pure parts: configuration from the environment, the SSE and
 * JSON usage reader, the request model sniffing, and header filtering.
 */
import test from 'ava';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { apiErrorBody } from '../../lib/gateway/api-error.js';
import { DEFAULTS, GATEWAY_VERSION, GatewayConfigError, loadConfig } from '../../lib/gateway/config.js';
import { endToEndHeaders } from '../../lib/gateway/headers.js';
import { requestedModel } from '../../lib/gateway/request-body.js';
import { ResponseTap, type ResponseFacts } from '../../lib/gateway/response-tap.js';
import { sse } from './fixtures.js';

const noFiles = (path: string): string => {
  throw Object.assign(new Error(`no file ${path}`), { code: 'ENOENT' });
};

test('the gateway version matches package.json (the image has no package.json to read)', (t) => {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  t.is(GATEWAY_VERSION, pkg.version);
});

test('defaults: port 3000, the Anthropic API, login mode when no team key is set', (t) => {
  const config = loadConfig({}, noFiles);
  t.is(config.port, 3000);
  t.is(config.upstreamUrl.href, 'https://api.anthropic.com/');
  t.is(config.authMode, 'login');
  t.is(config.maxBodyBytes, DEFAULTS.maxBodyBytes);
  t.is(config.connectTimeoutMs, DEFAULTS.connectTimeoutMs);
  t.is(config.idleTimeoutMs, DEFAULTS.idleTimeoutMs);
  t.is(config.teamCredential, undefined);
});

test('team-key mode with an API key, a client token and the numeric settings', (t) => {
  const config = loadConfig(
    {
      PORT: '8080',
      CCTL_UPSTREAM_URL: 'http://fake-upstream:9000/prefix',
      CCTL_AUTH_MODE: 'team-key',
      CCTL_CLIENT_TOKEN: 'client',
      ANTHROPIC_API_KEY: 'sk-team\n',
      CCTL_MAX_BODY_BYTES: '1000',
      CCTL_CONNECT_TIMEOUT_MS: '250',
      CCTL_IDLE_TIMEOUT_MS: '9000',
    },
    noFiles,
  );
  t.like(config, {
    port: 8080,
    authMode: 'team-key',
    clientToken: 'client',
    maxBodyBytes: 1000,
    connectTimeoutMs: 250,
    idleTimeoutMs: 9000,
  });
  t.deepEqual(config.teamCredential, { kind: 'api-key', value: 'sk-team' });
  t.is(config.upstreamUrl.href, 'http://fake-upstream:9000/prefix');
});

test('a team key alone implies team-key mode; secrets come from *_FILE variants', (t) => {
  const files: Record<string, string> = { '/run/secrets/token': 'oauth-team\n', '/run/secrets/client': 'client-from-file\n' };
  const config = loadConfig({ ANTHROPIC_AUTH_TOKEN_FILE: '/run/secrets/token', CCTL_CLIENT_TOKEN_FILE: '/run/secrets/client' }, (p) => {
    const text = files[p];
    if (text === undefined) throw Object.assign(new Error('missing'), { code: 'ENOENT' });
    return text;
  });
  t.is(config.authMode, 'team-key');
  t.deepEqual(config.teamCredential, { kind: 'auth-token', value: 'oauth-team' });
  t.is(config.clientToken, 'client-from-file');
});

test('login mode ignores a team key that happens to be set', (t) => {
  const config = loadConfig({ CCTL_AUTH_MODE: 'login', ANTHROPIC_API_KEY: 'sk' }, noFiles);
  t.is(config.authMode, 'login');
  t.is(config.teamCredential, undefined);
  t.is(config.clientToken, undefined);
});

test('configuration mistakes are refused with a message that names the variable', (t) => {
  const cases: Array<[Record<string, string>, RegExp]> = [
    [{ CCTL_AUTH_MODE: 'team-key', CCTL_CLIENT_TOKEN: 'c' }, /needs the team credential/],
    [{ ANTHROPIC_API_KEY: 'k' }, /needs CCTL_CLIENT_TOKEN/],
    [{ ANTHROPIC_API_KEY: 'k', ANTHROPIC_AUTH_TOKEN: 't', CCTL_CLIENT_TOKEN: 'c' }, /not both/],
    [{ ANTHROPIC_API_KEY: 'k', ANTHROPIC_API_KEY_FILE: '/x' }, /ANTHROPIC_API_KEY or ANTHROPIC_API_KEY_FILE/],
    [{ ANTHROPIC_API_KEY_FILE: '/missing' }, /ANTHROPIC_API_KEY_FILE: cannot read \/missing \(ENOENT\)/],
    [{ CCTL_AUTH_MODE: 'open' }, /CCTL_AUTH_MODE must be team-key or login/],
    [{ CCTL_UPSTREAM_URL: 'not a url' }, /CCTL_UPSTREAM_URL is not a URL/],
    [{ CCTL_UPSTREAM_URL: 'ftp://x' }, /must be http/],
    [{ CCTL_UPSTREAM_URL: 'https://user:pw@x' }, /must not carry credentials/],
    [{ PORT: 'abc' }, /PORT must be a whole number/],
    [{ PORT: '70000' }, /PORT must be between/],
    [{ CCTL_MAX_BODY_BYTES: '0' }, /CCTL_MAX_BODY_BYTES must be between/],
    [{ CCTL_IDLE_TIMEOUT_MS: '-5' }, /CCTL_IDLE_TIMEOUT_MS must be a whole number/],
  ];
  for (const [env, message] of cases) {
    t.throws(() => loadConfig(env, noFiles), { instanceOf: GatewayConfigError, message }, JSON.stringify(env));
  }
});

test('an empty secret file is refused rather than sent as an empty key', (t) => {
  t.throws(() => loadConfig({ ANTHROPIC_API_KEY_FILE: '/k', CCTL_CLIENT_TOKEN: 'c' }, () => '\n'), { message: /is empty/ });
});

test('endToEndHeaders drops hop-by-hop headers and whatever Connection lists', (t) => {
  const out = endToEndHeaders({
    connection: 'close, X-Custom-Hop',
    'x-custom-hop': '1',
    'keep-alive': 'timeout=5',
    'transfer-encoding': 'chunked',
    upgrade: 'h2c',
    trailer: 'x',
    te: 'trailers',
    'proxy-authorization': 'Basic x',
    'proxy-connection': 'keep-alive',
    'content-type': 'application/json',
    'anthropic-version': '2023-06-01',
  });
  t.deepEqual(out, { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' });
});

test('apiErrorBody has the Messages API error shape', (t) => {
  t.deepEqual(JSON.parse(apiErrorBody('api_error', 'boom')), { type: 'error', error: { type: 'api_error', message: 'boom' } });
});

const stream = [
  sse('message_start', {
    type: 'message_start',
    message: {
      id: 'msg',
      type: 'message',
      model: 'claude-x',
      usage: { input_tokens: 100, output_tokens: 1, cache_creation_input_tokens: 20, cache_read_input_tokens: 30 },
    },
  }),
  sse('ping', { type: 'ping' }),
  sse('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }),
  sse('content_block_delta', {
    type: 'content_block_delta',
    index: 0,
    delta: { type: 'text_delta', text: 'héllo "usage":{"output_tokens":999} ✓' },
  }),
  sse('content_block_stop', { type: 'content_block_stop', index: 0 }),
  sse('message_delta', { type: 'message_delta', delta: { stop_reason: 'max_tokens' }, usage: { output_tokens: 64 } }),
  sse('message_stop', { type: 'message_stop' }),
].join('');

const expected: ResponseFacts = {
  model: 'claude-x',
  usage: { input_tokens: 100, output_tokens: 64, cache_creation_input_tokens: 20, cache_read_input_tokens: 30 },
  stopReason: 'max_tokens',
};

function readAll(tap: ResponseTap, chunks: Buffer[]): Promise<ResponseFacts> {
  for (const c of chunks) tap.push(c);
  return new Promise((resolve) => tap.finish(resolve));
}

test('SSE usage survives any chunking, down to one byte at a time (split UTF-8 included)', async (t) => {
  const bytes = Buffer.from(stream);
  t.deepEqual(await readAll(new ResponseTap('text/event-stream', undefined), [bytes]), expected);
  const single = Array.from({ length: bytes.length }, (_, i) => bytes.subarray(i, i + 1));
  t.deepEqual(await readAll(new ResponseTap('text/event-stream; charset=utf-8', undefined), single), expected);
  const sevens = Array.from({ length: Math.ceil(bytes.length / 7) }, (_, i) => bytes.subarray(i * 7, i * 7 + 7));
  t.deepEqual(await readAll(new ResponseTap('text/event-stream', undefined), sevens), expected);
});

test('SSE with CRLF line endings and gzip encoding still yields usage', async (t) => {
  const crlf = Buffer.from(stream.replace(/\n/g, '\r\n'));
  t.deepEqual(await readAll(new ResponseTap('text/event-stream', undefined), [crlf]), expected);
  const zipped = gzipSync(Buffer.from(stream));
  const halves = [zipped.subarray(0, 10), zipped.subarray(10)];
  t.deepEqual(await readAll(new ResponseTap('text/event-stream', 'gzip'), halves), expected);
});

test('an error event in a stream is reported; a huge line is skipped without losing later events', async (t) => {
  const huge = `event: content_block_delta\ndata: ${'x'.repeat(2 * 1024 * 1024)}\n\n`;
  const text = huge + sse('error', { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } });
  // In 64 KiB chunks, so the long line piles up across chunks as it would off a socket.
  const bytes = Buffer.from(text);
  const chunks = Array.from({ length: Math.ceil(bytes.length / 65536) }, (_, i) => bytes.subarray(i * 65536, (i + 1) * 65536));
  const facts = await readAll(new ResponseTap('text/event-stream', undefined), chunks);
  t.deepEqual(facts, { errorType: 'overloaded_error' });
});

test('a truncated stream reports what it saw; a truncated gzip stream does not hang', async (t) => {
  const cut = Buffer.from(stream).subarray(0, stream.indexOf('event: message_delta'));
  const facts = await readAll(new ResponseTap('text/event-stream', undefined), [cut]);
  t.is(facts.model, 'claude-x');
  t.is(facts.usage?.output_tokens, 1);

  const zipped = gzipSync(Buffer.from(stream));
  const partial = await readAll(new ResponseTap('text/event-stream', 'gzip'), [zipped.subarray(0, zipped.length - 20)]);
  t.is(typeof partial, 'object');
  const garbage = await readAll(new ResponseTap('application/json', 'gzip'), [Buffer.from('not gzip at all')]);
  t.regex(garbage.unreadable ?? '', /^gzip stream is corrupt/);
  t.is(garbage.usage, undefined);
});

test('JSON replies give model, usage, stop reason, or the error type', async (t) => {
  const ok = Buffer.from(
    JSON.stringify({
      type: 'message',
      model: 'm',
      stop_reason: 'end_turn',
      usage: { input_tokens: 1, output_tokens: 2, server_tool_use: { web_search_requests: 1 } },
    }),
  );
  t.deepEqual(await readAll(new ResponseTap('application/json', undefined), [ok.subarray(0, 5), ok.subarray(5)]), {
    model: 'm',
    stopReason: 'end_turn',
    // Searches are billed beside the tokens: the ledger prices them (attack-billing.test.ts).
    usage: { input_tokens: 1, output_tokens: 2, web_search_requests: 1 },
  });
  const error = Buffer.from(apiErrorBody('authentication_error', 'bad key'));
  t.deepEqual(await readAll(new ResponseTap('application/json', undefined), [error]), { errorType: 'authentication_error' });
  t.deepEqual(await readAll(new ResponseTap('text/plain', undefined), [ok]), {
    unreadable: 'content-type text/plain is neither JSON nor an event stream',
  });
  t.deepEqual(await readAll(new ResponseTap('application/json', undefined), [Buffer.from('{not json')]), {
    unreadable: 'reply is not valid JSON',
  });
  t.deepEqual(await readAll(new ResponseTap('application/json', 'zstd'), [ok]), { unreadable: 'content-encoding zstd cannot be decoded' });
});

test('requestedModel parses a whole body, and trusts a partial one only when model is its first key', (t) => {
  t.is(requestedModel(Buffer.from('{"messages":[],"model":"claude-a"}'), true), 'claude-a');
  t.is(requestedModel(Buffer.from('{"model": "claude-b", "messages": [{"role":"user","content":"x'), false), 'claude-b');
  // In a partial body, a "model" that is not the first key might be nested
  // inside messages or tool input, so it is not trusted.
  t.is(requestedModel(Buffer.from('{"messages":[{"content":[{"type":"tool_use","input":{"model":"nested"'), false), undefined);
  t.is(requestedModel(Buffer.from('{"model":'), true), undefined);
  t.is(requestedModel(Buffer.alloc(0), true), undefined);
});
