/**
 * What cctl owns in a compose file, rendered from the settings as a plain
 * object. Writing it into the user's file is compose-merge.ts's job.
 */
import { CLI_SERVICE, PROFILE, PROXY_SERVICE } from './locate.js';
import type { Settings } from './settings.js';
import { privateDirInCompose } from './private-dir.js';
import { expandAllow } from './egress.js';
import { applyWorkbench } from './workbench.js';

export const HOME_VOLUME = 'claude-home';
export const INTERNAL_NETWORK = 'claude-internal';
export const ASSETS_DIR = '.cctl';

export interface RenderContext {
  project: string;
  /** Engine >= 25 and a compose that knows start_interval: poll fast only while starting. */
  startInterval: boolean;
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

/**
 * A secret file as the compose file names it: in the project's private folder
 * outside the project tree (private-dir.ts), where claude-cli cannot reach it.
 */
/**
 * The gateway's build folder, also in the private folder: the image it builds
 * holds the team key, so its code must not come from where claude-cli writes.
 */
export function gatewayBuildInCompose(project: string): string {
  return `${privateDirInCompose(project)}/proxy`;
}

export function secretFileInCompose(project: string, file: 'proxy.env' | 'client.env'): string {
  return `${privateDirInCompose(project)}/${file}`;
}

export function proxyBaseUrl(s: Settings): string {
  if (s.proxy === 'external') return s['proxy-url'];
  return `http://${gatewayService(s)}:${s.proxy === 'image' ? s['proxy-port'] : 3000}`;
}

function healthcheck(test: string[], ctx: RenderContext): PlainMap {
  // Engine 25 added start_interval: poll every 250 ms while starting, then
  // rarely. The first check runs one start_interval after the start, so it is
  // most of a warm start's wait (1 s: 2.0 s to all-healthy here; 250 ms: 1.15 s);
  // a check that keeps failing costs four tries a second only until
  // start_period ends. Older engines (and Compose v1, which rejects the key) get a short
  // interval throughout; the check is a few stat calls, so that is cheap.
  return ctx.startInterval
    ? { test, interval: '30s', timeout: '5s', retries: 3, start_period: '60s', start_interval: '250ms' }
    : { test, interval: '2s', timeout: '5s', retries: 3, start_period: '60s' };
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
    // cctl exports the host's zone as TZ when it runs compose; plain compose falls back to UTC.
    TZ: s.tz || '${TZ:-UTC}',
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
        // The host user's ids, so files made in /workspace are theirs (cctl exports these).
        CLAUDE_UID: '${CCTL_UID:-1001}',
        CLAUDE_GID: '${CCTL_GID:-1001}',
        CCTL_BUILD_HASH: ctx.buildHash,
      },
    },
    profiles: [PROFILE],
    command: ['idle'],
    working_dir: '/workspace',
    environment,
    volumes: [`${HOME_VOLUME}:/home/claude`, `${s.workspace}:/workspace`],
    healthcheck: healthcheck(['CMD', 'healthcheck.sh'], ctx),
    ...HARDENING,
  };
  if (s.auth === 'team-key' && s.proxy === 'builtin') service.env_file = [secretFileInCompose(PROJECT_IN_FILE, 'client.env')];
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

function proxyService(s: Settings, ctx: RenderContext): PlainMap {
  const port = s.proxy === 'image' ? s['proxy-port'] : 3000;
  const healthUrl = `http://127.0.0.1:${port}${s['proxy-health']}`;
  const service: PlainMap =
    s.proxy === 'builtin'
      ? {
          image: imageName(PROJECT_IN_FILE, gatewayService(s)),
          build: { context: gatewayBuildInCompose(PROJECT_IN_FILE), args: { BASE_IMAGE: s['base-image'], CCTL_BUILD_HASH: ctx.buildHash } },
          profiles: [PROFILE],
          environment: {
            CCTL_UPSTREAM_URL: s.upstream,
            CCTL_AUTH_MODE: s.auth,
            // The allow-list of CONNECT and plain-HTTP proxying, presets expanded (empty: egress closed).
            ...(egressThroughGateway(s) ? { CCTL_EGRESS_ALLOW: expandAllow(s.allow).join(',') } : {}),
          },
          // The team key and the client token: readable by this service only.
          env_file: [secretFileInCompose(PROJECT_IN_FILE, 'proxy.env')],
          healthcheck: healthcheck(['CMD', 'node', '/app/gateway/main.js', 'health'], ctx),
          read_only: true,
          ...HARDENING,
        }
      : {
          image: s['proxy-image'],
          profiles: [PROFILE],
          env_file: [secretFileInCompose(PROJECT_IN_FILE, 'proxy.env')],
          // Third-party images differ in what they carry; try the usual clients.
          healthcheck: healthcheck(
            [
              'CMD-SHELL',
              // The URL is single-quoted, so the shell takes it as one word.
              `curl -fsS '${healthUrl}' >/dev/null || wget -qO- '${healthUrl}' >/dev/null`,
            ],
            ctx,
          ),
          ...HARDENING,
        };
  if (s.publish) service.ports = [`127.0.0.1:${s['publish-port']}:${port}`];
  if (s.isolate) service.networks = [INTERNAL_NETWORK, 'default'];
  return service;
}

/** The owned part of the compose file, as top-level key → name → value. */
export function renderOwned(s: Settings, ctx: RenderContext): { [top: string]: PlainMap } {
  const services: PlainMap = { [CLI_SERVICE]: cliService(s, ctx) };
  if (s.proxy !== 'external') services[gatewayService(s)] = proxyService(s, ctx);
  const owned: { [top: string]: PlainMap } = { services, volumes: { [HOME_VOLUME]: {} } };
  if (s.isolate) owned.networks = { [INTERNAL_NETWORK]: { internal: true } };
  return owned;
}
