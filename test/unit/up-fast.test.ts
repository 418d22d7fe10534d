/**
 * The short path of `cctl up`: from the record of the last up and two docker
 * calls, "current" only when nothing that decides the full path's work
 * changed; any changed input file, setting or image sends it the full way,
 * and containers that are merely missing or out of date get a plain start.
 */
import test from 'ava';
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { recordUp } from '../../lib/ops/up/record.js';
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
/** `compose config --hash` at the recorded up; the labels up left are cfg-<service>, another kind of hash. */
const CONFIG = new Map([['claude-cli', 'conf-claude-cli'], ['proxy', 'conf-proxy']]);

async function setup(model: EngineModel = { flavour: V2 }) {
  const dir = scratchDir('cctl-up-fast-');
  writeFileSync(join(dir, 'compose.yaml'), 'services: {}\n');
  mkdirSync(join(dir, '.cctl'));
  writeFileSync(join(dir, '.cctl', 'state.json'), '{}\n');
  // The record goes to this test's own cache folder.
  process.env.CCTL_CACHE_DIR = join(dir, '.cache');
  const project = findProject({ projectName: 'p' }, dir);
  // Recorded with the environment the checks run in (the fake's CCTL_COMPOSE among it).
  const healthy = ['claude-cli', 'proxy'].map((name) => ({ name, container: `p-${name}-1`, state: 'running', health: 'healthy', ports: [] }));
  await withEngine(engine({}, model), async () => {
    await recordUp(project, { buildHash: 'h1', settings: defaults(), images: IMAGES, startInterval: true }, Promise.resolve(CONFIG), healthy);
    // The per-machine file as that up left it (the short path writes it again, unchanged).
    await writeMachineFile(project, defaults(), 'h1', process.env, { startInterval: model.flavour !== V1 });
  });
  return { dir, project };
}

interface Engine {
  running?: string[];
  imageIds?: Record<string, string>;
  buildHash?: string;
  containerImage?: Record<string, string>;
  configHash?: Record<string, string>;
  config?: Record<string, string>;
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
  const config = e.config ?? Object.fromEntries(CONFIG);
  fake.on(/ config --hash \*$/, { stdout: `${Object.entries(config).map(([k, v]) => `${k} ${v}`).join('\n')}\nother conf-other\n` });
  return fake;
}

test.serial('nothing changed: current, from one ps, one inspect and compose config --hash; no up, no daemon version', async (t) => {
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
  t.false(fake.calls.some((c) => / up /.test(c.line)));
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
    // A container that someone else recreated, and a configuration Compose now computes differently.
    { configHash: { proxy: 'cfg-before' } },
    { config: { 'claude-cli': 'conf-claude-cli', proxy: 'conf-changed' } },
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
  t.false(fake.calls.some((c) => / up -d /.test(c.line)), 'no compose up');
});
