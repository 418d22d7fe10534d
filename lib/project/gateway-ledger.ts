/**
 * Where a team gateway keeps its ledger, and the metrics token, in its
 * folder. `--ledger sqlite` (the default) is a file in the gateway's volume;
 * `--ledger postgres://USER:PASSWORD@HOST:PORT/DB` is a server the team already
 * runs and backs up, shared by every replica. The URL holds a password, so it
 * lives in secrets/ledger-url (a Compose secret, read by CCTL_LEDGER_URL_FILE),
 * never in compose.yaml or the environment. `--ledger postgres` (no URL) adds
 * the ledger's own Postgres service to the folder's project: its password is
 * generated once into secrets/postgres-password and kept (the volume's
 * cluster was created with it), and the URL names that service.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../kernel/errors.js';
import { removeInside, writeInside } from '../kernel/fs.js';
import { POSTGRES_PASSWORD_FILE, POSTGRES_SERVICE, POSTGRES_USER } from './gateway-postgres.js';

export const LEDGER_URL_FILE = join('secrets', 'ledger-url');
export const METRICS_TOKEN_FILE = join('secrets', 'metrics-token');

export type LedgerKind = 'sqlite' | 'postgres';

/** What --ledger asked for: `service` is the folder's own Postgres (the URL is made from its password). */
export interface LedgerChoice {
  kind: LedgerKind;
  url?: string;
  service?: boolean;
}

/** --ledger: "sqlite", "postgres" (a service of its own), or a postgres:// URL with a host and a database, checked before anything is written. */
export function parseLedger(text: string | undefined): LedgerChoice | undefined {
  if (text === undefined) return undefined;
  if (text === 'sqlite') return { kind: 'sqlite' };
  if (text === 'postgres') return { kind: 'postgres', service: true };
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    url = new URL('invalid:');
  }
  if (!/^postgres(ql)?:$/.test(url.protocol) || !url.hostname || url.pathname.length < 2) {
    throw new UsageError(
      `--ledger takes "sqlite", "postgres" or a postgres:// URL with a host and a database, not "${text.replace(/:[^:@/]*@/, ':***@')}".`,
      "Examples: --ledger postgres (a Postgres service in the gateway's project), --ledger postgres://cctl:PASSWORD@db.example.com:5432/cctl (a server you run; the URL is stored in secrets/ledger-url, never in compose.yaml).",
    );
  }
  return { kind: 'postgres', url: text };
}

/** The ledger the folder has now: postgres when secrets/ledger-url holds a URL. */
export function currentLedger(dir: string): LedgerKind {
  const file = join(dir, LEDGER_URL_FILE);
  return existsSync(file) && readFileSync(file, 'utf8').trim() ? 'postgres' : 'sqlite';
}

function putSecret(dir: string, rel: string, value: string): string {
  const file = join(dir, rel);
  // 0644 inside the 0700 secrets folder, as the other secrets: the gateway (nobody) reads it through the mount. Never through a link.
  writeInside(dir, file, value, { mode: 0o644, exactMode: true });
  return file;
}

const hasSecret = (dir: string, rel: string) => existsSync(join(dir, rel)) && readFileSync(join(dir, rel), 'utf8').trim() !== '';

/** The URL the gateway reaches the folder's own Postgres service by (the service name on the project's network). */
export function serviceLedgerUrl(password: string): string {
  return `postgres://${POSTGRES_USER}:${encodeURIComponent(password)}@${POSTGRES_SERVICE}:5432/${POSTGRES_USER}`;
}

/**
 * Writes (or, for sqlite, removes) secrets/ledger-url, and a metrics token when there is none; returns the files written.
 * For the folder's own service: a password when there is none (never replaced: the cluster in the volume has it), and the URL from it.
 */
export function writeLedgerSecrets(dir: string, ledger: LedgerChoice | undefined): string[] {
  const written: string[] = [];
  if (ledger?.service) {
    if (!hasSecret(dir, POSTGRES_PASSWORD_FILE))
      written.push(putSecret(dir, POSTGRES_PASSWORD_FILE, `${randomBytes(24).toString('base64url')}\n`));
    const url = serviceLedgerUrl(readFileSync(join(dir, POSTGRES_PASSWORD_FILE), 'utf8').trim());
    if (!hasSecret(dir, LEDGER_URL_FILE) || readFileSync(join(dir, LEDGER_URL_FILE), 'utf8').trim() !== url)
      written.push(putSecret(dir, LEDGER_URL_FILE, `${url}\n`));
  } else if (ledger?.kind === 'postgres') written.push(putSecret(dir, LEDGER_URL_FILE, `${ledger.url}\n`));
  else if (ledger?.kind === 'sqlite') removeInside(dir, join(dir, LEDGER_URL_FILE));
  const metrics = join(dir, METRICS_TOKEN_FILE);
  if (!existsSync(metrics) || !readFileSync(metrics, 'utf8').trim())
    written.push(putSecret(dir, METRICS_TOKEN_FILE, `${randomBytes(32).toString('base64url')}\n`));
  return written;
}
