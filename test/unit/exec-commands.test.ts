import test from 'ava';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import claude from '../../lib/commands/claude.js';
import exec from '../../lib/commands/exec.js';
import monitor from '../../lib/commands/monitor.js';
import shell from '../../lib/commands/shell.js';
import usage from '../../lib/commands/usage.js';
import { CctlError } from '../../lib/kernel/errors.js';
import { execRequest, wantsTty } from '../../lib/ops/exec.js';
import { execVerb } from '../../lib/engine/compose-client.js';
import { ENGINE_26, failureOf, FakeEngine, V1, V2, withEngine, type Flavour } from '../helpers/fake-engine.js';
import { scratchDir } from '../helpers/scratch.js';

interface Engine {
  /** Exit status of the exec itself. */
  status?: number;
  /** The running claude-cli's monitor label ('' = no container running); undefined = daemon down. */
  monitor?: string;
  imageExists?: boolean;
}

/** The shared table-driven fake, set up for the exec family: the exec's status, claude-cli's state, the image. */
function engineFor(flavour: Flavour, engine: Engine): FakeEngine {
  const fake = new FakeEngine({ flavour, daemon: engine.monitor === undefined ? 'down' : ENGINE_26 });
  fake.on(/ exec /, { exitCode: engine.status ?? 0 });
  if (engine.monitor) fake.withContainers([{ service: 'claude-cli', labels: { 'dev.cctl.monitor': engine.monitor } }]);
  if (engine.imageExists) fake.on('docker image inspect', { stdout: '{}\n' });
  return fake;
}

/** What the tests read off the fake: the captured and the interactive argvs. */
function recorded(fake: FakeEngine) {
  return {
    get calls() {
      return fake.calls.filter((c) => c.mode === 'capture').map((c) => c.argv);
    },
    get interactiveCalls() {
      return fake.calls.filter((c) => c.mode === 'interactive').map((c) => c.argv);
    },
  };
}

const COMPOSE = 'services:\n  claude-cli:\n    image: x\n  proxy:\n    image: y\n';

function project(text = COMPOSE): { dir: string; file: string } {
  const dir = scratchDir('cctl-exec-unit-');
  const file = join(dir, 'compose.yaml');
  writeFileSync(file, text);
  return { dir, file };
}

/** Runs fn with the fake at the seam and compose forced to the flavour (ava's workers have no terminal: every exec is -T). */
async function withFake<T>(flavour: Flavour, engine: Engine, fn: (f: ReturnType<typeof recorded>) => Promise<T>) {
  const fake = engineFor(flavour, engine);
  const f = recorded(fake);
  return { result: await withEngine(fake, () => fn(f)), fake: f };
}

const prefix = (flavour: Flavour, p: { dir: string; file: string }, name: string) => [
  ...flavour.prefix,
  '--project-directory',
  p.dir,
  '-f',
  p.file,
  '-p',
  name,
  '--profile',
  'claude',
];

test('a TTY only when stdin and stdout are both terminals', (t) => {
  t.true(wantsTty({ isTTY: true }, { isTTY: true }));
  t.false(wantsTty({ isTTY: false }, { isTTY: true }));
  t.false(wantsTty({ isTTY: true }, {}));
  t.deepEqual(execVerb(execRequest({ command: ['ls'], tty: true })), ['exec', 'claude-cli', 'ls']);
  t.deepEqual(execVerb(execRequest({ command: ['ls', '-la'], tty: false, workdir: '/workspace' })), [
    'exec',
    '-T',
    '-w',
    '/workspace',
    'claude-cli',
    'ls',
    '-la',
  ]);
});

for (const flavour of [V1, V2]) {
  const label = flavour === V1 ? 'v1' : 'v2';

  test.serial(`${label}: every verb builds compose exec with its argv untouched`, async (t) => {
    const p = project();
    const g = { file: p.file, projectName: 'demo' };
    const { fake: f } = await withFake(flavour, { status: 0 }, async () => {
      await claude(['-p', 'say "hi there"', '--model', 'opus'], g);
      await monitor(['--plan', 'max5', '--view', 'daily'], g);
      await usage([], g);
      await usage(['monthly', '--json', '--since', '20260101', '--breakdown'], g);
      await usage(['--json'], g);
      await usage(['blocks', '--token-limit', 'max'], g);
      await usage(['statusline', '--offline'], g);
      await shell([], g);
      await exec(['--', 'bash', '-lc', 'echo $HOME; exit 3'], g);
      await exec(['ls', '-la', '--', 'x'], g);
    });
    const base = [...prefix(flavour, p, 'demo'), 'exec', '-T'];
    // ava runs workers without a terminal, so every exec here is -T.
    t.deepEqual(f.interactiveCalls, [
      [...base, '-w', '/workspace', 'claude-cli', 'claude-wrapper.sh', '-p', 'say "hi there"', '--model', 'opus'],
      [...base, 'claude-cli', 'monitor', '--plan', 'max5', '--view', 'daily'],
      [...base, 'claude-cli', 'ccusage', 'claude', 'daily'],
      [...base, 'claude-cli', 'ccusage', 'claude', 'monthly', '--json', '--since', '20260101', '--breakdown'],
      [...base, 'claude-cli', 'ccusage', 'claude', 'daily', '--json'],
      [...base, 'claude-cli', 'ccusage', 'claude', 'blocks', '--token-limit', 'max'],
      [...base, 'claude-cli', 'ccusage', 'claude', 'statusline', '--offline'],
      [...base, '-w', '/workspace', 'claude-cli', 'sh', '-c', 'if command -v bash >/dev/null 2>&1; then exec bash -l; else exec sh -l; fi'],
      [...base, 'claude-cli', 'bash', '-lc', 'echo $HOME; exit 3'],
      [...base, 'claude-cli', 'ls', '-la', '--', 'x'],
    ]);
    // The happy path is detection plus the exec: no ps, no inspect.
    t.deepEqual(
      f.calls.map((c) => c.slice(-2).join(' ')),
      ['version --short'],
    );
  });
}

test.serial('the child status passes through, including 128+signal', async (t) => {
  const p = project();
  for (const status of [0, 7, 127, 130, 143]) {
    const { result } = await withFake(V2, { status, monitor: '4.0.0' }, () => exec(['--', 'sh', '-c', 'x'], { file: p.file }));
    t.is(result, status);
  }
});

test.serial("exit 1 from a running container is the child's own: passed through after one ps", async (t) => {
  const p = project();
  const { result, fake: f } = await withFake(V1, { status: 1, monitor: '4.0.0' }, () => exec(['false'], { file: p.file }));
  t.is(result, 1);
  t.is(f.calls.filter((c) => c[0] === 'docker').length, 1);
});

async function failure(engine: Engine, text = COMPOSE, globals: Record<string, string> = {}) {
  const p = project(text);
  const error = await withFake(V1, engine, () => exec(['true'], { file: p.file, ...globals })).then(
    () => undefined,
    (e: unknown) => e,
  );
  return { error: error as CctlError, p };
}

test.serial('stack not running: no container names cctl up; compose\'s own "not running" is not repeated', async (t) => {
  const { error } = await failure({ status: 1, monitor: '', imageExists: true }, COMPOSE, { projectName: 'demo' });
  t.true(error instanceof CctlError);
  t.is(error.message, 'Project "demo" has no claude-cli container ("cctl down" removed it, or it never started).');
  t.regex(error.hint!, /cctl up .*-p demo/);
});

test.serial('stack not running: an exited claude-cli says how it ended and where to look', async (t) => {
  const p = project();
  const fake = engineFor(V2, { status: 1, monitor: '', imageExists: true });
  fake.withContainers([{ service: 'claude-cli', state: 'exited', exitCode: 137 }, { service: 'proxy' }]);
  const error = (await withEngine(fake, () => failureOf(() => exec(['true'], { file: p.file, projectName: 'demo' })))) as CctlError;
  t.is(error.message, "claude-cli's container p-claude-cli-1 has exited with code 137.");
  t.regex(error.hint!, /Why: "cctl logs claude-cli -p demo"\. Start it again with "cctl up -p demo"\./);
});

test.serial('stack not running: a missing image says it was never built', async (t) => {
  const { error } = await failure({ status: 1, monitor: '', imageExists: false });
  t.regex(error.message, /image \(cctl-.*-claude-cli:local-u\d+-g\d+\) has not been built/);
  t.regex(error.hint!, /cctl up/);
});

test.serial('stack not running: a stopped daemon gets the daemon message', async (t) => {
  const { error } = await failure({ status: 1, monitor: undefined });
  t.regex(error.message, /Docker daemon is not reachable/);
});

test.serial('a compose file without claude-cli says to run cctl init', async (t) => {
  const { error } = await failure({ status: 1, monitor: '' }, 'services:\n  web:\n    image: nginx\n');
  t.regex(error.message, /has no claude-cli service/);
  t.regex(error.hint!, /cctl init/);
});

test.serial('a missing compose file is caught before anything is spawned', async (t) => {
  const dir = scratchDir('cctl-exec-unit-');
  const { result, fake: f } = await withFake(V2, {}, () =>
    exec(['true'], { file: join(dir, 'compose.yaml') }).then(
      () => undefined,
      (e: unknown) => e as CctlError,
    ),
  );
  t.regex(result!.message, /No compose file/);
  t.regex(result!.hint!, /cctl init/);
  t.deepEqual(f.calls, []);
  t.deepEqual(f.interactiveCalls, []);
});

test.serial('monitor on an image built without it: the wrapper says so (once), and its exit 1 passes through', async (t) => {
  const p = project();
  // cctl adds no message of its own and no diagnosis: the container is running, the wrapper has spoken.
  const { result } = await withFake(V2, { status: 1, monitor: 'off' }, () => monitor([], { file: p.file }));
  t.is(result, 1);
});

test.serial('usage errors: unknown report lists the valid ones; exec needs a command; shell takes none', async (t) => {
  const p = project();
  await withFake(V2, {}, async (f) => {
    const bad = await t.throwsAsync(usage(['yearly'], { file: p.file }));
    t.is((bad as CctlError).exitCode, 2);
    t.regex((bad as CctlError).hint!, /daily, weekly, monthly, session, blocks/);
    t.is(((await t.throwsAsync(exec([], { file: p.file }))) as CctlError).exitCode, 2);
    t.is(((await t.throwsAsync(exec(['--'], { file: p.file }))) as CctlError).exitCode, 2);
    t.is(((await t.throwsAsync(shell(['ls'], { file: p.file }))) as CctlError).exitCode, 2);
    t.deepEqual(f.interactiveCalls, []);
  });
});

test.serial('through the CLI: globals before the verb are ours, flags after it reach the container', async (t) => {
  const { main } = await import('../../lib/cli.js');
  const p = project();
  const { result, fake: f } = await withFake(V2, { status: 4 }, () =>
    main(['-f', p.file, '-p', 'demo', 'exec', 'bash', '-lc', 'printf \'%s\' "a b"', '-f', '-p']),
  );
  t.is(result, 4);
  t.deepEqual(f.interactiveCalls[0]!.slice(-6), ['claude-cli', 'bash', '-lc', 'printf \'%s\' "a b"', '-f', '-p']);
  t.deepEqual(f.interactiveCalls[0]!.slice(0, prefix(V2, p, 'demo').length), prefix(V2, p, 'demo'));
});

test.serial("VERB --help is cctl's help for each pass-through verb, and spawns nothing; after -- it is the tool's", async (t) => {
  const { main } = await import('../../lib/cli.js');
  const p = project();
  for (const verb of ['shell', 'exec', 'usage', 'monitor', 'claude']) {
    const lines: string[] = [];
    const saved = { log: console.log, info: console.info };
    console.log = console.info = (...args: unknown[]) => void lines.push(args.join(' '));
    try {
      const { result, fake: f } = await withFake(V2, { status: 0 }, () => main(['-f', p.file, verb, '--help']));
      t.is(result, 0, verb);
      t.deepEqual(f.interactiveCalls, [], `${verb} --help spawned something`);
    } finally {
      Object.assign(console, saved);
    }
    const out = lines.join('\n');
    t.regex(out, new RegExp(`\\$ cctl ${verb}\\b`), verb);
    if (verb === 'usage')
      for (const flag of ['--team', '--live', '--token-limit', '--gateway-url']) t.true(out.includes(flag), `usage --help lacks ${flag}`);
  }
  const { fake: f } = await withFake(V2, { status: 0 }, async () => {
    await main(['-f', p.file, '-p', 'demo', 'claude', '--', '--help']);
    await main(['-f', p.file, '-p', 'demo', 'monitor', '--', '--help']);
    await main(['-f', p.file, '-p', 'demo', 'usage', 'daily', '--help']);
  });
  t.deepEqual(
    f.interactiveCalls.map((argv) => argv.slice(argv.indexOf('claude-cli') + 1)),
    [
      ['claude-wrapper.sh', '--help'],
      ['monitor', '--help'],
      ['ccusage', 'claude', 'daily', '--help'],
    ],
  );
});
