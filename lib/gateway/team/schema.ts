/**
 * The ledger's schema, versioned, for both stores. Each migration is one step
 * forward, written once per dialect with the same meaning: the same tables,
 * columns and keys, so the roll-ups, retention and queries answer the same on
 * SQLite and on Postgres. A store applies the steps it is missing in one
 * transaction at open, and refuses a database whose version is newer than the
 * last step it knows: an older gateway must not write into a schema it does
 * not understand (after a rollback of the image, say).
 *
 * Where the dialects differ, Postgres follows SQLite: text compares byte-wise
 * (COLLATE "C", as SQLite's BINARY), times are milliseconds since the epoch
 * in BIGINT, costs are doubles.
 */
import { GatewayConfigError } from '../config-error.js';
import { inTransaction, type Database } from './sqlite.js';

export interface Migration {
  version: number;
  /** What the step changes, for the log. */
  summary: string;
  sqlite: string;
  postgres: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    summary: 'members, requests and the daily roll-up',
    // IF NOT EXISTS: ledgers written before versioning (user_version 0) already hold these tables.
    sqlite: `
CREATE TABLE IF NOT EXISTS members (
  name TEXT PRIMARY KEY,
  token_hash TEXT NOT NULL UNIQUE,
  created_at INTEGER NOT NULL,
  revoked_at INTEGER,
  daily_tokens INTEGER, monthly_tokens INTEGER, daily_cost REAL, monthly_cost REAL
);
CREATE TABLE IF NOT EXISTS requests (
  id INTEGER PRIMARY KEY,
  time INTEGER NOT NULL, member TEXT NOT NULL, project TEXT NOT NULL, model TEXT NOT NULL,
  status INTEGER NOT NULL, duration_ms REAL NOT NULL,
  input_tokens INTEGER NOT NULL, output_tokens INTEGER NOT NULL,
  cache_creation_tokens INTEGER NOT NULL, cache_read_tokens INTEGER NOT NULL,
  cost REAL NOT NULL, error TEXT
);
CREATE INDEX IF NOT EXISTS requests_time ON requests (time);
CREATE TABLE IF NOT EXISTS daily (
  day TEXT NOT NULL, member TEXT NOT NULL, project TEXT NOT NULL, model TEXT NOT NULL,
  requests INTEGER NOT NULL, errors INTEGER NOT NULL,
  input_tokens INTEGER NOT NULL, output_tokens INTEGER NOT NULL,
  cache_creation_tokens INTEGER NOT NULL, cache_read_tokens INTEGER NOT NULL,
  cost REAL NOT NULL,
  PRIMARY KEY (day, member, project, model)
) WITHOUT ROWID;
`,
    postgres: `
CREATE TABLE members (
  name TEXT COLLATE "C" PRIMARY KEY,
  token_hash TEXT NOT NULL UNIQUE,
  created_at BIGINT NOT NULL,
  revoked_at BIGINT,
  daily_tokens BIGINT, monthly_tokens BIGINT, daily_cost DOUBLE PRECISION, monthly_cost DOUBLE PRECISION
);
CREATE TABLE requests (
  id BIGSERIAL PRIMARY KEY,
  time BIGINT NOT NULL, member TEXT COLLATE "C" NOT NULL, project TEXT COLLATE "C" NOT NULL, model TEXT COLLATE "C" NOT NULL,
  status INTEGER NOT NULL, duration_ms DOUBLE PRECISION NOT NULL,
  input_tokens BIGINT NOT NULL, output_tokens BIGINT NOT NULL,
  cache_creation_tokens BIGINT NOT NULL, cache_read_tokens BIGINT NOT NULL,
  cost DOUBLE PRECISION NOT NULL, error TEXT
);
-- (time, id): the dashboard's newest-first page is an index scan, not a sort of every row.
CREATE INDEX requests_time ON requests (time, id);
CREATE TABLE daily (
  day TEXT COLLATE "C" NOT NULL, member TEXT COLLATE "C" NOT NULL, project TEXT COLLATE "C" NOT NULL, model TEXT COLLATE "C" NOT NULL,
  requests BIGINT NOT NULL, errors BIGINT NOT NULL,
  input_tokens BIGINT NOT NULL, output_tokens BIGINT NOT NULL,
  cache_creation_tokens BIGINT NOT NULL, cache_read_tokens BIGINT NOT NULL,
  cost DOUBLE PRECISION NOT NULL,
  PRIMARY KEY (day, member, project, model)
);
`,
  },
  {
    version: 2,
    summary: 'budget reservations, the in-flight cap per member, rows charged because their usage was unreadable',
    sqlite: `
ALTER TABLE members ADD COLUMN max_in_flight INTEGER;
ALTER TABLE requests ADD COLUMN usage_unread INTEGER NOT NULL DEFAULT 0;
CREATE INDEX IF NOT EXISTS daily_member ON daily (member, day);
CREATE TABLE IF NOT EXISTS reservations (
  id INTEGER PRIMARY KEY,
  member TEXT NOT NULL, time INTEGER NOT NULL, expires_at INTEGER NOT NULL,
  tokens INTEGER NOT NULL, cost REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS reservations_member ON reservations (member, expires_at);
`,
    postgres: `
ALTER TABLE members ADD COLUMN max_in_flight INTEGER;
ALTER TABLE requests ADD COLUMN usage_unread INTEGER NOT NULL DEFAULT 0;
CREATE INDEX daily_member ON daily (member, day);
CREATE TABLE reservations (
  id BIGSERIAL PRIMARY KEY,
  member TEXT COLLATE "C" NOT NULL, time BIGINT NOT NULL, expires_at BIGINT NOT NULL,
  tokens BIGINT NOT NULL, cost DOUBLE PRECISION NOT NULL
);
CREATE INDEX reservations_member ON reservations (member, expires_at);
`,
  },
  {
    version: 3,
    summary: 'cctl_reserve(): a reservation in one round trip (Postgres; nothing changes in SQLite)',
    // SQLite takes reservations in-process (reservation-sql.ts): the step only keeps the versions in step.
    sqlite: `SELECT 1;`,
    // The rule of reservation.ts and budgets.ts, as reservation-sql.ts runs it, in one statement: the member's row
    // locked (by name and, when given, by token hash, so a cached lookup of a revoked or replaced token is refused),
    // the live reservations counted and summed, the settled spend read when a budget is set, and the reservation
    // inserted only when the cap and every budget allow it: for each limit, spent + held < allowed. It answers with
    // the member's row and the figures, so the gateway words a refusal with checkBudgets(); no row: no such member.
    postgres: `
CREATE FUNCTION cctl_reserve(p_member TEXT, p_token_hash TEXT, p_time BIGINT, p_expires BIGINT, p_tokens BIGINT,
  p_cost DOUBLE PRECISION, p_default_cap INTEGER, p_day TEXT, p_month_start TEXT)
RETURNS TABLE (name TEXT, created_at BIGINT, revoked_at BIGINT, daily_tokens BIGINT, monthly_tokens BIGINT,
  daily_cost DOUBLE PRECISION, monthly_cost DOUBLE PRECISION, max_in_flight INTEGER,
  held_n BIGINT, held_t BIGINT, held_c DOUBLE PRECISION, dt BIGINT, dc DOUBLE PRECISION, mt BIGINT, mc DOUBLE PRECISION, id BIGINT)
LANGUAGE plpgsql AS $fn$
#variable_conflict use_column
DECLARE
  m members%ROWTYPE;
  v_hn BIGINT; v_ht BIGINT; v_hc DOUBLE PRECISION;
  v_dt BIGINT := 0; v_dc DOUBLE PRECISION := 0; v_mt BIGINT := 0; v_mc DOUBLE PRECISION := 0;
  v_id BIGINT;
BEGIN
  SELECT * INTO m FROM members
    WHERE members.name = p_member AND members.revoked_at IS NULL AND (p_token_hash IS NULL OR members.token_hash = p_token_hash)
    FOR UPDATE;
  IF NOT FOUND THEN RETURN; END IF;
  SELECT COUNT(*), COALESCE(SUM(r.tokens), 0), COALESCE(SUM(r.cost), 0) INTO v_hn, v_ht, v_hc
    FROM reservations r WHERE r.member = p_member AND r.expires_at > p_time;
  IF m.daily_tokens IS NOT NULL OR m.monthly_tokens IS NOT NULL OR m.daily_cost IS NOT NULL OR m.monthly_cost IS NOT NULL THEN
    SELECT
      COALESCE(SUM(CASE WHEN d.day = p_day THEN d.input_tokens + d.output_tokens + d.cache_creation_tokens + d.cache_read_tokens END), 0),
      COALESCE(SUM(CASE WHEN d.day = p_day THEN d.cost END), 0),
      COALESCE(SUM(d.input_tokens + d.output_tokens + d.cache_creation_tokens + d.cache_read_tokens), 0),
      COALESCE(SUM(d.cost), 0)
      INTO v_dt, v_dc, v_mt, v_mc
      FROM daily d WHERE d.member = p_member AND d.day >= p_month_start AND d.day <= p_day;
  END IF;
  IF v_hn < COALESCE(m.max_in_flight, p_default_cap)
    AND (m.daily_tokens IS NULL OR v_dt + v_ht < m.daily_tokens)
    AND (m.daily_cost IS NULL OR v_dc + v_hc < m.daily_cost)
    AND (m.monthly_tokens IS NULL OR v_mt + v_ht < m.monthly_tokens)
    AND (m.monthly_cost IS NULL OR v_mc + v_hc < m.monthly_cost) THEN
    INSERT INTO reservations (member, time, expires_at, tokens, cost) VALUES (p_member, p_time, p_expires, p_tokens, p_cost)
      RETURNING reservations.id INTO v_id;
  END IF;
  RETURN QUERY SELECT m.name, m.created_at, m.revoked_at, m.daily_tokens, m.monthly_tokens, m.daily_cost, m.monthly_cost,
    m.max_in_flight, v_hn, v_ht, v_hc, v_dt, v_dc, v_mt, v_mc, v_id;
END
$fn$;
`,
  },
];

/** The newest schema this gateway knows. */
export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

/** The steps a database at `version` is missing; throws when it is newer than this gateway. */
export function pendingMigrations(version: number, where: string): readonly Migration[] {
  if (version > SCHEMA_VERSION) {
    throw new GatewayConfigError(
      `The ledger at ${where} has schema version ${version}, newer than this gateway knows (${SCHEMA_VERSION}): a newer cctl wrote it. ` +
        'Run the gateway image that matches it (cctl gateway up with the newer cctl); this one will not write into a schema it does not understand.',
    );
  }
  return MIGRATIONS.filter((m) => m.version > version);
}

/**
 * Brings the file to SCHEMA_VERSION (PRAGMA user_version holds its version),
 * inside one write transaction, so two processes opening a new ledger at once
 * apply each step once; refuses a file from a newer gateway.
 */
export function migrateSqlite(db: Database, path: string): number {
  const versionOf = () => Number(db.prepare('PRAGMA user_version').get()?.user_version ?? 0);
  // Most opens find the file current: no write lock for them.
  if (versionOf() === SCHEMA_VERSION) return SCHEMA_VERSION;
  return inTransaction(db, () => {
    for (const step of pendingMigrations(versionOf(), path)) {
      db.exec(step.sqlite);
      db.exec(`PRAGMA user_version = ${step.version}`);
    }
    return versionOf();
  });
}
