/**
 * What cctl recorded at the last init or up, in the private folder
 * (state.json): the owned keys it wrote (the merge's base, to tell the user's
 * edits from its own). What the user accepted lives in the trust store
 * (trust.ts), keyed by the project's real path, not here by its name. It lived in .cctl/state.json
 * before, where claude-cli could rewrite it; that copy is read once as the
 * merge base of an older project (never as the guard's baseline), then
 * deleted.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { removeInside, writeFileAtomic } from '../kernel/fs.js';
import { ASSETS_DIR } from './model.js';
import { ensurePrivateDir, privateDir } from './private-dir.js';
import type { Project } from './locate.js';

import type { Owned } from './merge.js';

export type { Owned };

export interface Baseline {
  /** The compose file this was recorded for. */
  file: string;
  owned?: Owned;
  /** The old change guard's snapshot (cctl before the trust store): read once, as input to compare (ops/trust-check.ts). */
  guard?: { settings?: { [key: string]: unknown } };
}

const STATE = 'state.json';

function read(path: string): Baseline | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Baseline;
  } catch {
    return undefined;
  }
}

export function readBaseline(project: Project, env: NodeJS.ProcessEnv = process.env): Baseline | undefined {
  const state = read(join(privateDir(project.name, env), STATE));
  return state?.file === project.file ? state : undefined;
}

/** The merge base an older cctl left in the project (.cctl/state.json); not trusted for the guard. */
export function readLegacyOwned(project: Project): Owned | undefined {
  const state = read(join(project.dir, ASSETS_DIR, STATE));
  return state?.file === project.file ? state.owned : undefined;
}

export function writeBaseline(project: Project, baseline: Omit<Baseline, 'file'>, env: NodeJS.ProcessEnv = process.env): void {
  const dir = ensurePrivateDir(project.name, env);
  const text = `${JSON.stringify({ file: project.file, ...baseline }, null, 2)}\n`;
  const path = join(dir, STATE);
  if (!existsSync(path) || readFileSync(path, 'utf8') !== text) writeFileAtomic(path, text, 0o600);
  const legacy = join(project.dir, ASSETS_DIR, STATE);
  removeInside(project.dir, legacy);
}
