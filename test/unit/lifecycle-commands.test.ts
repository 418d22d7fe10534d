/**
 * Command tests for the lifecycle: the table-driven fake at the process seam
 * answers docker and compose and records every argv, and the task list runs
 * with the silent renderer so each task's state can be asserted by title.
 */
import test from 'ava';
import { existsSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gatewayUpTasks } from '../../lib/ops/team-gateway.js';
import { findProject } from '../../lib/project/locate.js';
import { machineFilePath, privateDir } from '../../lib/project/private-dir.js';
import { upRecordFile } from '../../lib/project/up-record.js';
import { taskList } from '../../lib/ui/tasks.js';
import { ENGINE_20, ENGINE_26, FakeEngine, V1, V2, withEngine } from '../helpers/fake-engine.js';
import { stateOf, taskStates } from '../helpers/tasks.js';
import { captureStdout } from '../helpers/output.js';
import { main } from '../../lib/cli.js';
import { ownHome } from '../helpers/project.js';
import { HEALTHY, runUp } from '../helpers/up-unit.js';
import { scratchDir } from '../helpers/scratch.js';

ownHome(test, 'lifecycle');

for (const [flavour, daemon] of [
  [V1, ENGINE_20],
  [V2, ENGINE_26],
] as const) {
  test.serial(`up builds and starts with the ${flavour.env} argv shape`, async (t) => {
    const { fake, list, error, dir, file } = await runUp({ flavour, daemon });
    t.is(error, undefined);
    // The committed file, then this machine's file from the private folder.
    const prefix = [
      ...flavour.prefix,
      '--project-directory',
      dir,
      '-f',
      file,
      '-f',
      machineFilePath('p'),
      '-p',
      'p',
      '--profile',
      'claude',
    ];
    const composeCalls = fake.composeCalls().filter((c) => !c.includes('config'));
    // The build reads the checked build sections on stdin, and an empty env file instead of .env: no file of the
    // project's (ops/build.ts). The env file is a private temporary one.
    const emptyEnv = composeCalls[0]![composeCalls[0]!.indexOf('--env-file') + 1]!;
    t.regex(emptyEnv, /empty\.env$/);
    const noFiles = prefix.filter((_, i) => prefix[i] !== '-f' && prefix[i - 1] !== '-f');
    t.deepEqual(composeCalls, [
      [...noFiles, '--env-file', emptyEnv, '-f', '-', 'build', 'claude-cli', 'proxy'],
      // The fake's claude-cli runs without the read-only binds (scripts/onboard.sh, just written): stopped
      // before the check, so nothing inside can swap a bind source between the check and the start.
      [...prefix, 'stop', '--timeout', '10', 'claude-cli'],
      // v2: created, their config hashes held to what the trust check resolved, then started by id, the gateway
      // first; v1 starts them itself (it connects the second network only then).
      [...prefix, 'up', flavour === V1 ? '-d' : '--no-start', '--no-build', 'claude-cli', 'proxy'],
    ]);
    t.deepEqual(fake.lines('docker start').sort(), flavour === V1 ? [] : ['docker start id-claude-cli', 'docker start id-proxy']);
    t.true(
      Object.values(taskStates(list)).every((s) => s === 'COMPLETED'),
      JSON.stringify(taskStates(list)),
    );
    t.is(stateOf(list, /^Healthy: claude-cli, proxy$/), 'COMPLETED');
    // The daemon is asked once per run, though three steps need its answer.
    t.is(fake.lines('docker version').length, 1);
  });
}

test.serial(
  'start_interval is written only for a v2 compose on engine >= 25, in the machine file; the committed file is the same',
  async (t) => {
    const v2 = await runUp({ flavour: V2, daemon: ENGINE_26 });
    t.regex(readFileSync(machineFilePath('p'), 'utf8'), /"start_interval": "250ms"/);
    const v1 = await runUp({ flavour: V1, daemon: ENGINE_20 });
    t.notRegex(readFileSync(machineFilePath('p'), 'utf8'), /start_interval/);
    const oldEngine = await runUp({ flavour: V2, daemon: ENGINE_20 });
    t.notRegex(readFileSync(machineFilePath('p'), 'utf8'), /start_interval/);
    t.is(readFileSync(v1.file, 'utf8'), readFileSync(v2.file, 'utf8'));
    t.is(readFileSync(oldEngine.file, 'utf8'), readFileSync(v2.file, 'utf8'));
    t.notRegex(readFileSync(v2.file, 'utf8'), /start_interval/);
  },
);

test.serial('a busy port fails the start task, names the port, and the wait never runs', async (t) => {
  const { list, error } = await runUp({ flavour: V1, daemon: ENGINE_20 }, (fake) =>
    fake.on(/ up -d /, {
      exitCode: 1,
      stderr:
        'ERROR: for proxy  Cannot start service proxy: driver failed programming external connectivity: Bind for 127.0.0.1:3000 failed: port is already allocated',
    }),
  );
  t.regex(error!.message, /Port 3000 on this machine is already in use/);
  t.is(stateOf(list, 'Start the claude profile'), 'FAILED');
  t.is(stateOf(list, 'Wait until the services are healthy'), 'WAITING');
});

test.serial('Compose v1 against engine 25+ is refused before anything starts, with the fix', async (t) => {
  const { list, error, fake, file } = await runUp({ flavour: V1, daemon: ENGINE_26 });
  t.regex(error!.message, /Compose 1\.29\.2 \(v1.*cannot drive Docker 26\.1\.5.*ContainerConfig/);
  t.regex((error as Error & { hint: string }).hint, /Install the Compose v2 plugin/);
  t.is(stateOf(list, 'Check the Docker engine and Compose'), 'FAILED');
  t.deepEqual(fake.composeCalls(), []);
  t.throws(() => readFileSync(file), { code: 'ENOENT' });
});

test.serial('cctl gateway up refuses Compose v1 against engine 25+ the same way, before it touches the gateway folder', async (t) => {
  const project = findProject({ projectName: 'gw' }, scratchDir('cctl-gateway-unit-'));
  const fake = new FakeEngine({ flavour: V1, daemon: ENGINE_26 });
  const list = taskList(gatewayUpTasks({ build: false, live: false, timeoutMs: 5000, signal: new AbortController().signal }), 'silent');
  const error = await withEngine(fake, () =>
    list.run({ project, built: false }).then(
      () => undefined,
      (e: unknown) => e as Error,
    ),
  );
  t.regex(error!.message, /Compose 1\.29\.2 \(v1.*cannot drive Docker 26\.1\.5/);
  t.is(stateOf(list, 'Check the gateway files'), 'WAITING');
  t.deepEqual(fake.composeCalls(), []);
});

test.serial('up --json that fails still prints one document: ok false, with the message and the hint', async (t) => {
  const dir = scratchDir('cctl-up-json-');
  const stderr = process.stderr.write;
  process.stderr.write = (() => true) as typeof process.stderr.write;
  try {
    const { result, out } = await withEngine(new FakeEngine({ flavour: V1, daemon: ENGINE_26 }), () =>
      captureStdout(() => main(['-f', join(dir, 'compose.yaml'), '-p', 'p', 'up', '--json'])),
    );
    t.is(result, 1);
    const doc = JSON.parse(out) as { ok: boolean; error: { message: string; hint: string } };
    t.false(doc.ok);
    t.regex(doc.error.message, /cannot drive Docker 26\.1\.5/);
    t.regex(doc.error.hint, /Install the Compose v2 plugin/);
  } finally {
    process.stderr.write = stderr;
  }
});

test.serial('with both installed, detection takes the v2 plugin, so engine 26 is fine', async (t) => {
  const { error, fake } = await runUp({ flavour: V2, daemon: ENGINE_26, detect: { installed: [V1, V2] } });
  t.is(error, undefined);
  t.true(fake.composeCalls().length > 0);
  t.deepEqual(fake.lines('docker-compose'), []);
});

test.serial('one cctl up reads the compose file once and parses it once (merge edits a copy of that parse)', async (t) => {
  const { file } = await runUp({ flavour: V2, daemon: ENGINE_26 });
  const { main } = await import('../../lib/cli.js');
  const { onComposeRead } = await import('../../lib/project/compose-text.js');
  const { hasClaudeServices } = await import('../../lib/project/compose-file.js');
  const { onComposeParse } = await import('../../lib/project/merge.js');
  const fake = new FakeEngine({ flavour: V2, daemon: ENGINE_26 }).withContainers(HEALTHY);
  // The full path is the one measured: without the first up's record (the short path reads nothing anew), and
  // with the file's stamp moved, as a new process would find it (this one holds the first up's read in memory).
  rmSync(upRecordFile(findProject({ projectName: 'p', file }, dirname(file))), { force: true });
  utimesSync(file, new Date(), new Date(Date.now() + 2000));
  const counts = { reads: 0, parses: 0 };
  // Every read and parse in this process counts, as the old counters did; the test runs serially.
  const stop = [onComposeRead(() => void counts.reads++), onComposeParse(() => void counts.parses++)];
  t.teardown(() => stop.forEach((s) => s()));
  const write = process.stdout.write;
  process.stdout.write = (() => true) as typeof process.stdout.write;
  let code: number;
  try {
    code = await withEngine(fake, () => main(['-f', file, '-p', 'p', 'up', '--json']));
  } finally {
    process.stdout.write = write;
  }
  t.is(code, 0);
  t.is(counts.reads, 1);
  t.is(counts.parses, 1);
  // The check can fail: a changed file is read (and parsed) again.
  writeFileSync(file, `${readFileSync(file, 'utf8')}# edited\n`);
  const project = findProject({ projectName: 'p', file }, dirname(file));
  t.true(hasClaudeServices(project));
  t.is(counts.reads, 2);
});

test.serial(
  'up names the onboarding script it writes in the task title, and resolves the merged file with compose config first',
  async (t) => {
    const { list, fake, dir } = await runUp({ flavour: V2, daemon: ENGINE_26 });
    t.is(stateOf(list, /^Added the claude profile to .*; wrote .*scripts\/onboard\.sh/), 'COMPLETED');
    // The trust check's resolution of the merged text (the rendering's own is the one read without .env).
    const resolving = (c: { argv: string[] }) => c.argv[0] === 'docker' && c.argv.includes('config');
    const config = fake.calls.find((c) => resolving(c) && !c.argv.includes('--env-file'))!;
    // The merged text stands in for the committed file; this machine's file follows it, as in every call.
    t.deepEqual(config.argv, [
      'docker',
      'compose',
      '--project-directory',
      dir,
      '-f',
      '-',
      '-f',
      machineFilePath('p'),
      '-p',
      'p',
      '--profile',
      'claude',
      'config',
      '--format',
      'json',
    ]);
    t.regex(String(config.options.input), /claude-cli:/);
    const first = fake.calls.findIndex(resolving);
    t.true(first < fake.calls.findIndex((c) => c.argv.includes('up')), 'resolved before anything starts');
  },
);

test.serial("a merged file that Compose rejects is not written, and the error quotes Compose on the user's file", async (t) => {
  const { list, error, file, fake } = await runUp({ flavour: V2, daemon: ENGINE_26 }, (f) =>
    f.on((line, argv) => line.endsWith(' config --format json') && !argv.includes('--env-file'), {
      exitCode: 15,
      stderr: 'validating -: services.web Additional property imag is not allowed\n',
    }),
  );
  t.regex(error!.message, new RegExp(`Compose rejects the compose file:\\n  validating ${file}: services.web`));
  t.regex((error as Error & { hint: string }).hint, /compose file was not changed/);
  t.is(stateOf(list, /No claude services yet/), 'FAILED');
  t.throws(() => readFileSync(file), { code: 'ENOENT' });
  t.deepEqual(
    fake.composeCalls().filter((c) => c.includes('build') || c.includes('up')),
    [],
  );
});

test.serial(
  "up writes its private folder and up record under a home of these tests' own, not the real ~/.config and ~/.cache",
  async (t) => {
    const { error, dir, file } = await runUp({ flavour: V2, daemon: ENGINE_26 });
    t.is(error, undefined);
    const project = findProject({ projectName: 'p', file }, dir);
    t.true(existsSync(privateDir('p')));
    for (const path of [privateDir('p'), upRecordFile(project)]) t.true(path.startsWith(join(tmpdir(), 'cctl-lifecycle-home-')), path);
  },
);
