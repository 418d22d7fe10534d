/** Finding the project from any subfolder, and its name in Compose's order. */
import test from 'ava';
import { existsSync, mkdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { containerWorkdir, findProject, hostTimeZone, locateProject, parseDotEnv, scanComposeText } from '../../lib/project/locate.js';
import { scratchDir } from '../helpers/scratch.js';

function tree(files: Record<string, string>): string {
  const root = realpathSync(scratchDir('cctl-locate-'));
  const dir = join(root, 'My.Repo');
  mkdirSync(join(dir, 'src', 'deep'), { recursive: true });
  for (const [path, text] of Object.entries(files)) writeFileSync(join(dir, path), text);
  return dir;
}

test('a subfolder finds the compose file in the nearest parent, and the name of that folder', (t) => {
  const dir = tree({ 'compose.yaml': 'services: {}\n' });
  const p = findProject({}, join(dir, 'src', 'deep'), {});
  t.is(p.file, join(dir, 'compose.yaml'));
  t.true(p.exists);
  t.is(p.dir, dir);
  t.is(p.name, 'myrepo');
  t.is(p.nameSource, 'folder');
});

test('the nearest file wins over one further up', (t) => {
  const dir = tree({ 'compose.yaml': 'services: {}\n', 'src/docker-compose.yml': 'services: {}\n' });
  t.is(findProject({}, join(dir, 'src', 'deep'), {}).file, join(dir, 'src', 'docker-compose.yml'));
});

test("the name follows Compose's order: -p, environment, .env, name:, folder", (t) => {
  const dir = tree({ 'compose.yaml': 'name: from-file\nservices: {}\n', '.env': 'COMPOSE_PROJECT_NAME=from-dotenv\n' });
  const sub = join(dir, 'src');
  t.is(findProject({ projectName: 'Flag' }, sub, { COMPOSE_PROJECT_NAME: 'env' }).name, 'flag');
  t.like(findProject({}, sub, { COMPOSE_PROJECT_NAME: 'env' }), { name: 'env', nameSource: 'environment' });
  t.like(findProject({}, sub, {}), { name: 'from-dotenv', nameSource: '.env' });
  writeFileSync(join(dir, '.env'), 'OTHER=1\n');
  t.like(findProject({}, sub, {}), { name: 'from-file', nameSource: 'name:' });
});

test('name: is interpolated from the environment and .env, as Compose does', (t) => {
  const dir = tree({ 'compose.yaml': 'name: "app-${STAGE:-dev}"\nservices: {}\n', '.env': 'STAGE=qa\n' });
  t.is(findProject({}, dir, {}).name, 'app-qa');
  t.is(findProject({}, dir, { STAGE: 'prod' }).name, 'app-prod');
});

test('no compose file here or above: locateProject names the folder and the fix', (t) => {
  const root = realpathSync(scratchDir('cctl-none-'));
  const error = t.throws(() => locateProject({}, root, {}));
  t.regex(error!.message, /No compose file: none of compose\.yaml.* is in .* or any folder above it/);
  t.regex((error as { hint?: string }).hint ?? '', /cctl init/);
  t.false(findProject({}, root, {}).exists);
  t.is(findProject({}, root, {}).file, join(root, 'compose.yaml'), 'init creates it where cctl runs');
});

test('the top-level scan reads name: and x-cctl.workspace, not nested keys', (t) => {
  const text = [
    'services:',
    '  app:',
    '    name: not-this',
    '    workspace: nor-this',
    "name: 'top' # comment",
    'x-cctl:',
    '  base-image: x',
    '  workspace: "./src"',
  ].join('\n');
  t.deepEqual(scanComposeText(text), { name: 'top', workspace: './src' });
  t.deepEqual(scanComposeText('services: {}\n'), {});
});

test('dotenv lines: export, quotes and comments', (t) => {
  const env = parseDotEnv('# c\nexport A=1\nB="two words"\nC=three # note\nD=\'q\'\n');
  t.deepEqual(
    [...env],
    [
      ['A', '1'],
      ['B', 'two words'],
      ['C', 'three'],
      ['D', 'q'],
    ],
  );
});

test('the container folder matches the subfolder inside the workspace only', (t) => {
  const dir = tree({ 'compose.yaml': 'services: {}\nx-cctl:\n  workspace: "."\n' });
  const p = findProject({}, dir, {});
  t.is(containerWorkdir(p, join(dir, 'src', 'deep')), '/workspace/src/deep');
  t.is(containerWorkdir(p, dir), '/workspace');
  writeFileSync(p.file, 'services: {}\nx-cctl:\n  workspace: src\n');
  t.is(containerWorkdir(p, join(dir, 'src', 'deep')), '/workspace/deep');
  t.is(containerWorkdir(p, dir), undefined, 'the project root is outside a src workspace');
  t.is(basename(dir), 'My.Repo');
});

test('the host time zone: TZ first, else ICU once, remembered by what ICU reads', (t) => {
  const cache = scratchDir('cctl-tz-');
  const env = { CCTL_CACHE_DIR: cache };
  t.is(hostTimeZone({ ...env, TZ: 'Europe/Berlin' }), 'Europe/Berlin');
  const icu = Intl.DateTimeFormat().resolvedOptions().timeZone;
  t.is(hostTimeZone(env), icu);
  const file = join(cache, 'timezone.json');
  if (process.platform !== 'linux') return t.false(existsSync(file));
  const stored = JSON.parse(readFileSync(file, 'utf8')) as { key: string; zone: string };
  t.is(stored.zone, icu);
  // The remembered answer is used while the key holds (a stand-in zone shows it), and not once it changes.
  writeFileSync(file, JSON.stringify({ key: stored.key, zone: 'Test/Remembered' }));
  t.is(hostTimeZone(env), 'Test/Remembered');
  writeFileSync(file, JSON.stringify({ key: `${stored.key}-other`, zone: 'Test/Remembered' }));
  t.is(hostTimeZone(env), icu);
});
