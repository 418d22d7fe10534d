/**
 * What cctl owns in a compose file, rendered from the settings as a plain
 * object. Writing it into the user's file is compose-merge.ts's job.
 */
import { CLI_SERVICE, PROFILE, PROXY_SERVICE } from './locate.js';
import type { Settings } from './settings.js';
import { expandAllow } from './egress.js';
import { applyWorkbench } from './workbench.js';

export const HOME_VOLUME = 'claude-home';
export const INTERNAL_NETWORK = 'claude-internal';
export const ASSETS_DIR = '.cctl';

/**
 * What the committed file depends on besides the settings. Nothing about the machine, the engine or
 * the user: those go to the per-machine file (machine-file.ts), so every teammate renders the same bytes.
 */
export interface RenderContext {
  project: string;
  /** Hash of the build assets; a label on the image, so cctl can tell it is stale. */
  buildHash: string;
}

export type Plain = string | number | boolean | null | Plain[] | { [key: string]: Plain };
export type PlainMap = { [key: string]: Plain };

/**
 * The project's name as the compose file spells it: Compose's own variable, never the name itself. So one
 * committed file serves every checkout (a clone in another folder, a git worktree, -p), each with its own
 * images and secrets, and the file never changes with who runs it. Compose v2 sets the variable for
 * interpolation; cctl exports it for Compose v1 (ops/compose.ts).
 */
export const PROJECT_IN_FILE = '${COMPOSE_PROJECT_NAME}';

export function imageName(project: string, service: string): string {
  return `cctl-${project}-${service}:local`;
}

/** The gateway's service name: `proxy`, unless the team chose another (the `proxy-service` setting). */
export function gatewayService(s: Pick<Settings, 'proxy-service'>): string {
  return s['proxy-service'] || PROXY_SERVICE;
}

export function proxyBaseUrl(s: Settings): string {
  if (s.proxy === 'external') return s['proxy-url'];
  return `http://${gatewayService(s)}:${s.proxy === 'image' ? s['proxy-port'] : 3000}`;
}

/**
 * The timing every engine and Compose accepts (v1 rejects start_interval): a short interval
 * throughout, which is cheap, since the check is a few stat calls. Where the engine has
 * start_interval, the per-machine file adds it (machine-file.ts, healthTiming).
 */
function healthcheck(test: string[]): PlainMap {
  return { test, interval: '2s', timeout: '5s', retries: 3, start_period: '60s' };
}

const HARDENING: PlainMap = {
  init: true,
  security_opt: ['no-new-privileges:true'],
  cap_drop: ['ALL'],
};

/** Does the built-in gateway serve as the egress proxy of an isolated claude-cli? */
export function egressThroughGateway(s: Settings): boolean {
  return s.isolate && s.proxy === 'builtin';
}

/**
 * The proxy variables of an isolated claude-cli. curl, git, npm, pip and Claude
 * Code each read one case or the other, so both are set. NO_PROXY keeps the
 * gateway itself (ANTHROPIC_BASE_URL) a direct call; any other destination goes
 * through the gateway's CONNECT and its allow-list, and has no other route.
 */
function proxyVariables(s: Settings): PlainMap {
  const url = proxyBaseUrl(s);
  const noProxy = `${gatewayService(s)},localhost,127.0.0.1,::1`;
  return { HTTPS_PROXY: url, HTTP_PROXY: url, https_proxy: url, http_proxy: url, NO_PROXY: noProxy, no_proxy: noProxy };
}

function cliService(s: Settings, ctx: RenderContext): PlainMap {
  const environment: PlainMap = {
    ANTHROPIC_BASE_URL: proxyBaseUrl(s),
    // The host's zone is per machine (machine-file.ts); plain Compose on this file alone runs in UTC.
    TZ: s.tz || 'UTC',
    CLAUDE_PLAN: s.plan,
    ...(egressThroughGateway(s) ? proxyVariables(s) : {}),
  };
  const service: PlainMap = {
    image: imageName(PROJECT_IN_FILE, CLI_SERVICE),
    build: {
      context: `${ASSETS_DIR}/docker`,
      args: {
        BASE_IMAGE: s['base-image'],
        CLAUDE_CODE_VERSION: s['claude-version'],
        CCUSAGE_VERSION: s['ccusage-version'],
        MONITOR_VERSION: s['monitor-version'],
        INSTALL_MONITOR: s.monitor ? '1' : '0',
        // The per-machine file sets the host user's ids (and an image tag that names them).
        CLAUDE_UID: '1001',
        CLAUDE_GID: '1001',
        CCTL_BUILD_HASH: ctx.buildHash,
      },
    },
    profiles: [PROFILE],
    command: ['idle'],
    working_dir: '/workspace',
    environment,
    volumes: [`${HOME_VOLUME}:/home/claude`, `${s.workspace}:/workspace`],
    healthcheck: healthcheck(['CMD', 'healthcheck.sh']),
    ...HARDENING,
  };
  // client.env (team-key mode) is named by the per-machine file: its path is in this user's home.
  // Started, not healthy: claude-cli's own start needs nothing from the proxy,
  // and Claude Code retries connection errors and 5xx, so waiting for the
  // proxy's first health check only put the two start-ups in a row (3.5 s to
  // all-healthy that way, 2.0 s side by side). `cctl up` still waits until
  // both are healthy before it calls the stack ready.
  if (s.proxy !== 'external') service.depends_on = { [gatewayService(s)]: { condition: 'service_started' } };
  if (s.isolate) service.networks = [INTERNAL_NETWORK];
  if (s.cpus) service.cpus = s.cpus;
  if (s.memory) service.mem_limit = s.memory;
  applyWorkbench(service, s);
  return service;
}

function proxyService(s: Settings): PlainMap {
  const port = s.proxy === 'image' ? s['proxy-port'] : 3000;
  const healthUrl = `http://127.0.0.1:${port}${s['proxy-health']}`;
  const service: PlainMap =
    s.proxy === 'builtin'
      ? {
          image: imageName(PROJECT_IN_FILE, gatewayService(s)),
          // The build folder and the secrets are in the private folder: the per-machine file names them.
          profiles: [PROFILE],
          environment: {
            CCTL_UPSTREAM_URL: s.upstream,
            CCTL_AUTH_MODE: s.auth,
            // The allow-list of CONNECT and plain-HTTP proxying, presets expanded (empty: egress closed).
            ...(egressThroughGateway(s) ? { CCTL_EGRESS_ALLOW: expandAllow(s.allow).join(',') } : {}),
          },
          healthcheck: healthcheck(['CMD', 'node', '/app/gateway/main.js', 'health']),
          read_only: true,
          ...HARDENING,
        }
      : {
          image: s['proxy-image'],
          profiles: [PROFILE],
          // Third-party images differ in what they carry; try the usual clients.
          healthcheck: healthcheck([
            'CMD-SHELL',
            // The URL is single-quoted, so the shell takes it as one word.
            `curl -fsS '${healthUrl}' >/dev/null || wget -qO- '${healthUrl}' >/dev/null`,
          ]),
          ...HARDENING,
        };
  if (s.publish) service.ports = [`127.0.0.1:${s['publish-port']}:${port}`];
  if (s.isolate) service.networks = [INTERNAL_NETWORK, 'default'];
  return service;
}

/** The owned part of the compose file, as top-level key → name → value. */
export function renderOwned(s: Settings, ctx: RenderContext): { [top: string]: PlainMap } {
  const services: PlainMap = { [CLI_SERVICE]: cliService(s, ctx) };
  if (s.proxy !== 'external') services[gatewayService(s)] = proxyService(s);
  const owned: { [top: string]: PlainMap } = { services, volumes: { [HOME_VOLUME]: {} } };
  if (s.isolate) owned.networks = { [INTERNAL_NETWORK]: { internal: true } };
  return owned;
}
