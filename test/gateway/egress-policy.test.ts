/**
 * The egress policy on its own: allow-list entries, matching, the sources
 * filter and the decision for each kind of request.
 */
import test from 'ava';
import type os from 'node:os';
import { parseAllowList } from '../../lib/gateway/egress/allow-list.js';
import { entryFor, isAllowed, parseDestination } from '../../lib/gateway/egress/grammar.js';
import { egressFromEnv } from '../../lib/gateway/egress/config.js';
import { decide } from '../../lib/gateway/egress/decide.js';
import { parseSources } from '../../lib/gateway/egress/sources.js';
import { systemNet } from '../../lib/gateway/egress/address-check.js';
import { GatewayConfigError, loadConfig } from '../../lib/gateway/config.js';

const rules = parseAllowList('api.anthropic.com, *.github.com registry.npmjs.org:443,example.org:8080,[::1]:8443, 10.1.2.3:22');
const allowed = (target: string, port = 443) => isAllowed(rules, parseDestination(target, port)!);

test('entries: exact hosts, *.domain wildcards, optional ports (443 by default), IPv6 in brackets', (t) => {
  t.deepEqual(rules, [
    { host: 'api.anthropic.com', wildcard: false, port: 443 },
    { host: 'github.com', wildcard: true, port: 443 },
    { host: 'registry.npmjs.org', wildcard: false, port: 443 },
    { host: 'example.org', wildcard: false, port: 8080 },
    { host: '::1', wildcard: false, port: 8443 },
    { host: '10.1.2.3', wildcard: false, port: 22 },
  ]);
  t.deepEqual(parseAllowList(''), []);
});

test('bad entries are refused with a message that names the variable and the entry', (t) => {
  for (const entry of ['*', '*.com', 'b@d.com', 'host:0', 'host:70000', 'host:http', 'a..b', '-x.com', '*.10.0.0.1']) {
    t.throws(() => parseAllowList(entry), { instanceOf: GatewayConfigError, message: /CCTL_EGRESS_ALLOW: ".*"/ }, entry);
  }
});

test('matching: exact names, any letter case, a trailing dot; a port that is not listed is denied', (t) => {
  t.true(allowed('api.anthropic.com:443'));
  t.true(allowed('API.Anthropic.COM.:443'));
  t.false(allowed('api.anthropic.com:80'), 'unlisted port');
  t.false(allowed('api.anthropic.com:8443'), 'unlisted port');
  t.false(allowed('anthropic.com:443'));
  t.false(allowed('api.anthropic.com.evil.net:443'));
  t.true(allowed('example.org:8080'));
  t.false(allowed('example.org:443'));
  t.true(allowed('[::1]:8443'));
  t.true(allowed('10.1.2.3:22'));
  t.false(allowed('10.1.2.4:22'));
});

test('a wildcard matches subdomains only, at any depth, and never the domain itself or a look-alike', (t) => {
  t.true(allowed('api.github.com:443'));
  t.true(allowed('a.b.github.com:443'));
  t.false(allowed('github.com:443'), 'the apex needs its own entry');
  t.false(allowed('evilgithub.com:443'));
  t.false(allowed('github.com.evil.net:443'));
  t.false(allowed('api.github.com:22'), 'the wildcard is for 443 only');
});

test('destinations: malformed ones are rejected; the entry that allows one is what cctl init --allow takes', (t) => {
  for (const bad of ['', 'host:', ':443', 'a b:443', 'host:99999', 'http://x/', 'x.com:443/path'])
    t.is(parseDestination(bad, 443), undefined, bad);
  t.deepEqual(parseDestination('Example.COM', 80), { host: 'example.com', port: 80 });
  t.is(entryFor({ host: 'example.com', port: 443 }), 'example.com');
  t.is(entryFor({ host: 'example.com', port: 8443 }), 'example.com:8443');
  t.is(entryFor({ host: '::1', port: 443 }), '[::1]');
});

const interfaces = {
  lo: [{ address: '127.0.0.1', cidr: '127.0.0.1/8' }],
  eth0: [{ address: '172.18.0.2', cidr: '172.18.0.2/16' }],
  eth1: [
    { address: '172.30.5.9', cidr: '172.30.0.0/24' },
    { address: 'fd00:1::2', cidr: 'fd00:1::2/64' },
  ],
} as unknown as ReturnType<typeof os.networkInterfaces>;

test("sources: auto is the subnets of the gateway's own interfaces and loopback; explicit CIDRs replace or add to it", (t) => {
  const auto = parseSources(undefined, interfaces, '');
  for (const inside of ['172.18.200.7', '172.30.0.99', 'fd00:1::77', '127.0.0.1', '::1', '::ffff:172.18.0.9'])
    t.true(auto.allows(inside), inside);
  for (const outside of ['192.168.1.20', '172.30.1.1', '8.8.8.8', 'fd00:2::1', undefined]) t.false(auto.allows(outside), String(outside));

  const explicit = parseSources('10.0.0.0/8, 192.168.1.7', interfaces);
  t.true(explicit.allows('10.200.0.1'));
  t.true(explicit.allows('192.168.1.7'));
  t.false(explicit.allows('192.168.1.8'));
  t.false(explicit.allows('127.0.0.1'), 'an explicit list replaces auto');
  t.true(parseSources('auto,10.0.0.0/8', interfaces).allows('172.18.0.5'));
  for (const bad of ['10.0.0.0/33', 'not-an-ip', '::/129'])
    t.throws(() => parseSources(bad, interfaces), { message: /CCTL_EGRESS_SOURCES/ });
});

test('sources: auto refuses the default gateway, where published-port clients arrive through a userland proxy', (t) => {
  // /proc/net/route of a container on 172.18.0.0/16 (gateway 172.18.0.1) and an internal 172.30.0.0/24.
  const routes = [
    'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT',
    'eth0\t00000000\t010012AC\t0003\t0\t0\t0\t00000000\t0\t0\t0',
    'eth0\t000012AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0',
    'eth1\t00001EAC\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0',
  ].join('\n');
  const auto = parseSources('auto', interfaces, routes);
  t.deepEqual(auto.refused, ['172.18.0.1']);
  t.false(auto.allows('172.18.0.1'));
  t.false(auto.allows('::ffff:172.18.0.1'));
  t.true(auto.allows('172.18.0.2'));
  t.true(auto.allows('172.30.0.1'), 'no default route there');
  t.true(parseSources('172.18.0.0/16', interfaces, routes).allows('172.18.0.1'), 'an explicit list is taken as given');
});

test('egress is off unless CCTL_EGRESS_ALLOW is set; set but empty, it is on and denies everything', (t) => {
  t.is(egressFromEnv({}), undefined);
  t.is(loadConfig({}, () => '').egress, undefined);
  const empty = egressFromEnv({ CCTL_EGRESS_ALLOW: '' })!;
  t.deepEqual(empty.allow, []);
  t.like(decide(empty, '127.0.0.1', 'github.com:443', 443), { allowed: false, reason: 'not-allowed', status: 403 });
  t.deepEqual(loadConfig({ CCTL_EGRESS_ALLOW: 'github.com' }, () => '').egress?.allow, [
    { host: 'github.com', wildcard: false, port: 443 },
  ]);
});

test('decide: off, outside source, malformed target, not listed, allowed, in that order; denials say how to allow', (t) => {
  const egress = { allow: parseAllowList('github.com'), sources: parseSources('172.18.0.0/16'), maxTunnels: 10, net: systemNet() };
  t.like(decide(undefined, '172.18.0.3', 'github.com:443', 443), { allowed: false, reason: 'egress-off', status: 403 });
  t.like(decide(egress, '203.0.113.9', 'github.com:443', 443), { allowed: false, reason: 'source', status: 403 });
  t.like(decide(egress, '172.18.0.3', 'not a host', 443), { allowed: false, reason: 'bad-target', status: 400 });
  const denied = decide(egress, '172.18.0.3', 'denied.test:8443', 443);
  t.like(denied, { allowed: false, reason: 'not-allowed', status: 403, destination: { host: 'denied.test', port: 8443 } });
  t.regex(
    denied.allowed ? '' : denied.message,
    /denied\.test:8443 is not on this stack's egress allow-list\.\nTo allow it, run on the host: cctl init --allow denied\.test:8443 && cctl up/,
  );
  t.deepEqual(decide(egress, '172.18.0.3', 'github.com:443', 443), { allowed: true, destination: { host: 'github.com', port: 443 } });
});
