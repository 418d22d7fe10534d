/**
 * The ledger in Postgres, for a gateway that runs as several replicas or
 * whose team already runs and backs up a database. The same tables and
 * meanings as the SQLite file (schema.ts), so the roll-ups, retention and the
 * admin API's answers are the same.
 *
 * The driver is `postgres` (porsager/postgres): pure JavaScript with no
 * dependencies of its own, so the team gateway's image carries it as one
 * folder copied from cctl's own install, without an npm install at build
 * time. This package stays builtins-only at compile time: the driver is
 * loaded by name at run time (postgres-driver.ts) and typed by the few calls
 * the store makes (postgres-sql.ts).
 * The local gateway never loads this module.
 */
import { GatewayConfigError } from '../config-error.js';
import type { LedgerBackend } from './backend.js';
import { dailyOf, memberRecordOf, num, requestOf, storedMemberOf, totalsOf, TOTALS_SQL } from './ledger-columns.js';
import type { DailyRow, LedgerTotals, StoredMember } from './ledger-rows.js';
import { loadDriver, migrateSchema, redactUrl, type PostgresOptions } from './postgres-driver.js';
import { reserve, release, spendOf } from './postgres-reserve.js';
import { DAILY_UNNEST, dailyColumns, insertBatch, insertRequests, usageOf, type Rows, type Sql } from './postgres-sql.js';
import type { ReservationAsk, ReservationResult } from './reservation.js';
import type { Spend } from './budgets.js';
import type { Budgets, LedgerRow, MemberRecord, UsageQuery, UsageRow } from './store.js';

export { isPostgresUrl, redactUrl, type PostgresOptions } from './postgres-driver.js';

export class PostgresBackend implements LedgerBackend {
  readonly kind = 'postgres';
  readonly where: string;

  private constructor(
    private readonly sql: Sql,
    url: string,
  ) {
    this.where = redactUrl(url);
  }

  /** Connects (retrying until connectWithinMs), migrates to SCHEMA_VERSION, or refuses a newer schema. */
  static async open(url: string, options: PostgresOptions = {}): Promise<PostgresBackend> {
    const connect = await loadDriver();
    const sql = connect(url, {
      max: options.max ?? 10,
      // Idle connections go, so a quiet gateway holds none; a new one costs a few ms.
      idle_timeout: 60,
      connect_timeout: 10,
      onnotice: () => {},
      // BIGINT columns come back as strings; num() reads them.
    });
    const backend = new PostgresBackend(sql, url);
    const deadline = Date.now() + (options.connectWithinMs ?? 0);
    for (let attempt = 1; ; attempt++) {
      try {
        await backend.migrate();
        return backend;
      } catch (error) {
        if (error instanceof GatewayConfigError || Date.now() >= deadline) {
          await sql.end({ timeout: 1 }).catch(() => {});
          if (error instanceof GatewayConfigError) throw error;
          throw new GatewayConfigError(`Cannot open the Postgres ledger at ${backend.where}: ${(error as Error).message}`);
        }
        options.log?.(
          `the Postgres ledger at ${backend.where} is not reachable yet (attempt ${attempt}: ${(error as Error).message}); trying again`,
        );
        await new Promise((r) => setTimeout(r, Math.min(2000, 200 * attempt)));
      }
    }
  }

  /** See migrateSchema: once per replica start, under an advisory lock. */
  private migrate(): Promise<void> {
    return migrateSchema(this.sql, this.where);
  }

  async schemaVersion(): Promise<number> {
    const [row] = await this.sql.unsafe('SELECT COALESCE(MAX(version), 0) AS v FROM cctl_schema');
    return num(row?.v);
  }

  // -- members ----------------------------------------------------------------

  async addMember(name: string, tokenHash: string, budgets: Budgets, now = Date.now()): Promise<void> {
    // One statement: a revoked name is given a new token, an active one is left alone (count 0).
    const result = await this.sql.unsafe(
      `INSERT INTO members (name, token_hash, created_at, revoked_at, daily_tokens, monthly_tokens, daily_cost, monthly_cost, max_in_flight)
       VALUES ($1, $2, $3, NULL, $4, $5, $6, $7, $8)
       ON CONFLICT (name) DO UPDATE SET token_hash = excluded.token_hash, created_at = excluded.created_at, revoked_at = NULL,
         daily_tokens = excluded.daily_tokens, monthly_tokens = excluded.monthly_tokens,
         daily_cost = excluded.daily_cost, monthly_cost = excluded.monthly_cost, max_in_flight = excluded.max_in_flight
       WHERE members.revoked_at IS NOT NULL`,
      [
        name,
        tokenHash,
        now,
        budgets.dailyTokens ?? null,
        budgets.monthlyTokens ?? null,
        budgets.dailyCost ?? null,
        budgets.monthlyCost ?? null,
        budgets.maxInFlight ?? null,
      ],
    );
    if (result.count === 0) throw new Error(`A member named "${name}" already exists.`);
  }

  async revokeMember(name: string, now = Date.now()): Promise<boolean> {
    return (await this.sql.unsafe('UPDATE members SET revoked_at = $1 WHERE name = $2 AND revoked_at IS NULL', [now, name])).count > 0;
  }

  async setBudgets(name: string, budgets: Budgets): Promise<boolean> {
    const result = await this.sql.unsafe(
      'UPDATE members SET daily_tokens = $1, monthly_tokens = $2, daily_cost = $3, monthly_cost = $4, max_in_flight = $5 WHERE name = $6',
      [
        budgets.dailyTokens ?? null,
        budgets.monthlyTokens ?? null,
        budgets.dailyCost ?? null,
        budgets.monthlyCost ?? null,
        budgets.maxInFlight ?? null,
        name,
      ],
    );
    return result.count > 0;
  }

  async memberByTokenHash(tokenHash: string): Promise<MemberRecord | undefined> {
    const [row] = await this.sql.unsafe('SELECT * FROM members WHERE token_hash = $1 AND revoked_at IS NULL', [tokenHash], {
      prepare: true,
    });
    return row ? memberRecordOf(row) : undefined;
  }

  async members(): Promise<MemberRecord[]> {
    return (await this.sql.unsafe('SELECT * FROM members ORDER BY name')).map(memberRecordOf);
  }

  // -- requests -----------------------------------------------------------------

  /** The rows, their settled reservations and their roll-up: one statement (postgres-sql.ts insertBatch). */
  async insert(rows: readonly LedgerRow[]): Promise<void> {
    if (rows.length === 0) return;
    await insertBatch(this.sql, rows);
  }

  reserve(ask: ReservationAsk): Promise<ReservationResult> {
    return reserve(this.sql, ask);
  }
  release(id: number): Promise<void> {
    return release(this.sql, id);
  }
  spendOf(member: string, time: number): Promise<Spend> {
    return spendOf(this.sql, member, time);
  }

  /** Retention; reservations past their expiry (a gateway died mid-request) go too. */
  async prune(before: number, now = Date.now()): Promise<number> {
    await this.sql.unsafe('DELETE FROM reservations WHERE expires_at <= $1', [now]);
    return (await this.sql.unsafe('DELETE FROM requests WHERE time < $1', [before])).count;
  }

  async recent(limit: number): Promise<LedgerRow[]> {
    return (await this.sql.unsafe('SELECT * FROM requests ORDER BY time DESC, id DESC LIMIT $1', [limit], { prepare: true })).map(
      requestOf,
    );
  }

  usage(query: UsageQuery): Promise<UsageRow[]> {
    return usageOf(this.sql, query);
  }

  // -- for gateway migrate --------------------------------------------------------

  async storedMembers(): Promise<StoredMember[]> {
    return (await this.sql.unsafe('SELECT * FROM members ORDER BY name')).map(storedMemberOf);
  }
  async requestPage(afterId: number, limit: number) {
    return (await this.sql.unsafe('SELECT * FROM requests WHERE id > $1 ORDER BY id LIMIT $2', [afterId, limit])).map((r) => ({
      id: num(r.id),
      row: requestOf(r),
    }));
  }
  async dailyRows(): Promise<DailyRow[]> {
    return (await this.sql.unsafe('SELECT * FROM daily ORDER BY day, member, project, model')).map(dailyOf);
  }
  async totals(): Promise<LedgerTotals> {
    const [row] = await this.sql.unsafe(TOTALS_SQL);
    return totalsOf(row ?? {});
  }
  async importRows(members: readonly StoredMember[], requests: readonly LedgerRow[], daily: readonly DailyRow[]): Promise<void> {
    await this.sql.begin(async (tx) => {
      for (const m of members) {
        await tx.unsafe(
          `INSERT INTO members (name, token_hash, created_at, revoked_at, daily_tokens, monthly_tokens, daily_cost, monthly_cost, max_in_flight)
          VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
          [
            m.name,
            m.tokenHash,
            m.createdAt,
            m.revokedAt ?? null,
            m.dailyTokens ?? null,
            m.monthlyTokens ?? null,
            m.dailyCost ?? null,
            m.monthlyCost ?? null,
            m.maxInFlight ?? null,
          ],
        );
      }
      if (requests.length) await insertRequests(tx, requests);
      if (daily.length) await tx.unsafe(`INSERT INTO daily ${DAILY_UNNEST}`, dailyColumns(daily));
    });
  }

  /** Runs statements of its own (the tests' stand-ins for another replica, the bench). */
  raw(query: string, params: unknown[] = []): Promise<Rows> {
    return this.sql.unsafe(query, params);
  }

  async close(): Promise<void> {
    await this.sql.end({ timeout: 5 });
  }
}
