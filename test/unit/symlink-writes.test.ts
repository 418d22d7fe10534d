/**
 * Issue 19, item 6: nothing cctl writes or removes in the project goes
 * through a symlink. Anything in claude-cli can write the project, links
 * included, so a link in `.cctl/`, `scripts/` or as the compose file may
 * point at any file of the user's on the host (here a stand-in
 * ~/.ssh/authorized_keys in a temporary HOME). Each attack is the edit a
 * process in claude-cli could make, then the `cctl init` the user runs next
 * (up runs the same init): the file outside must stay as it was, and the
 * refusal must name the link.
 */
import test from 'ava';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initProject } from '../../lib/ops/init.js';
import { setRunner } from '../../lib/engine/runner.js';
import { CctlError } from '../../lib/kernel/errors.js';
import { fromFlags } from '../../lib/project/setting-layers.js';
import type { Project } from '../../lib/project/locate.js';
import { FakeEngine } from '../helpers/fake-engine.js';
import { ownHome } from '../helpers/project.js';

ownHome(test, 'symlink-writes');

// No engine and no compose: init writes the files every engine accepts, and spawns nothing that matters here.
setRunner(new FakeEngine({ daemon: 'down', detect: { installed: [] } }));

const KEYS = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOwner owner@laptop\n';

interface Scene {
  dir: string;
  home: string;
  keys: string;
  env: NodeJS.ProcessEnv;
  project: Project;
  init(flags?: Record<string, unknown>): Promise<unknown>;
}

/** A project already initialised once, and a HOME with an authorized_keys file the attack aims at. */
async function scene(t: { teardown(fn: () => void): void }): Promise<Scene> {
  const root = mkdtempSync(join(tmpdir(), 'cctl-symlink-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const home = join(root, 'home');
  const dir = join(root, 'work', 'app');
  mkdirSync(join(home, '.ssh'), { recursive: true });
  mkdirSync(dir, { recursive: true });
  const keys = join(home, '.ssh', 'authorized_keys');
  writeFileSync(keys, KEYS);
  const env = { ...process.env, HOME: home, CCTL_MONITOR: '0' } as NodeJS.ProcessEnv;
  for (const k of Object.keys(env)) if (k.startsWith('CCTL_') && k !== 'CCTL_MONITOR') delete env[k];
  process.env.HOME = home;
  const file = join(dir, 'compose.yaml');
  const project = (): Project => ({ file, exists: existsSync(file), dir, name: 'app', nameSource: 'folder' }) as Project;
  const init = (flags: Record<string, unknown> = {}) => initProject(project(), { flags: fromFlags(flags), env });
  await init();
  return { dir, home, keys, env, project: project(), init };
}

/** Runs init after the attack: first what must not have happened outside (`unharmed`), then the refusal naming the link. */
async function refused(
  t: import('ava').ExecutionContext,
  s: Scene,
  link: string,
  unharmed: () => void,
  flags: Record<string, unknown> = {},
): Promise<void> {
  const error = await s.init(flags).then(
    () => undefined,
    (e: unknown) => e as Error,
  );
  unharmed();
  t.true(error instanceof CctlError, `init ${error ? `failed otherwise: ${String(error)}` : 'succeeded'}`);
  t.true(error!.message.includes(`${link} is a symbolic link`), error!.message);
  t.regex((error as CctlError).hint ?? '', /Nothing was written through it/);
}

test.serial('a file in .cctl/docker linked to ~/.ssh/authorized_keys is not written through', async (t) => {
  const s = await scene(t);
  const link = join(s.dir, '.cctl', 'docker', 'entrypoint.sh');
  rmSync(link);
  symlinkSync(s.keys, link);
  await refused(t, s, link, () => t.is(readFileSync(s.keys, 'utf8'), KEYS));
  t.true(lstatSync(link).isSymbolicLink(), 'the link is left for the user to see');
});

test.serial('a .cctl/docker folder linked to a folder outside is neither written into nor emptied', async (t) => {
  const s = await scene(t);
  const outside = join(s.home, 'important');
  mkdirSync(outside);
  writeFileSync(join(outside, 'notes.txt'), 'mine\n');
  const docker = join(s.dir, '.cctl', 'docker');
  rmSync(docker, { recursive: true });
  symlinkSync(outside, docker);
  await refused(t, s, docker, () => {
    // Not deleted as a "stale" build file, and nothing of cctl's written there.
    t.deepEqual(readdirSync(outside), ['notes.txt']);
    t.is(readFileSync(join(outside, 'notes.txt'), 'utf8'), 'mine\n');
  });
});

test.serial("a .cctl folder linked to ~/.ssh gets no files of cctl's", async (t) => {
  const s = await scene(t);
  const cctl = join(s.dir, '.cctl');
  rmSync(cctl, { recursive: true });
  symlinkSync(join(s.home, '.ssh'), cctl);
  await refused(t, s, cctl, () => {
    t.deepEqual(readdirSync(join(s.home, '.ssh')), ['authorized_keys']);
    t.is(readFileSync(s.keys, 'utf8'), KEYS);
  });
});

test.serial('scripts/onboard.sh linked to ~/.ssh/authorized_keys is not written through', async (t) => {
  const s = await scene(t);
  const link = join(s.dir, 'scripts', 'onboard.sh');
  rmSync(link);
  symlinkSync(s.keys, link);
  await refused(t, s, link, () => t.is(readFileSync(s.keys, 'utf8'), KEYS));
});

test.serial('a compose file that is a link to a file outside is not rewritten through it', async (t) => {
  const s = await scene(t);
  // The same text elsewhere, so nothing in it looks changed; the next setting the user changes writes the file.
  const outside = join(s.home, 'elsewhere.yaml');
  const text = readFileSync(s.project.file, 'utf8');
  writeFileSync(outside, text);
  rmSync(s.project.file);
  symlinkSync(outside, s.project.file);
  await refused(t, s, s.project.file, () => t.is(readFileSync(outside, 'utf8'), text), { tz: 'Europe/Berlin' });
});

test.serial('a compose file linked elsewhere is not copied into the project as its backup (init --force)', async (t) => {
  const s = await scene(t);
  // JSON is YAML: the docker CLI's credentials parse as a compose file with no services yet.
  const secret = join(s.home, '.docker', 'config.json');
  mkdirSync(join(s.home, '.docker'));
  writeFileSync(secret, '{"auths": {"registry.example.com": {"auth": "dXNlcjpzM2NyZXQ="}}}\n');
  rmSync(s.project.file);
  symlinkSync(secret, s.project.file);
  const error = await initProject(
    { ...s.project, exists: true },
    { flags: fromFlags({}), env: s.env, force: true, acceptChanges: true },
  ).then(
    () => undefined,
    (e: unknown) => e as Error,
  );
  t.false(existsSync(`${s.project.file}.bak`), 'the credentials were copied into the workspace');
  t.is(readFileSync(secret, 'utf8'), '{"auths": {"registry.example.com": {"auth": "dXNlcjpzM2NyZXQ="}}}\n');
  t.true(error instanceof CctlError, String(error));
});
