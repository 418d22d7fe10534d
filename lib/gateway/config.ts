/**
 * The gateway's configuration, read once from the environment (names in
 * docs/CONTRACT.md). Secrets may come from NAME_FILE (Docker/Compose secrets).
 */
import { readFileSync } from 'node:fs';
import { GatewayConfigError } from './config-error.js';
import { type Env, intFromEnv } from './env.js';
import { type EgressConfig, egressFromEnv } from './egress/config.js';

/** Kept in step with package.json by a unit test; the image has no package.json to read. */
export const GATEWAY_VERSION = '0.1.0';

export type AuthMode = 'team-key' | 'login';

export interface TeamCredential {
  /** api-key goes upstream as `x-api-key`, auth-token as `Authorization: Bearer`. */
  kind: 'api-key' | 'auth-token';
  value: string;
}

export interface GatewayConfig {
  port: number;
  upstreamUrl: URL;
  authMode: AuthMode;
  /** Required in team-key mode: what claude-cli presents instead of a real key. */
  clientToken?: string;
  /** Required in team-key mode. */
  teamCredential?: TeamCredential;
  /** Sent upstream as x-cctl-project when set, so a team gateway's ledger knows the project (CCTL_PROJECT_NAME). */
  projectName?: string;
  maxBodyBytes: number;
  connectTimeoutMs: number;
  idleTimeoutMs: number;
  /** How long a free upstream socket is kept for reuse; 0 opens a fresh connection per request. */
  upstreamKeepAliveMs?: number;
  /** How long a client may take to send its request headers; answered 408 after. */
  headersTimeoutMs?: number;
  /** The forward proxy for the stack's containers; absent (off) unless CCTL_EGRESS_ALLOW is set. */
  egress?: EgressConfig;
  /** Receives each log line without its newline; defaults to stdout. */
  log?: (line: string) => void;
}

export const DEFAULTS = {
  port: 3000,
  upstreamUrl: 'https://api.anthropic.com',
  // The Messages API itself refuses bodies over 32 MB; refusing here too
  // saves uploading a body the upstream would reject anyway.
  maxBodyBytes: 32 * 1024 * 1024,
  connectTimeoutMs: 10_000,
  // Non-streamed Messages calls send nothing until the whole reply is ready,
  // and Claude Code itself waits 10 minutes (API_TIMEOUT_MS), so a shorter
  // idle limit here would cut off answers the client is still waiting for.
  idleTimeoutMs: 600_000,
  // Well under the shortest keep-alive timeout in common use (Node servers
  // drop idle connections after 5 s), so the gateway lets go of a free socket
  // before the upstream does and does not write a request into a connection
  // the upstream is closing: such a request may have been read, and is never
  // sent twice. An upstream's shorter `Keep-Alive: timeout=N` wins (Node's
  // agent honours it, less one second).
  upstreamKeepAliveMs: 2_000,
  // Node's own default, named so it can be set (and shortened in tests).
  headersTimeoutMs: 60_000,
} as const;

export { GatewayConfigError };

export { type Env, intFromEnv };

/**
 * Reads NAME, or the file that NAME_FILE points at (Docker/Compose secrets).
 * A trailing newline in the file is not part of the secret.
 */
function secretFromEnv(env: Env, name: string, readFile: (path: string) => string): string | undefined {
  const direct = env[name];
  const file = env[`${name}_FILE`];
  if (direct && file) throw new GatewayConfigError(`Set ${name} or ${name}_FILE, not both.`);
  if (direct) return direct.trim();
  if (!file) return undefined;
  let text: string;
  try {
    text = readFile(file);
  } catch (error) {
    throw new GatewayConfigError(`${name}_FILE: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? error})`);
  }
  const value = text.trim();
  if (!value) throw new GatewayConfigError(`${name}_FILE: ${file} is empty.`);
  return value;
}

function upstreamFromEnv(env: Env): URL {
  const text = env.CCTL_UPSTREAM_URL?.trim() || DEFAULTS.upstreamUrl;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new GatewayConfigError(`CCTL_UPSTREAM_URL is not a URL: "${text}".`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new GatewayConfigError(`CCTL_UPSTREAM_URL must be http:// or https://, got ${url.protocol}`);
  }
  // Credentials in the URL would end up in logs and error messages; the key
  // variables exist so that they never have to.
  if (url.username || url.password) {
    throw new GatewayConfigError('CCTL_UPSTREAM_URL must not carry credentials; use ANTHROPIC_API_KEY or ANTHROPIC_AUTH_TOKEN.');
  }
  if (url.search || url.hash) throw new GatewayConfigError('CCTL_UPSTREAM_URL must not have a query or fragment.');
  return url;
}

/**
 * Builds the configuration from the environment. Throws GatewayConfigError
 * with a message meant for whoever reads the container log.
 */
export function loadConfig(env: Env = process.env, readFile: (path: string) => string = (p) => readFileSync(p, 'utf8')): GatewayConfig {
  const upstreamUrl = upstreamFromEnv(env);
  const apiKey = secretFromEnv(env, 'ANTHROPIC_API_KEY', readFile);
  const authToken = secretFromEnv(env, 'ANTHROPIC_AUTH_TOKEN', readFile);
  const clientToken = secretFromEnv(env, 'CCTL_CLIENT_TOKEN', readFile);

  const modeText = env.CCTL_AUTH_MODE?.trim() || (apiKey || authToken ? 'team-key' : 'login');
  if (modeText !== 'team-key' && modeText !== 'login') {
    throw new GatewayConfigError(`CCTL_AUTH_MODE must be team-key or login, got "${modeText}".`);
  }

  const config: GatewayConfig = {
    port: intFromEnv(env, 'PORT', DEFAULTS.port, 0, 65535),
    upstreamUrl,
    authMode: modeText,
    maxBodyBytes: intFromEnv(env, 'CCTL_MAX_BODY_BYTES', DEFAULTS.maxBodyBytes, 1, Number.MAX_SAFE_INTEGER),
    connectTimeoutMs: intFromEnv(env, 'CCTL_CONNECT_TIMEOUT_MS', DEFAULTS.connectTimeoutMs, 1, 3_600_000),
    idleTimeoutMs: intFromEnv(env, 'CCTL_IDLE_TIMEOUT_MS', DEFAULTS.idleTimeoutMs, 1, 86_400_000),
    upstreamKeepAliveMs: intFromEnv(env, 'CCTL_UPSTREAM_KEEPALIVE_MS', DEFAULTS.upstreamKeepAliveMs, 0, 600_000),
    headersTimeoutMs: intFromEnv(env, 'CCTL_HEADERS_TIMEOUT_MS', DEFAULTS.headersTimeoutMs, 100, 300_000),
  };
  const egress = egressFromEnv(env);
  if (egress) config.egress = egress;

  if (modeText === 'team-key') {
    if (apiKey && authToken) {
      throw new GatewayConfigError('Set ANTHROPIC_API_KEY or ANTHROPIC_AUTH_TOKEN for the team, not both.');
    }
    if (!apiKey && !authToken) {
      throw new GatewayConfigError(
        'team-key mode needs the team credential: ANTHROPIC_API_KEY or ANTHROPIC_AUTH_TOKEN (or a *_FILE variant).',
      );
    }
    // A team gateway (CCTL_GATEWAY_MODE=team) admits member tokens instead of one client token.
    if (!clientToken && env.CCTL_GATEWAY_MODE?.trim() !== 'team') {
      throw new GatewayConfigError(
        "team-key mode needs CCTL_CLIENT_TOKEN (cctl init writes it to proxy.env in the project's private folder, ~/.config/cctl/projects/NAME/).",
      );
    }
    if (clientToken) config.clientToken = clientToken;
    const projectName = env.CCTL_PROJECT_NAME?.trim();
    if (projectName) config.projectName = projectName;
    config.teamCredential = apiKey ? { kind: 'api-key', value: apiKey } : { kind: 'auth-token', value: authToken! };
  }
  return config;
}
