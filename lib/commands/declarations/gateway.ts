/**
 * `cctl gateway`'s actions and options (its declaration in verbs.ts's
 * table): light, no imports beyond define.ts, like verbs.ts.
 */
import { flag, json, value, verb } from './define.js';

export const GATEWAY = verb({
  usage: 'gateway <action> [...args]',
  description: "The team's shared gateway on a server: init, up, deploy, status, logs, down, backup, restore, member, migrate",
  actions: {
    init: 'Write the gateway folder: compose file, build context, secrets (--key-file, --port, --listen, --tls-cert/--tls-key)',
    up: 'Build if needed, start the gateway and wait until healthy',
    'deploy --swarm [--replicas N]': 'Run the folder as a Docker Swarm stack of N gateways behind a front; again = a rolling update',
    status: "The gateway container, its health, and the address it listens on (on a stack: each service's replicas)",
    'logs [--follow] [--tail N]': "The gateway's request and egress log lines",
    'down [--volumes --yes]': 'Stop and remove the gateway; the ledger volume is kept unless --volumes',
    'backup [FILE]': 'Save the ledger volume to a .tar.gz (default: backups/ in the gateway folder)',
    'restore FILE [--force]': 'Put a ledger backup back (the gateway stopped first: cctl gateway down)',
    'member add NAME': 'Add a member; prints their token once (budget flags as for budget)',
    'member list': 'Every member, active or revoked, with their budget',
    'member revoke NAME': 'Revoke a member: their next request gets 401',
    'member budget NAME': "Set a member's budgets: --daily-tokens, --monthly-tokens, --daily-cost, --monthly-cost, --max-in-flight",
    'migrate --from sqlite': 'Copy the SQLite ledger into the Postgres one (after init --ledger postgres and up)',
  },
  options: {
    dir: value('--dir <path>', 'The gateway folder (default: this folder when it is one, else ./team-gateway; env CCTL_GATEWAY_DIR)'),
    port: value('--port <port>', 'init: the port it listens on (default 3000)'),
    keyFile: value(
      '--key-file <file>',
      "init: file holding the team's Anthropic key (copied into the folder's secrets; never pass the key itself)",
    ),
    upstream: value('--upstream <url>', 'init: the API it forwards to (default https://api.anthropic.com)'),
    baseImage: value('--base-image <image>', 'init: base image with Node 22 (env CCTL_BASE_IMAGE)'),
    caCert: value('--ca-cert <file>', 'init: extra CA bundle (PEM) the gateway trusts towards the upstream (env CCTL_CA_CERT)'),
    tlsCert: value('--tls-cert <file>', 'init: serve HTTPS with this certificate (PEM) ...'),
    tlsKey: value('--tls-key <file>', '... and this key'),
    listen: value('--listen <addr>', 'init: the host address to publish on (default 127.0.0.1 without TLS, every address with it)'),
    retentionDays: value('--retention-days <n>', 'init: prune request rows older than this (default 400; 0 keeps all)'),
    ledger: value(
      '--ledger <sqlite|postgres|url>',
      'init: where the ledger lives: sqlite (default, in the volume), postgres (a Postgres service in this project) or postgres://USER:PASSWORD@HOST/DB (a server you run), shared by replicas',
    ),
    swarm: flag(
      '--swarm',
      'deploy: run the folder as a Docker Swarm stack (this engine must be a swarm manager); again = a rolling update',
    ),
    replicas: value('--replicas <n>', 'deploy --swarm: how many gateways (default 3; more than 1 needs a Postgres ledger)'),
    front: value(
      '--front <haproxy|mesh>',
      "deploy --swarm: what publishes the port: haproxy (default: HAProxy on every node, finds the gateways by DNS, works on any kernel) or mesh (Swarm's routing mesh; needs the kernel's IPVS)",
    ),
    from: value(
      '--from <sqlite>',
      "migrate: copy the SQLite ledger in the gateway's volume into its Postgres ledger (which must be empty), then check the row counts and totals",
    ),
    postgresImage: value(
      '--postgres-image <image>',
      "init, with --ledger postgres: run this Postgres image (the registry's postgres takes the same settings) instead of building one from Debian's postgresql",
    ),
    dailyTokens: value('--daily-tokens <n>', 'member add|budget: tokens per UTC day'),
    monthlyTokens: value('--monthly-tokens <n>', 'member add|budget: tokens per month'),
    dailyCost: value('--daily-cost <usd>', 'member add|budget: estimated dollars per day'),
    monthlyCost: value('--monthly-cost <usd>', 'member add|budget: estimated dollars per month'),
    maxInFlight: value(
      '--max-in-flight <n>',
      "member add|budget: requests in flight at once (default: the gateway's CCTL_MAX_IN_FLIGHT, 8)",
    ),
    build: flag('--build', 'up: rebuild the image even when current'),
    timeout: value('--timeout <seconds>', 'up, deploy: how long to wait for health (deploy: for every replica)', { default: '120' }),
    follow: flag('--follow', 'logs: follow the output'),
    tail: value('--tail <n>', 'logs: lines from the end'),
    volumes: flag('--volumes', 'down: also delete the ledger volume (every member, budget and request row)'),
    yes: flag('-y, --yes', 'down --volumes: do not ask (needed in scripts)'),
    force: flag('--force', 'restore: replace a ledger volume that already holds data'),
    json: json(),
  },
  examples: [
    'cctl gateway init --key-file ~/anthropic.key --port 8443',
    'cctl gateway init --tls-cert gw.crt --tls-key gw.key   # https, on every address',
    'cctl gateway init --listen 10.0.0.5   # plain http on a private network only',
    "cctl gateway init --ledger postgres   # its own Postgres service, built from Debian's postgresql",
    'cctl gateway init --ledger postgres://cctl:PASSWORD@db.internal:5432/cctl   # a Postgres the team runs',
    'cctl gateway migrate --from sqlite   # after init --ledger postgres and up: copy the old ledger over',
    'cctl gateway up   # or, on a swarm manager: cctl gateway deploy --swarm --replicas 3 (again = a rolling update)',
    'cctl gateway member add alice --monthly-cost 200',
    'cctl gateway member revoke alice',
    'cctl gateway down && cctl gateway backup && cctl gateway up',
  ],
  words: ['init', 'up', 'status', 'logs', 'down', 'backup', 'restore', 'member', 'add', 'list', 'revoke', 'budget'],
});
