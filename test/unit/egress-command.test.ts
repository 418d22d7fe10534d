/** `cctl egress` against the table-driven process fake: the compose call it makes, and what it prints. */
import test from 'ava';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import egress from '../../lib/commands/egress.js';
import { failureOf, FakeEngine, V1, V2, withEngine } from '../helpers/fake-engine.js';
import { captureStdout } from '../helpers/output.js';
import { scratchDir } from '../helpers/scratch.js';

function project(settings: string): { dir: string; file: string; g: { file: string; projectName: string } } {
  const dir = scratchDir('cctl-egress-unit-');
  const file = join(dir, 'compose.yaml');
  writeFileSync(file, `services:\n  claude-cli:\n    image: x\n  proxy:\n    image: y\nx-cctl:\n${settings}`);
  return { dir, file, g: { file, projectName: 'demo' } };
}

const line = (fields: Record<string, unknown>) =>
  JSON.stringify({
    time: '2026-11-28T01:00:00.000Z',
    event: 'egress',
    kind: 'connect',
    port: 443,
    source: '172.18.0.3',
    status: 403,
    bytesUp: 0,
    bytesDown: 0,
    durationMs: 1,
    ...fields,
  });

const LOG = (prefix: string) =>
  [
    `${prefix}{"time":"2026-11-28T00:59:00.000Z","event":"listening","port":3000}`,
    `${prefix}${line({ decision: 'denied', reason: 'not-allowed', host: 'denied.test', entry: 'denied.test', time: '2026-11-28T01:00:01.000Z' })}`,
    `${prefix}${line({ decision: 'denied', reason: 'not-allowed', host: 'denied.test', entry: 'denied.test', time: '2026-11-28T01:00:05.000Z' })}`,
    `${prefix}${line({ decision: 'denied', reason: 'not-allowed', host: 'git.example.com', port: 22, entry: 'git.example.com:22' })}`,
    `${prefix}${line({ decision: 'denied', reason: 'egress-off', host: 'pypi.org', entry: 'pypi.org' })}`,
    `${prefix}${line({ decision: 'allowed', host: 'registry.npmjs.org', entry: 'registry.npmjs.org', status: 200, bytesUp: 100, bytesDown: 5000 })}`,
    `${prefix}{"time":"2026-11-28T01:00:02.000Z","method":"POST","path":"/v1/messages","status":200}`,
  ].join('\n');

for (const [flavour, prefix] of [
  [V2, 'proxy-1  | '],
  [V1, 'demo_proxy_1  | '],
] as const) {
  test.serial(`egress (${flavour.env}) reads the gateway's log through compose and lists what to allow`, async (t) => {
    const p = project('  isolate: true\n  allow: [anthropic]\n');
    const fake = new FakeEngine({ flavour }).on(/ logs --no-color proxy$/, { stdout: LOG(prefix) });
    const text = await withEngine(fake, () => captureStdout(() => egress([], p.g)));
    t.is(text.result, 0);
    const logCalls = fake.calls.map((c) => c.line).filter((l) => / logs /.test(l));
    t.is(logCalls.length, 1);
    t.true(logCalls[0]!.startsWith(`${flavour.prefix.join(' ')} --project-directory ${p.dir} -f ${p.file} -p demo --profile claude logs`));
    const rows = text.out.split('\n');
    t.true(
      rows.some((r) => /^ {2}2 +denied\.test:443 +2026-11-28T01:00:05\.000Z +cctl init --allow denied\.test$/.test(r)),
      text.out,
    );
    t.true(
      rows.some((r) => /git\.example\.com:22 .* cctl init --allow git\.example\.com:22$/.test(r)),
      text.out,
    );
    t.regex(text.out, /Refused for other reasons[^]*pypi\.org:443 .*egress off/);
    t.notRegex(text.out, /registry\.npmjs\.org/, 'allowed ones only with --all');
    const all = await withEngine(fake, () => captureStdout(() => egress([], { ...p.g, all: true })));
    t.regex(all.out, /registry\.npmjs\.org:443 +100 B +5000 B/);
    const json = await withEngine(fake, () => captureStdout(() => egress([], { ...p.g, json: true })));
    const doc = JSON.parse(json.out) as {
      allowList: string[];
      denied: Array<{ destination: string; count: number; allow?: string; reason: string }>;
    };
    t.deepEqual(doc.allowList, ['api.anthropic.com:443', 'claude.ai:443', 'platform.claude.com:443']);
    t.deepEqual(
      doc.denied.map((d) => [d.destination, d.count, d.reason, d.allow]),
      [
        ['denied.test:443', 2, 'not-allowed', 'cctl init --allow denied.test'],
        ['git.example.com:22', 1, 'not-allowed', 'cctl init --allow git.example.com:22'],
        ['pypi.org:443', 1, 'egress-off', undefined],
      ],
    );
  });
}

test.serial('egress says when isolation is off, and that nothing was refused', async (t) => {
  const p = project('  isolate: false\n');
  const fake = new FakeEngine().on(/ logs --no-color proxy$/, {
    stdout: 'proxy-1  | {"time":"x","event":"listening","port":3000,"egress":"off"}\n',
  });
  const text = await withEngine(fake, () => captureStdout(() => egress([], p.g)));
  t.is(text.result, 0);
  t.regex(text.out, /Isolation is off/);
  t.regex(text.out, /cctl init --isolate/);
  t.regex(text.out, /No denied destinations/);
});

test.serial('egress without a proxy container says so instead of "nothing refused"', async (t) => {
  const p = project('  isolate: true\n');
  const fake = new FakeEngine().on(/ logs --no-color proxy$/, { stdout: '' });
  const text = await withEngine(fake, () => captureStdout(() => egress([], p.g)));
  t.regex(text.out, /The proxy has no log/);
  t.notRegex(text.out, /No denied destinations/);
  const json = await withEngine(fake, () => captureStdout(() => egress([], { ...p.g, json: true })));
  t.false((JSON.parse(json.out) as { gatewayLogged: boolean }).gatewayLogged);
});

test.serial('egress with a third-party gateway is a usage error, before any docker call', async (t) => {
  const p = project('  proxy: image\n  proxy-image: litellm:1\n');
  const fake = new FakeEngine();
  const error = await withEngine(fake, () => failureOf(() => egress([], p.g)));
  t.regex(error!.message, /built-in gateway's log.*proxy=image/);
  t.is(fake.calls.map((c) => c.line).filter((l) => / logs /.test(l)).length, 0);
});
