/**
 * How two resolved models differ (resolved-model.ts): one change per path,
 * each tagged narrower when it gives less, and worded one line each for the
 * trust check's question, with secret values hidden.
 */
import { isDeepStrictEqual } from 'node:util';
import type { Plain } from './model.js';
import { canonical, isMap, storedCopy } from './resolved-model.js';

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
const RESTRICTING = new Set([
  'cap_drop',
  'security_opt',
  'read_only',
  'internal',
  'init',
  'no_new_privileges',
  'user',
  'mem_limit',
  'cpus',
  'pids_limit',
  'profiles',
  'isolate',
  'memory',
]);

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
    for (const key of [...new Set([...Object.keys(before), ...Object.keys(after)])].sort())
      out.push(...diffModels(before[key], after[key], [...path, key]));
    return out;
  }
  if (before === undefined) return [{ path: at, kind: 'added', after, narrowing: narrowingIf(false) && restricting(path) }];
  if (after === undefined) return [{ path: at, kind: 'removed', before, narrowing: narrowingIf(true) }];
  if (Array.isArray(before) && Array.isArray(after)) {
    const keyed = (a: Plain[]) => new Map(a.map((x) => [canonical(x), x]));
    const [b, a] = [keyed(before), keyed(after)];
    const out: ModelChange[] = [];
    for (const [k, x] of b) if (!a.has(k)) out.push({ path: at, kind: 'removed', before: x, narrowing: narrowingIf(true) });
    for (const [k, x] of a)
      if (!b.has(k)) out.push({ path: at, kind: 'added', after: x, narrowing: narrowingIf(false) && restricting(path) });
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
