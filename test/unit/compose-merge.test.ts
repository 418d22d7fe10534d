import test from 'ava';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { renderOwned, type PlainMap } from '../../lib/project/model.js';
import { mergeOwned, detectStyle, type Owned } from '../../lib/project/merge.js';
import { defaults, type Settings } from '../../lib/project/settings.js';

const userFile = readFileSync(new URL('../fixtures/user-compose.yaml', import.meta.url), 'utf8');
const ctx = { project: 'demo', buildHash: 'h1' };

function merge(text: string, settings: Settings, base?: Owned, force = false) {
  const ours = renderOwned(settings, ctx);
  return {
    ours,
    ...mergeOwned(text, 'compose.yaml', { base, ours, extension: { key: 'x-cctl', value: { ...settings } as unknown as PlainMap } }, force),
  };
}

/** The lines of `before` must appear in `after`, in order and unchanged. */
function assertOnlyAdded(t: import('ava').ExecutionContext, before: string, after: string) {
  const a = after.split('\n');
  let i = 0;
  for (const line of before.split('\n')) {
    while (i < a.length && a[i] !== line) i++;
    t.true(i < a.length, `line kept: ${JSON.stringify(line)}`);
    i++;
  }
}

test('merging keeps every byte of the user file, comments and anchors included', (t) => {
  const r = merge(userFile, defaults());
  t.true(r.changed);
  assertOnlyAdded(t, userFile, r.text);
  t.true(r.text.startsWith(userFile.slice(0, userFile.indexOf('# data\n') + 7)));
  t.regex(r.text, /restart: unless-stopped {3}# anchors must survive/);
  t.regex(r.text, /command: \["postgres", "-c", "log_statement=all"\]/);
  const parsed = parse(r.text, { merge: true });
  t.deepEqual(Object.keys(parsed.services), ['web', 'db', 'claude-cli', 'proxy']);
  t.deepEqual(parsed.services.web.logging, { driver: 'json-file' }, 'the anchor still resolves');
  t.deepEqual(Object.keys(parsed.volumes), ['dbdata', 'claude-home']);
});

test('a second merge with the same settings is byte-identical', (t) => {
  const first = merge(userFile, defaults());
  const second = merge(first.text, defaults(), first.ours);
  t.false(second.changed);
  t.is(second.text, first.text);
  t.deepEqual(second.conflicts, []);
});

test('a changed setting changes only what it owns', (t) => {
  const first = merge(userFile, defaults());
  const second = merge(first.text, { ...defaults(), plan: 'max5', publish: true }, first.ours);
  t.true(second.changed);
  const diff = second.text.split('\n').filter((l) => !first.text.split('\n').includes(l));
  t.deepEqual(diff.sort(), ['    ports: ["127.0.0.1:3000:3000"]', '  plan: max5', '  publish: true', '      CLAUDE_PLAN: max5'].sort());
  // Turning it off again removes the port, and nothing else moves.
  const third = merge(second.text, { ...defaults(), plan: 'max5' }, second.ours);
  t.notRegex(third.text, /ports: \["127/);
  t.regex(third.text, /# The web app/);
});

test('a user edit to an owned key that cctl would overwrite is a conflict naming the key', (t) => {
  const first = merge(userFile, defaults());
  const edited = first.text.replace('      CLAUDE_PLAN: pro', '      CLAUDE_PLAN: max20');
  const r = merge(edited, { ...defaults(), plan: 'max5' }, first.ours);
  t.false(r.changed);
  t.is(r.text, edited);
  t.deepEqual(
    r.conflicts.map((c) => c.path.join('.')),
    ['services.claude-cli.environment.CLAUDE_PLAN'],
  );
});

test('a user edit that cctl does not touch is kept without conflict', (t) => {
  const first = merge(userFile, defaults());
  const edited = first.text.replace('      CLAUDE_PLAN: pro\n', '      CLAUDE_PLAN: pro\n      EXTRA: yes # mine\n');
  const r = merge(edited, { ...defaults(), tz: 'Europe/Paris' }, first.ours);
  t.deepEqual(r.conflicts, []);
  t.regex(r.text, /EXTRA: yes/);
  t.regex(r.text, /TZ: Europe\/Paris/);
});

test('a hand-written claude-cli service conflicts on first init; --force overwrites it', (t) => {
  const text = 'services:\n  claude-cli:\n    image: mine:latest\n';
  const r = merge(text, defaults());
  t.deepEqual(
    r.conflicts.map((c) => c.path.join('.')),
    ['services.claude-cli.image'],
  );
  const forced = merge(text, defaults(), undefined, true);
  t.deepEqual(forced.conflicts, []);
  t.regex(forced.text, /image: cctl-\$\{COMPOSE_PROJECT_NAME\}-claude-cli:local/);
});

test('an empty or missing file gets a complete compose file', (t) => {
  const r = merge('', defaults());
  const parsed = parse(r.text);
  t.truthy(parsed.services['claude-cli']);
  t.truthy(parsed.services.proxy);
  t.deepEqual(parsed.volumes, { 'claude-home': {} });
  t.is(parsed['x-cctl'].plan, 'pro');
});

test('broken YAML is reported with file:line:col and nothing is written', (t) => {
  const broken = 'services:\n  web:\n    image: [unclosed\n';
  t.throws(() => merge(broken, defaults()), { message: /^compose\.yaml:\d+:\d+: / });
  // The position is said once, and the line it points at is quoted (yaml's own text ends in a dangling colon).
  const shifted = 'services:\n  web:\n    image: nginx\n   ports: [80]\n';
  t.throws(() => merge(shifted, defaults()), {
    message: 'compose.yaml:4:1: All mapping items must start at the same column (at "ports: [80]")',
  });
});

test('settings have their effects', (t) => {
  const s = (over: Partial<Settings>) => renderOwned({ ...defaults(), ...over }, ctx);
  const cli = (o: Owned) => o.services!['claude-cli'] as PlainMap;
  const proxy = (o: Owned) => o.services!.proxy as PlainMap;
  t.like(cli(s({ 'base-image': 'node:24-alpine' })), { build: { args: { BASE_IMAGE: 'node:24-alpine' } } });
  t.like(cli(s({ monitor: false })), { build: { args: { INSTALL_MONITOR: '0' } } });
  t.like(cli(s({ 'claude-version': '2.1.200', 'ccusage-version': '20.0.1' })), {
    build: { args: { CLAUDE_CODE_VERSION: '2.1.200', CCUSAGE_VERSION: '20.0.1' } },
  });
  t.deepEqual(cli(s({ workspace: '../src', 'ssh-agent': 'off' })).volumes, ['claude-home:/home/claude', '../src:/workspace']);
  t.like(cli(s({ cpus: '2', memory: '4g' })), { cpus: '2', mem_limit: '4g' });
  t.like(cli(s({ tz: 'Asia/Tokyo' })), { environment: { TZ: 'Asia/Tokyo' } });
  // Credentials: the secret files are in this user's home, so only the per-machine file names them (machine-file.test.ts).
  t.is(cli(s({ auth: 'team-key' })).env_file, undefined);
  t.is(proxy(s({ auth: 'team-key' })).env_file, undefined);
  t.like(proxy(s({ auth: 'team-key', upstream: 'http://up:8080' })), {
    environment: { CCTL_AUTH_MODE: 'team-key', CCTL_UPSTREAM_URL: 'http://up:8080' },
  });
  t.deepEqual(proxy(s({ publish: true, 'publish-port': 3999 })).ports, ['127.0.0.1:3999:3000']);
  // Proxy modes.
  const image = s({ proxy: 'image', 'proxy-image': 'litellm:x', 'proxy-port': 4000, 'proxy-health': '/healthz' });
  t.like(proxy(image), { image: 'litellm:x' });
  t.regex(JSON.stringify(proxy(image).healthcheck), /127\.0\.0\.1:4000\/healthz/);
  t.like(cli(image), { environment: { ANTHROPIC_BASE_URL: 'http://proxy:4000' } });
  const external = s({ proxy: 'external', 'proxy-url': 'https://gw.example.com' });
  t.is(external.services!.proxy, undefined);
  t.like(cli(external), { environment: { ANTHROPIC_BASE_URL: 'https://gw.example.com' } });
  t.is(cli(external).depends_on, undefined);
  // Isolation: claude-cli only on the internal network, the proxy on both.
  const iso = s({ isolate: true });
  t.deepEqual(cli(iso).networks, ['claude-internal']);
  t.deepEqual(proxy(iso).networks, ['claude-internal', 'default']);
  t.deepEqual(iso.networks, { 'claude-internal': { internal: true } });
});

test('the committed health checks have the timing every engine accepts; start_interval is per machine', (t) => {
  const hc = (renderOwned(defaults(), ctx).services!['claude-cli'] as PlainMap).healthcheck as PlainMap;
  t.deepEqual(hc, { test: ['CMD', 'healthcheck.sh'], interval: '2s', timeout: '5s', retries: 3, start_period: '60s' });
});

test('secure defaults on both services', (t) => {
  const o = renderOwned(defaults(), ctx);
  for (const name of ['claude-cli', 'proxy']) {
    t.like(o.services![name], { init: true, security_opt: ['no-new-privileges:true'], cap_drop: ['ALL'], profiles: ['claude'] });
  }
  t.like(o.services!['claude-cli'], { depends_on: { proxy: { condition: 'service_started' } } });
});

test('style detection follows the user file', (t) => {
  t.deepEqual(detectStyle('services:\n    web:\n        ports:\n        - "80"\n'), { indent: 4, indentSeq: false });
  t.deepEqual(detectStyle(userFile), { indent: 2, indentSeq: true });
});

test('turning isolate off removes the internal network and leaves no empty "networks:" behind', (t) => {
  const first = merge(userFile, { ...defaults(), isolate: true });
  t.regex(first.text, /claude-internal:/);
  const second = merge(first.text, defaults(), first.ours);
  t.deepEqual(second.conflicts, []);
  const parsed = parse(second.text) as PlainMap;
  // The user's file has no networks of its own: the key goes with cctl's last entry ("networks:" alone is null, which Compose rejects).
  t.false('networks' in parsed, second.text);
  t.notRegex(second.text, /claude-internal/);
  // And back on: the same file as the first merge (the networks key may now come last), and stable.
  const third = merge(second.text, { ...defaults(), isolate: true }, second.ours);
  t.deepEqual(parse(third.text), parse(first.text));
  t.false(merge(third.text, { ...defaults(), isolate: true }, third.ours).changed);
});

test('turning isolate off keeps a networks map the user still has entries in', (t) => {
  const withNet = `${userFile}networks:\n  backend: {}\n`;
  const first = merge(withNet, { ...defaults(), isolate: true });
  const second = merge(first.text, defaults(), first.ours);
  t.deepEqual((parse(second.text) as PlainMap).networks, { backend: {} });
});
