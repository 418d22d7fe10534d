/** The egress allow-list (issue 15): its entries, presets, settings, the compose model, and the log summary. */
import test from 'ava';
import { checkAllowEntry, egressSummary, expandAllow, PRESETS } from '../../lib/project/egress.js';
import { defaults, type Settings } from '../../lib/project/settings.js';
import { fromEnv, fromFlags, fromStored, resolveSettings } from '../../lib/project/setting-layers.js';
import { renderOwned, type PlainMap } from '../../lib/project/model.js';
import { parseEgressLine, summariseEgress } from '../../lib/ops/egress.js';
import { isolatedLoginWarning } from '../../lib/project/isolation-warning.js';

test('presets expand to host:443, hosts get their port, duplicates go', (t) => {
  t.deepEqual(expandAllow(['anthropic']), ['api.anthropic.com:443', 'claude.ai:443', 'platform.claude.com:443']);
  t.deepEqual(expandAllow(['Example.COM.', 'example.com:443', 'git.example.com:8443', '*.corp.example:80', '10.0.0.5:3128']), [
    'example.com:443',
    'git.example.com:8443',
    '*.corp.example:80',
    '10.0.0.5:3128',
  ]);
  t.deepEqual(expandAllow(['npm', 'registry.npmjs.org']), ['registry.npmjs.org:443', 'registry.yarnpkg.com:443']);
  for (const [name, preset] of Object.entries(PRESETS))
    t.true(preset.hosts.length > 0 && expandAllow([name]).length === preset.hosts.length, name);
});

test('bad entries are refused with what to write instead', (t) => {
  const misspelt = t.throws(() => checkAllowEntry('githb', 'x-cctl.allow'));
  t.regex(misspelt!.message, /"githb" in x-cctl\.allow is neither a preset nor a host name with a dot/);
  t.regex((misspelt as { hint?: string }).hint!, /Did you mean the preset "github"\?.*githb:443/);
  t.is(checkAllowEntry('intranet:443'), 'intranet:443', 'a single-label host is written with its port');
  t.throws(() => checkAllowEntry('example.com:0'), { message: /port must be a number from 1 to 65535/ });
  t.throws(() => checkAllowEntry('example.com:99999'), { message: /port/ });
  t.throws(() => checkAllowEntry('*'), { message: /names no host/ });
  t.throws(() => checkAllowEntry('*:443'), { message: /names no host/ });
  t.throws(() => checkAllowEntry('*.com'), { message: /too broad/ });
  t.throws(() => checkAllowEntry('a.*.example.com'), { message: /first label/ });
  t.is(checkAllowEntry('exa_mple.com'), 'exa_mple.com', 'underscores, as Compose service names may have, as the gateway reads them');
  t.throws(() => checkAllowEntry('-bad.example.com'), { message: /letters, digits, hyphens and underscores/ });
  t.throws(() => checkAllowEntry('https://example.com'), { message: /not an allow-list entry/ });
  t.throws(() => checkAllowEntry('300.1.1.1'), { message: /not an IPv4 address/ });
  t.deepEqual(expandAllow(['[FD00::1]', '[fd00::2]:22']), ['[fd00::1]:443', '[fd00::2]:22']);
  t.throws(() => checkAllowEntry('[fd00::zz]'), { message: /not an IPv6 address/ });
});

test('allow: the default is anthropic; --allow and CCTL_ALLOW add to what the file lists', (t) => {
  t.deepEqual(defaults().allow, ['anthropic']);
  t.deepEqual(resolveSettings({}).allow, ['anthropic']);
  const stored = fromStored({ allow: ['anthropic', 'GitHub.com'] }, 'compose.yaml (x-cctl)');
  t.deepEqual(stored.allow, ['anthropic', 'github.com']);
  const s = resolveSettings({
    stored,
    env: fromEnv({ CCTL_ALLOW: 'npm, pypi' }),
    flags: fromFlags({ allow: ['docs.example.com', 'npm'] }),
  });
  t.deepEqual(s.allow, ['anthropic', 'github.com', 'npm', 'pypi', 'docs.example.com']);
  t.deepEqual(resolveSettings({ flags: fromFlags({ allow: 'github' }) }).allow, ['anthropic', 'github'], 'one --allow is a string');
  t.deepEqual(resolveSettings({ stored: fromStored({ allow: [] }, 'x-cctl') }).allow, [], 'a team may remove the default');
  t.deepEqual(resolveSettings({ flags: fromFlags({ set: ['allow=go,crates'] }) }).allow, ['anthropic', 'go', 'crates']);
  t.throws(() => fromStored({ allow: ['anthropic', 'npmm'] }, 'compose.yaml (x-cctl)'), {
    message: /"npmm" in compose\.yaml \(x-cctl\) \(allow\)/,
  });
  t.throws(() => fromStored({ allow: [{ host: 'x' }] }, 'x-cctl'), { message: /must be a list of hosts and presets/ });
});

const ctx = { project: 'p', buildHash: 'h' };
const services = (over: Partial<Settings>) => renderOwned({ ...defaults(), ...over }, ctx).services!;
const envOf = (over: Partial<Settings>, service: string) => (services(over)[service] as PlainMap).environment as PlainMap;

test('an isolated stack: claude-cli gets the proxy variables, the gateway the expanded allow-list', (t) => {
  const cli = envOf({ isolate: true, allow: ['anthropic', 'github.com:22'] }, 'claude-cli');
  for (const name of ['HTTPS_PROXY', 'HTTP_PROXY', 'https_proxy', 'http_proxy']) t.is(cli[name], 'http://proxy:3000', name);
  t.is(cli.ANTHROPIC_BASE_URL, 'http://proxy:3000');
  t.regex(String(cli.NO_PROXY), /(^|,)proxy(,|$)/, 'API calls to the gateway stay direct');
  t.is(cli.no_proxy, cli.NO_PROXY);
  const gateway = envOf({ isolate: true, allow: ['anthropic', 'github.com:22'] }, 'proxy');
  t.is(gateway.CCTL_EGRESS_ALLOW, 'api.anthropic.com:443,claude.ai:443,platform.claude.com:443,github.com:22');
  t.is(envOf({ isolate: true, allow: [] }, 'proxy').CCTL_EGRESS_ALLOW, '', 'an empty list closes egress');
  const cliService = services({ isolate: true })['claude-cli'] as PlainMap;
  t.deepEqual(cliService.cap_drop, ['ALL'], 'no new privileges');
  const proxyService = services({ isolate: true }).proxy as PlainMap;
  t.true(proxyService.read_only);
  t.deepEqual(proxyService.cap_drop, ['ALL']);
});

test('without isolation, or with a third-party gateway, nothing is proxied', (t) => {
  t.is(envOf({}, 'claude-cli').HTTPS_PROXY, undefined);
  t.is(envOf({}, 'proxy').CCTL_EGRESS_ALLOW, undefined);
  t.is(
    envOf({ isolate: true, proxy: 'image', 'proxy-image': 'litellm:1' }, 'claude-cli').HTTPS_PROXY,
    undefined,
    'a third-party gateway has no CONNECT',
  );
});

/** A log line as docs/CONTRACT.md gives it ("Egress log lines"). */
const line = (fields: Record<string, unknown>) =>
  JSON.stringify({
    time: '2026-11-28T01:00:00.000Z',
    event: 'egress',
    kind: 'connect',
    port: 443,
    source: '172.18.0.3',
    status: 200,
    bytesUp: 0,
    bytesDown: 0,
    durationMs: 1,
    ...fields,
  });

test('egress log lines: parsed from compose output, other lines skipped', (t) => {
  const denied = line({ decision: 'denied', reason: 'not-allowed', host: 'denied.test', entry: 'denied.test', status: 403 });
  t.like(parseEgressLine(`proxy-1  | ${denied}`), {
    destination: 'denied.test:443',
    entry: 'denied.test',
    allowed: false,
    reason: 'not-allowed',
  });
  t.like(parseEgressLine(`proxy_1  | ${line({ decision: 'allowed', host: 'a.test', entry: 'a.test', bytesUp: 10, bytesDown: 20 })}`), {
    allowed: true,
    bytesUp: 10,
    bytesDown: 20,
  });
  t.like(parseEgressLine(line({ decision: 'denied', reason: 'not-allowed', host: 'x.test', port: 8443 })), {
    destination: 'x.test:8443',
    entry: 'x.test:8443',
  });
  t.like(
    parseEgressLine(line({ decision: 'denied', reason: 'not-allowed', host: 'intranet', entry: 'intranet' })),
    { entry: 'intranet:443' },
    'what init accepts',
  );
  t.like(parseEgressLine(line({ decision: 'denied', reason: 'not-allowed', host: '::1', port: 22 })), { destination: '[::1]:22' });
  t.is(
    parseEgressLine('proxy-1  | {"time":"x","method":"POST","path":"/v1/messages","status":200}'),
    undefined,
    'API request lines are not egress',
  );
  t.is(parseEgressLine(`proxy-1  | {"time":"x","event":"listening","port":3000}`), undefined);
  t.is(parseEgressLine('proxy-1  | gateway listening on :3000'), undefined);
  t.is(parseEgressLine('proxy-1  | {not json'), undefined);
});

test('the summary counts denials per destination, most frequent first, with the command that allows each', (t) => {
  const events = [
    line({ decision: 'denied', reason: 'not-allowed', host: 'denied.test', entry: 'denied.test', time: '2026-11-28T01:00:01.000Z' }),
    line({ decision: 'denied', reason: 'not-allowed', host: 'x.example.com', port: 8443, entry: 'x.example.com:8443' }),
    line({ decision: 'denied', reason: 'not-allowed', host: 'Denied.test', entry: 'denied.test', time: '2026-11-28T01:00:03.000Z' }),
    line({ decision: 'denied', reason: 'source', host: 'ok.test', entry: 'ok.test' }),
    line({ decision: 'allowed', host: 'ok.test', entry: 'ok.test', bytesUp: 5, bytesDown: 7 }),
    line({ decision: 'allowed', host: 'ok.test', entry: 'ok.test', bytesUp: 1, bytesDown: 2 }),
  ].map((l) => parseEgressLine(l)!);
  const report = summariseEgress(events);
  t.deepEqual(
    report.denied.map((d) => [d.destination, d.count, d.reason, d.allow]),
    [
      ['denied.test:443', 2, 'not-allowed', 'cctl init --allow denied.test'],
      ['ok.test:443', 1, 'source', undefined],
      ['x.example.com:8443', 1, 'not-allowed', 'cctl init --allow x.example.com:8443'],
    ],
  );
  t.is(report.denied[0]!.firstSeen, '2026-11-28T01:00:01.000Z');
  t.is(report.denied[0]!.lastSeen, '2026-11-28T01:00:03.000Z');
  t.like(report.allowed[0], { destination: 'ok.test:443', count: 2, bytesUp: 6, bytesDown: 9 });
  t.is(
    parseEgressLine(line({ decision: 'denied', reason: 'not-allowed', host: 'intranet', port: 443 }))!.entry,
    'intranet:443',
    'a single-label host keeps its port, as init requires',
  );
});

test('isolate in login mode warns only when the login hosts are not on the allow-list', (t) => {
  const login = { isolate: true, auth: 'login', proxy: 'builtin', allow: ['anthropic'] } as const;
  t.is(isolatedLoginWarning({ ...login, allow: [...login.allow] }), undefined, 'the default allow-list lets /login through');
  t.is(isolatedLoginWarning({ ...login, allow: ['api.anthropic.com', 'claude.ai', 'platform.claude.com', 'github'] }), undefined);
  t.regex(
    isolatedLoginWarning({ ...login, allow: ['github'] })!,
    /lacks api\.anthropic\.com, claude\.ai, platform\.claude\.com.*cctl init --allow anthropic/,
  );
  t.regex(isolatedLoginWarning({ ...login, proxy: 'image', allow: ['anthropic'] })!, /proxy=image/);
  t.is(isolatedLoginWarning({ ...login, auth: 'team-key', allow: [] }), undefined);
  t.is(isolatedLoginWarning({ ...login, isolate: false, allow: [] }), undefined);
});

test("init's one line on egress: what the isolated stack may reach", (t) => {
  t.is(egressSummary({ isolate: false, proxy: 'builtin', allow: ['anthropic'] }), undefined);
  t.is(egressSummary({ isolate: true, proxy: 'image', allow: ['anthropic'] }), undefined);
  t.regex(
    egressSummary({ isolate: true, proxy: 'builtin', allow: ['anthropic', 'git.example.com:22'] })!,
    /through it anthropic, git\.example\.com:22 \(4 hosts\)\. Add with "cctl init --allow HOST"/,
  );
  t.regex(egressSummary({ isolate: true, proxy: 'builtin', allow: [] })!, /nothing \(egress closed\)/);
});
