/**
 * The gateway's API route against fake upstreams on 127.0.0.1: health,
 * routing, forwarding, credentials, the body limit and the log line. Every
 * wait is bounded by deadline()/waitFor(), so a regression fails fast
 * instead of hanging.
 */
import test from 'ava';
import http from 'node:http';
import net from 'node:net';
import { bearer, CLIENT_TOKEN, deadline, errorOf, messagesBody, send, startGateway, startUpstream, TEAM_KEY, waitFor } from './fixtures.js';

test('health answers 200 with version, uptime and mode, without calling the upstream', async (t) => {
  const upstream = await startUpstream();
  const { gateway, port, logs } = await startGateway(upstream.url);
  t.teardown(() => Promise.all([gateway.close(), upstream.close()]));

  const reply = await send(port, { path: '/health' });
  t.is(reply.status, 200);
  t.regex(String(reply.headers['content-type']), /application\/json/);
  const body = JSON.parse(reply.body) as Record<string, unknown>;
  t.is(body.status, 'ok');
  t.is(body.mode, 'team-key');
  t.regex(String(body.version), /^\d+\.\d+\.\d+/);
  t.is(typeof body.uptimeSeconds, 'number');
  t.is(upstream.seen.length, 0);

  // No credential needed for health; a POST is refused.
  t.is((await send(port, { path: '/health', method: 'POST', body: '' })).status, 405);
  // Passing probes are not logged (they would bury the real requests); the refused one is.
  await waitFor(() => logs.length === 1, 2000, 'the log line');
  t.like(logs, [{ path: '/health', status: 405 }]);
});

test('paths outside /v1 get an Anthropic-style 404, including ones that try to climb out', async (t) => {
  const upstream = await startUpstream();
  const { gateway, port } = await startGateway(upstream.url);
  t.teardown(() => Promise.all([gateway.close(), upstream.close()]));

  for (const path of ['/', '/admin', '/v2/messages', '/v1/../admin', '/v1/%2e%2e/admin', '/v1x']) {
    const reply = await send(port, { path, headers: bearer(CLIENT_TOKEN) });
    t.is(reply.status, 404, path);
    t.is(errorOf(reply).type, 'not_found_error', path);
  }
  t.is(upstream.seen.length, 0);
});

test('forwards method, path, query and body; rewrites Host; drops hop-by-hop headers both ways', async (t) => {
  const upstream = await startUpstream((_req, res) => {
    res.setHeader('x-upstream', 'yes');
    res.setHeader('set-cookie', ['a=1', 'b=2']);
    res.setHeader('connection', 'keep-alive, x-upstream-hop');
    res.setHeader('x-upstream-hop', 'drop me');
    res.setHeader('keep-alive', 'timeout=5');
    res.setHeader('content-type', 'application/json');
    res.writeHead(201, 'Made');
    res.end('{"ok":true}');
  });
  // A base path on the upstream URL is kept in front of the request path.
  const { gateway, port } = await startGateway(`${upstream.url}/base/`);
  t.teardown(() => Promise.all([gateway.close(), upstream.close()]));

  const reply = await send(port, {
    method: 'POST',
    path: '/v1/messages/count_tokens?beta=true',
    headers: {
      ...bearer(CLIENT_TOKEN),
      'content-type': 'application/json',
      'anthropic-version': '2023-06-01',
      'anthropic-beta': 'x-1',
      connection: 'keep-alive, x-client-hop',
      'x-client-hop': 'drop me',
      'keep-alive': 'timeout=5',
      'proxy-authorization': 'Basic c2VjcmV0',
      te: 'trailers',
      host: 'gateway.example',
    },
    body: '{"hello":"world"}',
  });

  t.is(reply.status, 201);
  t.is(reply.body, '{"ok":true}');
  t.is(reply.headers['x-upstream'], 'yes');
  t.deepEqual(reply.headers['set-cookie'], ['a=1', 'b=2']);
  t.is(reply.headers['x-upstream-hop'], undefined);

  t.is(upstream.seen.length, 1);
  const seen = upstream.seen[0]!;
  t.is(seen.method, 'POST');
  t.is(seen.url, '/base/v1/messages/count_tokens?beta=true');
  t.is(seen.body, '{"hello":"world"}');
  t.is(seen.headers.host, `127.0.0.1:${upstream.port}`);
  t.is(seen.headers['anthropic-version'], '2023-06-01');
  t.is(seen.headers['anthropic-beta'], 'x-1');
  for (const dropped of ['x-client-hop', 'proxy-authorization', 'te', 'keep-alive']) {
    t.is(seen.headers[dropped], undefined, dropped);
  }
});

test('team-key mode swaps the client token for the team API key, from either header', async (t) => {
  const upstream = await startUpstream();
  const { gateway, port } = await startGateway(upstream.url);
  t.teardown(() => Promise.all([gateway.close(), upstream.close()]));

  t.is((await send(port, { headers: bearer(CLIENT_TOKEN), body: messagesBody() })).status, 200);
  t.is((await send(port, { headers: { 'x-api-key': CLIENT_TOKEN }, body: messagesBody() })).status, 200);

  t.is(upstream.seen.length, 2);
  for (const seen of upstream.seen) {
    t.is(seen.headers['x-api-key'], TEAM_KEY);
    t.is(seen.headers.authorization, undefined);
    t.false(JSON.stringify(seen.headers).includes(CLIENT_TOKEN));
  }
});

test('team-key mode with an auth token sends it as Authorization: Bearer', async (t) => {
  const upstream = await startUpstream();
  const { gateway, port } = await startGateway(upstream.url, { teamCredential: { kind: 'auth-token', value: 'team-oauth-token' } });
  t.teardown(() => Promise.all([gateway.close(), upstream.close()]));

  t.is((await send(port, { headers: { 'x-api-key': CLIENT_TOKEN }, body: messagesBody() })).status, 200);
  t.is(upstream.seen[0]!.headers.authorization, 'Bearer team-oauth-token');
  t.is(upstream.seen[0]!.headers['x-api-key'], undefined);
});

test('team-key mode answers 401 to a missing or wrong credential, and never calls the upstream', async (t) => {
  const upstream = await startUpstream();
  const { gateway, port, logs } = await startGateway(upstream.url);
  t.teardown(() => Promise.all([gateway.close(), upstream.close()]));

  const attempts: http.OutgoingHttpHeaders[] = [
    {},
    bearer('wrong-token'),
    { 'x-api-key': 'wrong-token' },
    bearer(CLIENT_TOKEN.slice(0, -1)),
    bearer(`${CLIENT_TOKEN}x`),
    { authorization: CLIENT_TOKEN }, // no Bearer scheme
    { authorization: `Basic ${CLIENT_TOKEN}` },
    bearer(TEAM_KEY), // the team key itself is not a client credential
  ];
  for (const headers of attempts) {
    const reply = await send(port, { headers, body: messagesBody() });
    t.is(reply.status, 401, JSON.stringify(headers));
    t.is(errorOf(reply).type, 'authentication_error');
  }
  t.is(upstream.seen.length, 0);
  t.true(logs.every((l) => l.status === 401));
});

test('login mode passes the client credentials through untouched and adds none', async (t) => {
  const upstream = await startUpstream();
  const { gateway, port } = await startGateway(upstream.url, { authMode: 'login', clientToken: undefined, teamCredential: undefined });
  t.teardown(() => Promise.all([gateway.close(), upstream.close()]));

  t.is(
    (await send(port, { headers: { authorization: 'Bearer sk-ant-oat01-personal', 'anthropic-beta': 'oauth-2025-04-20' }, body: '{}' }))
      .status,
    200,
  );
  t.is((await send(port, { headers: { 'x-api-key': 'sk-ant-personal-key' }, body: '{}' })).status, 200);
  t.is((await send(port, { body: '{}' })).status, 200);

  t.is(upstream.seen[0]!.headers.authorization, 'Bearer sk-ant-oat01-personal');
  t.is(upstream.seen[0]!.headers['anthropic-beta'], 'oauth-2025-04-20');
  t.is(upstream.seen[0]!.headers['x-api-key'], undefined);
  t.is(upstream.seen[1]!.headers['x-api-key'], 'sk-ant-personal-key');
  t.is(upstream.seen[1]!.headers.authorization, undefined);
  t.is(upstream.seen[2]!.headers.authorization, undefined);
  t.is(upstream.seen[2]!.headers['x-api-key'], undefined);
});

test('a body over the limit gets 413, by Content-Length up front and by counting a chunked upload', async (t) => {
  const upstream = await startUpstream();
  const { gateway, port, logs } = await startGateway(upstream.url, { maxBodyBytes: 1000 });
  t.teardown(() => Promise.all([gateway.close(), upstream.close()]));

  const declared = await send(port, { headers: bearer(CLIENT_TOKEN), body: 'x'.repeat(1001) });
  t.is(declared.status, 413);
  t.is(errorOf(declared).type, 'request_too_large');
  t.is(upstream.seen.length, 0, 'refused before any upstream call');

  // Exactly the limit is fine.
  t.is((await send(port, { headers: bearer(CLIENT_TOKEN), body: 'x'.repeat(1000) })).status, 200);

  // Chunked: no length up front, so the gateway counts as it streams.
  const chunked = await deadline(
    new Promise<number>((resolve, reject) => {
      const req = http.request(
        { host: '127.0.0.1', port, method: 'POST', path: '/v1/messages', headers: bearer(CLIENT_TOKEN), agent: false },
        (res) => {
          res.resume();
          resolve(res.statusCode!);
        },
      );
      req.on('error', (error) =>
        error.message.includes('EPIPE') || (error as NodeJS.ErrnoException).code === 'ECONNRESET' ? undefined : reject(error),
      );
      let sent = 0;
      const pump = () => {
        if (sent >= 20 || req.destroyed) return; // bounded: 20 x 200 bytes
        req.write('y'.repeat(200));
        sent += 1;
        setTimeout(pump, 5);
      };
      pump();
    }),
    5000,
    'the 413 for a chunked upload',
  );
  t.is(chunked, 413);
  await waitFor(() => logs.length === 3, 2000, 'three log lines');
  t.is(logs[2]!.status, 413);
  t.true(
    upstream.seen.every((s) => s.body.length <= 1000),
    'the upstream never received the oversized body',
  );
});

test('one log line per request with the facts and no credential or body', async (t) => {
  const upstream = await startUpstream();
  const { gateway, port, logs, rawLogs } = await startGateway(upstream.url);
  t.teardown(() => Promise.all([gateway.close(), upstream.close()]));

  const body = messagesBody();
  await send(port, {
    path: '/v1/messages?beta=true&key=query-secret',
    headers: { ...bearer(CLIENT_TOKEN), 'content-type': 'application/json' },
    body,
  });
  await send(port, { headers: bearer('WRONG-TOKEN-VALUE'), body });
  await waitFor(() => logs.length === 2, 2000, 'two log lines');

  const [ok, denied] = logs;
  t.like(ok, {
    method: 'POST',
    path: '/v1/messages',
    status: 200,
    bytesIn: Buffer.byteLength(body),
    model: 'claude-test-1',
    requestId: 'req_fake_1',
    stopReason: 'end_turn',
  });
  t.deepEqual(ok!.usage, { input_tokens: 11, output_tokens: 7, cache_read_input_tokens: 3 });
  t.true(ok!.bytesOut > 0);
  t.true(typeof ok!.durationMs === 'number' && ok!.durationMs >= 0);
  t.false(Number.isNaN(Date.parse(ok!.time)));
  t.like(denied, { status: 401, path: '/v1/messages' });

  const all = rawLogs.join('\n');
  for (const secret of [CLIENT_TOKEN, TEAM_KEY, 'WRONG-TOKEN-VALUE', 'SECRET-PROMPT-TEXT', 'query-secret', '"hi"']) {
    t.false(all.includes(secret), `log must not contain ${secret}`);
  }
  for (const line of rawLogs) t.false(line.includes('\n'));
});

test('bad requests and resets do not crash the gateway; it keeps serving', async (t) => {
  const upstream = await startUpstream();
  const { gateway, port } = await startGateway(upstream.url);
  t.teardown(() => Promise.all([gateway.close(), upstream.close()]));

  const raw = (payload: string, endAfterWrite: boolean) =>
    deadline(
      new Promise<string>((resolve) => {
        const socket = net.connect(port, '127.0.0.1');
        let got = '';
        socket.on('data', (d) => (got += d.toString()));
        socket.on('error', () => resolve(got));
        socket.on('close', () => resolve(got));
        socket.write(payload);
        if (endAfterWrite) socket.end();
        else setTimeout(() => socket.resetAndDestroy(), 50);
      }),
      5000,
      'a raw exchange',
    );

  t.regex(await raw('THIS IS NOT HTTP\r\n\r\n', true), /^HTTP\/1\.1 400/);
  t.regex(await raw('GET /v1/messages HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n', true), /^HTTP\/1\.1 400/);
  // A declared body that never arrives, then a reset.
  await raw(
    `POST /v1/messages HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${CLIENT_TOKEN}\r\nContent-Length: 500\r\n\r\n{"model":`,
    false,
  );
  // Chunked encoding that lies about its chunk size.
  await raw(
    `POST /v1/messages HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${CLIENT_TOKEN}\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n`,
    true,
  );

  const after = await send(port, { headers: bearer(CLIENT_TOKEN), body: messagesBody() });
  t.is(after.status, 200);
  t.is((await send(port, { path: '/health' })).status, 200);
});
