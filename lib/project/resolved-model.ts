/**
 * The resolved model: what Compose itself says it will run (`config`, after
 * merge keys, anchors, `extends`, `include`, interpolation and env files), and
 * the part of it the trust check holds to an allow-list:
 *
 *   - cctl's services, whole, and every top-level volume, network, secret and
 *     config they name (`subtree`): compared with Compose's resolution of
 *     cctl's own rendering. Any key that differs is a change, whatever its
 *     name, so a key Compose adds next year is covered without a change here;
 *   - the user's own services that share something with them (`reach`): a
 *     network other than the project's default, a namespace (network_mode,
 *     pid, ipc, cgroup as `service:`/`container:`), a named volume, a secret
 *     or a config, or volumes_from. Those are compared with the copy accepted
 *     last time.
 *
 * Pure: the model comes in as a plain object (v2's JSON, or v1's YAML parsed).
 */
import { createHash } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import type { Plain, PlainMap } from './model.js';

export type Model = PlainMap;

const isMap = (v: unknown): v is PlainMap => typeof v === 'object' && v !== null && !Array.isArray(v);
const mapAt = (m: PlainMap, key: string): PlainMap => (isMap(m[key]) ? m[key] : {});

/** The project's default network: every service without a `networks` key joins it (see reach()). */
const DEFAULT_NETWORK = 'default';
const NAMESPACE_KEYS = ['network_mode', 'pid', 'ipc', 'cgroup', 'uts', 'userns_mode'] as const;

/** Names a service refers to, by kind of top-level resource. */
type Refs = Record<'networks' | 'volumes' | 'secrets' | 'configs', string[]>;

/** A volume entry's named volume: v2's long form `{type: volume, source}`, v1's `name:/path[:mode]`. */
function namedVolume(entry: Plain): string | undefined {
  if (isMap(entry)) return entry.type === 'volume' && typeof entry.source === 'string' && entry.source ? entry.source : undefined;
  if (typeof entry !== 'string') return undefined;
  const source = entry.split(':')[0] ?? '';
  return source && !/^[./~]/.test(source) && entry.includes(':') ? source : undefined;
}

const sourceOf = (entry: Plain): string | undefined => (typeof entry === 'string' ? entry : isMap(entry) && typeof entry.source === 'string' ? entry.source : undefined);
const list = (v: Plain | undefined): Plain[] => (Array.isArray(v) ? v : []);

function refsOf(service: PlainMap): Refs {
  const networks = Array.isArray(service.networks) ? service.networks.map(String) : Object.keys(mapAt(service, 'networks'));
  // Compose v1 prints no networks for a service on the default network; v2 prints it.
  if (networks.length === 0 && service.network_mode === undefined) networks.push(DEFAULT_NETWORK);
  const build = mapAt(service, 'build');
  const named = (entries: Plain[]) => entries.map(sourceOf).filter((s): s is string => s !== undefined);
  return {
    networks,
    volumes: list(service.volumes).map(namedVolume).filter((v): v is string => v !== undefined),
    secrets: [...named(list(service.secrets)), ...named(list(build.secrets))],
    configs: named(list(service.configs)),
  };
}

/** cctl's services and everything they name, as one object: what must equal the rendering. */
export function subtree(model: Model, owned: readonly string[]): PlainMap {
  const services = mapAt(model, 'services');
  const out: PlainMap = { services: {} };
  const take = (kind: keyof Refs, name: string) => {
    const defined = mapAt(model, kind);
    const slot = (out[kind] ??= {}) as PlainMap;
    // Named but not defined: that is a fact to compare too (Compose may default it).
    slot[name] = defined[name] ?? null;
  };
  for (const name of owned) {
    const service = services[name];
    (out.services as PlainMap)[name] = service ?? null;
    if (!isMap(service)) continue;
    const refs = refsOf(service);
    for (const kind of Object.keys(refs) as Array<keyof Refs>) for (const ref of refs[kind]) take(kind, ref);
  }
  return out;
}

/**
 * The Docker-side name of a top-level resource: its `name` (Compose v2 prints it after interpolation), else
 * the key for an external one, else Compose's default, PROJECT_KEY.
 */
function resourceName(model: Model, kind: keyof Refs, key: string, project: string): string {
  const def = mapAt(model, kind)[key];
  if (kind === 'secrets' || kind === 'configs') {
    // Two keys naming the same file share it as much as two keys with the same name.
    const file = isMap(def) && typeof def.file === 'string' ? def.file : undefined;
    if (file) return `file:${file}`;
  }
  if (isMap(def) && typeof def.name === 'string') return def.name;
  return isMap(def) && def.external ? key : `${project}_${key}`;
}

/** `service:NAME` or `container:ID` in a namespace key. */
function namespaceTargets(service: PlainMap): string[] {
  const out: string[] = [];
  for (const key of NAMESPACE_KEYS) {
    const v = service[key];
    if (typeof v === 'string' && /^(service|container):/.test(v)) out.push(v);
  }
  for (const from of list(service.volumes_from)) if (typeof from === 'string') out.push(from.startsWith('container:') ? from : `service:${from.split(':')[0]}`);
  return out;
}

/**
 * The user's services that share a network (not the default one), a
 * namespace, a named volume, a secret or a config with cctl's services, or
 * with a service already in reach through a namespace; by name.
 */
export function reach(model: Model, owned: readonly string[], project: string): string[] {
  const services = mapAt(model, 'services');
  const shared = { networks: new Set<string>(), volumes: new Set<string>(), secrets: new Set<string>(), configs: new Set<string>() };
  for (const name of owned) {
    const service = services[name];
    if (!isMap(service)) continue;
    const refs = refsOf(service);
    for (const kind of Object.keys(refs) as Array<keyof Refs>) {
      for (const ref of refs[kind]) if (!(kind === 'networks' && ref === DEFAULT_NETWORK)) shared[kind].add(resourceName(model, kind, ref, project));
    }
  }
  const inReach = new Set(owned);
  const found: string[] = [];
  const touches = (name: string, service: PlainMap): boolean => {
    const refs = refsOf(service);
    for (const kind of Object.keys(refs) as Array<keyof Refs>) {
      for (const ref of refs[kind]) {
        if (kind === 'networks' && ref === DEFAULT_NETWORK) continue;
        if (shared[kind].has(resourceName(model, kind, ref, project))) return true;
      }
    }
    // Any container: may be one of cctl's; a service: one already in reach. And the other way round.
    if (namespaceTargets(service).some((t) => t.startsWith('container:') || inReach.has(t.slice('service:'.length)))) return true;
    return [...inReach].some((r) => isMap(services[r]) && namespaceTargets(services[r]).includes(`service:${name}`));
  };
  for (let grew = true; grew; ) {
    grew = false;
    for (const [name, service] of Object.entries(services)) {
      if (inReach.has(name) || !isMap(service) || !touches(name, service)) continue;
      inReach.add(name);
      found.push(name);
      grew = true;
    }
  }
  return found.sort();
}

/** Key order does not matter to Compose; it must not matter to a digest or a comparison. */
export function canonical(value: Plain | undefined): string {
  if (value === undefined) return 'undefined';
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (isMap(value)) return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`).join(',')}}`;
  return JSON.stringify(value);
}

export function digest(value: Plain): string {
  return createHash('sha256').update(canonical(value)).digest('hex');
}

/**
 * What the trust store keeps of a user's service: all of it, with each
 * environment value replaced by its digest (env files are resolved into it,
 * and the store must not become a second copy of anyone's secrets).
 */
export function storedCopy(service: Plain): Plain {
  if (!isMap(service)) return service;
  const environment = service.environment;
  if (!isMap(environment)) return service;
  const hidden: PlainMap = {};
  for (const [k, v] of Object.entries(environment)) hidden[k] = v === null ? null : `sha256:${digest(v).slice(0, 16)}`;
  return { ...service, environment: hidden };
}

export type ChangeKind = 'added' | 'removed' | 'changed';

export interface ModelChange {
  /** Dotted path, e.g. services.claude-cli.privileged, services.proxy.environment.CCTL_UPSTREAM_URL. */
  path: string;
  kind: ChangeKind;
  before?: Plain;
  after?: Plain;
  /** True when the change gives less (an entry removed from a list that grants something). */
  narrowing: boolean;
}

/**
 * Keys that restrict: removing from them (or turning them off) gives more,
 * adding to them gives less. Everywhere else it is the other way round. This
 * table only words the diff; every change needs the same yes.
 */
const RESTRICTING = new Set(['cap_drop', 'security_opt', 'read_only', 'internal', 'init', 'no_new_privileges', 'user', 'mem_limit', 'cpus', 'pids_limit', 'profiles', 'isolate', 'memory']);

function restricting(path: string[]): boolean {
  return path.some((p) => RESTRICTING.has(p));
}

/** Comma lists (an allow-list variable): each item is an entry. */
function items(v: Plain | undefined): string[] | undefined {
  return typeof v === 'string' && v.includes(',') ? v.split(',') : undefined;
}

export function diffModels(before: Plain | undefined, after: Plain | undefined, path: string[] = []): ModelChange[] {
  if (isDeepStrictEqual(before, after)) return [];
  const at = path.join('.');
  const narrowingIf = (removes: boolean) => (restricting(path) ? !removes : removes);
  if (isMap(before) && isMap(after)) {
    const out: ModelChange[] = [];
    for (const key of [...new Set([...Object.keys(before), ...Object.keys(after)])].sort()) out.push(...diffModels(before[key], after[key], [...path, key]));
    return out;
  }
  if (before === undefined) return [{ path: at, kind: 'added', after, narrowing: narrowingIf(false) && restricting(path) }];
  if (after === undefined) return [{ path: at, kind: 'removed', before, narrowing: narrowingIf(true) }];
  if (Array.isArray(before) && Array.isArray(after)) {
    const keyed = (a: Plain[]) => new Map(a.map((x) => [canonical(x), x]));
    const [b, a] = [keyed(before), keyed(after)];
    const out: ModelChange[] = [];
    for (const [k, x] of b) if (!a.has(k)) out.push({ path: at, kind: 'removed', before: x, narrowing: narrowingIf(true) });
    for (const [k, x] of a) if (!b.has(k)) out.push({ path: at, kind: 'added', after: x, narrowing: narrowingIf(false) && restricting(path) });
    return out.length ? out : [{ path: at, kind: 'changed', before, after, narrowing: false }];
  }
  const [was, now] = [items(before), items(after)];
  if (was && now && now.every((x) => was.includes(x))) return [{ path: at, kind: 'changed', before, after, narrowing: !restricting(path) }];
  if (before === true && after === false) return [{ path: at, kind: 'changed', before, after, narrowing: !restricting(path) }];
  return [{ path: at, kind: 'changed', before, after, narrowing: false }];
}

/** Values under these variable names are never printed. */
const SECRET_NAME = /(KEY|TOKEN|SECRET|PASS|CREDENTIAL)/i;

function shown(path: string, value: Plain | undefined): string {
  const last = path.split('.').pop() ?? '';
  if (path.includes('.environment.') && SECRET_NAME.test(last) && value !== null && value !== undefined) return '(hidden)';
  if (isMap(value) && isMap(value.environment)) return JSON.stringify(storedCopy(value));
  return JSON.stringify(value);
}

/** One line per change, worded for what it is. */
export function describeModelChanges(changes: readonly ModelChange[]): string {
  return changes
    .map((c) => {
      const tag = c.narrowing ? ' (narrower)' : '';
      if (c.kind === 'added') return `  + ${c.path}: ${shown(c.path, c.after)}${tag}`;
      if (c.kind === 'removed') return `  - ${c.path}: ${shown(c.path, c.before)}${tag}`;
      return `  ~ ${c.path}: ${shown(c.path, c.before)} -> ${shown(c.path, c.after)}${tag}`;
    })
    .join('\n');
}

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
      for (const m of v.replace(/\$\$/g, '').matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)|\$([A-Za-z_][A-Za-z0-9_]*)/g)) interpolated.add((m[1] ?? m[2])!);
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
  'COMPOSE_HTTP_TIMEOUT', 'COMPOSE_PARALLEL_LIMIT', 'COMPOSE_IGNORE_ORPHANS', 'COMPOSE_REMOVE_ORPHANS',
  'COMPOSE_ANSI', 'COMPOSE_STATUS_STDOUT', 'COMPOSE_MENU', 'COMPOSE_CONVERT_WINDOWS_PATHS',
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
  return [...names]
    .filter((n) => n !== PROJECT_NAME && (own.has(n) || (n.startsWith('COMPOSE_') && !HARMLESS_COMPOSE.has(n))))
    .sort();
}
