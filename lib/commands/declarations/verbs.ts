/**
 * Every verb's options, declared once (see define.ts); init's and gateway's,
 * the longest, in init.ts and gateway.ts. Light on purpose: no imports beyond
 * define.ts, those two and the settings table init's flags are made from, so
 * `cctl --help` reads this without loading any verb's code. A handler takes
 * `OptionsFor<'verb'>`.
 */
import { flag, json, value, verb, type OptionsOf } from './define.js';
import { GATEWAY } from './gateway.js';
import { INIT } from './init.js';

export const GLOBAL_OPTIONS = {
  file: value(
    '-f, --file <file>',
    'Compose file (default: the nearest compose.yaml, compose.yml, docker-compose.yaml or docker-compose.yml, here or above)',
  ),
  projectName: value('-p, --project-name <name>', 'Compose project name (default: as Compose names it)'),
  debug: flag('--debug', 'Print every docker/compose command line, and a stack trace on error'),
};

export const VERBS = {
  init: INIT,
  up: verb({
    usage: 'up',
    description: 'Build if needed, start the claude services and wait until healthy',
    options: {
      build: flag('--build', 'Rebuild the images even when current'),
      acceptChanges: flag(
        '--accept-changes',
        'Accept edits to the compose file that widen claude-cli or redirect the team key (asked on a terminal; needed in scripts)',
      ),
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
    description: 'Check the engine, Compose, the stack, the team key and what you accepted, each with its fix',
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
    examples: [
      'cctl claude',
      'echo "summarise README.md" | cctl claude -p',
      "cctl claude -- --help   # Claude Code's own help (after --, everything is Claude's)",
    ],
  }),
  monitor: verb({
    usage: 'monitor [...args]',
    description: 'Run the Claude Code Usage Monitor (arguments pass through)',
    options: {},
    passThrough: true,
    examples: [
      'cctl monitor --plan max5 --view daily',
      "cctl monitor -- --help   # the monitor's own options (on an image built with it: init --monitor)",
    ],
    words: ['--plan', '--view', '--timezone'],
  }),
  gateway: GATEWAY,
  task: verb({
    usage: 'task <action> [name] [...command]',
    description: 'Parallel Claude sessions, one per git worktree: new NAME, list, exec NAME -- CMD, claude NAME, rm NAME',
    options: {
      from: value('--from <ref>', 'new: the commit the branch starts from (default HEAD)'),
      branch: value('--branch <name>', 'new: the branch to create (default cctl/NAME)'),
      timeout: value('--timeout <seconds>', "new: how long to wait for the task's stack to be healthy", { default: '120' }),
      force: flag('--force', 'rm: remove even with uncommitted changes (they are lost; the branch and its commits stay)'),
      json: json(),
    },
    afterDoubleDash: true,
    examples: [
      'cctl task new fix-login            # worktree on branch cctl/fix-login, its own stack',
      'cctl task new spike --from v2.1',
      'cctl task claude fix-login         # Claude Code in that worktree',
      'cctl task claude fix-login -- -p "run the tests"   # its arguments after --',
      'cctl task exec fix-login -- git log --oneline -3',
      'cctl task list --json | jq -r ".[] | [.name, .health, .tokens.total] | @tsv"   # tokens by ccusage, per branch',
      'cctl task rm fix-login             # refuses uncommitted work; the branch stays',
    ],
    words: ['new', 'list', 'exec', 'claude', 'rm'],
  }),
  settings: verb({
    usage: 'settings <action>',
    description:
      'import: copy your ~/.claude CLAUDE.md, settings.json, agents/ and commands/ into the home volume (never credentials or history)',
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
      claudeVersion: value(
        '--claude-version <version>',
        'Pin this Claude Code version instead of the newest (refused when the registry lacks it)',
      ),
      ccusageVersion: value('--ccusage-version <version>', 'Pin this ccusage version instead of the newest'),
      json: json(),
    },
    examples: ['cctl update --check', 'cctl update', 'cctl update --claude-only', 'cctl update --claude-version 2.1.300'],
  }),
  usage: verb({
    usage: 'usage [report] [...args]',
    description: 'ccusage reports: daily, weekly, monthly, session, blocks, statusline (default daily)',
    // cctl's own options; every other argument goes to ccusage (`cctl usage daily --help` lists ccusage's).
    options: {
      json: json("ccusage's JSON output (with --team: the ledger's rows)"),
      live: flag('--live', 'blocks --live: a live view of the active 5-hour block (q or Ctrl-C quits)'),
      once: flag('--once', 'blocks --live: draw one frame and exit'),
      interval: value('--interval <seconds>', 'blocks --live: seconds between polls (default 5)'),
      tokenLimit: value('-t, --token-limit <n>', 'blocks --live: the bar\'s limit: a number or "max" (env CCTL_TOKEN_LIMIT)'),
      team: flag('--team', "The team gateway's ledger instead: daily, monthly, member or model"),
      gatewayUrl: value(
        '--gateway-url <url>',
        '--team: the gateway URL (env CCTL_TEAM_GATEWAY_URL, with CCTL_ADMIN_TOKEN; on the gateway server, its folder)',
      ),
      caCert: value('--ca-cert <file>', '--team: CA bundle for a self-signed gateway (env CCTL_CA_CERT)'),
    },
    passThrough: true,
    examples: [
      'cctl usage daily --json | jq .totals',
      "cctl usage daily --help   # ccusage's own options for a report",
      'cctl usage monthly --breakdown',
      'cctl usage blocks --live --token-limit max',
      'cctl usage blocks --live --once',
      'cctl usage --team member --json',
      'cctl usage --team --ca-cert gateway.crt   # a self-signed team gateway (env CCTL_CA_CERT)',
    ],
    words: [
      'daily',
      'weekly',
      'monthly',
      'session',
      'blocks',
      'statusline',
      '--team',
      'member',
      'model',
      '--json',
      '--gateway-url',
      '--ca-cert',
      '--since',
      '--until',
      '--breakdown',
      '--offline',
      '--live',
      '--once',
      '--interval',
      '--token-limit',
    ],
  }),
  shell: verb({
    usage: 'shell',
    description: 'Open a login shell in claude-cli as claude',
    options: {},
    passThrough: true,
    examples: ['cctl shell', 'cctl exec -- bash -lc "npm test"   # one command instead of a shell'],
  }),
  exec: verb({
    usage: 'exec [...cmd]',
    description: 'Run any command in claude-cli',
    options: {},
    passThrough: true,
    examples: ['cctl exec -- ls -la /workspace', 'echo hi | cctl exec -- cat', "cctl exec -- git --help   # a command's own help"],
    words: ['--'],
  }),
};

export type VerbName = keyof typeof VERBS;

/** The options a verb's handler receives. */
export type OptionsFor<N extends VerbName> = OptionsOf<(typeof VERBS)[N]>;
