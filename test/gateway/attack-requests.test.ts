/**
 * Attacks on the API path by a client that writes raw bytes at the gateway:
 * make it send the key to another host, or smuggle a second request (a
 * refused route, or one without the client token) past the route and
 * authenticate passes. Each case asserts what the fake upstream and a second
 * "attacker" server received: the key only ever reaches the upstream, and
 * only ever on POST /v1/messages.
 */
import test from 'ava';
import { egressFromEnv } from '../../lib/gateway/egress/config.js';
import { bearer, CLIENT_TOKEN, messagesBody, rawExchange, send, startGateway, startUpstream, TEAM_KEY, type Upstream } from './fixtures.js';

const T = CLIENT_TOKEN;
const BODY = messagesBody();
const len = Buffer.byteLength(BODY);

/** The upstream and the attacker's server each record what reached them; the gateway relays to the upstream. */
async function setup(t: import('ava').ExecutionContext, egressAllow?: string[]) {
  const upstream = await startUpstream();
  const attacker = await startUpstream();
  const { gateway, port } = await startGateway(upstream.url, {
    ...(egressAllow && {
      egress: egressFromEnv({ CCTL_EGRESS_ALLOW: egressAllow.map((e) => e.replace('ATTACKER', `127.0.0.1:${attacker.port}`)).join(',') }),
    }),
  });
  t.teardown(() => Promise.all([gateway.close(), upstream.close(), attacker.close()]));
  return { upstream, attacker, port };
}

/** Only POST /v1/messages reached the upstream, each carrying the key; nothing carrying it went anywhere else. */
function keyStayedHome(t: import('ava').ExecutionContext, upstream: Upstream, attacker: Upstream, expectedUpstream: number): void {
  t.is(upstream.seen.length, expectedUpstream, JSON.stringify(upstream.seen.map((s) => `${s.method} ${s.url}`)));
  for (const seen of upstream.seen) {
    t.is(`${seen.method} ${seen.url}`, 'POST /v1/messages');
    t.is(seen.headers.host, `127.0.0.1:${upstream.port}`, 'the Host is always the upstream');
  }
  t.false(JSON.stringify(attacker.seen).includes(TEAM_KEY), 'the key never reached the attacker');
}

test('absolute-form, //host and a foreign Host header still go to the upstream only', async (t) => {
  const { upstream, attacker, port } = await setup(t);
  const auth = `Authorization: Bearer ${T}\r\nContent-Type: application/json\r\nContent-Length: ${len}\r\n\r\n${BODY}`;
  const at = `127.0.0.1:${attacker.port}`;
  for (const head of [
    `POST http://${at}/v1/messages HTTP/1.1\r\nHost: ${at}\r\n`,
    `POST //${at}/v1/messages HTTP/1.1\r\nHost: ${at}\r\n`,
    `POST /v1/messages HTTP/1.1\r\nHost: ${at}\r\nX-Forwarded-Host: ${at}\r\n`,
    `POST /v1/foo/../messages HTTP/1.1\r\nHost: x\r\n`,
    `POST /v1/%2e%2e/v1/messages HTTP/1.1\r\nHost: x\r\n`,
  ]) {
    t.regex(await rawExchange(port, head + 'Connection: close\r\n' + auth), /^HTTP\/1\.1 200/, head);
  }
  keyStayedHome(t, upstream, attacker, 5);
  t.is(attacker.seen.length, 0);
});

test('with egress on, an absolute-form API request to a listed host goes there without any credential', async (t) => {
  const { upstream, attacker, port } = await setup(t, ['ATTACKER']);
  const reply = await rawExchange(
    port,
    `POST http://127.0.0.1:${attacker.port}/v1/messages HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${T}\r\nx-api-key: ${T}\r\nConnection: close\r\nContent-Length: ${len}\r\n\r\n${BODY}`,
  );
  t.regex(reply, /^HTTP\/1\.1 200/);
  t.is(attacker.seen.length, 1, 'egress relayed it to the listed host');
  // The client's own token travels (it is the client's to send); the team key is never added.
  t.is(attacker.seen[0]!.headers['x-api-key'], T);
  keyStayedHome(t, upstream, attacker, 0);
});

test('smuggling: CL+TE, a bad chunk extension, obs-fold and a second pipelined request reach the upstream as nothing or as themselves', async (t) => {
  const { upstream, attacker, port } = await setup(t);
  const smuggled = `GET /v1/files HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${T}\r\n\r\n`;
  const refusedRoute = `POST /v1/messages/batches HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: ${len}\r\n\r\n${BODY}`;
  for (const attack of [
    // Both framings: a front that trusts Content-Length would forward the rest as a second request.
    `POST /v1/messages HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${T}\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${smuggled}`,
    `POST /v1/messages HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${T}\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n0\r\n\r\n${smuggled}`,
    `POST /v1/messages HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${T}\r\nTransfer-Encoding: xchunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n${smuggled}`,
    // A chunk extension with a bare LF inside, and an obs-folded Transfer-Encoding.
    `POST /v1/messages HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${T}\r\nTransfer-Encoding: chunked\r\n\r\n2;x="a\nb"\r\n{}\r\n0\r\n\r\n${smuggled}`,
    `POST /v1/messages HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${T}\r\nX-A: b\r\n Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n${smuggled}`,
  ]) {
    const reply = await rawExchange(port, attack, { end: true });
    t.regex(reply, /^HTTP\/1\.1 400/, attack.slice(0, 120));
  }
  t.is(upstream.seen.length, 0, 'none of the malformed requests went upstream');
  // A well-formed pipelined pair is two requests, each routed on its own: the second is refused.
  const pair = await rawExchange(
    port,
    `POST /v1/messages HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${T}\r\nContent-Length: ${len}\r\n\r\n${BODY}${refusedRoute}`,
  );
  t.regex(pair, /^HTTP\/1\.1 200[\s\S]*HTTP\/1\.1 404/);
  keyStayedHome(t, upstream, attacker, 1);
});

test('Expect, Upgrade and hop-by-hop headers the client names never reach the upstream', async (t) => {
  const { upstream, attacker, port } = await setup(t);
  const reply = await send(port, {
    headers: {
      ...bearer(T),
      expect: '100-continue',
      connection: 'keep-alive, x-api-key, authorization',
      'proxy-authorization': `Bearer ${T}`,
      te: 'trailers',
    },
    body: BODY,
  });
  t.is(reply.status, 200);
  const seen = upstream.seen[0]!.headers;
  t.is(seen['x-api-key'], TEAM_KEY, 'naming the credential headers in Connection does not strip the key the gateway adds');
  for (const name of ['expect', 'proxy-authorization', 'te', 'authorization']) t.is(seen[name], undefined, name);
  const upgrade = await rawExchange(
    port,
    `POST /v1/messages HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${T}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nContent-Length: ${len}\r\n\r\n${BODY}`,
    { end: true },
  );
  t.notRegex(upgrade, /^HTTP\/1\.1 101/);
  for (const s of upstream.seen) t.is(s.headers.upgrade, undefined);
  keyStayedHome(t, upstream, attacker, upstream.seen.length);
});
