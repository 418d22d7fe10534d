/**
 * The change guard. Anything in claude-cli can write /workspace, so it can
 * edit the compose file: make claude-cli privileged, mount the Docker socket,
 * or point the gateway (which holds the team key) at another upstream. The
 * guard compares the file against the baseline recorded at the last init or
 * up (kept in the private folder, out of the container's reach), and every
 * change to a key that widens the containers or redirects the key is shown
 * and needs the user's confirmation.
 *
 * The file is compared as it is on disk, before cctl merges anything: a
 * setting changed by a flag on cctl's own command line is the user's own
 * choice and needs no confirmation.
 */
import { isDeepStrictEqual } from 'node:util';
import { INTERNAL_NETWORK, type Plain, type PlainMap } from './model.js';

/**
 * Service keys that give a container more power or more of the host, or
 * change what the gateway runs and how (its variables: another upstream, a
 * wider allow-list or source range; its command and entrypoint).
 */
export const GUARDED_SERVICE_KEYS = [
  'privileged', 'cap_add', 'cap_drop', 'pid', 'ipc', 'network_mode', 'devices', 'device_cgroup_rules', 'security_opt',
  'user', 'userns_mode', 'cgroup', 'cgroup_parent', 'group_add', 'sysctls', 'volumes', 'volumes_from', 'tmpfs',
  'env_file', 'extends', 'depends_on', 'links', 'runtime', 'read_only', 'environment', 'command', 'entrypoint',
] as const;

/**
 * Settings that decide where the team key goes and what claude-cli can reach:
 * `env` names host variables passed in (a host ANTHROPIC_API_KEY, say), and
 * `ssh-agent` hands it the user's SSH agent, and `ca-cert` names a host file
 * that init copies into the project (a PEM bundle may hold a private key too).
 */
export const GUARDED_SETTINGS = [
  'upstream', 'auth', 'isolate', 'publish', 'proxy', 'proxy-url', 'proxy-image', 'proxy-service', 'base-image',
  'workspace', 'allow', 'cctl-source', 'env', 'ssh-agent', 'ca-cert',
] as const;

/**
 * What the guard remembers: the guarded keys of cctl's services, the guarded
 * settings, and how the user's own services reach claude-cli (`reach`).
 */
export interface GuardSnapshot {
  services: { [service: string]: PlainMap };
  settings: PlainMap;
  /** Absent in a baseline from an older cctl: then every such service is new. */
  reach?: { [service: string]: PlainMap };
}

export interface GuardChange {
  path: string;
  /** The service whose key changed; undefined for a setting. */
  service?: string;
  key: string;
  /** The variable, for a change inside `environment`. */
  variable?: string;
  before: Plain | undefined;
  after: Plain | undefined;
}

const isMap = (v: unknown): v is PlainMap => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The guarded part of a parsed compose file, for the named services and the resolved settings. */
export function snapshot(file: PlainMap, services: readonly string[], settings: Record<string, unknown>): GuardSnapshot {
  const all = isMap(file.services) ? file.services : {};
  const out: GuardSnapshot = { services: {}, settings: {} };
  for (const name of services) {
    const service = isMap(all[name]) ? all[name] : {};
    const keep: PlainMap = {};
    for (const key of GUARDED_SERVICE_KEYS) if (service[key] !== undefined) keep[key] = service[key]!;
    out.services[name] = keep;
  }
  for (const key of GUARDED_SETTINGS) if (settings[key] !== undefined) out.settings[key] = settings[key] as Plain;
  out.reach = reach(file, all, services);
  return out;
}

/**
 * The user's own services that claude-cli can reach directly, and how: they
 * join cctl's internal network (under its key, or another key naming the same
 * Docker network), share the network namespace of a service that does or of
 * a container, or extend one of cctl's services. Any of them that forwards
 * traffic is a way out the gateway's allow-list never sees.
 */
function reach(file: PlainMap, all: PlainMap, owned: readonly string[]): { [service: string]: PlainMap } {
  const defined = isMap(file.networks) ? file.networks : {};
  const internal = new Set([INTERNAL_NETWORK]);
  for (const [key, network] of Object.entries(defined)) {
    if (isMap(network) && typeof network.name === 'string' && network.name.includes(INTERNAL_NETWORK)) internal.add(key);
  }
  const how = (service: PlainMap, reaches: Set<string>): PlainMap => {
    const keep: PlainMap = {};
    const networks = Array.isArray(service.networks) ? service.networks.map(String) : isMap(service.networks) ? Object.keys(service.networks) : [];
    const joined = networks.filter((n) => internal.has(n)).sort();
    if (joined.length > 0) keep.networks = joined;
    const mode = typeof service.network_mode === 'string' ? service.network_mode : '';
    if (mode.startsWith('container:') || (mode.startsWith('service:') && reaches.has(mode.slice('service:'.length)))) keep.network_mode = mode;
    const extended = isMap(service.extends) ? service.extends.service : service.extends;
    if (typeof extended === 'string' && owned.includes(extended)) keep.extends = service.extends!;
    return keep;
  };
  const out: { [service: string]: PlainMap } = {};
  const reaches = new Set(owned);
  // Until none is added: network_mode may name a service that itself reaches claude-cli.
  for (let grew = true; grew; ) {
    grew = false;
    for (const [name, service] of Object.entries(all)) {
      if (reaches.has(name) || !isMap(service)) continue;
      const keep = how(service, reaches);
      if (Object.keys(keep).length === 0) continue;
      out[name] = keep;
      reaches.add(name);
      grew = true;
    }
  }
  return out;
}

/**
 * With no baseline yet (a fresh clone, or a project from an older cctl), the
 * service keys cctl itself writes are taken as they are (the merge protects
 * them), and any other guarded key must be absent, as cctl renders it.
 */
export function firstBaseline(current: GuardSnapshot, rendered: { [service: string]: PlainMap }): GuardSnapshot {
  const services: GuardSnapshot['services'] = {};
  for (const [name, keys] of Object.entries(current.services)) {
    const ours = rendered[name] ?? {};
    services[name] = Object.fromEntries(Object.entries(keys).filter(([key]) => ours[key] !== undefined));
  }
  // A service of the user's own on claude-cli's network is shown once, like a key cctl never writes.
  return { services, settings: current.settings, reach: {} };
}

export function changesSince(baseline: GuardSnapshot, current: GuardSnapshot): GuardChange[] {
  const changes: GuardChange[] = [];
  const compare = (prefix: string, before: PlainMap, after: PlainMap, service?: string) => {
    for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
      const [was, now] = [before[key], after[key]];
      if (isDeepStrictEqual(was, now)) continue;
      if (key === 'environment' && service !== undefined && isMap(was ?? {}) && isMap(now ?? {})) {
        // One line per variable, so the diff names it (and cctl's own variables can be told apart).
        const [b, a] = [(was ?? {}) as PlainMap, (now ?? {}) as PlainMap];
        for (const variable of new Set([...Object.keys(b), ...Object.keys(a)])) {
          if (!isDeepStrictEqual(b[variable], a[variable])) changes.push({ path: `${prefix}.${key}.${variable}`, service, key, variable, before: b[variable], after: a[variable] });
        }
        continue;
      }
      changes.push({ path: `${prefix}.${key}`, service, key, before: was, after: now });
    }
  };
  for (const name of Object.keys(current.services)) {
    // A service the baseline never saw (a renamed gateway): everything it has is new.
    compare(`services.${name}`, baseline.services[name] ?? {}, current.services[name]!, name);
  }
  for (const [name, now] of Object.entries(current.reach ?? {})) compare(`services.${name}`, baseline.reach?.[name] ?? {}, now, name);
  // Only settings the baseline recorded: a setting new to this cctl version is not an edit.
  const known = Object.fromEntries(Object.entries(current.settings).filter(([k]) => k in baseline.settings));
  compare('x-cctl', baseline.settings, known);
  return changes;
}

export function describeChanges(changes: GuardChange[]): string {
  const show = (v: Plain | undefined) => (v === undefined ? '(absent)' : JSON.stringify(v));
  return changes.map((c) => `  ${c.path}: ${show(c.before)} -> ${show(c.after)}`).join('\n');
}
