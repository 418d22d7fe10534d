/**
 * Every verb's options, declared once (see define.ts). Light on purpose: no
 * imports beyond define.ts, so `cctl --help` reads this without loading any
 * verb's code. A handler takes `OptionsFor<'verb'>`.
 */
import { flag, value, values, verb, type OptionsOf } from './define.js';

const json = (what = 'Print the result as JSON') => flag('--json', what);

export const GLOBAL_OPTIONS = {
  file: value('-f, --file <file>', 'Compose file (default: the nearest compose.yaml, compose.yml, docker-compose.yaml or docker-compose.yml, here or above)'),
  projectName: value('-p, --project-name <name>', 'Compose project name (default: as Compose names it)'),
  debug: flag('--debug', 'Print every docker/compose command line, and a stack trace on error'),
};

export const VERBS = {
  init: verb({
    usage: 'init',
    description: 'Add the claude-profile services to the project compose file',
    options: {
      force: flag('--force', 'Overwrite edits to cctl-owned keys (a backup is written first)'),
      acceptChanges: flag('--accept-changes', 'Accept edits to the compose file that widen claude-cli or redirect the team key (asked on a terminal; needed in scripts)'),
      baseImage: value('--base-image <image>', 'Base image for claude-cli (env CCTL_BASE_IMAGE)'),
      claudeVersion: value('--claude-version <version>', 'Claude Code version to install'),
      ccusageVersion: value('--ccusage-version <version>', 'ccusage version to install'),
      monitorVersion: value('--monitor-version <version>', 'Claude Code Usage Monitor version to install'),
      caCert: value('--ca-cert <file>', 'Extra CA certificate bundle (PEM) trusted in the image (env CCTL_CA_CERT)'),
      monitor: flag('--monitor', 'Install the Usage Monitor (env CCTL_MONITOR=0|1; --no-monitor turns it off)', { negatable: true }),
      plan: value('--plan <plan>', 'Usage Monitor plan: pro, max5, max20 or custom'),
      proxy: value('--proxy <mode>', 'Proxy mode: builtin, image or external'),
      proxyImage: value('--proxy-image <image>', 'Gateway image, for --proxy image'),
      proxyPort: value('--proxy-port <port>', 'Gateway port inside its container, for --proxy image'),
      proxyHealth: value('--proxy-health <path>', 'Gateway health path, for --proxy image'),
      proxyUrl: value('--proxy-url <url>', 'API base URL, for --proxy external'),
      auth: value('--auth <mode>', 'Credentials: team-key (the proxy holds the key) or login (each user logs in)'),
      upstream: value('--upstream <url>', 'Upstream API URL for the built-in gateway (env CCTL_UPSTREAM_URL)'),
      publish: flag('--publish', 'Publish the proxy port on 127.0.0.1'),
      isolate: flag('--isolate', 'Put claude-cli on an internal network whose only way out is the proxy'),
      allow: values('--allow <host>', 'With --isolate: also let claude-cli reach HOST, host:port, *.domain or a preset (anthropic, github, npm, pypi, ...) through the proxy (repeatable)'),
      workspace: value('--workspace <path>', 'Folder mounted at /workspace (default: the project folder)'),
      tz: value('--tz <zone>', 'Time zone for the containers (default: the host TZ)'),
      cpus: value('--cpus <n>', 'CPU limit for claude-cli'),
      memory: value('--memory <size>', 'Memory limit for claude-cli, e.g. 4g'),
      set: values('--set <key=value>', 'Set any stored setting by name (repeatable)'),
      teamGateway: value('--team-gateway <url>', "Use the team's shared gateway as upstream, with your member token (env CCTL_MEMBER_TOKEN, or asked); https, or http on a private network"),
      insecureHttp: flag('--insecure-http', 'With --team-gateway: allow http:// to a public address (the member token travels unencrypted)'),
      json: json(),
    },
    examples: [
      'cctl init',
      'cctl init --auth team-key --upstream https://api.anthropic.com',
      'CCTL_CA_CERT=/etc/ssl/certs/ca-certificates.crt cctl init --no-monitor',
      'cctl init --isolate --allow github --allow npm --allow docs.example.com',
    ],
  }),
  up: verb({
    usage: 'up',
    description: 'Build if needed, start the claude services and wait until healthy',
    options: {
      build: flag('--build', 'Rebuild the images even when current'),
      acceptChanges: flag('--accept-changes', 'Accept edits to the compose file that widen claude-cli or redirect the team key (asked on a terminal; needed in scripts)'),
      timeout: value('--timeout <seconds>', 'How long to wait for health', { default: '120' }),
      json: json('Print one JSON document on stdout'),
    },
    examples: [
      'cctl up',
      'cctl up --build --timeout 300',
      'cctl up --json | jq .services',
      '# The first up runs "cctl init"; set its options there, or by environment:',
      'CCTL_CA_CERT=/etc/ssl/certs/ca-certificates.crt CCTL_BASE_IMAGE=my-node-image CCTL_MONITOR=0 cctl up',
    ],
  }),
  down: verb({
    usage: 'down',
    description: 'Stop and remove the claude containers (volumes are kept)',
    options: {
      volumes: flag('-v, --volumes', 'Also delete the home volume: logins, history, usage data'),
      yes: flag('-y, --yes', 'Do not ask before deleting volumes (needed in scripts)'),
      json: json(),
    },
    examples: ['cctl down', 'cctl down --volumes --yes'],
  }),
  build: verb({
    usage: 'build',
    description: 'Build the claude-cli and proxy images',
    options: { cache: flag('--no-cache', 'Build without the layer cache'), json: json() },
    examples: ['cctl build', 'cctl build --no-cache'],
  }),
  status: verb({
    usage: 'status',
    description: 'Show each claude service with its state, health and ports',
    alias: 'ps',
    options: { json: json('Print {"services":[...]} as JSON') },
    examples: ['cctl status', 'cctl status --json | jq -r ".services[].health"'],
  }),
  logs: verb({
    usage: 'logs [service]',
    description: 'Show service logs',
    options: {
      follow: flag('--follow', 'Follow the log output'),
      tail: value('--tail <n>', 'Number of lines to show from the end'),
    },
    examples: ['cctl logs proxy --tail 50', 'cctl logs --follow'],
    words: ['claude-cli', 'proxy'],
  }),
  egress: verb({
    usage: 'egress',
    description: 'List the destinations the proxy refused to an isolated claude-cli, with the command that allows each',
    options: {
      all: flag('--all', 'Also list the allowed destinations, with bytes sent and received'),
      json: json('Print {"denied":[...],"allowed":[...]} as JSON'),
    },
    examples: ['cctl egress', 'cctl egress --json | jq -r ".denied[].allow"'],
  }),
  doctor: verb({
    usage: 'doctor',
    description: 'Check the engine, compose, image, volume and proxy, with fixes',
    options: { json: json('Print the checks as JSON') },
    examples: ['cctl doctor', 'cctl doctor --json'],
  }),
  completion: verb({
    usage: 'completion <shell>',
    description: 'Print a completion script for bash, zsh or fish',
    options: {},
    examples: ['source <(cctl completion bash)', 'cctl completion fish > ~/.config/fish/completions/cctl.fish'],
    words: ['bash', 'zsh', 'fish'],
  }),
  backup: verb({
    usage: 'backup [file]',
    description: 'Save the home volume (logins, history, usage) to a .tar.gz',
    options: { json: json() },
    examples: ['cctl backup', 'cctl backup ~/claude-home.tar.gz'],
  }),
  restore: verb({
    usage: 'restore <file>',
    description: 'Restore the home volume from a backup',
    options: { force: flag('--force', 'Replace a volume that already holds data'), json: json() },
    examples: ['cctl restore claude-home.tar.gz'],
  }),
  claude: verb({
    usage: 'claude [...args]',
    description: 'Start Claude Code in /workspace (arguments pass through)',
    options: {},
    passThrough: true,
    examples: ['cctl claude', 'echo "summarise README.md" | cctl claude -p'],
  }),
  monitor: verb({
    usage: 'monitor [...args]',
    description: 'Run the Claude Code Usage Monitor (arguments pass through)',
    options: {},
    passThrough: true,
    examples: ['cctl monitor --plan max5 --view daily'],
    words: ['--plan', '--view', '--timezone'],
  }),
  gateway: verb({
    usage: 'gateway <action> [...args]',
    description: "The team's shared gateway on a server: init, up, status, logs, down, member add|list|revoke|budget NAME, migrate --from sqlite",
    options: {
      dir: value('--dir <path>', 'The gateway folder (default: this folder when it is one, else ./team-gateway; env CCTL_GATEWAY_DIR)'),
      port: value('--port <port>', 'init: the port it listens on (default 3000)'),
      keyFile: value('--key-file <file>', "init: file holding the team's Anthropic key (copied into the folder's secrets; never pass the key itself)"),
      upstream: value('--upstream <url>', 'init: the API it forwards to (default https://api.anthropic.com)'),
      baseImage: value('--base-image <image>', 'init: base image with Node 22 (env CCTL_BASE_IMAGE)'),
      caCert: value('--ca-cert <file>', 'init: extra CA bundle (PEM) the gateway trusts towards the upstream (env CCTL_CA_CERT)'),
      tlsCert: value('--tls-cert <file>', 'init: serve HTTPS with this certificate (PEM) ...'),
      tlsKey: value('--tls-key <file>', '... and this key'),
      listen: value('--listen <addr>', 'init: the host address to publish on (default 127.0.0.1 without TLS, every address with it)'),
      retentionDays: value('--retention-days <n>', 'init: prune request rows older than this (default 400; 0 keeps all)'),
      ledger: value('--ledger <sqlite|postgres|url>', 'init: where the ledger lives: sqlite (default, in the volume), postgres (a Postgres service in this project) or postgres://USER:PASSWORD@HOST/DB (a server you run), shared by replicas'),
      from: value('--from <sqlite>', 'migrate: copy the SQLite ledger in the gateway\'s volume into its Postgres ledger (which must be empty), then check the row counts and totals'),
      postgresImage: value('--postgres-image <image>', 'init, with --ledger postgres: run this Postgres image (the registry\'s postgres takes the same settings) instead of building one from Debian\'s postgresql'),
      dailyTokens: value('--daily-tokens <n>', 'member add|budget: tokens per UTC day'),
      monthlyTokens: value('--monthly-tokens <n>', 'member add|budget: tokens per month'),
      dailyCost: value('--daily-cost <usd>', 'member add|budget: estimated dollars per day'),
      monthlyCost: value('--monthly-cost <usd>', 'member add|budget: estimated dollars per month'),
      maxInFlight: value('--max-in-flight <n>', 'member add|budget: requests in flight at once (default: the gateway\'s CCTL_MAX_IN_FLIGHT, 8)'),
      build: flag('--build', 'up: rebuild the image even when current'),
      timeout: value('--timeout <seconds>', 'up: how long to wait for health', { default: '120' }),
      follow: flag('--follow', 'logs: follow the output'),
      tail: value('--tail <n>', 'logs: lines from the end'),
      json: json(),
    },
    examples: [
      'cctl gateway init --key-file ~/anthropic.key --port 8443',
      'cctl gateway init --tls-cert gw.crt --tls-key gw.key   # https, on every address',
      'cctl gateway init --listen 10.0.0.5   # plain http on a private network only',
      'cctl gateway init --ledger postgres   # its own Postgres service, built from Debian\'s postgresql',
      'cctl gateway init --ledger postgres://cctl:PASSWORD@db.internal:5432/cctl   # a Postgres the team runs',
      'cctl gateway migrate --from sqlite   # after init --ledger postgres and up: copy the old ledger over',
      'cctl gateway up',
      'cctl gateway member add alice --monthly-cost 200',
      'cctl gateway member revoke alice',
    ],
    words: ['init', 'up', 'status', 'logs', 'down', 'member', 'add', 'list', 'revoke', 'budget'],
  }),
  settings: verb({
    usage: 'settings <action>',
    description: 'import: copy your ~/.claude CLAUDE.md, settings.json, agents/ and commands/ into the home volume (never credentials or history)',
    options: {
      dryRun: flag('--dry-run', 'Show what would be added or updated, change nothing'),
      json: json(),
    },
    examples: ['cctl settings import --dry-run', 'cctl settings import'],
    words: ['import'],
  }),
  update: verb({
    usage: 'update',
    description: 'Pin the newest Claude Code, ccusage (>= 19) and monitor the registries serve, showing old against new, and rebuild',
    options: {
      check: flag('--check', 'Only report; exit 1 when an update exists (for CI)'),
      claudeOnly: flag('--claude-only', 'Update Claude Code only'),
      claudeVersion: value('--claude-version <version>', 'Pin this Claude Code version instead of the newest (refused when the registry lacks it)'),
      ccusageVersion: value('--ccusage-version <version>', 'Pin this ccusage version instead of the newest'),
      json: json(),
    },
    examples: ['cctl update --check', 'cctl update', 'cctl update --claude-only', 'cctl update --claude-version 2.1.300'],
  }),
  usage: verb({
    usage: 'usage [report] [...args]',
    description: 'ccusage reports: daily, weekly, monthly, session, blocks, statusline (default daily)',
    options: {},
    passThrough: true,
    examples: ['cctl usage daily --json | jq .totals', 'cctl usage monthly --breakdown', 'cctl usage blocks --live --token-limit max', 'cctl usage blocks --live --once', 'cctl usage --team member --json', 'cctl usage --team --ca-cert gateway.crt   # a self-signed team gateway (env CCTL_CA_CERT)'],
    words: ['daily', 'weekly', 'monthly', 'session', 'blocks', 'statusline', '--team', 'member', 'model', '--json', '--gateway-url', '--ca-cert', '--since', '--until', '--breakdown', '--offline', '--live', '--once', '--interval', '--token-limit'],
  }),
  shell: verb({
    usage: 'shell',
    description: 'Open a login shell in claude-cli as claude',
    options: {},
    passThrough: true,
    examples: ['cctl shell'],
  }),
  exec: verb({
    usage: 'exec [...cmd]',
    description: 'Run any command in claude-cli',
    options: {},
    passThrough: true,
    examples: ['cctl exec -- ls -la /workspace', 'echo hi | cctl exec -- cat'],
    words: ['--'],
  }),
};

export type VerbName = keyof typeof VERBS;

/** The options a verb's handler receives. */
export type OptionsFor<N extends VerbName> = OptionsOf<(typeof VERBS)[N]>;
