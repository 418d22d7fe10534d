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
 * So does anything else this reading could get wrong, because a file it
 * misses is one claude-cli can edit unreviewed: a text it cannot parse (the
 * alias limit, several documents), a chain deeper or wider than it follows,
 * and a path Compose resolves otherwise (`~/`, which Compose expands for env
 * files; `..` in an absolute path, which Compose leaves to the kernel, so
 * after a symlink it names another file than the same path made tidy).
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { parse } from 'yaml';
import { MAX_ALIASES } from './merge.js';

const MAX_DEPTH = 5;
const MAX_FILES = 200;

const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const strings = (v: unknown): string[] =>
  typeof v === 'string' ? [v] : Array.isArray(v) ? v.flatMap(strings) : isMap(v) && typeof v.path === 'string' ? [v.path] : [];

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

/** A path this reading cannot tell as Compose would: interpolated, `~/` (Compose expands it), or `.`/`..` in an absolute one. */
export const UNSURE = '\0unsure';
/** A compose file to read, and the folder its relative paths resolve against (an include's project_directory). */
interface Target {
  file: string;
  base: string;
}

function namedIn(model: unknown, base: string): Named & { included: Target[] } {
  const out: Named & { included: Target[] } = { compose: [], other: [], passed: [], included: [] };
  if (!isMap(model)) return out;
  // Compose joins a relative path to the folder (tidied, as here); an absolute one it opens as written.
  const at = (p: string) =>
    p.includes('$') || p.startsWith('~') || (isAbsolute(p) && p.split('/').some((s) => s === '.' || s === '..'))
      ? UNSURE
      : resolve(base, p);
  for (const entry of Array.isArray(model.include) ? model.include : []) {
    const paths = (typeof entry === 'string' ? [entry] : isMap(entry) ? strings(entry.path) : []).map(at);
    const envFiles = isMap(entry) ? strings(entry.env_file) : [];
    out.other.push(...envFiles.map(at));
    // An included project resolves its relative paths (and reads its .env) in its own folder: project_directory,
    // else the folder of its first file, for every file of the entry.
    const dir =
      isMap(entry) && typeof entry.project_directory === 'string'
        ? at(entry.project_directory)
        : paths[0] === undefined
          ? base
          : paths[0] === UNSURE
            ? UNSURE
            : dirname(paths[0]);
    out.included.push(...paths.map((file) => ({ file, base: dir })));
    if (envFiles.length === 0) out.other.push(dir === UNSURE ? UNSURE : join(dir, '.env'));
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
  // Set when a file this reading cannot follow as Compose does is met: then there is no answer.
  let unsure = false;
  const scan = (text: string | undefined) => text !== undefined && variableNames(text).forEach((v) => variables.add(v));
  const visited = new Set<string>();
  const visit = (path: string, base: string, depth: number) => {
    if (unsure || visited.has(`${path}\0${base}`)) return;
    visited.add(`${path}\0${base}`);
    if (depth > MAX_DEPTH || found.size >= MAX_FILES) {
      unsure = true;
      return;
    }
    const text = readOrUndefined(path);
    scan(text);
    let model: unknown;
    try {
      // init's alias limit: a file init accepts is one this reads too.
      model = text === undefined ? undefined : parse(text, { merge: true, maxAliasCount: MAX_ALIASES });
    } catch {
      // Compose may read it (several documents, more aliases): what it names is not known here.
      unsure = true;
      return;
    }
    const named = namedIn(model, base);
    named.passed.forEach((v) => variables.add(v));
    const targets: Array<[string, Target | undefined]> = [
      ...named.compose.map((f): [string, Target] => [f, { file: f, base: dirname(f) }]),
      ...named.included.map((t): [string, Target] => [t.file, t]),
      ...named.other.map((f): [string, undefined] => [f, undefined]),
    ];
    for (const [target, compose] of targets) {
      if (target === UNSURE || compose?.base === UNSURE) unsure = true;
      if (unsure) return;
      if (target !== file) found.add(target);
      if (compose) visit(compose.file, compose.base, depth + 1);
      else scan(readOrUndefined(target));
    }
  };
  visit(file, dirname(file), 0);
  if (dotEnv !== undefined) scan(readOrUndefined(dotEnv));
  return unsure ? undefined : { files: [...found].sort(), variables: [...variables].sort() };
}
