/**
 * The variables cctl's rendering reads from Compose's environment, and the
 * names a project's .env may therefore not set.
 */
import type { Plain, PlainMap } from './model.js';
import { isMap, mapAt } from './resolved-model.js';

/**
 * The variables a rendering of cctl's services reads from Compose's
 * environment: interpolated ones (`${NAME}`, `${NAME:-x}`, `$NAME`) and
 * `environment` entries without a value (Compose fills those from its own
 * environment, .env included).
 */
export function variablesOf(owned: PlainMap): { interpolated: string[]; passedThrough: string[] } {
  const interpolated = new Set<string>();
  const passedThrough = new Set<string>();
  const walk = (v: Plain | undefined) => {
    if (typeof v === 'string') {
      for (const m of v.replace(/\$\$/g, '').matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)|\$([A-Za-z_][A-Za-z0-9_]*)/g))
        interpolated.add((m[1] ?? m[2])!);
    } else if (Array.isArray(v)) v.forEach(walk);
    else if (isMap(v)) Object.values(v).forEach(walk);
  };
  walk(owned);
  for (const service of Object.values(mapAt(owned, 'services'))) {
    if (!isMap(service)) continue;
    for (const [name, value] of Object.entries(mapAt(service, 'environment'))) if (value === null) passedThrough.add(name);
  }
  return { interpolated: [...interpolated].sort(), passedThrough: [...passedThrough].sort() };
}

/**
 * COMPOSE_* variables a project's .env may set: they change nothing of what
 * Compose runs. Any other (COMPOSE_FILE, COMPOSE_PROFILES, COMPOSE_ENV_FILES,
 * COMPOSE_PATH_SEPARATOR, ...) would let the project choose Compose's inputs.
 */
const HARMLESS_COMPOSE = new Set([
  'COMPOSE_HTTP_TIMEOUT',
  'COMPOSE_PARALLEL_LIMIT',
  'COMPOSE_IGNORE_ORPHANS',
  'COMPOSE_REMOVE_ORPHANS',
  'COMPOSE_ANSI',
  'COMPOSE_STATUS_STDOUT',
  'COMPOSE_MENU',
  'COMPOSE_CONVERT_WINDOWS_PATHS',
]);

/**
 * COMPOSE_PROJECT_NAME in .env names the project, as Compose documents it: locate.ts reads it the way
 * Compose does, cctl then sets the same value in Compose's environment itself, and the trust check's
 * identity section asks before a changed name is used. Refusing it would break that documented way to
 * name a project without making anything safer.
 */
const PROJECT_NAME = 'COMPOSE_PROJECT_NAME';

/** The names in a project's .env that cctl refuses: its own variables, and COMPOSE_* inputs. */
export function refusedDotEnvNames(names: Iterable<string>, ours: { interpolated: string[]; passedThrough: string[] }): string[] {
  const own = new Set([...ours.interpolated, ...ours.passedThrough]);
  return [...names].filter((n) => n !== PROJECT_NAME && (own.has(n) || (n.startsWith('COMPOSE_') && !HARMLESS_COMPOSE.has(n)))).sort();
}
