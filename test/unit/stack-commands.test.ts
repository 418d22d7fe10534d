/**
 * status, logs, down and doctor against the table-driven process fake: the
 * argv each sends, what each prints, and how each fails.
 */
import test from 'ava';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import doctor from '../../lib/commands/doctor.js';
import { runChecks } from '../../lib/ops/doctor/run.js';
import down from '../../lib/commands/down.js';
import logs from '../../lib/commands/logs.js';
import status from '../../lib/commands/status.js';
import { findProject } from '../../lib/project/locate.js';
import { ENGINE_20, ENGINE_26, failureOf, FakeEngine, V1, V2, withEngine } from '../helpers/fake-engine.js';
import { captureStdout } from '../helpers/output.js';
import { scratchDir } from '../helpers/scratch.js';

const COMPOSE = 'services:\n  web:\n    image: nginx\n  claude-cli:\n    image: x\n  proxy:\n    image: y\n';

function project(text = COMPOSE): { dir: string; file: string; g: { file: string; projectName: string } } {
  const dir = scratchDir('cctl-stack-unit-');
  const file = join(dir, 'compose.yaml');
  writeFileSync(file, text);
  return { dir, file, g: { file, projectName: 'demo' } };
}

const PORTS = { '3000/tcp': [{ HostIp: '127.0.0.1', HostPort: '3000' }] };

test.serial('status prints one row per claude service, with a missing one marked, and --json the same facts', async (t) => {
  const p = project();
  const fake = new FakeEngine().withContainers([
    { service: 'proxy', ports: PORTS },
    { service: 'web', health: 'none' },
  ]);
  const table = await withEngine(fake, () => captureStdout(() => status([], p.g)));
  t.is(table.result, 0);
  t.deepEqual(table.out.trimEnd().split('\n'), [
    'SERVICE     STATE    HEALTH   PORTS',
    'claude-cli  missing  none     -',
    'proxy       running  healthy  127.0.0.1:3000->3000/tcp',
  ]);
  t.true(fake.lines('docker ps -aq').every((l) => l.includes('label=com.docker.compose.project=demo')));
  const json = await withEngine(fake, () => captureStdout(() => status([], { ...p.g, json: true })));
  const doc = JSON.parse(json.out) as { project: string; services: Array<{ name: string; state: string; container?: string }> };
  t.is(doc.project, 'demo');
  t.deepEqual(
    doc.services.map((s) => [s.name, s.state, s.container]),
    [
      ['claude-cli', 'missing', undefined],
      ['proxy', 'running', 'p-proxy-1'],
    ],
  );
});

test.serial('status on a stopped daemon says so, with the fix', async (t) => {
  const p = project();
  const error = await withEngine(new FakeEngine({ daemon: 'down' }), () => failureOf(() => status([], p.g)));
  t.regex(error!.message, /Docker daemon is not reachable/);
  t.regex(error!.hint!, /Start Docker/);
});

/** Runs fn with process.stdout claiming to be a terminal or not (ava's own stdout is a pipe). */
async function withStdoutTty<T>(tty: boolean, fn: () => Promise<T>): Promise<T> {
  const was = Object.getOwnPropertyDescriptor(process.stdout, 'isTTY');
  Object.defineProperty(process.stdout, 'isTTY', { value: tty, configurable: true, writable: true });
  try {
    return await fn();
  } finally {
    if (was) Object.defineProperty(process.stdout, 'isTTY', was);
    else delete (process.stdout as { isTTY?: boolean }).isTTY;
  }
}

for (const flavour of [V1, V2]) {
  test.serial(`logs (${flavour.env}) shows only the claude services, with --follow and --tail passed on`, async (t) => {
    const p = project();
    const fake = new FakeEngine({ flavour, daemon: ENGINE_20 });
    await withStdoutTty(true, () =>
      withEngine(fake, async () => {
        t.is(await logs([], p.g), 0);
        t.is(await logs(['proxy'], { ...p.g, follow: true, tail: '20' }), 0);
      }),
    );
    t.true(
      fake.calls.every((c) => c.options.stdoutFilter === undefined),
      'on a terminal, stdout stays inherited',
    );
    const prefix = [...flavour.prefix, '--project-directory', p.dir, '-f', p.file, '-p', 'demo', '--profile', 'claude'];
    t.deepEqual(fake.composeCalls('interactive'), [
      [...prefix, 'logs', 'claude-cli', 'proxy'],
      [...prefix, 'logs', '--follow', '--tail=20', 'proxy'],
    ]);
  });

  test.serial(`logs (${flavour.env}) into a pipe asks Compose for no terminal control sequences, and keeps the prefixes`, async (t) => {
    const p = project();
    const fake = new FakeEngine({ flavour, daemon: ENGINE_20 });
    await withStdoutTty(false, () => withEngine(fake, async () => t.is(await logs(['proxy'], { ...p.g, follow: true }), 0)));
    const prefix = [...flavour.prefix, '--project-directory', p.dir, '-f', p.file, '-p', 'demo', '--profile', 'claude'];
    // `--ansi never` is a top-level flag (before the verb) on v2 and on v1 since 1.28, cctl's oldest; v1's --no-ansi is deprecated.
    t.deepEqual(fake.composeCalls('interactive'), [[...prefix, '--ansi', 'never', 'logs', '--follow', 'proxy']]);
    // Compose 2.25-2.26 writes ESC[2K before each line even then (docker/compose#11727): stdout goes through a filter.
    const filter = fake.calls.find((c) => c.mode === 'interactive')!.options.stdoutFilter!();
    t.is(
      ['\x1b[2Kproxy-1  | {"a":1}\n\x1b', '[2', 'Kproxy-1  | {"b":2}\n'].map(filter).join(''),
      'proxy-1  | {"a":1}\nproxy-1  | {"b":2}\n',
    );
  });
}

test.serial("logs refuses a service that is not cctl's, and a --tail that is not a count", async (t) => {
  const p = project();
  const fake = new FakeEngine();
  await withEngine(fake, async () => {
    const web = await failureOf(() => logs(['web'], p.g));
    t.is(web!.exitCode, 2);
    t.regex(web!.hint!, /claude-cli or proxy/);
    t.is((await failureOf(() => logs([], { ...p.g, tail: 'ten' })))!.exitCode, 2);
  });
  t.deepEqual(fake.composeCalls(), []);
});

test.serial('down stops and removes only the claude services, keeps the volume, and removes unused networks', async (t) => {
  const p = project();
  const fake = new FakeEngine()
    .withContainers([{ service: 'claude-cli' }, { service: 'proxy' }])
    .on('docker network rm demo_claude-internal', { exitCode: 1, stderr: 'Error: No such network' });
  const { out } = await withEngine(fake, () => captureStdout(() => down([], p.g)));
  const prefix = ['docker', 'compose', '--project-directory', p.dir, '-f', p.file, '-p', 'demo', '--profile', 'claude'];
  t.deepEqual(fake.composeCalls(), [
    [...prefix, 'stop', '--timeout', '5', 'claude-cli', 'proxy'],
    [...prefix, 'rm', '-f', 'claude-cli', 'proxy'],
  ]);
  t.deepEqual(fake.lines('docker network rm'), ['docker network rm demo_default', 'docker network rm demo_claude-internal']);
  t.deepEqual(fake.lines('docker volume'), []);
  t.regex(out, /^Stopped and removed claude-cli, proxy\.$/m);
  t.regex(out, /The volume demo_claude-home \(logins, history, usage\) is kept/);
});

test.serial('down --volumes needs --yes without a terminal, and then deletes the home volume', async (t) => {
  const p = project();
  const fake = new FakeEngine().withContainers([{ service: 'claude-cli' }, { service: 'proxy' }]);
  const refused = await withEngine(fake, () => failureOf(() => down([], { ...p.g, volumes: true })));
  t.is(refused!.exitCode, 2);
  t.regex(refused!.message, /add --yes/);
  t.deepEqual(fake.calls, []);
  const { out } = await withEngine(fake, () => captureStdout(() => down([], { ...p.g, volumes: true, yes: true, json: true })));
  t.deepEqual(fake.lines('docker volume'), ['docker volume rm demo_claude-home']);
  t.like(JSON.parse(out), { ok: true, stopped: ['claude-cli', 'proxy'] });
  t.true((JSON.parse(out) as { removed: string[] }).removed.includes('demo_claude-home'));
});

test.serial('down --volumes --yes on nothing reports nothing removed: no container, no volume, no network', async (t) => {
  const p = project();
  const fake = new FakeEngine()
    .on('docker volume rm', { exitCode: 1, stderr: 'Error response from daemon: get demo_claude-home: no such volume' })
    .on('docker network rm', { exitCode: 1, stderr: 'Error response from daemon: network demo_default not found' });
  const text = await withEngine(fake, () => captureStdout(() => down([], { ...p.g, volumes: true, yes: true })));
  t.deepEqual(fake.composeCalls(), [], 'nothing to stop or remove');
  t.is(text.out, 'No claude-cli or proxy container to remove.\nThere was no volume demo_claude-home to delete.\n');
  const json = await withEngine(fake, () => captureStdout(() => down([], { ...p.g, volumes: true, yes: true, json: true })));
  t.deepEqual(JSON.parse(json.out), { ok: true, stopped: [], removed: [] });
});

test.serial(
  "down --volumes --yes on engine 26's wording of a missing volume (volume X not found) says there was none, exit 0",
  async (t) => {
    const p = project();
    const fake = new FakeEngine().on('docker volume rm', {
      exitCode: 1,
      stderr: 'Error response from daemon: volume demo_claude-home not found',
    });
    const text = await withEngine(fake, () => captureStdout(() => down([], { ...p.g, volumes: true, yes: true })));
    t.is(text.result, 0);
    t.regex(text.out, /There was no volume demo_claude-home to delete\.\n$/);
  },
);

const byName = (checks: Array<{ name: string; status: string; detail: string; fix?: string }>) =>
  Object.fromEntries(checks.map((c) => [c.name, c]));

test.serial('doctor on a healthy engine passes the engine, compose, buildkit and compose-config checks', async (t) => {
  const p = project();
  const fake = new FakeEngine({ daemon: ENGINE_26 }).withContainers([{ service: 'claude-cli' }, { service: 'proxy' }]);
  const checks = byName(await withEngine(fake, () => runChecks(findProject(p.g, p.dir))));
  t.like(checks.daemon, { status: 'pass', detail: 'Docker 26.1.5, API 1.45' });
  t.like(checks.compose, { status: 'pass' });
  t.like(checks.buildkit, { status: 'pass' });
  t.like(checks['compose-file'], { status: 'pass' });
  t.like(checks['compose-config'], { status: 'pass' });
  t.true(fake.calls.some((c) => c.argv.includes('config') && c.options.input === COMPOSE));
});

test.serial('doctor fails Compose v1 on engine 26 with the fix, and fails what compose config rejects', async (t) => {
  const p = project();
  const v1 = byName(await withEngine(new FakeEngine({ flavour: V1, daemon: ENGINE_26 }), () => runChecks(findProject(p.g, p.dir))));
  t.is(v1.compose!.status, 'fail');
  t.regex(v1.compose!.detail, /cannot drive Docker 26\.1\.5/);
  t.regex(v1.compose!.fix!, /Install the Compose v2 plugin/);
  const rejected = new FakeEngine().on(/ config -q$/, {
    exitCode: 15,
    stderr: 'validating -: services.web Additional property imag is not allowed',
  });
  const bad = byName(await withEngine(rejected, () => runChecks(findProject(p.g, p.dir))));
  t.is(bad['compose-config']!.status, 'fail');
  t.regex(bad['compose-config']!.detail, new RegExp(`${p.file}: services\\.web`));
});

test.serial('doctor with the daemon down fails that check, skips what needs it, and exits 1 naming the failure', async (t) => {
  const p = project();
  const fake = new FakeEngine({ daemon: 'down' });
  const checks = byName(await withEngine(fake, () => runChecks(findProject(p.g, p.dir))));
  t.is(checks.daemon!.status, 'fail');
  for (const name of ['buildkit', 'disk', 'image', 'volume'])
    t.like(checks[name], { status: 'warn', detail: 'not checked: the daemon is not reachable' });
  const stderr = process.stderr.write;
  let err = '';
  process.stderr.write = ((c: string) => ((err += c), true)) as typeof process.stderr.write;
  try {
    const { result } = await withEngine(fake, () => captureStdout(() => doctor([], p.g)));
    t.is(result, 1);
  } finally {
    process.stderr.write = stderr;
  }
  t.regex(err, /check\(s\) failed: daemon \(The Docker daemon is not reachable/);
});

test.serial(
  'doctor on a compose file that is not YAML fails that check, and says image and volume went unchecked for the file, not the daemon',
  async (t) => {
    const p = project('services:\n  web:\n    image: nginx\n   ports: [80]\n');
    const checks = byName(await withEngine(new FakeEngine(), () => runChecks(findProject(p.g, p.dir))));
    t.is(checks.daemon!.status, 'pass');
    t.regex(checks['compose-file']!.detail, /compose\.yaml:4:\d+: /);
    for (const name of ['image', 'volume'])
      t.like(checks[name], { status: 'warn', detail: 'not checked: the compose file could not be read' });
  },
);

test.serial(
  'a stopped claude-cli: status exits 1 naming it, doctor fails it (and an exited proxy), both with the log to read',
  async (t) => {
    const p = project();
    const fake = new FakeEngine({ daemon: ENGINE_26 }).withContainers([
      { service: 'claude-cli', state: 'exited', exitCode: 137, health: 'unhealthy' },
      { service: 'proxy', state: 'exited', exitCode: 2, health: 'unhealthy' },
    ]);
    let err = '';
    const stderr = process.stderr.write;
    process.stderr.write = ((c: string) => ((err += c), true)) as typeof process.stderr.write;
    try {
      const table = await withEngine(fake, () => captureStdout(() => status([], p.g)));
      t.is(table.result, 1);
      t.regex(table.out, /claude-cli  exited/);
      const json = await withEngine(fake, () => captureStdout(() => status([], { ...p.g, json: true })));
      t.is(json.result, 1);
      t.false((JSON.parse(json.out) as { ok: boolean }).ok);
    } finally {
      process.stderr.write = stderr;
    }
    t.regex(
      err,
      /^cctl: claude-cli has exited with code 137\.\ncctl: proxy has exited with code 2\.\nSee why: cctl logs claude-cli\. Start again: cctl up\.\n/,
    );
    const checks = byName(await withEngine(fake, () => runChecks(findProject(p.g, p.dir))));
    t.like(checks['claude-cli'], { status: 'fail', detail: 'claude-cli has exited with code 137' });
    t.regex(checks['claude-cli']!.fix!, /cctl logs claude-cli/);
    t.like(checks.proxy, { status: 'fail', detail: 'the proxy has exited with code 2' });
    // Running and healthy: status exits 0, doctor passes claude-cli.
    const healthy = new FakeEngine({ daemon: ENGINE_26 }).withContainers([{ service: 'claude-cli' }, { service: 'proxy' }]);
    t.is((await withEngine(healthy, () => captureStdout(() => status([], p.g)))).result, 0);
    t.like(byName(await withEngine(healthy, () => runChecks(findProject(p.g, p.dir))))['claude-cli'], { status: 'pass' });
    // No container at all (after down) is a normal state for status, a warning for doctor.
    const down = new FakeEngine({ daemon: ENGINE_26 });
    t.is((await withEngine(down, () => captureStdout(() => status([], p.g)))).result, 0);
    t.like(byName(await withEngine(down, () => runChecks(findProject(p.g, p.dir))))['claude-cli'], { status: 'warn' });
  },
);
