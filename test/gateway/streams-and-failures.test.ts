/**
 * Streams and failures on the API route: SSE passes through as it arrives,
 * usage is read from compressed replies, and upstreams that refuse, stall or
 * go quiet, and clients that leave, each end the right way. Every wait is
 * bounded.
 */
import test from 'ava';
import http from 'node:http';
import net from 'node:net';
import { gzipSync } from 'node:zlib';
import {
  bearer,
  CLIENT_TOKEN,
  deadline,
  errorOf,
  freePort,
  messagesBody,
  send,
  sse,
  startGateway,
  startUpstream,
  waitFor,
} from './fixtures.js';

test('SSE chunks reach the client while the upstream is still streaming', async (t) => {
  let clientHasFirst!: () => void;
  const firstArrived = new Promise<void>((resolve) => (clientHasFirst = resolve));
  const upstream = await startUpstream((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    res.write(
      sse('message_start', {
        type: 'message_start',
        message: { id: 'm', model: 'claude-streamed', usage: { input_tokens: 25, output_tokens: 1, cache_creation_input_tokens: 4 } },
      }),
    );
    // The second chunk waits until the client has the first: a gateway that
    // buffered the body would deadlock here and fail on the deadline below.
    void firstArrived.then(() => {
      res.write(sse('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Hello' } }));
      res.write(sse('message_delta', { type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 42 } }));
      res.end(sse('message_stop', { type: 'message_stop' }));
    });
  });
  const { gateway, port, logs } = await startGateway(upstream.url);
  t.teardown(() => Promise.all([gateway.close(), upstream.close()]));

  const received: string[] = [];
  const done = new Promise<number>((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, method: 'POST', path: '/v1/messages', headers: bearer(CLIENT_TOKEN), agent: false },
      (res) => {
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          received.push(chunk);
          if (chunk.includes('message_start')) clientHasFirst();
        });
        res.on('end', () => resolve(res.statusCode!));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(messagesBody({ stream: true }));
  });

  t.is(await deadline(done, 5000, 'the streamed response'), 200);
  const all = received.join('');
  t.true(received[0]!.includes('message_start'));
  t.false(received[0]!.includes('Hello'), 'the first chunk arrived on its own');
  t.true(all.includes('"text":"Hello"'));
  t.true(all.endsWith(sse('message_stop', { type: 'message_stop' })));

  await waitFor(() => logs.length === 1, 2000, 'the log line');
  t.is(logs[0]!.model, 'claude-streamed');
  t.deepEqual(logs[0]!.usage, { input_tokens: 25, output_tokens: 42, cache_creation_input_tokens: 4 });
  t.is(logs[0]!.stopReason, 'end_turn');
  t.is(logs[0]!.bytesOut, Buffer.byteLength(all));
});

test('usage is read from a gzip-compressed JSON reply that passes through compressed', async (t) => {
  const reply = JSON.stringify({ type: 'message', model: 'claude-zipped', usage: { input_tokens: 5, output_tokens: 6 } });
  const zipped = gzipSync(reply);
  const upstream = await startUpstream((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip', 'content-length': zipped.length });
    res.end(zipped);
  });
  const { gateway, port, logs } = await startGateway(upstream.url);
  t.teardown(() => Promise.all([gateway.close(), upstream.close()]));

  const got = await new Promise<Buffer>((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/v1/messages',
        headers: { ...bearer(CLIENT_TOKEN), 'accept-encoding': 'gzip' },
        agent: false,
      },
      (res) => {
        t.is(res.headers['content-encoding'], 'gzip');
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve(Buffer.concat(chunks)));
      },
    );
    req.on('error', reject);
    req.end(messagesBody());
  });
  t.deepEqual(got, zipped);
  await waitFor(() => logs.length === 1, 2000, 'the log line');
  t.is(logs[0]!.model, 'claude-zipped');
  t.deepEqual(logs[0]!.usage, { input_tokens: 5, output_tokens: 6 });
});

test('an upstream that refuses connections gives 502 in the Anthropic shape', async (t) => {
  const port0 = await freePort();
  const { gateway, port, logs } = await startGateway(`http://127.0.0.1:${port0}`);
  t.teardown(() => gateway.close());

  const reply = await send(port, { headers: bearer(CLIENT_TOKEN), body: messagesBody() });
  t.is(reply.status, 502);
  const error = errorOf(reply);
  t.is(error.type, 'api_error');
  t.regex(error.message, /ECONNREFUSED/);
  await waitFor(() => logs.length === 1, 2000, 'the log line');
  t.is(logs[0]!.status, 502);
  t.is(logs[0]!.model, 'claude-asked-for', 'the requested model is logged even without a reply');
});

test('a connection that never completes its TLS handshake gives 504 after the connect timeout', async (t) => {
  // TCP connects, but the server never speaks TLS, so the secure connection
  // is never up: the connect timeout covers TCP and TLS together.
  const sockets = new Set<net.Socket>();
  const silent = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    for (const s of sockets) s.destroy();
    silent.close();
  });
  const silentPort = (silent.address() as net.AddressInfo).port;
  const { gateway, port } = await startGateway(`https://127.0.0.1:${silentPort}`, { connectTimeoutMs: 200, idleTimeoutMs: 10_000 });
  t.teardown(() => gateway.close());

  const started = Date.now();
  const reply = await deadline(send(port, { headers: bearer(CLIENT_TOKEN), body: messagesBody() }), 5000, 'the 504');
  t.is(reply.status, 504);
  t.regex(errorOf(reply).message, /did not accept a connection within 200 ms/);
  t.true(Date.now() - started < 3000);
});

test('an upstream that goes quiet gives 504 after the idle timeout', async (t) => {
  const upstream = await startUpstream(() => {
    /* accepts the request and never answers */
  });
  const { gateway, port } = await startGateway(upstream.url, { idleTimeoutMs: 300 });
  t.teardown(() => Promise.all([gateway.close(), upstream.close()]));

  const reply = await deadline(send(port, { headers: bearer(CLIENT_TOKEN), body: messagesBody() }), 5000, 'the 504');
  t.is(reply.status, 504);
  t.regex(errorOf(reply).message, /sent nothing for 300 ms/);
});

test('an upstream that stalls mid-stream has the client connection cut, not ended cleanly', async (t) => {
  const upstream = await startUpstream((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write(sse('ping', { type: 'ping' }));
    /* then silence */
  });
  const { gateway, port, logs } = await startGateway(upstream.url, { idleTimeoutMs: 300 });
  t.teardown(() => Promise.all([gateway.close(), upstream.close()]));

  const outcome = await deadline(
    new Promise<string>((resolve) => {
      const req = http.request(
        { host: '127.0.0.1', port, method: 'POST', path: '/v1/messages', headers: bearer(CLIENT_TOKEN), agent: false },
        (res) => {
          res.resume();
          res.on('end', () => resolve('ended cleanly'));
          res.on('error', () => resolve('cut'));
          res.on('aborted', () => resolve('cut'));
        },
      );
      req.on('error', () => resolve('cut'));
      req.end(messagesBody({ stream: true }));
    }),
    5000,
    'the cut',
  );
  t.is(outcome, 'cut');
  await waitFor(() => logs.length === 1, 2000, 'the log line');
  t.regex(logs[0]!.error ?? '', /sent nothing/);
});

test('a client that disconnects mid-stream aborts the upstream request', async (t) => {
  let upstreamClosed = false;
  let upstreamFinished = false;
  const upstream = await startUpstream((_req, res) => {
    res.on('close', () => (upstreamClosed = true));
    res.on('finish', () => (upstreamFinished = true));
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write(
      sse('message_start', { type: 'message_start', message: { model: 'claude-long', usage: { input_tokens: 1, output_tokens: 1 } } }),
    );
    // Keeps streaming (bounded) until the gateway hangs up on it.
    let n = 0;
    const tick = setInterval(() => {
      if (res.destroyed || ++n > 200) {
        clearInterval(tick);
        if (!res.destroyed) res.end();
        return;
      }
      res.write(sse('ping', { type: 'ping' }));
    }, 10);
  });
  const { gateway, port, logs } = await startGateway(upstream.url);
  t.teardown(() => Promise.all([gateway.close(), upstream.close()]));

  await deadline(
    new Promise<void>((resolve, reject) => {
      const req = http.request(
        { host: '127.0.0.1', port, method: 'POST', path: '/v1/messages', headers: bearer(CLIENT_TOKEN), agent: false },
        (res) => {
          res.once('data', () => {
            req.destroy();
            resolve();
          });
        },
      );
      req.on('error', (error) => (req.destroyed ? undefined : reject(error)));
      req.end(messagesBody({ stream: true }));
    }),
    5000,
    'the first chunk',
  );
  await waitFor(() => upstreamClosed, 1500, 'the upstream to see close');
  t.false(upstreamFinished, 'the upstream did not get to finish its stream');
  await waitFor(() => logs.length === 1, 2000, 'the log line');
  t.true(logs[0]!.aborted);
  t.is(logs[0]!.status, 200);
  t.is(logs[0]!.model, 'claude-long');
});

test('a client that leaves before the upstream answers aborts the upstream request too', async (t) => {
  let upstreamClosed = false;
  const upstream = await startUpstream((_req, res) => {
    res.on('close', () => (upstreamClosed = true));
    /* never answers */
  });
  const { gateway, port, logs } = await startGateway(upstream.url);
  t.teardown(() => Promise.all([gateway.close(), upstream.close()]));

  const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/v1/messages', headers: bearer(CLIENT_TOKEN), agent: false });
  req.on('error', () => undefined);
  req.end(messagesBody());
  await waitFor(() => upstream.seen.length === 1, 2000, 'the request to reach the upstream');
  req.destroy();
  await waitFor(() => upstreamClosed, 1500, 'the upstream to see close');
  await waitFor(() => logs.length === 1, 2000, 'the log line');
  t.is(logs[0]!.status, 499);
  t.true(logs[0]!.aborted);
  t.is(logs[0]!.model, 'claude-asked-for');
});

test('200 concurrent requests all complete with their own replies', async (t) => {
  const upstream = await startUpstream((_req, res, body) => {
    const { id } = JSON.parse(body) as { id: number };
    // Staggered replies, so completions interleave with arrivals.
    setTimeout(() => {
      res.writeHead(200, { 'content-type': 'application/json', 'x-echo-id': String(id) });
      res.end(JSON.stringify({ type: 'message', model: 'm', echo: id, usage: { input_tokens: id, output_tokens: 1 } }));
    }, id % 17);
  });
  const { gateway, port, logs } = await startGateway(upstream.url);
  t.teardown(() => Promise.all([gateway.close(), upstream.close()]));

  const agent = new http.Agent({ keepAlive: true, maxSockets: 200 });
  t.teardown(() => agent.destroy());
  const ids = Array.from({ length: 200 }, (_, i) => i);
  const replies = await deadline(
    Promise.all(ids.map((id) => send(port, { headers: bearer(CLIENT_TOKEN), body: JSON.stringify({ id }), agent }))),
    20_000,
    '200 replies',
  );
  for (const id of ids) {
    const reply = replies[id]!;
    t.is(reply.status, 200);
    t.is(reply.headers['x-echo-id'], String(id));
    t.is((JSON.parse(reply.body) as { echo: number }).echo, id);
  }
  t.is(upstream.seen.length, 200);
  await waitFor(() => logs.length === 200, 2000, '200 log lines');
  t.deepEqual(
    logs.map((l) => l.usage?.input_tokens).sort((a, b) => a! - b!),
    ids,
  );
});
