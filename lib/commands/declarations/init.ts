/**
 * `cctl init`'s options (its declaration in verbs.ts's table): light, no
 * imports beyond define.ts, like verbs.ts.
 */
import { flag, json, value, values, verb } from './define.js';

export const INIT = verb({
  usage: 'init',
  description: 'Add the claude-profile services to the project compose file',
  options: {
    force: flag('--force', 'Overwrite edits to cctl-owned keys (a backup is written first)'),
    acceptChanges: flag(
      '--accept-changes',
      'Accept edits to the compose file that widen claude-cli or redirect the team key (asked on a terminal; needed in scripts)',
    ),
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
    allow: values(
      '--allow <host>',
      'With --isolate: also let claude-cli reach HOST, host:port, *.domain or a preset (anthropic, github, npm, pypi, ...) through the proxy (repeatable)',
    ),
    workspace: value('--workspace <path>', 'Folder mounted at /workspace (default: the project folder)'),
    tz: value('--tz <zone>', 'Time zone for the containers (default: the host TZ)'),
    cpus: value('--cpus <n>', 'CPU limit for claude-cli'),
    memory: value('--memory <size>', 'Memory limit for claude-cli, e.g. 4g'),
    devcontainer: flag(
      '--devcontainer',
      'Write .devcontainer/devcontainer.json so an editor attaches to claude-cli; kept in step by init and up (--no-devcontainer stops that)',
      { negatable: true },
    ),
    set: values('--set <key=value>', 'Set any stored setting by name (repeatable)'),
    teamGateway: value(
      '--team-gateway <url>',
      "Use the team's shared gateway as upstream, with your member token (env CCTL_MEMBER_TOKEN, or asked); https, or http on a private network",
    ),
    insecureHttp: flag('--insecure-http', 'With --team-gateway: allow http:// to a public address (the member token travels unencrypted)'),
    verbose: flag('--verbose', "List each file written to the gateway's build folder in the private folder (default: one line for them)"),
    json: json(),
  },
  examples: [
    'cctl init',
    'cctl init --auth team-key --upstream https://api.anthropic.com',
    'CCTL_CA_CERT=/etc/ssl/certs/ca-certificates.crt cctl init --no-monitor',
    'cctl init --isolate --allow github --allow npm --allow docs.example.com',
  ],
});
