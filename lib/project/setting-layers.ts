/**
 * The settings' layers (settings.ts's table): flags, the environment and the
 * stored `x-cctl` map, each read and checked against the table, then resolved
 * in that order over the defaults; and the checks of settings taken together.
 */
import { UsageError } from '../kernel/errors.js';
import { checkComposeText } from './setting-checks.js';
import { defaults, envName, SETTING_NAMES, SETTINGS, type SettingName, type Settings } from './settings.js';

/** Levenshtein distance, for "did you mean". */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length]!;
}

export function nearest(name: string, candidates: readonly string[] = SETTING_NAMES): string {
  return [...candidates].sort((x, y) => distance(name, x) - distance(name, y))[0]!;
}

export function assertKnown(name: string, where: string): asserts name is SettingName {
  if (!(name in SETTINGS)) {
    // A guess only when it is near: a third of the name's letters changed at most.
    const near = nearest(name);
    const guess = distance(name, near) <= Math.max(1, Math.floor(name.length / 3)) ? `Did you mean "${near}"? ` : '';
    throw new UsageError(`Unknown setting "${name}" in ${where}.`, `${guess}Settings: ${SETTING_NAMES.join(', ')}.`);
  }
}

/** Converts text or a stored value to the setting's type, or says why not. */
export function coerce<K extends SettingName>(name: K, value: unknown, where: string): Settings[K] {
  const spec = SETTINGS[name];
  const bad = (want: string) => new UsageError(`Setting "${name}" in ${where} must be ${want}, not ${JSON.stringify(value)}.`);
  let result: unknown;
  if (Array.isArray(spec.default)) {
    result = spec.list!(value, where.includes(name) ? where : `${where} (${name})`);
  } else if (typeof spec.default === 'boolean') {
    if (typeof value === 'boolean') result = value;
    else if (/^(1|true|yes|on)$/i.test(String(value))) result = true;
    else if (/^(0|false|no|off)$/i.test(String(value))) result = false;
    else throw bad('true or false (also 1/0, yes/no, on/off)');
  } else if (typeof spec.default === 'number') {
    const n = Number(value);
    if (!Number.isInteger(n) || n <= 0 || n > 65535) throw bad('a port number');
    result = n;
  } else {
    result = value === null || value === undefined ? '' : String(value);
    const unsafe = checkComposeText(result as string);
    if (unsafe) throw bad(unsafe);
  }
  if (spec.choices && !spec.choices.includes(String(result))) throw bad(`one of ${spec.choices.join(', ')}`);
  const problem = spec.check?.(String(result));
  if (problem) throw bad(problem);
  return result as Settings[K];
}

/** Reads CCTL_* overrides from the environment. */
export function fromEnv(env: NodeJS.ProcessEnv): Partial<Settings> {
  const out: Partial<Record<SettingName, unknown>> = {};
  for (const name of SETTING_NAMES) {
    const value = env[envName(name)] ?? (SETTINGS[name].env ? env[SETTINGS[name].env!] : undefined);
    if (value !== undefined && value !== '') out[name] = coerce(name, value, `environment variable ${envName(name)}`);
  }
  return out as Partial<Settings>;
}

/** Validates the stored `x-cctl` map: unknown keys are named with the nearest valid one. */
export function fromStored(stored: unknown, where: string): Partial<Settings> {
  if (stored === undefined || stored === null) return {};
  if (typeof stored !== 'object' || Array.isArray(stored)) throw new UsageError(`${where} must be a map of settings.`);
  const out: Partial<Record<SettingName, unknown>> = {};
  for (const [key, value] of Object.entries(stored)) {
    assertKnown(key, where);
    out[key] = coerce(key, value, where);
  }
  return out as Partial<Settings>;
}

/** Flags from cac (camelCase) plus `--set name=value` pairs. */
export function fromFlags(parsed: object): Partial<Settings> {
  // Settings are matched by name, so any command's typed options can be read here.
  const options = parsed as Readonly<Record<string, unknown>>;
  const out: Partial<Record<SettingName, unknown>> = {};
  for (const name of SETTING_NAMES) {
    const camel = name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
    if (options[camel] !== undefined) out[name] = coerce(name, options[camel], `--${name}`);
  }
  const sets = options.set === undefined ? [] : ([] as unknown[]).concat(options.set);
  for (const pair of sets) {
    const text = String(pair);
    const eq = text.indexOf('=');
    if (eq <= 0) throw new UsageError(`--set needs name=value, got "${text}".`);
    const name = text.slice(0, eq);
    assertKnown(name, '--set');
    out[name] = coerce(name, text.slice(eq + 1), `--set ${name}`);
  }
  return out as Partial<Settings>;
}

export function resolveSettings(layers: { flags?: Partial<Settings>; env?: Partial<Settings>; stored?: Partial<Settings> }): Settings {
  const resolved = { ...defaults(), ...layers.stored, ...layers.env, ...layers.flags };
  // The allow-list only grows from the environment and flags (`cctl init --allow HOST` adds HOST to what
  // the file lists); an entry is removed by editing x-cctl.allow in the compose file.
  const allow = [...(layers.stored?.allow ?? defaults().allow), ...(layers.env?.allow ?? []), ...(layers.flags?.allow ?? [])];
  resolved.allow = [...new Set(allow)];
  return resolved;
}

/** Settings that make sense together; the messages say which flag to add. */
export function checkConsistency(s: Settings): void {
  if (s.proxy === 'image' && !s['proxy-image']) {
    throw new UsageError(
      'proxy=image needs a gateway image.',
      'Add --proxy-image IMAGE (and --proxy-port, --proxy-health if they differ from 3000 and /health).',
    );
  }
  if (s.proxy === 'external' && !/^https?:\/\//.test(s['proxy-url'])) {
    throw new UsageError('proxy=external needs the API URL.', 'Add --proxy-url https://gateway.example.com');
  }
  if (s.proxy === 'external' && s.isolate) {
    throw new UsageError('isolate needs a proxy service to be the way out; it cannot be used with proxy=external.');
  }
  if (!/^https?:\/\/[^\s]+$/.test(s.upstream)) throw new UsageError(`upstream must be an http(s) URL, not "${s.upstream}".`);
}
