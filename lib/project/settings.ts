/**
 * cctl's settings: one table that says each setting's name, type, default and
 * environment variable. They are stored in the compose file under `x-cctl`,
 * so the file a team commits says everything. Precedence: flags, then the
 * environment, then the stored values, then the defaults.
 */
import { UsageError } from '../kernel/errors.js';
import { allowList, DEFAULT_ALLOW } from './egress.js';
import { checkGitEmail, checkGitName, envNameList, packageList } from './workbench.js';
import { checkComposeText, checkCctlSource, checkCpus, checkHealthPath, checkMemory, checkServiceName, checkTimeZone, checkWorkspace } from './setting-checks.js';

export const DEFAULT_CLAUDE_CODE_VERSION = '2.1.332';
export const DEFAULT_CCUSAGE_VERSION = '20.0.24';
export const DEFAULT_MONITOR_VERSION = '4.0.0';

export interface Settings {
  'base-image': string;
  'claude-version': string;
  'ccusage-version': string;
  'monitor-version': string;
  'ca-cert': string;
  monitor: boolean;
  plan: string;
  proxy: 'builtin' | 'image' | 'external';
  'proxy-image': string;
  'proxy-port': number;
  'proxy-health': string;
  'proxy-url': string;
  /** The gateway's service name in the compose file (a team may already have a service called proxy). */
  'proxy-service': string;
  auth: 'login' | 'team-key';
  upstream: string;
  publish: boolean;
  'publish-port': number;
  isolate: boolean;
  workspace: string;
  tz: string;
  cpus: string;
  memory: string;
  'token-limit': string;
  /** Where scripts/onboard.sh may install cctl from (a scoped package or git URL); empty: it never fetches cctl. */
  'cctl-source': string;
  /** Egress allow-list of an isolated stack: presets and hosts (egress.ts). */
  allow: string[];
  /** OS packages installed in claude-cli, by the base's manager (apt or apk). */
  packages: string[];
  /** Host variables passed into claude-cli by name (GH_TOKEN, NPM_TOKEN); values are never stored. */
  env: string[];
  'git-name': string;
  'git-email': string;
  'ssh-agent': 'auto' | 'on' | 'off';
  /** Keep .devcontainer/devcontainer.json, so an editor attaches to claude-cli (project/devcontainer.ts). */
  devcontainer: boolean;
}

export type SettingName = keyof Settings;

interface Spec {
  default: Settings[SettingName];
  describe: string;
  choices?: readonly string[];
  /** Extra environment names beyond CCTL_<NAME>. */
  env?: string;
  /** For list settings: reads a stored list or comma-separated text, checking each item. */
  list?: (value: unknown, where: string) => string[];
  /** A value check beyond the type: what the value must be, or undefined when it is fine. */
  check?: (value: string) => string | undefined;
}

/** `cctl usage` runs `ccusage claude <report>`, which ccusage has from 19 on (16–18 answer "Command not found: claude"). */
export const MIN_CCUSAGE_MAJOR = 19;

function checkCcusageVersion(value: string): string | undefined {
  // A dist-tag (latest, next) cannot be judged here; a version or range names its major first.
  const major = /^\s*[v=^~]*(\d+)(?:[.\s]|$)/.exec(value);
  return major && Number(major[1]) < MIN_CCUSAGE_MAJOR
    ? `${MIN_CCUSAGE_MAJOR} or later ("cctl usage" runs "ccusage claude <report>", which older versions lack; the default is ${DEFAULT_CCUSAGE_VERSION})`
    : undefined;
}

/** The live view's limit: a token count above zero, or the largest past block. */
export function checkTokenLimit(value: string): string | undefined {
  return value === 'max' || /^[1-9]\d*$/.test(value) ? undefined : 'a token count above 0, or "max"';
}

export const SETTINGS: { [K in SettingName]: Spec & { default: Settings[K] } } = {
  'base-image': { default: 'node:22-bookworm-slim', describe: 'Base image of claude-cli and proxy (a Node 22 image: Debian, the default and tested one, or Alpine)' },
  'claude-version': { default: DEFAULT_CLAUDE_CODE_VERSION, describe: '@anthropic-ai/claude-code version' },
  'ccusage-version': { default: DEFAULT_CCUSAGE_VERSION, describe: `ccusage version (${MIN_CCUSAGE_MAJOR} or later)`, check: checkCcusageVersion },
  'monitor-version': { default: DEFAULT_MONITOR_VERSION, describe: 'Claude Code Usage Monitor (PyPI claude-monitor) version' },
  'ca-cert': { default: '', describe: 'Extra CA bundle (PEM) trusted at build and run time, relative to the project' },
  monitor: { default: true, describe: 'Install the Usage Monitor (needs PyPI at build time)' },
  plan: { default: 'pro', describe: 'Usage Monitor plan', choices: ['pro', 'max5', 'max20', 'custom'] },
  proxy: { default: 'builtin', describe: 'builtin gateway, a third-party gateway image, or an external URL', choices: ['builtin', 'image', 'external'] },
  'proxy-image': { default: '', describe: 'Gateway image for proxy=image (LiteLLM, claude-code-router, ...)' },
  'proxy-port': { default: 3000, describe: 'Port the gateway listens on inside its container' },
  'proxy-health': { default: '/health', describe: 'Health path of the gateway', check: checkHealthPath },
  'proxy-url': { default: '', describe: 'ANTHROPIC_BASE_URL for proxy=external' },
  'proxy-service': { default: 'proxy', describe: 'Service name of the gateway in the compose file (choose another when the file already has a service called proxy)', check: checkServiceName },
  auth: { default: 'login', describe: 'login: each user logs in; team-key: the proxy holds the team key', choices: ['login', 'team-key'] },
  upstream: { default: 'https://api.anthropic.com', describe: 'Upstream API of the built-in gateway', env: 'CCTL_UPSTREAM_URL' },
  publish: { default: false, describe: 'Publish the proxy port on 127.0.0.1' },
  'publish-port': { default: 3000, describe: 'Host port (on 127.0.0.1) when publish is on' },
  isolate: { default: false, describe: 'claude-cli on an internal network; its only way out is the proxy' },
  workspace: { default: '.', describe: 'Folder mounted at /workspace, relative to the project', check: checkWorkspace },
  tz: { default: '', describe: 'Time zone of the containers (empty: the host time zone)', check: checkTimeZone },
  cpus: { default: '', describe: 'CPU limit of claude-cli, e.g. 2', check: checkCpus },
  memory: { default: '', describe: 'Memory limit of claude-cli, e.g. 4g', check: checkMemory },
  'token-limit': { default: 'max', describe: 'Token limit for the live usage view: a number above 0, or max', check: checkTokenLimit },
  'cctl-source': { default: '', describe: 'Where scripts/onboard.sh installs cctl from when it is missing: a scoped npm package or a git URL (empty: it stops with how to install cctl)', check: checkCctlSource },
  allow: {
    default: [...DEFAULT_ALLOW],
    describe: 'What an isolated claude-cli may reach through the gateway: presets (anthropic, github, npm, pypi, ...) and hosts (example.com, host:port, *.domain); --allow adds one',
    list: allowList,
  },
  packages: { default: [], describe: 'OS packages installed in claude-cli with apt or apk (python3 make ...): a change rebuilds only that layer', list: packageList },
  env: { default: [], describe: 'Names of host variables passed into claude-cli when it starts (GH_TOKEN NPM_TOKEN); the values are never written to a file', list: envNameList },
  'git-name': { default: '', describe: 'Git author/committer name in claude-cli (empty: the host git config user.name)', check: checkGitName },
  'git-email': { default: '', describe: 'Git author/committer e-mail in claude-cli (empty: the host git config user.email)', check: checkGitEmail },
  'ssh-agent': { default: 'auto', describe: 'Forward the host SSH agent: auto (when the engine is local and an agent runs), on (required), off', choices: ['auto', 'on', 'off'] },
  devcontainer: { default: false, describe: 'Write .devcontainer/devcontainer.json and keep it in step, so VS Code, Cursor or the Dev Containers CLI attach to claude-cli' },
};

export const SETTING_NAMES = Object.keys(SETTINGS) as SettingName[];

export function defaults(): Settings {
  const copy = (v: Settings[SettingName]) => (Array.isArray(v) ? [...v] : v);
  return Object.fromEntries(SETTING_NAMES.map((n) => [n, copy(SETTINGS[n].default)])) as unknown as Settings;
}

export function envName(name: SettingName): string {
  return `CCTL_${name.toUpperCase().replace(/-/g, '_')}`;
}

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
    throw new UsageError(`Unknown setting "${name}" in ${where}.`, `Did you mean "${nearest(name)}"? Settings: ${SETTING_NAMES.join(', ')}.`);
  }
}

/** Converts text or a stored value to the setting's type, or says why not. */
export function coerce<K extends SettingName>(name: K, value: unknown, where: string): Settings[K] {
  const spec = SETTINGS[name];
  const bad = (want: string) =>
    new UsageError(`Setting "${name}" in ${where} must be ${want}, not ${JSON.stringify(value)}.`);
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
    throw new UsageError('proxy=image needs a gateway image.', 'Add --proxy-image IMAGE (and --proxy-port, --proxy-health if they differ from 3000 and /health).');
  }
  if (s.proxy === 'external' && !/^https?:\/\//.test(s['proxy-url'])) {
    throw new UsageError('proxy=external needs the API URL.', 'Add --proxy-url https://gateway.example.com');
  }
  if (s.proxy === 'external' && s.isolate) {
    throw new UsageError('isolate needs a proxy service to be the way out; it cannot be used with proxy=external.');
  }
  if (!/^https?:\/\/[^\s]+$/.test(s.upstream)) throw new UsageError(`upstream must be an http(s) URL, not "${s.upstream}".`);
}
