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
import type { Plain, PlainMap } from './model.js';

/** Service keys that give a container more power or more of the host. */
export const GUARDED_SERVICE_KEYS = [
  'privileged', 'cap_add', 'cap_drop', 'pid', 'ipc', 'network_mode', 'devices', 'device_cgroup_rules', 'security_opt',
  'user', 'userns_mode', 'cgroup', 'cgroup_parent', 'group_add', 'sysctls', 'volumes', 'volumes_from', 'tmpfs',
  'env_file', 'extends', 'depends_on', 'links', 'runtime', 'read_only',
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

/** What the guard remembers: the guarded keys of cctl's services, and the guarded settings. */
export interface GuardSnapshot {
  services: { [service: string]: PlainMap };
  settings: PlainMap;
}

export interface GuardChange {
  path: string;
  /** The service whose key changed; undefined for a setting. */
  service?: string;
  key: string;
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
  return { services, settings: current.settings };
}

export function changesSince(baseline: GuardSnapshot, current: GuardSnapshot): GuardChange[] {
  const changes: GuardChange[] = [];
  const compare = (prefix: string, before: PlainMap, after: PlainMap, service?: string) => {
    for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
      if (!isDeepStrictEqual(before[key], after[key])) changes.push({ path: `${prefix}.${key}`, service, key, before: before[key], after: after[key] });
    }
  };
  for (const name of Object.keys(current.services)) {
    // A service the baseline never saw (a renamed gateway): everything it has is new.
    compare(`services.${name}`, baseline.services[name] ?? {}, current.services[name]!, name);
  }
  // Only settings the baseline recorded: a setting new to this cctl version is not an edit.
  const known = Object.fromEntries(Object.entries(current.settings).filter(([k]) => k in baseline.settings));
  compare('x-cctl', baseline.settings, known);
  return changes;
}

export function describeChanges(changes: GuardChange[]): string {
  const show = (v: Plain | undefined) => (v === undefined ? '(absent)' : JSON.stringify(v));
  return changes.map((c) => `  ${c.path}: ${show(c.before)} -> ${show(c.after)}`).join('\n');
}
