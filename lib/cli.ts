/**
 * The command line: one thin cac file. Each action imports its command module
 * only when it runs, so `cctl --help` and `cctl --version` stay fast.
 */
import { cac } from 'cac';
import { readFileSync } from 'node:fs';
import { PASS_THROUGH } from './kernel/argv.js';
import type { CommandMain, CommandOptions } from './commands/command.js';
import { EXIT_USAGE, UsageError } from './kernel/errors.js';
import { setDebug } from './engine/runner.js';
import { passThrough } from './pass-through.js';
import { report } from './report.js';

export { report };


const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
export const VERSION = pkg.version;

async function load(verb: string): Promise<CommandMain> {
  const mod = (await import(`./commands/${verb}.js`)) as { default: CommandMain };
  return mod.default;
}

function build() {
  const cli = cac('cctl');
  cli
    .option('-f, --file <file>', 'Compose file (default: compose.yaml, compose.yml, docker-compose.yaml, docker-compose.yml)')
    .option('-p, --project-name <name>', 'Compose project name (default: the folder name)')
    .option('--debug', 'Print every docker/compose command line, and a stack trace on error');

  cli
    .command('init', 'Add the claude-profile services to the project compose file')
    .option('--force', 'Overwrite edits to cctl-owned keys (a backup is written first)')
    .option('--base-image <image>', 'Base image for claude-cli (env CCTL_BASE_IMAGE)')
    .option('--claude-version <version>', 'Claude Code version to install')
    .option('--ccusage-version <version>', 'ccusage version to install')
    .option('--monitor-version <version>', 'Claude Code Usage Monitor version to install')
    .option('--ca-cert <file>', 'Extra CA certificate bundle (PEM) trusted in the image (env CCTL_CA_CERT)')
    .option('--monitor', 'Install the Usage Monitor (env CCTL_MONITOR=0|1; --no-monitor turns it off)')
    .option('--plan <plan>', 'Usage Monitor plan: pro, max5, max20 or custom')
    .option('--proxy <mode>', 'Proxy mode: builtin, image or external')
    .option('--proxy-image <image>', 'Gateway image, for --proxy image')
    .option('--proxy-port <port>', 'Gateway port inside its container, for --proxy image')
    .option('--proxy-health <path>', 'Gateway health path, for --proxy image')
    .option('--proxy-url <url>', 'API base URL, for --proxy external')
    .option('--auth <mode>', 'Credentials: team-key (the proxy holds the key) or login (each user logs in)')
    .option('--upstream <url>', 'Upstream API URL for the built-in gateway (env CCTL_UPSTREAM_URL)')
    .option('--publish', 'Publish the proxy port on 127.0.0.1')
    .option('--isolate', 'Put claude-cli on an internal network whose only way out is the proxy')
    .option('--allow <host>', 'With --isolate: also let claude-cli reach HOST, host:port, *.domain or a preset (anthropic, github, npm, pypi, ...) through the proxy (repeatable)')
    .option('--workspace <path>', 'Folder mounted at /workspace (default: the project folder)')
    .option('--tz <zone>', 'Time zone for the containers (default: the host TZ)')
    .option('--cpus <n>', 'CPU limit for claude-cli')
    .option('--memory <size>', 'Memory limit for claude-cli, e.g. 4g')
    .option('--set <key=value>', 'Set any stored setting by name (repeatable)')
    .option('--json', 'Print the result as JSON')
    .example('cctl init')
    .example('cctl init --auth team-key --upstream https://api.anthropic.com')
    .example('CCTL_CA_CERT=/etc/ssl/certs/ca-certificates.crt cctl init --no-monitor')
    .example('cctl init --isolate --allow github --allow npm --allow docs.example.com')
    .action(dispatch('init'));

  cli
    .command('up', 'Build if needed, start the claude services and wait until healthy')
    .option('--build', 'Rebuild the images even when current')
    .option('--timeout <seconds>', 'How long to wait for health', { default: 120 })
    .option('--json', 'Print one JSON document on stdout')
    .example('cctl up')
    .example('cctl up --build --timeout 300')
    .example('cctl up --json | jq .services')
    .action(dispatch('up'));

  cli
    .command('down', 'Stop and remove the claude containers (volumes are kept)')
    .option('-v, --volumes', 'Also delete the home volume: logins, history, usage data')
    .option('-y, --yes', 'Do not ask before deleting volumes (needed in scripts)')
    .option('--json', 'Print the result as JSON')
    .example('cctl down')
    .example('cctl down --volumes --yes')
    .action(dispatch('down'));

  cli
    .command('build', 'Build the claude-cli and proxy images')
    .option('--no-cache', 'Build without the layer cache')
    .option('--json', 'Print the result as JSON')
    .example('cctl build')
    .example('cctl build --no-cache')
    .action(dispatch('build'));

  cli
    .command('status', 'Show each claude service with its state, health and ports')
    .alias('ps')
    .option('--json', 'Print {"services":[...]} as JSON')
    .example('cctl status')
    .example('cctl status --json | jq -r ".services[].health"')
    .action(dispatch('status'));

  cli
    .command('logs [service]', 'Show service logs')
    .option('--follow', 'Follow the log output')
    .option('--tail <n>', 'Number of lines to show from the end')
    .example('cctl logs proxy --tail 50')
    .example('cctl logs --follow')
    .action(dispatch('logs'));

  cli
    .command('egress', 'List the destinations the proxy refused to an isolated claude-cli, with the command that allows each')
    .option('--all', 'Also list the allowed destinations, with bytes sent and received')
    .option('--json', 'Print {"denied":[...],"allowed":[...]} as JSON')
    .example('cctl egress')
    .example('cctl egress --json | jq -r ".denied[].allow"')
    .action(dispatch('egress'));

  cli
    .command('doctor', 'Check the engine, compose, image, volume and proxy, with fixes')
    .option('--json', 'Print the checks as JSON')
    .example('cctl doctor')
    .example('cctl doctor --json')
    .action(dispatch('doctor'));

  cli
    .command('completion <shell>', 'Print a completion script for bash, zsh or fish')
    .example('source <(cctl completion bash)')
    .example('cctl completion fish > ~/.config/fish/completions/cctl.fish')
    .action(dispatch('completion'));

  cli
    .command('backup [file]', 'Save the home volume (logins, history, usage) to a .tar.gz')
    .option('--json', 'Print the result as JSON')
    .example('cctl backup')
    .example('cctl backup ~/claude-home.tar.gz')
    .action(dispatch('backup'));

  cli
    .command('restore <file>', 'Restore the home volume from a backup')
    .option('--force', 'Replace a volume that already holds data')
    .option('--json', 'Print the result as JSON')
    .example('cctl restore claude-home.tar.gz')
    .action(dispatch('restore'));

  // Pass-through commands: registered for --help; argv is split before cac sees it.
  cli
    .command('claude [...args]', 'Start Claude Code in /workspace (arguments pass through)')
    .allowUnknownOptions()
    .example('cctl claude')
    .example('echo "summarise README.md" | cctl claude -p');
  cli
    .command('monitor [...args]', 'Run the Claude Code Usage Monitor (arguments pass through)')
    .allowUnknownOptions()
    .example('cctl monitor --plan max5 --view daily');
  cli
    .command('usage [report] [...args]', 'ccusage reports: daily, weekly, monthly, session, blocks, statusline (default daily)')
    .allowUnknownOptions()
    .example('cctl usage daily --json | jq .totals')
    .example('cctl usage monthly --breakdown')
    .example('cctl usage blocks --live --token-limit max')
    .example('cctl usage blocks --live --once');
  cli.command('shell', 'Open a login shell in claude-cli as claude').example('cctl shell');
  cli
    .command('exec [...cmd]', 'Run any command in claude-cli')
    .allowUnknownOptions()
    .example('cctl exec -- ls -la /workspace')
    .example("echo hi | cctl exec -- cat");

  cli.help();
  cli.version(VERSION);
  return cli;
}

let exitCode = 0;

function dispatch(verb: string) {
  return async (...params: unknown[]) => {
    const options = params.pop() as CommandOptions;
    const args = params.flat().filter((p): p is string => typeof p === 'string');
    if (options.debug) setDebug(true);
    const main = await load(verb);
    exitCode = (await main(args, options)) ?? 0;
  };
}

export async function main(argv: readonly string[]): Promise<number> {
  try {
    // bin/cctl.js tries this first; here too, so main() alone is the whole CLI (tests call it).
    const fast = await passThrough(argv);
    if (fast !== undefined) return fast;
    const cli = build();
    cli.parse(['node', 'cctl', ...argv], { run: false });
    if (cli.options.help || cli.options.version) return 0;
    if (!cli.matchedCommand) {
      const verb = cli.args[0];
      if (verb && !PASS_THROUGH.has(verb)) throw new UsageError(`Unknown command "${verb}".`, 'Run "cctl --help" for the list.');
      cli.outputHelp();
      return verb ? 0 : EXIT_USAGE;
    }
    await cli.runMatchedCommand();
    return exitCode;
  } catch (error) {
    return report(error);
  }
}
