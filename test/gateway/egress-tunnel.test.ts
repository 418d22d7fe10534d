/**
 * The gateway as a forward proxy: CONNECT tunnels to destinations of the
 * test's own on 127.0.0.1, denials, plain-HTTP proxy requests, cleanup and
 * load. Every wait is bounded.
 */
import test from 'ava';
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import tls from 'node:tls';
import v8 from 'node:v8';
import vm from 'node:vm';
import { connect, echoRoundTrip, makeCertificate, startEcho, startEgressGateway, startTlsEcho } from './egress-fixtures.js';
import { bearer, CLIENT_TOKEN, deadline, startUpstream, TEAM_KEY, waitFor } from './fixtures.js';
import { startGateway } from './fixtures.js';

const material = makeCertificate();
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

test('CONNECT to an allowed host tunnels bytes both ways to a TLS server, and logs the tunnel without payload', async (t) => {
  const destination = await startTlsEcho(material);
  const gw = await startEgressGateway(`127.0.0.1:${destination.port}`);
  t.teardown(() => Promise.all([gw.gateway.close(100), destination.close()]));

  const tunnel = await connect(gw.port, `127.0.0.1:${destination.port}`);
  t.is(tunnel.status, 200);
  const secure = tls.connect({ socket: tunnel.socket!, servername: 'allowed.test', ca: material.cert });
  await deadline(new Promise((resolve, reject) => secure.once('secureConnect', resolve).once('error', reject)), 5000, 'the TLS handshake');
  t.true(secure.authorized, 'the certificate of the real destination, end to end');

  const payload = randomBytes(1024 * 1024);
  const back = await deadline(echoRoundTrip(secure, payload), 10_000, 'the echo');
  t.is(sha(back), sha(payload));
  secure.end();
  await waitFor(() => gw.egressLogs().length === 1 && gw.gateway.activeTunnels() === 0, 5000, 'the tunnel log line');

  const [line] = gw.egressLogs();
  t.like(line, {
    event: 'egress',
    kind: 'connect',
    decision: 'allowed',
    host: '127.0.0.1',
    port: destination.port,
    status: 200,
    source: '127.0.0.1',
  });
  t.true(line!.bytesUp > payload.length && line!.bytesDown > payload.length, `${line!.bytesUp} up, ${line!.bytesDown} down`);
  t.is(typeof line!.durationMs, 'number');
  t.true(gw.rawLogs.join('\n').length < 2000, 'no payload in the log');
});

test('a host that is not listed gets 403 naming it and the command that allows it; nothing is connected', async (t) => {
  const destination = await startEcho();
  const gw = await startEgressGateway('allowed.test,*.github.com');
  t.teardown(() => Promise.all([gw.gateway.close(100), destination.close()]));

  const denied = await connect(gw.port, `127.0.0.1:${destination.port}`);
  t.is(denied.status, 403);
  t.regex(denied.body, new RegExp(`127\\.0\\.0\\.1:${destination.port} is not on this stack's egress allow-list`));
  t.regex(denied.body, new RegExp(`cctl init --allow 127\\.0\\.0\\.1:${destination.port}`));
  t.regex(String(denied.headers['proxy-status']), /error=http_request_denied/);
  t.is(destination.sockets.length, 0);

  t.is((await connect(gw.port, 'github.com:443')).status, 403, 'a wildcard matches subdomains only, not the apex');
  t.is((await connect(gw.port, 'allowed.test:8443')).status, 403, 'a port that is not listed');
  t.is((await connect(gw.port, 'b@d:443')).status, 400);

  await waitFor(() => gw.egressLogs().length === 4, 3000, 'four denial lines');
  t.like(gw.egressLogs()[0], {
    decision: 'denied',
    reason: 'not-allowed',
    status: 403,
    host: '127.0.0.1',
    entry: `127.0.0.1:${destination.port}`,
    bytesUp: 0,
    bytesDown: 0,
  });
  t.like(gw.egressLogs()[1], { decision: 'denied', host: 'github.com', port: 443, entry: 'github.com' });
  t.like(gw.egressLogs()[2], { decision: 'denied', entry: 'allowed.test:8443' });
  t.like(gw.egressLogs()[3], { decision: 'denied', reason: 'bad-target', status: 400 });
});

test('requests from outside the allowed sources are refused, and egress that is off refuses everything', async (t) => {
  const destination = await startEcho();
  const outside = await startEgressGateway(`127.0.0.1:${destination.port}`, { CCTL_EGRESS_SOURCES: '10.0.0.0/8' });
  const off = await startGateway('http://127.0.0.1:9');
  t.teardown(() => Promise.all([outside.gateway.close(100), off.gateway.close(100), destination.close()]));

  const refused = await connect(outside.port, `127.0.0.1:${destination.port}`);
  t.is(refused.status, 403);
  t.regex(refused.body, /only for the stack's own containers/);
  const offAnswer = await connect(off.port, `127.0.0.1:${destination.port}`);
  t.is(offAnswer.status, 403);
  t.regex(offAnswer.body, /egress is off/);
  t.is(destination.sockets.length, 0);
  await waitFor(() => outside.egressLogs().length === 1, 3000, 'the refusal line');
  t.like(outside.egressLogs()[0], { decision: 'denied', reason: 'source' });
});

test('a client that closes mid-tunnel frees the upstream socket at once', async (t) => {
  const destination = await startEcho();
  const gw = await startEgressGateway(`127.0.0.1:${destination.port}`);
  t.teardown(() => Promise.all([gw.gateway.close(100), destination.close()]));

  const tunnel = await connect(gw.port, `127.0.0.1:${destination.port}`);
  t.is(tunnel.status, 200);
  await echoRoundTrip(tunnel.socket!, Buffer.from('hello'));
  t.is(gw.gateway.activeTunnels(), 1);
  const upstreamSide = destination.sockets[0]!;
  tunnel.socket!.destroy();
  await deadline(
    new Promise((resolve) => (upstreamSide.destroyed ? resolve(undefined) : upstreamSide.once('close', resolve))),
    2000,
    'the upstream socket closing',
  );
  await waitFor(() => gw.gateway.activeTunnels() === 0 && gw.egressLogs().length === 1, 2000, 'the tunnel to be gone');
  t.like(gw.egressLogs()[0], { decision: 'allowed', status: 200, bytesUp: 5, bytesDown: 5 });
});

test('past CCTL_EGRESS_MAX_TUNNELS open tunnels, the next CONNECT gets 503 until one closes', async (t) => {
  const destination = await startEcho();
  const gw = await startEgressGateway(`127.0.0.1:${destination.port}`, { CCTL_EGRESS_MAX_TUNNELS: '2' });
  t.teardown(() => Promise.all([gw.gateway.close(100), destination.close()]));
  const target = `127.0.0.1:${destination.port}`;
  const [first, second] = [await connect(gw.port, target), await connect(gw.port, target)];
  t.is(first.status, 200);
  t.is(second.status, 200);
  const third = await connect(gw.port, target);
  t.is(third.status, 503);
  t.regex(third.body, /CCTL_EGRESS_MAX_TUNNELS/);
  first.socket!.destroy();
  await waitFor(() => gw.gateway.activeTunnels() === 1, 2000, 'one tunnel to close');
  const fourth = await connect(gw.port, target);
  t.is(fourth.status, 200);
  second.socket!.destroy();
  fourth.socket!.destroy();
  await waitFor(() => gw.egressLogs().length === 4, 2000, 'four lines');
  t.true(gw.egressLogs().some((l) => l.status === 503 && l.error === 'too many tunnels'));
});

test('an allowed destination that refuses the connection gives 502 with a Proxy-Status', async (t) => {
  const destination = await startEcho();
  const port = destination.port;
  await destination.close();
  const gw = await startEgressGateway(`127.0.0.1:${port}`);
  t.teardown(() => gw.gateway.close(100));
  const answer = await connect(gw.port, `127.0.0.1:${port}`);
  t.is(answer.status, 502);
  t.regex(String(answer.headers['proxy-status']), /error=connection_refused/);
  await waitFor(() => gw.egressLogs().length === 1, 3000, 'the line');
  t.like(gw.egressLogs()[0], { decision: 'allowed', status: 502, error: 'ECONNREFUSED' });
});

test('absolute-form plain HTTP is proxied to allowed hosts without any gateway credential; others get 403', async (t) => {
  const upstream = await startUpstream();
  const gw = await startEgressGateway(`127.0.0.1:${upstream.port}`);
  t.teardown(() => Promise.all([gw.gateway.close(100), upstream.close()]));

  const viaProxy = (url: string, headers: http.OutgoingHttpHeaders = {}) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: gw.port, method: 'POST', path: url, headers, agent: false }, (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      });
      req.on('error', reject);
      req.end('{"model":"m"}');
    });

  // Even a /v1 path through the proxy is plain forwarding: the team key is only for the gateway's own API route.
  const relayed = await viaProxy(`http://127.0.0.1:${upstream.port}/v1/messages?secret=q`, bearer(CLIENT_TOKEN));
  t.is(relayed.status, 200);
  t.is(upstream.seen.length, 1);
  t.is(upstream.seen[0]!.url, '/v1/messages?secret=q');
  t.is(upstream.seen[0]!.headers['x-api-key'], undefined);
  t.false(JSON.stringify(upstream.seen[0]!.headers).includes(TEAM_KEY));

  const denied = await viaProxy('http://denied.test/');
  t.is(denied.status, 403);
  t.regex(denied.body, /denied\.test:80 is not on this stack's egress allow-list[\s\S]*cctl init --allow denied\.test:80/);
  t.is((await viaProxy('https://allowed.test/')).status, 400, 'https goes through CONNECT');

  await waitFor(() => gw.egressLogs().length === 3, 3000, 'three lines');
  t.like(gw.egressLogs()[0], { kind: 'http', decision: 'allowed', method: 'POST', status: 200, bytesUp: 13, port: upstream.port });
  t.false(gw.rawLogs.join('\n').includes('secret=q'), 'no path or query in the log');
  t.like(gw.egressLogs()[1], { kind: 'http', decision: 'denied', host: 'denied.test', port: 80 });
});

test('the /v1 API route is unchanged with egress on', async (t) => {
  const upstream = await startUpstream();
  const { egressFromEnv } = await import('../../lib/gateway/egress/config.js');
  const gw = await startGateway(upstream.url, { egress: egressFromEnv({ CCTL_EGRESS_ALLOW: '' }) });
  t.teardown(() => Promise.all([gw.gateway.close(100), upstream.close()]));
  const reply = await new Promise<number>((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port: gw.port, method: 'POST', path: '/v1/messages', headers: bearer(CLIENT_TOKEN), agent: false },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode!));
      },
    );
    req.on('error', reject);
    req.end('{"model":"m"}');
  });
  t.is(reply, 200);
  t.is(upstream.seen[0]!.headers['x-api-key'], TEAM_KEY);
});

test('200 concurrent tunnels each carry their own bytes, and memory levels off over rounds', async (t) => {
  const destination = await startEcho();
  const gw = await startEgressGateway(`127.0.0.1:${destination.port}`);
  t.teardown(() => Promise.all([gw.gateway.close(100), destination.close()]));
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;

  const round = async () => {
    await Promise.all(
      Array.from({ length: 200 }, async () => {
        // 200 CONNECTs at once: under a load average of 30 some wait longer than one CONNECT's 5 s.
        const tunnel = await connect(gw.port, `127.0.0.1:${destination.port}`, 25_000);
        const payload = randomBytes(32 * 1024);
        const back = await echoRoundTrip(tunnel.socket!, payload);
        tunnel.socket!.destroy();
        return sha(back) === sha(payload);
      }),
    ).then((results) => t.true(results.every(Boolean), 'every tunnel got its own bytes back'));
    await waitFor(() => gw.gateway.activeTunnels() === 0, 5000, 'all tunnels closed');
    gc();
    return process.memoryUsage().heapUsed;
  };

  const heaps: number[] = [];
  for (let i = 0; i < 6; i += 1) heaps.push(await deadline(round(), 30_000, `round ${i + 1}`));
  // The test keeps every log line (about 120 KB a round), so a little growth is expected.
  const growth = heaps[5]! - heaps[2]!;
  t.log(`heap after each round (MB): ${heaps.map((h) => (h / 1048576).toFixed(1)).join(', ')}`);
  t.true(growth < 4 * 1024 * 1024, `heap grew ${(growth / 1048576).toFixed(1)} MB from round 3 to round 6`);
  t.is(gw.egressLogs().length, 1200);
});
