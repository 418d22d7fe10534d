/**
 * The gateway never sends one request upstream twice (issue 11): it sends a
 * request again only when a pooled socket failed before carrying a byte of
 * it, it lets go of idle upstream sockets before the upstream would, and an
 * upstream that switches protocols gets a 502 instead of a hung client.
 */
import test from 'ava';
import net, { type AddressInfo } from 'node:net';
import { bearer, CLIENT_TOKEN, deadline, messagesBody, send, startGateway, startUpstream, waitFor } from './fixtures.js';

/** An upstream that reads the whole request and then resets the connection, on the requests `drop` picks. */
async function droppingUpstream(drop: (requestOnSocket: number) => boolean) {
  const perSocket = new WeakMap<object, number>();
  return startUpstream((req, res) => {
    const n = (perSocket.get(req.socket) ?? 0) + 1;
    perSocket.set(req.socket, n);
    if (drop(n)) {
      req.socket.resetAndDestroy();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ type: 'message', model: 'm', socketRequest: n, usage: { input_tokens: 1, output_tokens: 1 } }));
  });
}

test('an upstream that read the whole request and then reset the pooled socket is called exactly once; the client gets 502', async (t) => {
  const upstream = await droppingUpstream((n) => n === 2);
  const { gateway, port, logs } = await startGateway(upstream.url);
  t.teardown(() => Promise.all([gateway.close(), upstream.close()]));

  t.is((await send(port, { headers: bearer(CLIENT_TOKEN), body: messagesBody() })).status, 200);
  const second = await send(port, { headers: bearer(CLIENT_TOKEN), body: messagesBody({ n: 2 }) });
  t.is(second.status, 502);
  t.is(upstream.seen.length, 2, 'the second request reached the upstream once, and was not sent again');
  t.is(upstream.seen[1]!.body, messagesBody({ n: 2 }));
  await waitFor(() => logs.length === 2, 2000, 'two log lines');
  t.like(logs[1], { status: 502, model: 'claude-asked-for' });
  t.is(logs[1]!.attempts, undefined);
});

test('a pooled socket that fails before carrying a byte of the request is replaced; the upstream sees the request once', async (t) => {
  const upstream = await startUpstream(undefined, { keepAliveTimeoutMs: 30_000 });
  const { gateway, port, logs } = await startGateway(upstream.url, { upstreamKeepAliveMs: 30_000 });
  t.teardown(() => Promise.all([gateway.close(), upstream.close()]));

  t.is((await send(port, { headers: bearer(CLIENT_TOKEN), body: messagesBody() })).status, 200);
  t.is(upstream.sockets.length, 1, 'one pooled connection');

  // The client sends its headers, and the gateway picks the pooled socket
  // for it; the body has not come yet, so nothing has gone upstream.
  const body = messagesBody({ n: 2 });
  const client = net.connect(port, '127.0.0.1');
  let answer = '';
  client.on('data', (d) => (answer += d.toString()));
  const closed = new Promise<void>((resolve) => client.on('close', () => resolve()));
  client.write(
    `POST /v1/messages HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer ${CLIENT_TOKEN}\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n`,
  );
  await new Promise((r) => setTimeout(r, 300));
  // Now the upstream drops that idle connection, as at its keep-alive timeout.
  upstream.sockets[0]!.resetAndDestroy();
  await new Promise((r) => setTimeout(r, 100));
  client.write(body);
  await deadline(closed, 5000, 'the answer');

  t.regex(answer, /^HTTP\/1\.1 200 /);
  t.is(upstream.seen.length, 2);
  t.is(upstream.seen[1]!.body, body, 'the whole body, once');
  t.is(upstream.sockets.length, 2, 'on a fresh connection');
  await waitFor(() => logs.length === 2, 2000, 'two log lines');
  t.like(logs[1], { status: 200, attempts: 2, bytesIn: Buffer.byteLength(body) });
});

test('free upstream sockets are closed by the gateway within 2 s, before a 5 s upstream keep-alive would close them', async (t) => {
  // The upstream would keep the connection for 30 s; only the gateway can close it this early.
  const upstream = await startUpstream(undefined, { keepAliveTimeoutMs: 30_000 });
  const { gateway, port } = await startGateway(upstream.url); // the default upstreamKeepAliveMs
  t.teardown(() => Promise.all([gateway.close(), upstream.close()]));

  t.is((await send(port, { headers: bearer(CLIENT_TOKEN), body: messagesBody() })).status, 200);
  const socket = upstream.sockets[0]!;
  const started = Date.now();
  await deadline(
    new Promise((resolve) => (socket.destroyed ? resolve(undefined) : socket.once('close', resolve))),
    3500,
    'the gateway closing its idle socket',
  );
  const idleMs = Date.now() - started;
  t.true(idleMs >= 1500 && idleMs < 3000, `closed after ${idleMs} ms`);
});

/** An upstream that answers 101, with or without the headers that make it an upgrade. */
async function switchingUpstream(upgradeHeaders: boolean) {
  const server = net.createServer((socket) => {
    socket.on('error', () => {});
    socket.once('data', () =>
      socket.write(`HTTP/1.1 101 Switching Protocols\r\n${upgradeHeaders ? 'Connection: Upgrade\r\nUpgrade: websocket\r\n' : ''}\r\n`),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

for (const upgradeHeaders of [true, false]) {
  test(`an upstream 101 ${upgradeHeaders ? 'with Upgrade headers' : 'without them'} gives 502 at once instead of a hung request`, async (t) => {
    const upstream = await switchingUpstream(upgradeHeaders);
    const { gateway, port, logs } = await startGateway(upstream.url, { idleTimeoutMs: 10_000 });
    t.teardown(async () => {
      await gateway.close(100);
      await upstream.close();
    });
    const reply = await deadline(send(port, { headers: bearer(CLIENT_TOKEN), body: messagesBody() }), 2000, 'the answer to a 101');
    t.is(reply.status, 502);
    t.regex(reply.body, /101 Switching Protocols/);
    await waitFor(() => logs.length === 1, 2000, 'the log line');
    t.like(logs[0], { status: 502 });
    t.regex(String(logs[0]!.error), /101/);
    t.is((await send(port, { path: '/health' })).status, 200, 'still serving');
  });
}
