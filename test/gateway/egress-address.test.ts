/**
 * Addresses, not only names (issue 20, item 4): a name on the allow-list that
 * resolves to loopback, link-local, a metadata address, the unspecified
 * address or the gateway's own address is refused, unless the list names
 * that address itself; the tunnel dials the checked address, with no second
 * lookup. The resolver and the connect function are injected: a refused
 * address is never dialled, and the only address ever dialled for real is
 * 127.0.0.1, where the test's own echo server listens.
 */
import test from 'ava';
import http from 'node:http';
import net from 'node:net';
import type os from 'node:os';
import {
  canonical,
  checkAddresses,
  type EgressNet,
  type RefusedKind,
  refusedKind,
  systemNet,
} from '../../lib/gateway/egress/address-check.js';
import { parseAllowList } from '../../lib/gateway/egress/allow-list.js';
import { egressFromEnv } from '../../lib/gateway/egress/config.js';
import { connect, echoRoundTrip, startEcho, startEgressGateway } from './egress-fixtures.js';
import { waitFor } from './fixtures.js';

/** A name → addresses table as DNS, a recording connect that dials only 127.0.0.1 for real, and the gateway's own addresses. */
function fakeNet(names: Record<string, string[]>, own: string[] = ['172.18.0.2']) {
  const lookups: string[] = [];
  const dialled: string[] = [];
  const netFake: EgressNet = {
    async resolve(host) {
      lookups.push(host);
      if (net.isIP(host)) return [host];
      const answer = names[host];
      if (!answer) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
      return answer;
    },
    connect(options) {
      dialled.push(`${options.host}:${options.port}`);
      if (options.host === '127.0.0.1') return net.connect(options);
      // Any other address: a socket that fails at once, never a real connection.
      const socket = new net.Socket();
      process.nextTick(() => socket.destroy(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })));
      return socket;
    },
    ownAddresses: () => new Set(own),
  };
  return { net: netFake, lookups, dialled };
}

async function gatewayWith(allow: string, names: Record<string, string[]>, own?: string[]) {
  const fake = fakeNet(names, own);
  const egress = { ...egressFromEnv({ CCTL_EGRESS_ALLOW: allow })!, net: fake.net };
  const gw = await startEgressGateway(allow, {}, { egress });
  return { gw, ...fake };
}

test('the kinds of address a name may not reach, in IPv4, IPv6 and IPv4-mapped form', (t) => {
  const own = new Set(['172.18.0.2', 'fd00:1::2']);
  const table: Array<[string, RefusedKind | undefined]> = [
    ['127.0.0.1', 'loopback'],
    ['127.9.9.9', 'loopback'],
    ['::1', 'loopback'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['0:0:0:0:0:ffff:7f00:1', 'loopback'],
    ['169.254.169.254', 'link-local'],
    ['169.254.170.2', 'link-local'],
    ['fe80::1', 'link-local'],
    ['::ffff:169.254.169.254', 'link-local'],
    ['fd00:ec2::254', 'metadata'],
    ['100.100.100.200', 'metadata'],
    ['0.0.0.0', 'unspecified'],
    ['::', 'unspecified'],
    ['172.18.0.2', 'gateway'],
    ['FD00:1:0::2', 'gateway'],
    ['::ffff:172.18.0.2', 'gateway'],
    ['172.18.0.3', undefined],
    ['10.0.0.7', undefined],
    ['192.168.1.4', undefined],
    ['fd00:1::3', undefined],
    ['93.184.216.34', undefined],
    ['2606:4700::1111', undefined],
  ];
  for (const [address, kind] of table) t.is(refusedKind(address, own), kind, address);
  t.is(canonical('::FFFF:7F00:0001'), '127.0.0.1');
});

test('checkAddresses: the first address that may be dialled; a literal entry lets its own address through', (t) => {
  const rules = parseAllowList('localhost:8080, 127.0.0.1:9090, [::1]:9090');
  const own = new Set<string>();
  t.like(checkAddresses(['127.0.0.1'], { host: 'localhost', port: 8080 }, rules, own), {
    ok: false,
    kind: 'loopback',
    address: '127.0.0.1',
  });
  t.like(checkAddresses(['127.0.0.1'], { host: 'localhost', port: 9090 }, rules, own), { ok: true, address: '127.0.0.1' });
  t.like(checkAddresses(['::ffff:127.0.0.1'], { host: 'localhost', port: 9090 }, rules, own), { ok: true, address: '127.0.0.1' });
  t.like(checkAddresses(['::1'], { host: 'localhost', port: 9090 }, rules, own), { ok: true, address: '::1' });
  t.like(
    checkAddresses(['169.254.169.254', '10.0.0.7'], { host: 'x', port: 80 }, rules, own),
    { ok: true, address: '10.0.0.7' },
    'the refused one is skipped, never dialled',
  );
  t.is(checkAddresses([], { host: 'x', port: 80 }, rules, own), undefined);
});

test("a listed localhost is refused: CONNECT never dials the gateway's own loopback", async (t) => {
  const echo = await startEcho();
  const { gw, dialled, lookups } = await gatewayWith(`localhost:${echo.port}`, { localhost: ['127.0.0.1', '::1'] });
  t.teardown(() => Promise.all([gw.gateway.close(100), echo.close()]));
  const answer = await connect(gw.port, `localhost:${echo.port}`);
  t.is(answer.status, 403);
  t.regex(answer.body, new RegExp(`localhost:${echo.port} resolves to 127\\.0\\.0\\.1, a loopback address`));
  t.regex(answer.body, new RegExp(`cctl init --allow 127\\.0\\.0\\.1:${echo.port} && cctl up`));
  t.regex(String(answer.headers['proxy-status']), /error=destination_ip_prohibited/);
  t.deepEqual(lookups, ['localhost']);
  t.deepEqual(dialled, [], 'connect was never called');
  t.is(echo.sockets.length, 0);
  await waitFor(() => gw.egressLogs().length === 1, 3000, 'the denial line');
  t.like(gw.egressLogs()[0], { decision: 'denied', reason: 'address', status: 403, host: 'localhost', address: '127.0.0.1' });
});

test("names that resolve to metadata, link-local, unspecified or the gateway's own address are refused without a dial", async (t) => {
  const names = {
    'metadata.test': ['169.254.169.254'],
    'v6meta.test': ['fd00:ec2::254'],
    'linklocal.test': ['fe80::1'],
    'zero.test': ['0.0.0.0'],
    'self.test': ['172.18.0.2'],
    'mapped.test': ['::ffff:169.254.169.254'],
  };
  const { gw, dialled } = await gatewayWith(
    Object.keys(names)
      .map((n) => `${n}:80`)
      .join(','),
    names,
  );
  t.teardown(() => gw.gateway.close(100));
  for (const name of Object.keys(names)) {
    const answer = await connect(gw.port, `${name}:80`);
    t.is(answer.status, 403, name);
    t.regex(answer.body, new RegExp(`${name.replace('.', '\\.')}:80 resolves to`), name);
  }
  const metadata = await connect(gw.port, 'metadata.test:80');
  t.notRegex(metadata.body, /cctl init --allow/, 'no advice to open a metadata address');
  t.deepEqual(dialled, []);
});

test('a literal-address entry is allowed: the tunnel dials that address and carries bytes', async (t) => {
  const echo = await startEcho();
  const { gw, dialled } = await gatewayWith(`127.0.0.1:${echo.port}`, {});
  t.teardown(() => Promise.all([gw.gateway.close(100), echo.close()]));
  const tunnel = await connect(gw.port, `127.0.0.1:${echo.port}`);
  t.is(tunnel.status, 200);
  t.is((await echoRoundTrip(tunnel.socket!, Buffer.from('ping'))).toString(), 'ping');
  tunnel.socket!.destroy();
  t.deepEqual(dialled, [`127.0.0.1:${echo.port}`]);
});

test('a name listed beside its literal address reaches it; the address dialled is the one resolved once (no rebinding)', async (t) => {
  const echo = await startEcho();
  const { gw, dialled, lookups } = await gatewayWith(`localhost:${echo.port},127.0.0.1:${echo.port}`, { localhost: ['127.0.0.1'] });
  t.teardown(() => Promise.all([gw.gateway.close(100), echo.close()]));
  const tunnel = await connect(gw.port, `localhost:${echo.port}`);
  t.is(tunnel.status, 200);
  t.is((await echoRoundTrip(tunnel.socket!, Buffer.from('pong'))).toString(), 'pong');
  tunnel.socket!.destroy();
  t.deepEqual(lookups, ['localhost'], 'one lookup');
  t.deepEqual(dialled, [`127.0.0.1:${echo.port}`], 'the checked address, not the name');
  await waitFor(() => gw.egressLogs().length === 1, 3000, 'the tunnel line');
  t.like(gw.egressLogs()[0], { decision: 'allowed', host: 'localhost', address: '127.0.0.1', status: 200 });
});

test('a team service on a private network, listed by name, is dialled at its private address', async (t) => {
  const { gw, dialled } = await gatewayWith('db.internal:5432', { 'db.internal': ['10.0.0.7'] });
  t.teardown(() => gw.gateway.close(100));
  const answer = await connect(gw.port, 'db.internal:5432');
  t.is(answer.status, 502, 'the fake socket refuses; what matters is where it was dialled');
  t.deepEqual(dialled, ['10.0.0.7:5432']);
});

test('a name that does not resolve gets 502 with a DNS error, and nothing is dialled', async (t) => {
  const { gw, dialled } = await gatewayWith('nowhere.test', {});
  t.teardown(() => gw.gateway.close(100));
  const answer = await connect(gw.port, 'nowhere.test:443');
  t.is(answer.status, 502);
  t.regex(String(answer.headers['proxy-status']), /error=dns_error/);
  t.deepEqual(dialled, []);
});

test('plain-HTTP forwarding checks the address too, and dials only the checked one', async (t) => {
  const echo = await startEcho();
  const server = http.createServer((_req, res) => res.end('fine'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  const { gw, dialled } = await gatewayWith(`localhost:${port},metadata.test:80,svc.test:${port},127.0.0.1:${port}`, {
    localhost: ['127.0.0.1'],
    'metadata.test': ['169.254.169.254'],
    'svc.test': ['127.0.0.1'],
  });
  t.teardown(() => Promise.all([gw.gateway.close(100), echo.close(), new Promise((resolve) => server.close(resolve))]));
  const get = (url: string) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: gw.port, path: url, agent: false }, (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      });
      req.on('error', reject);
      req.end();
    });
  const metadata = await get('http://metadata.test/latest/meta-data/');
  t.is(metadata.status, 403);
  t.regex(metadata.body, /resolves to 169\.254\.169\.254, a link-local address/);
  t.deepEqual(dialled, []);
  const viaName = await get(`http://svc.test:${port}/`);
  t.is(viaName.status, 200, 'svc.test is listed, and its address 127.0.0.1 is listed literally');
  t.is(viaName.body, 'fine');
  t.deepEqual(dialled, [`127.0.0.1:${port}`]);
});

test('the system resolver answers an IP literal itself, and reads the interfaces once for a while', async (t) => {
  let reads = 0;
  const interfaces = { eth0: [{ address: '172.18.0.2' }], lo: [{ address: '127.0.0.1' }] } as unknown as ReturnType<
    typeof os.networkInterfaces
  >;
  const system = systemNet(() => ((reads += 1), interfaces));
  t.deepEqual(await system.resolve('10.0.0.9'), ['10.0.0.9']);
  t.true(system.ownAddresses().has('172.18.0.2'));
  system.ownAddresses();
  t.is(reads, 1);
});
