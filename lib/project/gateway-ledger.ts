/**
 * Where a team gateway keeps its ledger, and the metrics token, in its
 * folder. `--ledger sqlite` (the default) is a file in the gateway's volume;
 * `--ledger postgres://USER:PASSWORD@HOST:PORT/DB` is a server the team already
 * runs and backs up, shared by every replica. The URL holds a password, so it
 * lives in secrets/ledger-url (a Compose secret, read by CCTL_LEDGER_URL_FILE),
 * never in compose.yaml or the environment.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../kernel/errors.js';
import { writeFileAtomic } from '../kernel/fs.js';

export const LEDGER_URL_FILE = join('secrets', 'ledger-url');
export const METRICS_TOKEN_FILE = join('secrets', 'metrics-token');

export type LedgerKind = 'sqlite' | 'postgres';

/** --ledger: "sqlite", or a postgres:// URL with a host and a database, checked before anything is written. */
export function parseLedger(text: string | undefined): { kind: LedgerKind; url?: string } | undefined {
  if (text === undefined) return undefined;
  if (text === 'sqlite') return { kind: 'sqlite' };
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    url = new URL('invalid:');
  }
  if (!/^postgres(ql)?:$/.test(url.protocol) || !url.hostname || url.pathname.length < 2) {
    throw new UsageError(`--ledger takes "sqlite" or a postgres:// URL with a host and a database, not "${text.replace(/:[^:@/]*@/, ':***@')}".`,
      'Example: --ledger postgres://cctl:PASSWORD@db.example.com:5432/cctl (the URL is stored in secrets/ledger-url, never in compose.yaml).');
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
  writeFileAtomic(file, value, 0o644);
  // 0644 inside the 0700 secrets folder, as the other secrets: the gateway (nobody) reads it through the mount.
  chmodSync(file, 0o644);
  return file;
}

/** Writes (or, for sqlite, removes) secrets/ledger-url, and a metrics token when there is none; returns the files written. */
export function writeLedgerSecrets(dir: string, ledger: { kind: LedgerKind; url?: string } | undefined): string[] {
  const written: string[] = [];
  if (ledger?.kind === 'postgres') written.push(putSecret(dir, LEDGER_URL_FILE, `${ledger.url}\n`));
  else if (ledger?.kind === 'sqlite') rmSync(join(dir, LEDGER_URL_FILE), { force: true });
  const metrics = join(dir, METRICS_TOKEN_FILE);
  if (!existsSync(metrics) || !readFileSync(metrics, 'utf8').trim()) written.push(putSecret(dir, METRICS_TOKEN_FILE, `${randomBytes(32).toString('base64url')}\n`));
  return written;
}
