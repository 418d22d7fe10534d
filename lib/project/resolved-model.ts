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
 * How two models differ is in model-diff.ts; which variables cctl's rendering
 * reads, and which .env names it refuses, in model-variables.ts.
 */
import { createHash } from 'node:crypto';
import type { Plain, PlainMap } from './model.js';

export type Model = PlainMap;

export const isMap = (v: unknown): v is PlainMap => typeof v === 'object' && v !== null && !Array.isArray(v);
export const mapAt = (m: PlainMap, key: string): PlainMap => (isMap(m[key]) ? m[key] : {});

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

const sourceOf = (entry: Plain): string | undefined =>
  typeof entry === 'string' ? entry : isMap(entry) && typeof entry.source === 'string' ? entry.source : undefined;
const list = (v: Plain | undefined): Plain[] => (Array.isArray(v) ? v : []);

function refsOf(service: PlainMap): Refs {
  const networks = Array.isArray(service.networks) ? service.networks.map(String) : Object.keys(mapAt(service, 'networks'));
  // Compose v1 prints no networks for a service on the default network; v2 prints it.
  if (networks.length === 0 && service.network_mode === undefined) networks.push(DEFAULT_NETWORK);
  const build = mapAt(service, 'build');
  const named = (entries: Plain[]) => entries.map(sourceOf).filter((s): s is string => s !== undefined);
  return {
    networks,
    volumes: list(service.volumes)
      .map(namedVolume)
      .filter((v): v is string => v !== undefined),
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
  for (const from of list(service.volumes_from))
    if (typeof from === 'string') out.push(from.startsWith('container:') ? from : `service:${from.split(':')[0]}`);
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
      for (const ref of refs[kind])
        if (!(kind === 'networks' && ref === DEFAULT_NETWORK)) shared[kind].add(resourceName(model, kind, ref, project));
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
  for (let grew = true; grew;) {
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
  if (isMap(value))
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`)
      .join(',')}}`;
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

/**
 * What Compose needs to build `services` and nothing more, taken from the model the trust check compared:
 * each one's `image` and `build`, the top-level secrets its build names, and v1's `version`. `up` pipes this
 * text to `compose build` (ops/build.ts), so the build reads no compose file, `.env` or include of the
 * project's after the check: a file swapped once the check read it changes nothing that is built. Values
 * stay as Compose printed them (`$` doubled by both v1 and v2), so piping them back interpolates nothing.
 */
export function buildOnly(model: Model, services: readonly string[]): string | undefined {
  const all = mapAt(model, 'services');
  const out: PlainMap = {};
  const secrets: PlainMap = {};
  for (const name of services) {
    const service = all[name];
    if (!isMap(service) || !isMap(service.build)) continue;
    out[name] = service.image === undefined ? { build: service.build } : { image: service.image, build: service.build };
    const named = Array.isArray(service.build.secrets) ? service.build.secrets : [];
    for (const s of named) {
      const id = typeof s === 'string' ? s : isMap(s) && typeof s.source === 'string' ? s.source : undefined;
      const definition = id === undefined ? undefined : mapAt(model, 'secrets')[id];
      if (id !== undefined && definition !== undefined) secrets[id] = definition;
    }
  }
  if (Object.keys(out).length === 0) return undefined;
  const built: PlainMap = { services: out };
  if (typeof model.version === 'string') built.version = model.version;
  if (Object.keys(secrets).length) built.secrets = secrets;
  return JSON.stringify(built);
}
