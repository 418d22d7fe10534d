/**
 * Opens the ledger store a gateway or a tool is pointed at: a postgres:// URL
 * opens the Postgres store (loading its driver only then), anything else is a
 * SQLite file path.
 */
import { SqliteBackend, type LedgerBackend } from './backend.js';
import { isPostgresUrl, PostgresBackend, type PostgresOptions } from './postgres.js';

export async function openBackend(target: string, options: PostgresOptions = {}): Promise<LedgerBackend> {
  return isPostgresUrl(target) ? PostgresBackend.open(target, options) : new SqliteBackend(target);
}
