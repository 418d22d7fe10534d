/**
 * Node's built-in SQLite (`node:sqlite`, unflagged since Node 22.13), loaded
 * through require so that this package still compiles against Node 20's type
 * definitions, which do not know the module. Only the few calls the ledger
 * uses are typed here.
 */
import { createRequire } from 'node:module';

export type SqlValue = null | number | bigint | string | Uint8Array;

export interface Statement {
  run(...params: SqlValue[]): { changes: number | bigint; lastInsertRowid: number | bigint };
  get(...params: SqlValue[]): Record<string, SqlValue> | undefined;
  all(...params: SqlValue[]): Record<string, SqlValue>[];
}

export interface Database {
  exec(sql: string): void;
  prepare(sql: string): Statement;
  close(): void;
}

interface SqliteModule {
  DatabaseSync: new (path: string, options?: { readOnly?: boolean }) => Database;
}

let loaded: SqliteModule | undefined;

/** Opens (creating when missing) the database file; a clear error on a Node without node:sqlite. */
export function openDatabase(path: string): Database {
  if (!loaded) {
    try {
      loaded = createRequire(import.meta.url)('node:sqlite') as SqliteModule;
    } catch {
      throw new Error(`The team gateway's ledger needs node:sqlite (Node 22.13 or later); this is Node ${process.version}.`);
    }
  }
  const db = new loaded.DatabaseSync(path);
  // WAL lets the request path read members while the writer commits, and a
  // busy timeout covers the CLI (member add) writing from another process.
  // The busy timeout comes first: switching a new file to WAL takes a lock
  // that the gateway's other connections, opening at the same moment, wait for.
  db.exec('PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;');
  return db;
}

/** Runs `work` in one transaction: one commit for a whole batch of rows. */
export function inTransaction<T>(db: Database, work: () => T): T {
  db.exec('BEGIN IMMEDIATE');
  try {
    const result = work();
    db.exec('COMMIT');
    return result;
  } catch (error) {
    db.exec('ROLLBACK');
    throw error;
  }
}
