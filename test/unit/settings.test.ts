import test from 'ava';
import { defaults } from '../../lib/project/settings.js';
import { checkConsistency, fromEnv, fromFlags, fromStored, nearest, resolveSettings } from '../../lib/project/setting-layers.js';

test('flags override the environment, which overrides stored settings', (t) => {
  const s = resolveSettings({
    stored: fromStored({ plan: 'max5', 'base-image': 'stored:1', monitor: true }, 'x-cctl'),
    env: fromEnv({ CCTL_BASE_IMAGE: 'env:1', CCTL_MONITOR: '0', CCTL_PLAN: 'max20' }),
    flags: fromFlags({ plan: 'custom' }),
  });
  t.is(s.plan, 'custom');
  t.is(s['base-image'], 'env:1');
  t.false(s.monitor);
  t.is(s.upstream, defaults().upstream);
});

test('the documented environment names exist', (t) => {
  t.like(fromEnv({ CCTL_CA_CERT: 'ca.pem', CCTL_UPSTREAM_URL: 'http://x', CCTL_MONITOR: '1' }), {
    'ca-cert': 'ca.pem',
    upstream: 'http://x',
    monitor: true,
  });
});

test('an unknown setting is named, with the nearest valid one', (t) => {
  const e = t.throws(() => fromStored({ 'base-imag': 'x' }, 'compose.yaml (x-cctl)'));
  t.regex(e!.message, /Unknown setting "base-imag" in compose\.yaml \(x-cctl\)/);
  t.regex((e as { hint?: string }).hint!, /Did you mean "base-image"/);
  t.throws(() => fromFlags({ set: ['tokn-limit=5'] }), { message: /Unknown setting "tokn-limit"/ });
  t.is(nearest('isolat'), 'isolate');
  // A name close to none is not answered with a guess ("nosuch" -> "auth" helped nobody); the list stays.
  const far = t.throws(() => fromFlags({ set: ['nosuch=1'] }));
  t.notRegex((far as { hint?: string }).hint!, /Did you mean/);
  t.regex((far as { hint?: string }).hint!, /^Settings: base-image, /);
});

test('a boolean setting that is not one names every spelling it accepts, yes/no and on/off too', (t) => {
  const e = t.throws(() => fromFlags({ set: ['isolate=maybe'] }));
  t.regex(e!.message, /must be true or false \(also 1\/0, yes\/no, on\/off\), not "maybe"/);
  t.like(fromFlags({ set: ['isolate=on', 'publish=yes', 'monitor=off'] }), { isolate: true, publish: true, monitor: false });
});

test('values are checked against their type and choices', (t) => {
  // The message names every spelling the check accepts, and each of them is accepted.
  const error = t.throws(() => fromEnv({ CCTL_MONITOR: 'maybe' }))!;
  t.regex(error.message, /CCTL_MONITOR must be true or false \(also 1\/0, yes\/no, on\/off\), not "maybe"/);
  for (const [yes, no] of /\(also (.*)\)/
    .exec(error.message)![1]!
    .split(', ')
    .map((pair) => pair.split('/')) as Array<[string, string]>) {
    t.true(fromEnv({ CCTL_MONITOR: yes }).monitor, yes);
    t.false(fromEnv({ CCTL_MONITOR: no }).monitor, no);
  }
  t.throws(() => fromFlags({ proxy: 'nginx' }), { message: /one of builtin, image, external/ });
  t.throws(() => fromStored({ 'proxy-port': 'abc' }, 'x-cctl'), { message: /port number/ });
  t.is(fromFlags({ set: ['proxy-port=4000'] })['proxy-port'], 4000);
});

test('inconsistent settings say which flag to add', (t) => {
  t.throws(() => checkConsistency({ ...defaults(), proxy: 'image' }), { message: /needs a gateway image/ });
  t.throws(() => checkConsistency({ ...defaults(), proxy: 'external' }), { message: /needs the API URL/ });
  t.notThrows(() => checkConsistency({ ...defaults(), proxy: 'external', 'proxy-url': 'https://gw' }));
});

test('token-limit is checked once, in the settings: init, --set and the environment refuse 0 alike', (t) => {
  for (const bad of ['0', '-5', 'lots', '1.5']) {
    t.throws(() => fromFlags({ set: [`token-limit=${bad}`] }), { message: /token count above 0, or "max"/ }, bad);
    t.throws(() => fromEnv({ CCTL_TOKEN_LIMIT: bad }), { message: /CCTL_TOKEN_LIMIT/ }, bad);
  }
  t.is(fromStored({ 'token-limit': 250000 }, 'x-cctl')['token-limit'], '250000');
  t.is(fromFlags({ set: ['token-limit=max'] })['token-limit'], 'max');
});

test('ccusage pins older than 19 are refused: cctl usage needs "ccusage claude <report>"', (t) => {
  for (const old of ['18.0.5', '16', '^18.1.0', 'v17.2.0', '~18']) {
    const e = t.throws(() => fromFlags({ ccusageVersion: old }), undefined, old);
    t.regex(e!.message, /ccusage-version.*must be 19 or later/, old);
    t.regex(e!.message, /ccusage claude <report>/);
  }
  t.throws(() => fromStored({ 'ccusage-version': '18.0.0' }, 'compose.yaml (x-cctl)'), { message: /compose\.yaml \(x-cctl\)/ });
  for (const ok of ['19.0.0', '20.0.24', '^20', 'latest', '20']) t.is(fromFlags({ ccusageVersion: ok })['ccusage-version'], ok);
});
