/**
 * What Compose reads through a compose file besides the file itself, for
 * `up`'s short path (ops/up/), which fingerprints it: a start on that path
 * skips the trust check, so an input it missed could be edited from inside
 * claude-cli between two ups and reach the services unreviewed.
 *
 *   - files: `include` entries (with their env files and the .env of the
 *     folder each included project resolves in), `extends.file`, `env_file`
 *     and `label_file` of each service, followed into the compose files they
 *     name, a few levels deep;
 *   - variables: every name any of those texts (and the project's .env)
 *     could interpolate, and each `environment` entry without a value (Compose
 *     passes the shell's), so the caller fingerprints their values in the
 *     environment Compose gets. A shell variable the file uses is an input.
 *
 * A path Compose would interpolate (`${...}`) names a file only Compose can
 * tell: then there is no answer (undefined) and `up` always goes the full way.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parse } from 'yaml';

const MAX_DEPTH = 5;
const MAX_FILES = 200;

const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const strings = (v: unknown): string[] => (typeof v === 'string' ? [v] : Array.isArray(v) ? v.flatMap(strings) : isMap(v) && typeof v.path === 'string' ? [v.path] : []);

interface Named {
  compose: string[];
  other: string[];
  /** `environment` entries without a value: Compose passes the shell's value of the name. */
  passed: string[];
}

function passedThrough(environment: unknown): string[] {
  if (Array.isArray(environment)) return environment.filter((e): e is string => typeof e === 'string' && !e.includes('='));
  return isMap(environment) ? Object.keys(environment).filter((k) => environment[k] === null || environment[k] === undefined) : [];
}

function namedIn(model: unknown, base: string): Named {
  const out: Named = { compose: [], other: [], passed: [] };
  if (!isMap(model)) return out;
  const at = (p: string) => (p.includes('$') ? p : resolve(base, p));
  for (const entry of Array.isArray(model.include) ? model.include : []) {
    const paths = typeof entry === 'string' ? [entry] : isMap(entry) ? strings(entry.path) : [];
    out.compose.push(...paths.map(at));
    const envFiles = isMap(entry) ? strings(entry.env_file) : [];
    out.other.push(...envFiles.map(at));
    // Without env_file, an included project reads the .env of its own folder (project_directory, or the file's).
    const folder = isMap(entry) && typeof entry.project_directory === 'string' ? [entry.project_directory] : paths.slice(0, 1).map((p) => dirname(p));
    if (envFiles.length === 0) out.other.push(...folder.map((f) => (f.includes('$') ? f : join(at(f), '.env'))));
  }
  for (const service of Object.values(isMap(model.services) ? model.services : {})) {
    if (!isMap(service)) continue;
    if (isMap(service.extends) && typeof service.extends.file === 'string') out.compose.push(at(service.extends.file));
    out.other.push(...strings(service.env_file).map(at), ...strings(service.label_file).map(at));
    out.passed.push(...passedThrough(service.environment));
  }
  return out;
}

/** Names a text could interpolate: `$NAME` and `${NAME...}` (an escaped `$$NAME` too: a name too many costs nothing). */
export function variableNames(text: string): string[] {
  return [...text.matchAll(/\$\{?([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1]!);
}

function readOrUndefined(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    // Missing or unreadable: the fingerprint records its absence as such.
    return undefined;
  }
}

/**
 * The files `file` makes Compose read besides itself and the project's .env
 * (absolute, sorted), and the variables they and `dotEnv` may interpolate;
 * undefined when a path in them is interpolated.
 */
export function composeInputs(file: string, dotEnv?: string): { files: string[]; variables: string[] } | undefined {
  const found = new Set<string>();
  const variables = new Set<string>();
  let interpolatedPath = false;
  const scan = (text: string | undefined) => text !== undefined && variableNames(text).forEach((v) => variables.add(v));
  const visit = (path: string, depth: number) => {
    if (depth > MAX_DEPTH || found.size >= MAX_FILES) return;
    const text = readOrUndefined(path);
    scan(text);
    let model: unknown;
    try {
      model = text === undefined ? undefined : parse(text, { merge: true, maxAliasCount: 1000 });
    } catch {
      return;
    }
    const named = namedIn(model, dirname(path));
    named.passed.forEach((v) => variables.add(v));
    for (const [list, compose] of [[named.compose, true], [named.other, false]] as const) {
      for (const target of list) {
        if (target.includes('$')) interpolatedPath = true;
        if (interpolatedPath || found.has(target) || target === file) continue;
        found.add(target);
        if (compose) visit(target, depth + 1);
        else scan(readOrUndefined(target));
      }
    }
  };
  visit(file, 0);
  if (dotEnv !== undefined) scan(readOrUndefined(dotEnv));
  return interpolatedPath ? undefined : { files: [...found].sort(), variables: [...variables].sort() };
}
