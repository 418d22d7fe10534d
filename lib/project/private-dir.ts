/**
 * The project's private folder: ~/.config/cctl/projects/<compose project>/,
 * mode 0700, outside the project tree. It holds what claude-cli must never
 * read (the team key, in proxy.env), what it must not be able to edit (the
 * merge base) and backups (login tokens). What the user accepted is in the
 * trust store (trust.ts), keyed by the project's real path, not by this name.
 *
 * Why outside the tree, not masked inside the container: claude-cli runs with
 * the host user's UID and the project folder is bind-mounted read-write, so
 * file modes protect nothing there, and any mask (an overlay on
 * /workspace/.cctl) misses copies: a second bind of the folder, a changed
 * `workspace` setting, an editor's backup file, git history. A file that is
 * not under the mount cannot be reached through it.
 *
 * Only this machine's compose file (machine-file.ts, which lives here too)
 * names these files, by their literal paths: the committed file holds no
 * path of any user's, so a fresh clone validates with plain `docker compose
 * config`. XDG_CONFIG_HOME is not followed: one place per home, always.
 */
import { chmodSync, existsSync, mkdirSync, readdirSync, realpathSync } from 'node:fs';
import { basename, isAbsolute, join, relative, resolve } from 'node:path';
import { CctlError } from '../kernel/errors.js';
import { homeDir } from '../kernel/home.js';

const UNDER_HOME = ['.config', 'cctl', 'projects'];

/** The folder on this machine, for the compose project `name`. */
export function privateDir(name: string, env: NodeJS.ProcessEnv = process.env): string {
  return join(env.HOME || homeDir(), ...UNDER_HOME, name);
}

/**
 * This machine's compose file for the project (machine-file.ts renders it), passed to Compose after
 * the committed one. Here, not there, so the pass-through verbs find it without loading the model.
 */
export const MACHINE_FILE = 'compose.machine.yaml';

export function machineFilePath(name: string, env: NodeJS.ProcessEnv = process.env): string {
  return join(privateDir(name, env), MACHINE_FILE);
}

/**
 * claude-cli's build context as cctl builds it: a copy of the checked build inputs (ops/build-copy.ts), named
 * by this machine's compose file. The gateway's is `proxy/` beside it.
 */
export const CLI_BUILD_COPY = 'docker';

export function cliBuildCopy(name: string, env: NodeJS.ProcessEnv = process.env): string {
  return join(privateDir(name, env), CLI_BUILD_COPY);
}

/** Creates the folder (and its parents) owner-only, and tightens it if it exists. */
export function ensurePrivateDir(name: string, env: NodeJS.ProcessEnv = process.env): string {
  const dir = privateDir(name, env);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  return dir;
}

function real(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return resolve(path);
  }
}

/** True when `inner` is `outer` or below it, after following symlinks. */
export function isInside(inner: string, outer: string): boolean {
  const rel = relative(real(outer), real(inner));
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/**
 * Refuses a workspace that would mount the private folder into claude-cli
 * (a project in the home folder itself, or `workspace: ..` from one below it).
 */
export function assertOutsideWorkspace(name: string, workspaceDir: string, env: NodeJS.ProcessEnv = process.env): void {
  const dir = privateDir(name, env);
  if (isInside(dir, workspaceDir)) {
    throw new CctlError(`The workspace ${workspaceDir} contains cctl's private folder ${dir}, so claude-cli could read the team key.`, {
      hint: "Mount a folder that does not contain your home's .config: move the project out of the home folder itself, or change the workspace setting.",
    });
  }
}

/** Where `cctl backup` puts archives by default (created by backup, owner-only). */
export function backupsDir(name: string, env: NodeJS.ProcessEnv = process.env): string {
  return join(privateDir(name, env), 'backups');
}

/**
 * The archive `cctl restore FILE` means: FILE as given when it exists, else a
 * bare name found in the backups folder (where `cctl backup` wrote it, so the
 * name it printed restores as is). A missing file says where both looks went
 * and names the newest backup there.
 */
export function findBackup(file: string, name: string, env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): string {
  const given = resolve(cwd, file);
  if (existsSync(given)) return given;
  const dir = backupsDir(name, env);
  const bare = basename(file) === file;
  if (bare && existsSync(join(dir, file))) return join(dir, file);
  let newest: string | undefined;
  try {
    newest = readdirSync(dir)
      .filter((f) => f.endsWith('.tar.gz'))
      .sort()
      .at(-1);
  } catch {
    newest = undefined;
  }
  const looked = bare ? `${given} nor in ${dir}` : given;
  throw new CctlError(`No backup ${file}: it is not ${bare ? 'in this folder' : 'there'} (looked for ${looked}).`, {
    hint: newest
      ? `cctl backup keeps archives in ${dir}; the newest is: cctl restore ${newest}`
      : `cctl backup keeps archives in ${dir}, which holds none; give the archive's path.`,
  });
}

/** Backups an older cctl wrote into the project folder by default: login tokens where claude-cli and git can see them. */
export function backupsInProject(projectDir: string): string[] {
  try {
    return readdirSync(projectDir).filter((f) => /^cctl-.+-home-\d{8}-\d{6}\.tar\.gz$/.test(f));
  } catch {
    return [];
  }
}
