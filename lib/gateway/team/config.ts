/**
 * Team mode's own settings (CCTL_GATEWAY_MODE=team). The upstream, the real
 * key and the timeouts come from the gateway's usual configuration; these add
 * where the ledger lives, the admin token, retention and TLS.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GatewayConfigError, intFromEnv, type Env } from '../config.js';
import { DEFAULT_MAX_IN_FLIGHT } from './reservation.js';

export interface TeamConfig {
  dataDir: string;
  ledgerPath: string;
  /** CCTL_LEDGER_URL(_FILE): a postgres:// URL puts the ledger in Postgres, shared by every replica; unset: SQLite in dataDir. */
  ledgerUrl?: string;
  adminToken: string;
  retentionDays: number;
  /** Requests a member may have in flight at once, unless the member has a cap of their own (CCTL_MAX_IN_FLIGHT). */
  maxInFlight: number;
  tls?: { cert: Buffer; key: Buffer };
}

export function isTeamMode(env: Env): boolean {
  return env.CCTL_GATEWAY_MODE?.trim() === 'team';
}

function readSecretFile(name: string, file: string, readFile: (path: string) => Buffer): Buffer {
  try {
    return readFile(file);
  } catch (error) {
    throw new GatewayConfigError(`${name}: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? error})`);
  }
}

export function loadTeamConfig(env: Env = process.env, readFile: (path: string) => Buffer = (p) => readFileSync(p)): TeamConfig {
  const hasKey = ['ANTHROPIC_API_KEY', 'ANTHROPIC_AUTH_TOKEN'].some((name) => env[name]?.trim() || env[`${name}_FILE`]?.trim());
  if (!hasKey || env.CCTL_AUTH_MODE?.trim() === 'login') {
    throw new GatewayConfigError(
      'Team mode holds the real key: set ANTHROPIC_API_KEY_FILE (or ANTHROPIC_AUTH_TOKEN_FILE) to a file or Docker secret; never pass it on the command line.',
    );
  }
  const dataDir = env.CCTL_DATA_DIR?.trim() || '/data';
  const direct = env.CCTL_ADMIN_TOKEN?.trim();
  const file = env.CCTL_ADMIN_TOKEN_FILE?.trim();
  if (direct && file) throw new GatewayConfigError('Set CCTL_ADMIN_TOKEN or CCTL_ADMIN_TOKEN_FILE, not both.');
  const adminToken = direct || (file ? readSecretFile('CCTL_ADMIN_TOKEN_FILE', file, readFile).toString('utf8').trim() : '');
  // The admin token guards every member's usage: refuse to start with a guessable one.
  if (adminToken.length < 16) {
    throw new GatewayConfigError(
      'Team mode needs an admin token of at least 16 characters in CCTL_ADMIN_TOKEN_FILE (cctl gateway init writes one).',
    );
  }
  const config: TeamConfig = {
    dataDir,
    ledgerPath: join(dataDir, 'ledger.db'),
    adminToken,
    retentionDays: intFromEnv(env, 'CCTL_RETENTION_DAYS', 400, 0, 100_000),
    maxInFlight: intFromEnv(env, 'CCTL_MAX_IN_FLIGHT', DEFAULT_MAX_IN_FLIGHT, 1, 100_000),
  };
  const urlDirect = env.CCTL_LEDGER_URL?.trim();
  const urlFile = env.CCTL_LEDGER_URL_FILE?.trim();
  if (urlDirect && urlFile) throw new GatewayConfigError('Set CCTL_LEDGER_URL or CCTL_LEDGER_URL_FILE, not both.');
  const ledgerUrl = urlDirect || (urlFile ? readSecretFile('CCTL_LEDGER_URL_FILE', urlFile, readFile).toString('utf8').trim() : '');
  if (ledgerUrl) {
    if (!/^postgres(?:ql)?:\/\//i.test(ledgerUrl))
      throw new GatewayConfigError('CCTL_LEDGER_URL must be a postgres:// URL (leave it unset for the SQLite ledger in CCTL_DATA_DIR).');
    config.ledgerUrl = ledgerUrl;
  }
  const certFile = env.CCTL_TLS_CERT_FILE?.trim();
  const keyFile = env.CCTL_TLS_KEY_FILE?.trim();
  if (!!certFile !== !!keyFile) throw new GatewayConfigError('TLS needs both CCTL_TLS_CERT_FILE and CCTL_TLS_KEY_FILE.');
  if (certFile && keyFile) {
    config.tls = {
      cert: readSecretFile('CCTL_TLS_CERT_FILE', certFile, readFile),
      key: readSecretFile('CCTL_TLS_KEY_FILE', keyFile, readFile),
    };
  }
  return config;
}
