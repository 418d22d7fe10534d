/**
 * `compose config` for the fake engine: a small stand-in for Compose's
 * resolution, enough for command tests of the trust check. It reads the
 * files the argv names (`-` is the piped text), the project's .env (or the
 * --env-file), resolves merge keys and anchors, merges the files key by key,
 * interpolates ${VAR}, ${VAR:-x}, ${VAR-x} and $VAR from the call's
 * environment over the env file, fills `environment` entries without a value
 * the same way, and drops x- extensions. No normalization beyond that: both
 * sides of the check pass through it, so equal input gives equal output.
 * Real Compose is exercised by the e2e tests and the property test.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { parseDotEnv } from '../../lib/project/locate.js';
import type { RunOptions } from '../../lib/engine/runner.js';
import type { Reply } from './fake-engine.js';

type Value = unknown;
const isMap = (v: unknown): v is Record<string, Value> => typeof v === 'object' && v !== null && !Array.isArray(v);

function merge(a: Value, b: Value): Value {
  if (isMap(a) && isMap(b)) {
    const out: Record<string, Value> = { ...a };
    for (const [k, v] of Object.entries(b)) out[k] = k in out ? merge(out[k], v) : v;
    return out;
  }
  return b;
}

function interpolate(v: Value, lookup: (k: string) => string | undefined): Value {
  if (typeof v === 'string') {
    return v.replace(
      /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?)-([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
      (all, braced, colon, fallback, bare) => {
        if (all === '$$') return '$';
        const found = lookup(braced ?? bare);
        if (fallback !== undefined && (found === undefined || (colon && found === ''))) return fallback;
        return found ?? '';
      },
    );
  }
  if (Array.isArray(v)) return v.map((x) => interpolate(x, lookup));
  if (isMap(v))
    return Object.fromEntries(
      Object.entries(v)
        .filter(([k]) => !k.startsWith('x-'))
        .map(([k, x]) => [k, interpolate(x, lookup)]),
    );
  return v;
}

export function fakeComposeConfig(argv: readonly string[], options: RunOptions): Reply {
  const files: string[] = [];
  let dir = options.cwd ?? '.';
  let envFile: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '-f') files.push(argv[++i]!);
    else if (argv[i] === '--project-directory') dir = argv[++i]!;
    else if (argv[i] === '--env-file') envFile = argv[++i]!;
  }
  let dotEnv = new Map<string, string>();
  try {
    dotEnv = parseDotEnv(readFileSync(envFile ?? join(dir, '.env'), 'utf8'));
  } catch {
    // No .env: nothing to read.
  }
  const env = options.env ?? {};
  const lookup = (k: string) => env[k] ?? dotEnv.get(k);
  let model: Value = {};
  for (const file of files) {
    const text = file === '-' ? String(options.input ?? '') : readFileSync(file, 'utf8');
    model = merge(model, parse(text, { merge: true, maxAliasCount: -1 }) ?? {});
  }
  const resolved = interpolate(model, lookup) as Record<string, Value>;
  for (const service of Object.values(isMap(resolved.services) ? resolved.services : {})) {
    if (!isMap(service) || !isMap(service.environment)) continue;
    for (const [k, v] of Object.entries(service.environment))
      if (v === null && lookup(k) !== undefined) service.environment[k] = lookup(k)!;
  }
  return { stdout: JSON.stringify(resolved) };
}
