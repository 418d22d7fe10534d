/**
 * The contract between cctl and the gateway over the allow-list: one grammar
 * (lib/gateway/egress/grammar.ts), read and written the same way on both
 * sides. Every preset and every accepted entry goes through cctl's check and
 * expansion and then the gateway's parser and matcher; every refused entry is
 * refused by both; and every denial advises an entry that `cctl init --allow`
 * accepts and that then lets the destination through.
 */
import test from 'ava';
import { addressDenial, decide } from '../../lib/gateway/egress/decide.js';
import { parseAllowList } from '../../lib/gateway/egress/allow-list.js';
import { isAllowed, parseDestination } from '../../lib/gateway/egress/grammar.js';
import { EgressRecord, type EgressLog } from '../../lib/gateway/egress/record.js';
import { parseSources } from '../../lib/gateway/egress/sources.js';
import { checkAddresses, systemNet } from '../../lib/gateway/egress/address-check.js';
import { checkAllowEntry, expandAllow, PRESETS } from '../../lib/project/egress.js';
import { parseEgressLine, summariseEgress } from '../../lib/ops/egress.js';

/** What cctl writes into CCTL_EGRESS_ALLOW for these `allow` entries, read back by the gateway. */
const gatewayRules = (entries: string[]) => parseAllowList(expandAllow(entries.map((e) => checkAllowEntry(e))).join(','));
const egressFor = (entries: string[]) => ({
  allow: gatewayRules(entries),
  sources: parseSources('127.0.0.0/8'),
  maxTunnels: 10,
  net: systemNet(),
});

const ACCEPTED: Array<[entry: string, destination: string | undefined]> = [
  ['example.com', 'example.com:443'],
  ['Example.COM.', 'example.com:443'],
  ['git.example.com:8443', 'git.example.com:8443'],
  ['*.corp.example', 'a.b.corp.example:443'],
  ['*.corp.example:80', 'x.corp.example:80'],
  ['intranet:443', 'intranet:443'],
  ['db:5432', 'db:5432'],
  ['my_host.example.com', 'my_host.example.com:443'],
  ['build_cache:8080', 'build_cache:8080'],
  ['10.0.0.5', '10.0.0.5:443'],
  ['10.0.0.5:3128', '10.0.0.5:3128'],
  ['127.0.0.1:18081', '127.0.0.1:18081'],
  ['localhost:18081', 'localhost:18081'],
  ['[::1]:443', '[::1]:443'],
  ['[FD00::1]', '[fd00::1]:443'],
  ['[0:0:0:0:0:0:0:1]:8443', '[::1]:8443'],
  ['xn--bcher-kva.example', 'xn--bcher-kva.example:443'],
];

const REFUSED = [
  '*',
  '*:443',
  '*.com',
  '*.10.0.0.1',
  'a.*.example.com',
  '-bad.example.com',
  'bad-.example.com',
  'https://example.com',
  'example.com/path',
  '300.1.1.1',
  '127.1',
  '0x7f.1',
  'example.123',
  '[fd00::zz]',
  '::1',
  'fd00::1:443',
  '[fe80::1%eth0]',
  'example.com:0',
  'example.com:99999',
  'host.example:http',
  'b@d.example.com',
  'a..b.example',
  'intranet',
  'localhost',
  `${'a'.repeat(64)}.example.com`,
];

test('every preset goes through cctl and the gateway, and each of its hosts is then allowed on 443', (t) => {
  for (const [name, preset] of Object.entries(PRESETS)) {
    t.is(checkAllowEntry(name), name);
    const rules = gatewayRules([name]);
    t.is(rules.length, preset.hosts.length, name);
    for (const host of preset.hosts) t.true(isAllowed(rules, parseDestination(`${host}:443`, 443)!), `${name}: ${host}`);
  }
});

test('every entry cctl accepts, the gateway accepts, and it allows the destination it names and no other port', (t) => {
  for (const [entry, destination] of ACCEPTED) {
    const rules = gatewayRules([entry]);
    t.is(rules.length, 1, entry);
    if (!destination) continue;
    const d = parseDestination(destination, 443)!;
    t.truthy(d, destination);
    t.true(isAllowed(rules, d), `${entry} allows ${destination}`);
    t.false(isAllowed(rules, { ...d, port: d.port === 443 ? 444 : 443 }), `${entry} allows ${destination} on its port only`);
  }
});

test('every entry one side refuses, the other refuses too', (t) => {
  for (const entry of REFUSED) {
    t.throws(() => checkAllowEntry(entry), { message: /not an allow-list entry|neither a preset nor/ }, `cctl: ${entry}`);
    t.throws(() => parseAllowList(entry), { message: /CCTL_EGRESS_ALLOW: ".*"/ }, `gateway: ${entry}`);
  }
});

test('every denial advises an entry that cctl init --allow accepts, and that then lets the destination through', (t) => {
  const targets = [
    'intranet:443',
    'denied.test:8443',
    'denied.test:443',
    'API.Example.com.:443',
    'my_host.example.com:443',
    'db_1:5432',
    '[::1]:443',
    '[fd00::7]:22',
    '10.1.2.3:22',
    '10.1.2.3:443',
  ];
  for (const target of targets) {
    const denied = decide(egressFor([]), '127.0.0.1', target, 443);
    t.false(denied.allowed, target);
    const advised = /cctl init --allow (\S+) && cctl up/.exec(denied.allowed ? '' : denied.message)?.[1];
    t.truthy(advised, `${target}: ${denied.allowed ? '' : denied.message}`);
    t.notThrows(() => checkAllowEntry(advised!), `${target}: cctl accepts ${advised}`);
    t.like(decide(egressFor([advised!]), '127.0.0.1', target, 443), { allowed: true }, `${target} allowed by ${advised}`);
  }
});

test('an address refusal advises the literal entry, which cctl accepts and which then reaches that address; link-local and metadata get no advice', (t) => {
  const own = new Set(['172.18.0.2', 'fd00:1::2']);
  const cases: Array<[name: string, address: string]> = [
    ['localhost', '127.0.0.1'],
    ['ip6-localhost', '::1'],
    ['mapped.test', '::ffff:127.0.0.1'],
    ['self.test', '172.18.0.2'],
    ['self6.test', 'FD00:1:0::2'],
    ['nowhere.test', '0.0.0.0'],
  ];
  for (const [name, address] of cases) {
    const destination = { host: name, port: 8080 };
    const check = checkAddresses([address], destination, gatewayRules([`${name}:8080`]), own);
    if (!check || check.ok) return t.fail(`${name} → ${address} should be refused`);
    const advised = /cctl init --allow (\S+) && cctl up/.exec(addressDenial(destination, check).message)?.[1];
    t.truthy(advised, `${name} → ${address}`);
    t.notThrows(() => checkAllowEntry(advised!), `cctl accepts ${advised}`);
    t.like(
      checkAddresses([address], destination, gatewayRules([`${name}:8080`, advised!]), own),
      { ok: true },
      `${advised} reaches ${address}`,
    );
  }
  for (const address of ['169.254.169.254', 'fe80::1', 'fd00:ec2::254', '100.100.100.200']) {
    const destination = { host: 'cloud.test', port: 80 };
    const check = checkAddresses([address], destination, gatewayRules(['cloud.test:80']), own);
    if (!check || check.ok) return t.fail(`${address} should be refused`);
    t.notRegex(addressDenial(destination, check).message, /cctl init --allow/, address);
  }
});

test("cctl egress advises the entry from the gateway's own log line, which cctl accepts", (t) => {
  const lines: string[] = [];
  for (const target of ['intranet:443', 'denied.test:8443', '[::1]:443', 'my_host.example.com:443']) {
    const record = new EgressRecord((line) => lines.push(line), 'connect', '127.0.0.1');
    record.destination(parseDestination(target, 443)!);
    record.denied('not-allowed', 403);
    record.finish(0, 0);
  }
  const report = summariseEgress(lines.map((l) => parseEgressLine(`proxy-1  | ${l}`)!));
  t.is(report.denied.length, 4);
  for (const d of report.denied) {
    const entry = /^cctl init --allow (\S+)$/.exec(d.allow ?? '')?.[1];
    t.truthy(entry, d.destination);
    t.notThrows(() => checkAllowEntry(entry!), entry);
    t.true(isAllowed(gatewayRules([entry!]), parseDestination(d.destination, 443)!), `${entry} allows ${d.destination}`);
  }
  t.deepEqual(report.denied.map((d) => d.allow).sort(), [
    'cctl init --allow [::1]',
    'cctl init --allow denied.test:8443',
    'cctl init --allow intranet:443',
    'cctl init --allow my_host.example.com',
  ]);
  t.is((JSON.parse(lines[0]!) as EgressLog).entry, 'intranet:443');
});
