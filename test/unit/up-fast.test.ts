/**
 * The short path of `cctl up`: from the record of the last up and two docker
 * calls, "current" only when nothing that decides the full path's work
 * changed; any changed input file, setting or image sends it the full way,
 * and containers that are merely missing or out of date get a plain start.
 */
import test from 'ava';
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fingerprintBeforeStart, inputsBeforeCheck, recordUp } from '../../lib/ops/up/record.js';
import { readUpRecord } from '../../lib/project/up-record.js';
import { shortPath } from '../../lib/ops/up/short-path.js';
import { writeMachineFile } from '../../lib/ops/machine-file.js';
import { findProject } from '../../lib/project/locate.js';
import { defaults } from '../../lib/project/settings.js';
import { BUILD_HASH_LABEL } from '../../lib/ops/build.js';
import { ENGINE_20, ENGINE_26, failureOf, FakeEngine, inspectJson, V1, V2, withEngine, type EngineModel } from '../helpers/fake-engine.js';
import up from '../../lib/commands/up.js';
import { ownHome } from '../helpers/project.js';
import { scratchDir } from '../helpers/scratch.js';

ownHome(test, 'up-fast');

const IMAGES = { 'claude-cli': 'cctl-p-claude-cli:local', proxy: 'cctl-p-proxy:local' };

async function setup(model: EngineModel = { flavour: V2 }, files: Record<string, string> = {}) {
  const dir = scratchDir('cctl-up-fast-');
  writeFileSync(join(dir, 'compose.yaml'), 'services: {}\n');
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    writeFileSync(join(dir, file), text);
  }
  mkdirSync(join(dir, '.cctl'));
  writeFileSync(join(dir, '.cctl', 'state.json'), '{}\n');
  // The record goes to this test's own cache folder.
  process.env.CCTL_CACHE_DIR = join(dir, '.cache');
  const project = findProject({ projectName: 'p' }, dir);
  // Recorded with the environment the checks run in (the fake's CCTL_COMPOSE among it).
  const healthy = ['claude-cli', 'proxy'].map((name) => ({
    name,
    container: `p-${name}-1`,
    state: 'running',
    health: 'healthy',
    ports: [],
  }));
  await withEngine(engine({}, model), async () => {
    // The per-machine file as that up left it (the short path writes it again, unchanged); the record covers it.
    await writeMachineFile(project, defaults(), 'h1', process.env, { startInterval: model.flavour !== V1 });
    const before = await fingerprintBeforeStart(project, defaults(), undefined, { changed: false });
    await recordUp(
      project,
      { buildHash: 'h1', gatewayBuildHash: 'h1', settings: defaults(), images: IMAGES, startInterval: true },
      healthy,
      before,
    );
  });
  return { dir, project };
}

interface Engine {
  running?: string[];
  imageIds?: Record<string, string>;
  buildHash?: string;
  containerImage?: Record<string, string>;
  configHash?: Record<string, string>;
}

/** An engine whose containers and images are as described; by default all current. */
function engine(e: Engine = {}, model: EngineModel = { flavour: V2 }) {
  const running = e.running ?? ['claude-cli', 'proxy'];
  const imageIds = e.imageIds ?? { 'claude-cli': 'sha256:cli', proxy: 'sha256:proxy' };
  const fake = new FakeEngine(model);
  fake.on('docker ps -aq', { stdout: running.map((s) => `id-${s}\n`).join('') });
  fake.on('docker inspect', (argv) => {
    const containers = running
      .filter((s) => argv.includes(`id-${s}`))
      .map((s) => {
        const c = inspectJson({ service: s, labels: { 'com.docker.compose.config-hash': e.configHash?.[s] ?? `cfg-${s}` } });
        return { ...c, Image: e.containerImage?.[s] ?? imageIds[s] };
      });
    const images = Object.entries(IMAGES)
      .filter(([, name]) => argv.includes(name))
      .map(([s, name]) => ({ Id: imageIds[s], RepoTags: [name], Config: { Labels: { [BUILD_HASH_LABEL]: e.buildHash ?? 'h1' } } }));
    return { stdout: JSON.stringify([...containers, ...images]) };
  });
  // The labels of the containers the wait found healthy, read by name when the record is made.
  fake.on(/^docker inspect --format /, { stdout: running.map((s) => `${s} ${e.configHash?.[s] ?? `cfg-${s}`}\n`).join('') });
  return fake;
}

test.serial('nothing changed: current, from one ps and one inspect; no compose call, no daemon version', async (t) => {
  const { project } = await setup();
  const fake = engine();
  const short = await withEngine(fake, () => shortPath(project));
  t.is(short?.kind, 'current');
  t.deepEqual(short?.kind === 'current' ? short.services.map((s) => [s.name, s.state, s.health]) : [], [
    ['claude-cli', 'running', 'healthy'],
    ['proxy', 'running', 'healthy'],
  ]);
  t.deepEqual(fake.lines('docker ps').length, 1);
  t.deepEqual(fake.lines('docker inspect').length, 1);
  t.deepEqual(fake.lines('docker version --format'), []);
  // (Detection aside: the real one is remembered across runs, engine/compose-cache.ts.)
  const composeCalls = fake.calls.filter(
    (c) => (c.argv.includes('compose') || c.argv[0] === 'docker-compose') && !c.line.endsWith('version --short'),
  );
  t.deepEqual(
    composeCalls.map((c) => c.line),
    [],
  );
});

test.serial('a changed compose file, setting or .cctl file goes the full way', async (t) => {
  const changes: Array<[string, (dir: string) => void]> = [
    ['compose file', (dir) => appendFileSync(join(dir, 'compose.yaml'), '# a comment\n')],
    ['CCTL_* setting', () => (process.env.CCTL_BASE_IMAGE = 'other:1')],
    ['new file in .cctl', (dir) => writeFileSync(join(dir, '.cctl', 'Dockerfile.local'), 'RUN true\n')],
    ['.env', (dir) => writeFileSync(join(dir, '.env'), 'COMPOSE_PROJECT_NAME=p\n')],
  ];
  for (const [what, change] of changes) {
    const { project, dir } = await setup();
    change(dir);
    t.is(await withEngine(engine(), () => shortPath(project)), undefined, what);
    delete process.env.CCTL_BASE_IMAGE;
  }
});

/**
 * What Compose reads that the fingerprint must cover: a start on the short path skips the trust check, so an
 * input it missed could be edited from inside between two ups and reach claude-cli unreviewed.
 */
test.serial(
  'an input Compose reads through a variable, a shell variable the file uses, an included folder .env: the full way',
  async (t) => {
    const cases: Array<[string, Record<string, string>, (dir: string) => void]> = [
      [
        'extends file named through a variable',
        {
          'compose.yaml': 'services:\n  claude-cli:\n    extends: {file: "${BASE:-base.yaml}", service: b}\n',
          'base.yaml': 'services: {b: {image: a}}\n',
        },
        (dir) => writeFileSync(join(dir, 'base.yaml'), 'services: {b: {image: a, privileged: true}}\n'),
      ],
      [
        'env_file named through a variable',
        { 'compose.yaml': 'services:\n  claude-cli:\n    env_file: "${CLI_ENV:-cli.env}"\n', 'cli.env': 'A=1\n' },
        (dir) => writeFileSync(join(dir, 'cli.env'), 'A=2\n'),
      ],
      [
        'a shell variable the file interpolates',
        { 'compose.yaml': 'services:\n  claude-cli:\n    image: "${CLI_IMAGE:-a}"\n' },
        () => (process.env.CLI_IMAGE = 'b'),
      ],
      [
        "an included file's own .env",
        { 'compose.yaml': 'include: [sub/compose.yaml]\nservices: {}\n', 'sub/compose.yaml': 'services:\n  x:\n    image: "${X:-a}"\n' },
        (dir) => writeFileSync(join(dir, 'sub', '.env'), 'X=b\n'),
      ],
      [
        'a label file',
        { 'compose.yaml': 'services:\n  claude-cli:\n    label_file: labels.env\n', 'labels.env': 'a=1\n' },
        (dir) => writeFileSync(join(dir, 'labels.env'), 'a=2\n'),
      ],
    ];
    for (const [what, files, change] of cases) {
      const { project, dir } = await setup({ flavour: V2 }, files);
      // A file named through a variable: no short path at all (which file Compose reads, only Compose can tell).
      const before = (await withEngine(engine(), () => shortPath(project)))?.kind;
      t.is(before, what.includes('through a variable') ? undefined : 'current', `${what}: before the edit`);
      change(dir);
      t.is(await withEngine(engine(), () => shortPath(project)), undefined, what);
      delete process.env.CLI_IMAGE;
    }
  },
);

test.serial('an input edited after it was checked is refused before the start; one edited during the up leaves no record', async (t) => {
  const { project, dir } = await setup();
  const short = await withEngine(engine({ running: ['proxy'] }), () => shortPath(project));
  t.is(short?.kind, 'start');
  // claude-cli runs while proxy is restarted: an edit between the check and compose up.
  writeFileSync(join(dir, '.env'), 'X=1\n');
  const error = await failureOf(() =>
    withEngine(engine(), () => fingerprintBeforeStart(project, short!.record.settings, short!.record, short!.machine)),
  );
  t.regex(error?.message ?? '', /changed while cctl up was running/);

  // The full path: .env edited after the trust check read it (while the prompt waited, while images built).
  const checked = await inputsBeforeCheck(project);
  writeFileSync(join(dir, '.env'), 'X=3\n');
  const late = await failureOf(() =>
    withEngine(engine(), () => fingerprintBeforeStart(project, defaults(), undefined, { changed: false }, checked)),
  );
  t.regex(late?.message ?? '', /changed while cctl up was running/);

  // The full path: the fingerprint is taken before compose up; an edit during the health wait is not recorded as accepted.
  const recorded = readUpRecord(project)!.fingerprint;
  const before = await withEngine(engine(), () => fingerprintBeforeStart(project, defaults(), undefined, { changed: false }));
  writeFileSync(join(dir, '.env'), 'X=2\n');
  const healthy = ['claude-cli', 'proxy'].map((name) => ({
    name,
    container: `p-${name}-1`,
    state: 'running',
    health: 'healthy',
    ports: [],
  }));
  await withEngine(engine(), () =>
    recordUp(project, { buildHash: 'h1', gatewayBuildHash: 'h1', settings: defaults(), images: IMAGES }, healthy, before),
  );
  t.is(readUpRecord(project)!.fingerprint, recorded, 'the record of the files as they were at the last good up stays');
  t.is(await withEngine(engine(), () => shortPath(project)), undefined, 'the next up goes the full way');
});

test.serial('a stale or missing image goes the full way (a build is due)', async (t) => {
  const { project } = await setup();
  t.is(await withEngine(engine({ buildHash: 'h0' }), () => shortPath(project)), undefined);
  const missing = engine();
  missing.on('docker inspect', { exitCode: 1, stdout: '[]', stderr: 'Error: No such object: cctl-p-proxy:local' });
  t.is(await withEngine(missing, () => shortPath(project)), undefined);
});

test.serial('containers missing, on an old image or with another config: a plain start', async (t) => {
  const { project } = await setup();
  const cases: Engine[] = [
    { running: ['proxy'] },
    { containerImage: { 'claude-cli': 'sha256:old' } },
    // A container that someone else recreated.
    { configHash: { proxy: 'cfg-before' } },
  ];
  for (const e of cases) {
    t.is((await withEngine(engine(e), () => shortPath(project)))?.kind, 'start', JSON.stringify(e));
  }
});

test.serial('no record (first up, or a cleared cache): the full way', async (t) => {
  const { project, dir } = await setup();
  process.env.CCTL_CACHE_DIR = join(dir, 'elsewhere');
  t.is(await withEngine(engine(), () => shortPath(project)), undefined);
});

test.serial('a start on an engine that moved to 25+ under Compose v1 is refused before anything starts', async (t) => {
  const { project } = await setup({ flavour: V1, daemon: ENGINE_20 });
  const fake = engine({ running: [] }, { flavour: V1, daemon: ENGINE_26 });
  const error = await failureOf(() => withEngine(fake, () => up([], { file: project.file, projectName: 'p', json: true } as never)));
  t.regex(error?.message ?? '', /cannot drive Docker 26/);
  // It was the short path that refused (the record matched and the snapshot ran), not the full one.
  t.is(fake.lines('docker inspect cctl-p-claude-cli:local').length, 1);
  t.false(
    fake.calls.some((c) => / up -d /.test(c.line)),
    'no compose up',
  );
});
