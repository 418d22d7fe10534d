/**
 * What the last successful `cctl up` of a project saw, so that the next one
 * can tell "nothing changed" from files alone, without parsing YAML or asking
 * the engine how it was set up.
 *
 * The record lives in the user's cache folder, outside the project tree:
 * claude-cli can write /workspace, and a record it could forge would let it
 * skip what init checks. Losing the record only costs the full path.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Project } from './locate.js';
import type { Settings } from './settings.js';
import { composeText } from './compose-text.js';

export interface UpRecord {
  /** Everything init reads, hashed (upFingerprint). */
  fingerprint: string;
  /** claude-cli's build hash (the committed file's). */
  buildHash: string;
  /** The gateway's build hash (the per-machine file's): each image has its own. Absent in an older record: no short path. */
  gatewayBuildHash?: string;
  /** The settings init resolved: the short path starts and reports from them without reading YAML. */
  settings: Settings;
  /** The image of each service cctl builds. */
  images: Record<string, string>;
  /** Files init read that the fingerprint cannot find alone (the CA bundle), by absolute path. */
  extraInputs: string[];
  /** Names the compose files, their env files and .env may interpolate (project/compose-inputs.ts): their values are fingerprinted. */
  variables?: string[];
  /**
   * Per service: the config-hash label of the container that up left. With
   * every input Compose reads in the fingerprint, Compose's configuration is
   * the one it was; the label says the container is still the one made from it.
   */
  configHashes: Record<string, { label: string }>;
  /** Whether the machine file had start_interval (engine 25+ and Compose v2): the short path writes it again without asking the daemon. */
  startInterval?: boolean;
}

/** Where the record of a project lives: the one place that says so. */
export function upRecordFile(project: Project, env: NodeJS.ProcessEnv = process.env): string {
  const dir = env.CCTL_CACHE_DIR ?? join(env.XDG_CACHE_HOME ?? join(env.HOME || homedir(), '.cache'), 'cctl');
  const key = createHash('sha256').update(`${project.file}\0${project.name}`).digest('hex').slice(0, 16);
  return join(dir, 'up', `${project.name}-${key}.json`);
}

export function readUpRecord(project: Project, env: NodeJS.ProcessEnv = process.env): UpRecord | undefined {
  try {
    const record = JSON.parse(readFileSync(upRecordFile(project, env), 'utf8')) as UpRecord;
    return typeof record.fingerprint === 'string' && typeof record.settings === 'object' && record.settings !== null ? record : undefined;
  } catch {
    return undefined;
  }
}

export function writeUpRecord(project: Project, record: UpRecord, env: NodeJS.ProcessEnv = process.env): void {
  const file = upRecordFile(project, env);
  try {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(record), { mode: 0o600 });
    renameSync(tmp, file);
  } catch {
    // A read-only cache only costs the full path next time.
  }
}

/** A walk stops here: a folder this big is not cctl's, and hashing it would cost more than it saves. */
const MAX_ENTRIES = 2000;
/** Files up to this size are known by their content; bigger ones (a team's `local/` payload) by size and mtime. */
const CONTENT_LIMIT = 1 << 20;

function contentHash(path: string): string {
  try {
    return createHash('sha256').update(readFileSync(path)).digest('hex');
  } catch {
    return 'unreadable';
  }
}

/**
 * Each file under the roots by path and content (so a reinstall or rebuild of
 * cctl that writes the same bytes changes nothing), and each folder by its
 * sorted entries (so an added or removed file counts).
 */
function identities(roots: readonly string[]): string[] | undefined {
  const out: string[] = [];
  const walk = (path: string): boolean => {
    if (out.length > MAX_ENTRIES) return false;
    let s;
    try {
      s = statSync(path);
    } catch {
      out.push(`${path}:none`);
      return true;
    }
    if (!s.isDirectory()) {
      out.push(`${path}:${s.size <= CONTENT_LIMIT ? contentHash(path) : `${s.size}:${s.mtimeMs}`}`);
      return true;
    }
    const entries = readdirSync(path).sort();
    out.push(`${path}/:${entries.join('/')}`);
    return entries.every((e) => walk(join(path, e)));
  };
  return roots.every(walk) ? out : undefined;
}

/** cctl's own switches that change no setting and no engine. */
const NEUTRAL = new Set(['CCTL_DEBUG', 'CCTL_CACHE_DIR', 'CCTL_COMPOSE_CACHE']);

/** Environment that reaches init's settings or the engine: CCTL_*, COMPOSE_*, DOCKER_*, HOME, TZ. */
function relevantEnv(env: NodeJS.ProcessEnv): string[] {
  return Object.keys(env)
    .filter((k) => /^(CCTL_|COMPOSE_|DOCKER_)/.test(k) && !NEUTRAL.has(k))
    .concat(['HOME', 'TZ'])
    .sort()
    .map((k) => `${k}=${env[k] ?? ''}`);
}

/**
 * One hash over what init reads: the compose file's bytes, the environment
 * that carries settings, the user ids, the caller's `extra` parts (Compose's
 * version, the values of the variables the files use), and the identity of
 * every file under `roots` (cctl's own image files, the project's .cctl
 * folder, the per-machine file, what the compose file names ...). Undefined
 * when a root is too big to walk; the caller then takes the full path.
 */
export function upFingerprint(
  project: Project,
  roots: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
  extra: readonly string[] = [],
): string | undefined {
  let text: string;
  try {
    // The per-run cache: the fingerprint is not a read of its own.
    text = composeText(project.file);
  } catch {
    return undefined;
  }
  if (!text) return undefined;
  const files = identities(roots);
  if (!files) return undefined;
  const h = createHash('sha256');
  for (const part of [project.file, project.name, `${process.getuid?.()}:${process.getgid?.()}`, ...relevantEnv(env), ...extra, ...files])
    h.update(part).update('\0');
  return h.update(text).digest('hex');
}
