/**
 * The other files Compose reads through a compose file: `include` entries
 * (and their env files), `extends.file` and `env_file` of each service,
 * followed into the files they name, a few levels deep. `up`'s short path
 * fingerprints them (ops/up-fast.ts): without them, an edit from inside to an
 * included or extended file would reach a start that skips the trust check.
 * Paths that Compose would interpolate (`${...}`) are left out: their value
 * comes from .env or the shell, and .env is fingerprinted itself.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse } from 'yaml';

const MAX_DEPTH = 5;
const MAX_FILES = 200;

const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const strings = (v: unknown): string[] => (typeof v === 'string' ? [v] : Array.isArray(v) ? v.flatMap(strings) : isMap(v) && typeof v.path === 'string' ? [v.path] : []);

function namedIn(model: unknown): { compose: string[]; other: string[] } {
  const out = { compose: [] as string[], other: [] as string[] };
  if (!isMap(model)) return out;
  for (const entry of Array.isArray(model.include) ? model.include : []) {
    if (typeof entry === 'string') out.compose.push(entry);
    else if (isMap(entry)) {
      out.compose.push(...strings(entry.path));
      out.other.push(...strings(entry.env_file));
    }
  }
  for (const service of Object.values(isMap(model.services) ? model.services : {})) {
    if (!isMap(service)) continue;
    if (isMap(service.extends) && typeof service.extends.file === 'string') out.compose.push(service.extends.file);
    out.other.push(...strings(service.env_file));
  }
  return out;
}

/** Absolute paths of the files `file` makes Compose read besides itself (not the project's .env). */
export function referencedFiles(file: string): string[] {
  const found = new Set<string>();
  const visit = (path: string, depth: number) => {
    if (depth > MAX_DEPTH || found.size >= MAX_FILES) return;
    let model: unknown;
    try {
      model = parse(readFileSync(path, 'utf8'), { merge: true, maxAliasCount: 1000 });
    } catch {
      // Missing or unreadable: the fingerprint records its absence as such.
      return;
    }
    const named = namedIn(model);
    for (const [list, compose] of [[named.compose, true], [named.other, false]] as const) {
      for (const raw of list) {
        if (raw.includes('$')) continue;
        const target = resolve(dirname(path), raw);
        if (found.has(target) || target === file) continue;
        found.add(target);
        if (compose) visit(target, depth + 1);
      }
    }
  };
  visit(file, 0);
  return [...found].sort();
}
