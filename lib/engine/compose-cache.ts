/**
 * Compose detection, remembered across runs. Detecting spawns
 * `<compose> version --short`; for the Python v1 that is a second
 * interpreter start (~0.4 s here), which on its own would double the cost of
 * `cctl usage daily` over the raw `compose exec`. So every command reads the
 * last answer from a small file, keyed by everything that
 * could change it: CCTL_COMPOSE, PATH, the docker config dir, and the
 * identity (path, size, mtime) of `docker`, `docker-compose` and every
 * compose plugin file. Any change there means a fresh detection. The key
 * costs a few stat calls and no spawn. This file only stores; compose.ts
 * decides when to use it.
 */
import { mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { homeDir } from '../kernel/home.js';

export type ComposeFlavour = 'plugin' | 'standalone-v2' | 'v1';

export interface ComposeCommand {
  flavour: ComposeFlavour;
  /** The executable and its leading args, e.g. ['docker', 'compose']. */
  command: readonly string[];
  version: string;
}

/** Where Docker looks for CLI plugins (docs.docker.com/engine/extend/cli_plugins), plus the user's own dir. */
function pluginDirs(env: NodeJS.ProcessEnv): string[] {
  const config = env.DOCKER_CONFIG ?? join(homeDir(), '.docker');
  return [
    join(config, 'cli-plugins'),
    '/usr/local/lib/docker/cli-plugins',
    '/usr/local/libexec/docker/cli-plugins',
    '/usr/lib/docker/cli-plugins',
    '/usr/libexec/docker/cli-plugins',
    ...(process.platform === 'win32' ? [join(env.ProgramFiles ?? 'C:\\Program Files', 'Docker', 'cli-plugins')] : []),
  ];
}

function identity(file: string): string | undefined {
  try {
    // Most names looked up are missing: no exception for those (each one costs a stack trace).
    const s = statSync(file, { throwIfNoEntry: false });
    return s?.isFile() ? `${file}:${s.size}:${Math.trunc(s.mtimeMs)}` : undefined;
  } catch {
    return undefined;
  }
}

const EXTENSIONS = process.platform === 'win32' ? ['.exe', '.cmd', ''] : [''];

function onPath(name: string, env: NodeJS.ProcessEnv): string {
  for (const dir of (env.PATH ?? '').split(delimiter).filter(Boolean)) {
    for (const ext of EXTENSIONS) {
      const found = identity(join(dir, name + ext));
      if (found) return found;
    }
  }
  return `${name}:none`;
}

/** Everything the detection's answer depends on, as one string. */
export function detectionKey(env: NodeJS.ProcessEnv = process.env): string {
  const plugins = pluginDirs(env).flatMap((dir) => EXTENSIONS.map((ext) => identity(join(dir, `docker-compose${ext}`)) ?? ''));
  return JSON.stringify([
    env.CCTL_COMPOSE ?? '',
    env.PATH ?? '',
    env.DOCKER_CONFIG ?? '',
    onPath('docker', env),
    onPath('docker-compose', env),
    ...plugins.filter(Boolean),
  ]);
}

export function cacheFile(env: NodeJS.ProcessEnv = process.env): string {
  const dir = env.CCTL_CACHE_DIR ?? join(env.XDG_CACHE_HOME ?? join(homeDir(), '.cache'), 'cctl');
  return join(dir, 'compose.json');
}

/** A day: a backstop for changes the key cannot see (a plugin dir Docker added, say). */
const MAX_AGE_MS = 24 * 60 * 60 * 1000;

interface Entry {
  at: number;
  engine: ComposeCommand;
}

/**
 * Several entries, keyed by the key itself (no hashing: node:crypto would cost start-up): a shell and `npx` (which prepends
 * node_modules/.bin to PATH) must not evict each other on every call.
 */
type CacheFile = Record<string, Entry>;
const MAX_ENTRIES = 8;

function load(file: string): CacheFile {
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as CacheFile) : {};
  } catch {
    // Missing or unreadable: detect again.
    return {};
  }
}

function lookup(entries: CacheFile, key: string, now: number): ComposeCommand | undefined {
  const entry = entries[key];
  if (entry && now - entry.at < MAX_AGE_MS && Array.isArray(entry.engine?.command) && entry.engine.command.length) return entry.engine;
  return undefined;
}

function store(file: string, entries: CacheFile, key: string, entry: Entry): void {
  const kept = Object.entries({ ...entries, [key]: entry })
    .sort(([, a], [, b]) => b.at - a.at)
    .slice(0, MAX_ENTRIES);
  try {
    mkdirSync(dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(Object.fromEntries(kept)));
    // Atomic, so two cctl processes never read half a file.
    renameSync(tmp, file);
  } catch {
    // A read-only home only costs the detection next time.
  }
}

/** The remembered answer for this environment, if it is fresh. */
export function recall(env: NodeJS.ProcessEnv, now: number): ComposeCommand | undefined {
  return lookup(load(cacheFile(env)), detectionKey(env), now);
}

export function remember(env: NodeJS.ProcessEnv, now: number, engine: ComposeCommand): void {
  const file = cacheFile(env);
  store(file, load(file), detectionKey(env), { at: now, engine });
}

export function forget(env: NodeJS.ProcessEnv): void {
  rmSync(cacheFile(env), { force: true });
}
