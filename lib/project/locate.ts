/**
 * Which compose file and project cctl works on, found the way Compose v2
 * finds them: the nearest compose file in this folder or a parent (as git
 * finds .git), and the project name in Compose's own order. A different name
 * than Compose's would mean different containers and a different home volume
 * for `cctl` and plain `docker compose` (which looks like lost logins).
 */
import { existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, renameSync, writeFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { GlobalOptions } from '../kernel/argv.js';
import { CctlError } from '../kernel/errors.js';
import { homeDir } from '../kernel/home.js';
import { composeText } from './compose-text.js';

export const COMPOSE_FILE_NAMES = ['compose.yaml', 'compose.yml', 'docker-compose.yaml', 'docker-compose.yml'];
export const PROFILE = 'claude';
export const CLI_SERVICE = 'claude-cli';
export const PROXY_SERVICE = 'proxy';
/** Where the workspace is mounted in claude-cli. */
export const WORKSPACE_MOUNT = '/workspace';

export type NameSource = 'flag' | 'environment' | '.env' | 'name:' | 'folder';

export interface Project {
  /** Absolute path of the compose file (it may not exist yet). */
  file: string;
  exists: boolean;
  dir: string;
  name: string;
  /** Which of Compose's sources gave the name. */
  nameSource: NameSource;
}

/** Compose's own rule for project names: lower case, [a-z0-9_-], starting with a letter or digit. */
export function normalizeProjectName(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9_-]/g, '')
    .replace(/^[-_]+/, '');
}

/** The nearest folder, from `cwd` up to the root, that holds a compose file (Compose v2's search). */
export function findComposeFile(cwd: string): string | undefined {
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    for (const name of COMPOSE_FILE_NAMES) {
      const file = join(dir, name);
      if (existsSync(file)) return file;
    }
    if (dirname(dir) === dir) return undefined;
  }
}

function unquote(raw: string): string | undefined {
  const text = raw.trim();
  const quoted = /^"((?:[^"\\]|\\.)*)"|^'((?:[^']|'')*)'/.exec(text);
  if (quoted) return quoted[1] !== undefined ? quoted[1].replace(/\\(.)/g, '$1') : quoted[2]!.replace(/''/g, "'");
  const plain = text.replace(/(^|\s+)#.*$/, '').trim();
  return plain === '' || plain === '~' || plain === 'null' ? undefined : plain;
}

/** KEY=VALUE lines of a dotenv file (`export` prefix, quotes and comments as Compose reads them). */
export function parseDotEnv(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const m = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*=(.*)$/.exec(line);
    if (m) out.set(m[1]!, unquote(m[2]!) ?? '');
  }
  return out;
}

/**
 * What cctl reads from a compose file without a YAML parser: the top-level
 * `name:` and `x-cctl.workspace`. The pass-through verbs (claude, exec, usage)
 * run on every keystroke-length task, so they load no YAML; this line scan
 * covers block style, which Compose files and cctl's own writer use. Anything
 * it cannot read falls back to the default, as Compose would for a missing key.
 */
export function scanComposeText(text: string): { name?: string; workspace?: string } {
  const out: { name?: string; workspace?: string } = {};
  let inSettings = false;
  for (const line of text.split(/\r?\n/)) {
    if (/^[^\s#]/.test(line)) {
      const top = /^(["']?)([A-Za-z0-9_.-]+)\1\s*:(.*)$/.exec(line);
      inSettings = top?.[2] === 'x-cctl';
      if (top?.[2] === 'name') out.name = unquote(top[3]!);
      continue;
    }
    const setting = inSettings ? /^\s+(["']?)workspace\1\s*:(.*)$/.exec(line) : null;
    if (setting) out.workspace = unquote(setting[2]!);
  }
  return out;
}

/** `${VAR}`, `${VAR:-default}`, `${VAR-default}` and `$VAR`, as Compose interpolates `name:`. */
function interpolate(value: string, lookup: (key: string) => string | undefined): string {
  return value.replace(
    /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?)-([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
    (all, braced, colon, fallback, bare) => {
      if (all === '$$') return '$';
      const v = lookup(braced ?? bare);
      if (fallback !== undefined && (v === undefined || (colon && v === ''))) return fallback;
      return v ?? '';
    },
  );
}

/** The compose file through the per-run cache (compose-text.ts), so finding the project is not a read of its own. */
function composeTextOrEmpty(file: string): string {
  try {
    return composeText(file);
  } catch {
    return '';
  }
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

export function findProject(options: GlobalOptions, cwd = process.cwd(), env = process.env): Project {
  const found = options.file ? resolve(cwd, options.file) : findComposeFile(cwd);
  const file = found ?? resolve(cwd, 'compose.yaml');
  const exists = found !== undefined && existsSync(file);
  const dir = dirname(file);
  // Compose's order: -p, COMPOSE_PROJECT_NAME from the environment, then from the project's .env, then `name:`, then the folder.
  let dotEnv: Map<string, string> | undefined;
  const fromDotEnv = (key: string) => (dotEnv ??= parseDotEnv(readText(join(dir, '.env')))).get(key);
  const lookup = (key: string) => env[key] ?? fromDotEnv(key);
  const candidates: Array<[NameSource, () => string | undefined]> = [
    ['flag', () => options.projectName],
    ['environment', () => env.COMPOSE_PROJECT_NAME],
    ['.env', () => fromDotEnv('COMPOSE_PROJECT_NAME')],
    [
      'name:',
      () => {
        const name = exists ? scanComposeText(composeTextOrEmpty(file)).name : undefined;
        return name === undefined ? undefined : interpolate(name, lookup);
      },
    ],
    ['folder', () => basename(dir)],
  ];
  for (const [source, get] of candidates) {
    const value = get();
    if (value) return { file, exists, dir, name: normalizeProjectName(value) || 'default', nameSource: source };
  }
  return { file, exists, dir, name: 'default', nameSource: 'folder' };
}

/** findProject for every command but init and up: no compose file here or above is an error that says what to do. */
export function locateProject(options: GlobalOptions, cwd = process.cwd(), env = process.env): Project {
  const project = findProject(options, cwd, env);
  if (project.exists) return project;
  const where = options.file
    ? `"${project.file}" does not exist`
    : `none of ${COMPOSE_FILE_NAMES.join(', ')} is in ${resolve(cwd)} or any folder above it`;
  throw new CctlError(`No compose file: ${where}, so there is no cctl project here.`, {
    hint: 'Run cctl from inside the project (any subfolder works), point at the file with -f FILE, or start one with "cctl init" (then "cctl up").',
  });
}

/**
 * The folder in claude-cli that matches `cwd`, when `cwd` is inside the
 * mounted workspace (so `cctl claude` in src/api starts in /workspace/src/api
 * and Claude Code reads that folder's CLAUDE.md). Undefined outside it.
 */
export function containerWorkdir(project: Project, cwd = process.cwd()): string | undefined {
  if (!project.exists) return undefined;
  const setting = scanComposeText(composeTextOrEmpty(project.file)).workspace ?? '.';
  // A workspace that Compose would interpolate (`${VAR}`) cannot be placed here; start at the mount.
  if (setting.includes('$')) return undefined;
  const rel = relative(resolve(project.dir, setting), resolve(cwd));
  if (rel.startsWith('..') || isAbsolute(rel)) return undefined;
  return rel === '' ? WORKSPACE_MOUNT : `${WORKSPACE_MOUNT}/${rel.split(sep).join('/')}`;
}

/**
 * The host's time zone: TZ, else what ICU says (Intl). Asking ICU costs ~35 ms of its start-up, a tenth of
 * an up that has nothing to do, so its answer is remembered in cctl's cache folder, keyed by what it reads:
 * /etc/localtime (the link's target, or the file's size and mtime) and /etc/timezone.
 */
export function hostTimeZone(env = process.env): string {
  if (env.TZ) return env.TZ;
  const key = zoneSource();
  const file = join(env.CCTL_CACHE_DIR ?? join(env.XDG_CACHE_HOME ?? join(env.HOME || homeDir(), '.cache'), 'cctl'), 'timezone.json');
  try {
    const cached = JSON.parse(readFileSync(file, 'utf8')) as { key?: string; zone?: string };
    if (key && cached.key === key && cached.zone) return cached.zone;
  } catch {
    // None yet, or unreadable: ask ICU.
  }
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  if (key) {
    try {
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(`${file}.${process.pid}`, JSON.stringify({ key, zone }));
      renameSync(`${file}.${process.pid}`, file);
    } catch {
      // A read-only cache folder only costs ICU's start next time.
    }
  }
  return zone;
}

/** What ICU reads to find the zone, as one string; undefined where it cannot be told (then ICU is asked). */
function zoneSource(): string | undefined {
  if (process.platform !== 'linux') return undefined;
  const read = (f: string) => {
    try {
      return readFileSync(f, 'utf8').trim();
    } catch {
      return '';
    }
  };
  try {
    const link = lstatSync('/etc/localtime');
    const target = link.isSymbolicLink() ? readlinkSync('/etc/localtime') : `file:${link.size}:${link.mtimeMs}`;
    return `${target}\0${read('/etc/timezone')}`;
  } catch {
    return undefined;
  }
}
