/**
 * The Postgres driver (`postgres`, porsager/postgres), loaded by name at run
 * time from the team gateway's image, and what the store does on connect:
 * its schema brought up to date. Also how a ledger URL is told apart and
 * shown without its password.
 */
import { GatewayConfigError } from '../config-error.js';
import { num } from './ledger-columns.js';
import type { Sql } from './postgres-sql.js';
import { pendingMigrations } from './schema.js';

type Connect = (url: string, options: Record<string, unknown>) => Sql;

let driver: Connect | undefined;

export async function loadDriver(): Promise<Connect> {
  if (driver) return driver;
  // A variable, not a literal: the gateway package compiles without node_modules.
  const name = 'postgres';
  try {
    driver = ((await import(name)) as { default: Connect }).default;
  } catch (error) {
    throw new GatewayConfigError(
      `The Postgres ledger needs the "postgres" driver, which the team gateway's image carries (gateway/node_modules/postgres): ${(error as Error).message}. Rebuild the image with "cctl gateway up --build".`,
    );
  }
  return driver;
}

/** postgres://user:PASSWORD@host:port/db → postgres://user@host:port/db, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.password = '';
    return parsed.toString();
  } catch {
    return '(an unparsable ledger URL)';
  }
}

export function isPostgresUrl(url: string): boolean {
  return /^postgres(?:ql)?:\/\//i.test(url);
}

export interface PostgresOptions {
  /** Connections in the pool. */
  max?: number;
  /** How long to keep trying to reach the server at start (a replica may start before the database). */
  connectWithinMs?: number;
  log?: (message: string) => void;
}

/**
 * Applies the missing steps in one transaction, under an advisory lock, so
 * replicas that start together migrate once and the others wait for it.
 */
export async function migrateSchema(sql: Sql, where: string): Promise<void> {
  await sql.begin(async (tx) => {
    await tx.unsafe("SELECT pg_advisory_xact_lock(hashtext('cctl-ledger-schema'))");
    await tx.unsafe(
      'CREATE TABLE IF NOT EXISTS cctl_schema (version INTEGER PRIMARY KEY, summary TEXT NOT NULL, applied_at BIGINT NOT NULL)',
    );
    const [row] = await tx.unsafe('SELECT COALESCE(MAX(version), 0) AS v FROM cctl_schema');
    for (const step of pendingMigrations(num(row?.v), where)) {
      await tx.unsafe(step.postgres);
      await tx.unsafe('INSERT INTO cctl_schema VALUES ($1, $2, $3)', [step.version, step.summary, Date.now()]);
    }
  });
}
