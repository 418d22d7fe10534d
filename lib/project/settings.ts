/**
 * cctl's settings: one table that says each setting's name, type, default and
 * environment variable. They are stored in the compose file under `x-cctl`,
 * so the file a team commits says everything. Precedence: flags, then the
 * environment, then the stored values, then the defaults (each layer read and
 * checked in setting-layers.ts).
 */
import { allowList, DEFAULT_ALLOW } from './egress.js';
import { checkGitEmail, checkGitName, envNameList, packageList } from './workbench.js';
import {
  checkCctlSource,
  checkCpus,
  checkHealthPath,
  checkMemory,
  checkServiceName,
  checkTimeZone,
  checkWorkspace,
} from './setting-checks.js';

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
  /** The word in init's flag for it (`--base-image <image>`); booleans take none, and 'value' is the default. */
  arg?: string;
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
  'base-image': {
    arg: 'image',
    default: 'node:22-bookworm-slim',
    describe: 'Base image of claude-cli and proxy (a Node 22 image: Debian, the default and tested one, or Alpine)',
  },
  'claude-version': { arg: 'version', default: DEFAULT_CLAUDE_CODE_VERSION, describe: '@anthropic-ai/claude-code version' },
  'ccusage-version': {
    arg: 'version',
    default: DEFAULT_CCUSAGE_VERSION,
    describe: `ccusage version (${MIN_CCUSAGE_MAJOR} or later)`,
    check: checkCcusageVersion,
  },
  'monitor-version': {
    arg: 'version',
    default: DEFAULT_MONITOR_VERSION,
    describe: 'Claude Code Usage Monitor (PyPI claude-monitor) version',
  },
  'ca-cert': { arg: 'file', default: '', describe: 'Extra CA bundle (PEM) trusted at build and run time, relative to the project' },
  monitor: { default: true, describe: 'Install the Usage Monitor (needs PyPI at build time)' },
  plan: { arg: 'plan', default: 'pro', describe: 'Usage Monitor plan', choices: ['pro', 'max5', 'max20', 'custom'] },
  proxy: {
    arg: 'mode',
    default: 'builtin',
    describe: 'builtin gateway, a third-party gateway image, or an external URL',
    choices: ['builtin', 'image', 'external'],
  },
  'proxy-image': { arg: 'image', default: '', describe: 'Gateway image for proxy=image (LiteLLM, claude-code-router, ...)' },
  'proxy-port': { arg: 'port', default: 3000, describe: 'Port the gateway listens on inside its container' },
  'proxy-health': { arg: 'path', default: '/health', describe: 'Health path of the gateway', check: checkHealthPath },
  'proxy-url': { arg: 'url', default: '', describe: 'ANTHROPIC_BASE_URL for proxy=external' },
  'proxy-service': {
    arg: 'name',
    default: 'proxy',
    describe: 'Service name of the gateway in the compose file (choose another when the file already has a service called proxy)',
    check: checkServiceName,
  },
  auth: {
    arg: 'mode',
    default: 'login',
    describe: 'login: each user logs in; team-key: the proxy holds the team key',
    choices: ['login', 'team-key'],
  },
  upstream: {
    arg: 'url',
    default: 'https://api.anthropic.com',
    describe: 'Upstream API of the built-in gateway',
    env: 'CCTL_UPSTREAM_URL',
  },
  publish: { default: false, describe: 'Publish the proxy port on 127.0.0.1' },
  'publish-port': { arg: 'port', default: 3000, describe: 'Host port (on 127.0.0.1) when publish is on' },
  isolate: { default: false, describe: 'claude-cli on an internal network; its only way out is the proxy' },
  workspace: { arg: 'path', default: '.', describe: 'Folder mounted at /workspace, relative to the project', check: checkWorkspace },
  tz: { arg: 'zone', default: '', describe: 'Time zone of the containers (empty: the host time zone)', check: checkTimeZone },
  cpus: { arg: 'n', default: '', describe: 'CPU limit of claude-cli, e.g. 2', check: checkCpus },
  memory: { arg: 'size', default: '', describe: 'Memory limit of claude-cli, e.g. 4g', check: checkMemory },
  'token-limit': {
    arg: 'n',
    default: 'max',
    describe: 'Token limit for the live usage view: a number above 0, or max',
    check: checkTokenLimit,
  },
  'cctl-source': {
    arg: 'source',
    default: '',
    describe:
      'Where scripts/onboard.sh installs cctl from when it is missing: a scoped npm package or a git URL (empty: it stops with how to install cctl)',
    check: checkCctlSource,
  },
  allow: {
    arg: 'host',
    default: [...DEFAULT_ALLOW],
    describe:
      'What an isolated claude-cli may reach through the gateway: presets (anthropic, github, npm, pypi, ...) and hosts (example.com, host:port, *.domain); --allow adds one',
    list: allowList,
  },
  packages: {
    arg: 'package',
    default: [],
    describe: 'OS packages installed in claude-cli with apt or apk (python3 make ...): a change rebuilds only that layer',
    list: packageList,
  },
  env: {
    arg: 'name',
    default: [],
    describe: 'Names of host variables passed into claude-cli when it starts (GH_TOKEN NPM_TOKEN); the values are never written to a file',
    list: envNameList,
  },
  'git-name': {
    arg: 'name',
    default: '',
    describe: 'Git author/committer name in claude-cli (empty: the host git config user.name)',
    check: checkGitName,
  },
  'git-email': {
    arg: 'email',
    default: '',
    describe: 'Git author/committer e-mail in claude-cli (empty: the host git config user.email)',
    check: checkGitEmail,
  },
  'ssh-agent': {
    arg: 'mode',
    default: 'auto',
    describe: 'Forward the host SSH agent: auto (when the engine is local and an agent runs), on (required), off',
    choices: ['auto', 'on', 'off'],
  },
  devcontainer: {
    default: false,
    describe:
      'Write .devcontainer/devcontainer.json and keep it in step, so VS Code, Cursor or the Dev Containers CLI attach to claude-cli',
  },
};

export const SETTING_NAMES = Object.keys(SETTINGS) as SettingName[];

export function defaults(): Settings {
  const copy = (v: Settings[SettingName]) => (Array.isArray(v) ? [...v] : v);
  return Object.fromEntries(SETTING_NAMES.map((n) => [n, copy(SETTINGS[n].default)])) as unknown as Settings;
}

export function envName(name: SettingName): string {
  return `CCTL_${name.toUpperCase().replace(/-/g, '_')}`;
}
