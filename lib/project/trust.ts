/**
 * The trust store: what the user accepted for a project, kept in
 * ~/.config/cctl/trust/, outside every project, keyed by the project
 * folder's real path (symlinks followed). Not by the compose project's name
 * and not by the compose file: both are read from the project, which
 * claude-cli can write. A .env that renames the project, a second compose file
 * that takes precedence, or a new compose file in a subfolder nearer the
 * working folder all find the same record (or the nearest one above), and
 * show up as a change to confirm, never as a project seen for the first time.
 *
 * A record holds:
 *   - the identity: project name and compose file (relative to the folder);
 *   - the accepted settings (x-cctl, as resolved): a difference from them in
 *     the file is a change to confirm, one from a flag or the shell is not;
 *   - a digest of each difference from cctl's rendering the user accepted
 *     (resolved-model.ts), so an accepted difference is not asked again, even
 *     after a flag re-renders the rest;
 *   - the accepted copy of each user service within reach of cctl's
 *     services (environment values only as digests).
 */
import { existsSync, mkdirSync, readFileSync, realpathSync } from 'node:fs';
import { homedir } from 'node:os';
import { createHash } from 'node:crypto';
import { dirname, join, relative } from 'node:path';
import { writeFileAtomic } from '../kernel/fs.js';
import type { Plain, PlainMap } from './model.js';
import type { Project } from './locate.js';

export const TRUST_VERSION = 1;

export interface TrustRecord {
  version: number;
  /** The project folder's real path (also the key). */
  dir: string;
  /** The compose project name the user accepted. */
  name: string;
  /** The compose file, relative to dir. */
  file: string;
  settings: PlainMap;
  /** Digests of the accepted differences between cctl's resolved subtree and the rendering's. */
  acceptedChanges?: string[];
  /** Accepted copies of user services in reach of cctl's (undefined: never resolved, as when init ran without Compose). */
  reach?: { [service: string]: Plain };
}

/** The real path, or the path as given when it does not exist (yet). */
export function realDir(dir: string): string {
  try {
    return realpathSync(dir);
  } catch {
    return dir;
  }
}

function trustDir(env: NodeJS.ProcessEnv): string {
  return join(env.HOME || homedir(), '.config', 'cctl', 'trust');
}

export function trustFile(dir: string, env: NodeJS.ProcessEnv = process.env): string {
  const key = createHash('sha256').update(realDir(dir)).digest('hex').slice(0, 32);
  return join(trustDir(env), `${key}.json`);
}

function read(path: string, dir: string): TrustRecord | undefined {
  try {
    const record = JSON.parse(readFileSync(path, 'utf8')) as TrustRecord;
    // A hash collision, or a file copied from elsewhere, is not this project's.
    return record.version === TRUST_VERSION && record.dir === dir ? record : undefined;
  } catch {
    return undefined;
  }
}

export interface FoundTrust {
  /** The record for this very folder. */
  record?: TrustRecord;
  /** Otherwise the nearest record of a folder above it (a compose file appeared nearer the working folder). */
  above?: TrustRecord;
}

export function findTrust(project: Pick<Project, 'dir'>, env: NodeJS.ProcessEnv = process.env): FoundTrust {
  const dir = realDir(project.dir);
  const record = read(trustFile(dir, env), dir);
  if (record) return { record };
  for (let up = dirname(dir); ; up = dirname(up)) {
    const above = read(trustFile(up, env), up);
    if (above) return { above };
    if (dirname(up) === up) return {};
  }
}

/** The compose file as the record names it: relative to the real folder. */
export function fileInRecord(project: Pick<Project, 'dir' | 'file'>): string {
  return relative(realDir(project.dir), join(realDir(project.dir), relative(project.dir, project.file))) || '.';
}

export function writeTrust(
  project: Pick<Project, 'dir' | 'file' | 'name'>,
  parts: Pick<TrustRecord, 'settings' | 'acceptedChanges' | 'reach'>,
  env: NodeJS.ProcessEnv = process.env,
): void {
  const dir = realDir(project.dir);
  const record: TrustRecord = { version: TRUST_VERSION, dir, name: project.name, file: fileInRecord(project), ...parts };
  const path = trustFile(dir, env);
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const text = `${JSON.stringify(record, null, 2)}\n`;
  if (!existsSync(path) || readFileSync(path, 'utf8') !== text) writeFileAtomic(path, text, 0o600);
}
