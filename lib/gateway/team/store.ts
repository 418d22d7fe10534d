/**
 * The ledger's tables and every SQL statement the team gateway runs. One file
 * in the data volume holds members (token hashes only), one row per API
 * request, and a daily roll-up kept in step with the rows in the same
 * transaction, so the dashboard and `cctl usage --team` read a few thousand
 * roll-up rows instead of scanning millions of requests.
 */
import { type Budgets, dayOf, type Spend } from './budgets.js';
import { type LedgerRow, type MemberRecord, USAGE_KEYS, type UsageKey, type UsageQuery, type UsageRow } from './ledger-rows.js';
import type { ReservationAsk, ReservationResult } from './reservation.js';
import { requestOf, usageRowOf } from './ledger-columns.js';
import { Reservations } from './reservation-sql.js';
import { migrateSqlite } from './schema.js';
import { openDatabase, inTransaction, type Database, type SqlValue, type Statement } from './sqlite.js';

export type { LedgerRow, MemberRecord, UsageKey, UsageQuery, UsageRow } from './ledger-rows.js';
export { USAGE_KEYS };
export { type Budgets, dayOf };

const num = (value: SqlValue | undefined): number => (typeof value === 'number' ? value : typeof value === 'bigint' ? Number(value) : 0);
const optional = (value: SqlValue | undefined): number | undefined => (value === null || value === undefined ? undefined : num(value));

export class LedgerStore {
  readonly db: Database;
  private readonly statements = new Map<string, Statement>();
  private readonly reservations = new Reservations((text) => this.sql(text));

  constructor(path: string) {
    this.db = openDatabase(path);
    migrateSqlite(this.db, path);
  }

  private sql(text: string): Statement {
    let statement = this.statements.get(text);
    if (!statement) {
      statement = this.db.prepare(text);
      this.statements.set(text, statement);
    }
    return statement;
  }

  // -- members --------------------------------------------------------------

  /** Adds a member, or gives a revoked one a new token; refuses an active name. */
  addMember(name: string, tokenHash: string, budgets: Budgets, now = Date.now()): void {
    const existing = this.sql('SELECT revoked_at FROM members WHERE name = ?').get(name);
    if (existing && existing.revoked_at === null) throw new Error(`A member named "${name}" already exists.`);
    this.sql(
      `INSERT INTO members (name, token_hash, created_at, revoked_at, daily_tokens, monthly_tokens, daily_cost, monthly_cost, max_in_flight)
       VALUES (?, ?, ?, NULL, ?, ?, ?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET token_hash = excluded.token_hash, created_at = excluded.created_at, revoked_at = NULL,
         daily_tokens = excluded.daily_tokens, monthly_tokens = excluded.monthly_tokens,
         daily_cost = excluded.daily_cost, monthly_cost = excluded.monthly_cost, max_in_flight = excluded.max_in_flight`,
    ).run(
      name,
      tokenHash,
      now,
      budgets.dailyTokens ?? null,
      budgets.monthlyTokens ?? null,
      budgets.dailyCost ?? null,
      budgets.monthlyCost ?? null,
      budgets.maxInFlight ?? null,
    );
  }

  /** Returns false when no active member has that name. */
  revokeMember(name: string, now = Date.now()): boolean {
    return num(this.sql('UPDATE members SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL').run(now, name).changes) > 0;
  }

  /** Replaces a member's budgets (undefined = no limit); false when no such member. */
  setBudgets(name: string, budgets: Budgets): boolean {
    return (
      num(
        this.sql(
          'UPDATE members SET daily_tokens = ?, monthly_tokens = ?, daily_cost = ?, monthly_cost = ?, max_in_flight = ? WHERE name = ?',
        ).run(
          budgets.dailyTokens ?? null,
          budgets.monthlyTokens ?? null,
          budgets.dailyCost ?? null,
          budgets.monthlyCost ?? null,
          budgets.maxInFlight ?? null,
          name,
        ).changes,
      ) > 0
    );
  }

  /** The active member holding this token hash, read fresh on every request so a revoke counts at once. */
  memberByTokenHash(tokenHash: string): MemberRecord | undefined {
    const row = this.sql('SELECT * FROM members WHERE token_hash = ? AND revoked_at IS NULL').get(tokenHash);
    return row ? memberOf(row) : undefined;
  }

  members(): MemberRecord[] {
    return this.sql('SELECT * FROM members ORDER BY name').all().map(memberOf);
  }

  // -- requests ---------------------------------------------------------------

  /** Writes a batch of rows and their roll-up in one transaction. */
  insert(rows: readonly LedgerRow[]): void {
    if (rows.length === 0) return;
    inTransaction(this.db, () => this.insertRows(rows));
  }

  /** The rows, inside the caller's transaction: each row settles the reservation it names. */
  private insertRows(rows: readonly LedgerRow[]): void {
    const insertRow = this.sql(
      `INSERT INTO requests (time, member, project, model, status, duration_ms, input_tokens, output_tokens,
         cache_creation_tokens, cache_read_tokens, cost, error, usage_unread) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );

    const rollUp = this.sql(
      `INSERT INTO daily VALUES (?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (day, member, project, model) DO UPDATE SET requests = requests + 1, errors = errors + excluded.errors,
         input_tokens = input_tokens + excluded.input_tokens, output_tokens = output_tokens + excluded.output_tokens,
         cache_creation_tokens = cache_creation_tokens + excluded.cache_creation_tokens,
         cache_read_tokens = cache_read_tokens + excluded.cache_read_tokens, cost = cost + excluded.cost`,
    );
    {
      for (const r of rows) {
        insertRow.run(
          r.time,
          r.member,
          r.project,
          r.model,
          r.status,
          r.durationMs,
          r.inputTokens,
          r.outputTokens,
          r.cacheCreationTokens,
          r.cacheReadTokens,
          r.cost,
          r.error ?? null,
          r.usageUnread ? 1 : 0,
        );
        if (r.reservation !== undefined) this.reservations.release(r.reservation);
        rollUp.run(
          dayOf(r.time),
          r.member,
          r.project,
          r.model,
          r.status >= 400 ? 1 : 0,
          r.inputTokens,
          r.outputTokens,
          r.cacheCreationTokens,
          r.cacheReadTokens,
          r.cost,
        );
      }
    }
  }

  /** Retention: drops request rows older than `before`; the daily totals stay. Expired reservations go too. */
  prune(before: number, now = Date.now()): number {
    this.reservations.prune(now);
    return num(this.sql('DELETE FROM requests WHERE time < ?').run(before).changes);
  }

  // -- reservations (the rule: reservation.ts) ---------------------------------

  /** Settled spend of a member in the UTC day and month of `time`, from the roll-up. */
  spendOf(member: string, time: number): Spend {
    return this.reservations.spendOf(member, time);
  }

  /** Admits a request against the member's cap and budgets and reserves its estimate, atomically. */
  reserve(ask: ReservationAsk): ReservationResult {
    return this.settleAndReserve([], ask);
  }

  /**
   * Writes finished rows (settling their reservations), then admits the next
   * request, in one transaction: two gateways (or threads) asking at once see
   * each other's reservations, a request that just ended no longer counts as
   * in flight, and a busy gateway commits once per admission.
   */
  settleAndReserve(rows: readonly LedgerRow[], ask: ReservationAsk): ReservationResult {
    return inTransaction(this.db, (): ReservationResult => {
      if (rows.length) this.insertRows(rows);
      const row = this.sql('SELECT * FROM members WHERE name = ? AND revoked_at IS NULL').get(ask.member);
      return this.reservations.admit(row ? memberOf(row) : undefined, ask);
    });
  }

  /** Drops a reservation that no row will settle (the request never got as far as a row). */
  release(id: number): void {
    this.reservations.release(id);
  }

  /** The newest rows first: metadata only, the ledger never holds prompts or replies. */
  recent(limit: number): LedgerRow[] {
    return this.sql('SELECT * FROM requests ORDER BY time DESC, id DESC LIMIT ?').all(limit).map(requestOf);
  }

  /** Totals grouped by any of day, month, member, project and model, from the roll-up. */
  usage(query: UsageQuery): UsageRow[] {
    const columns: Record<UsageKey, string> = {
      day: 'day',
      month: 'substr(day, 1, 7)',
      member: 'member',
      project: 'project',
      model: 'model',
    };
    const keys = query.by.filter((k, i) => USAGE_KEYS.includes(k) && query.by.indexOf(k) === i);
    const select = keys.map((k) => `${columns[k]} AS ${k}`);
    const where: string[] = [];
    const params: SqlValue[] = [];
    if (query.since) (where.push('day >= ?'), params.push(query.since));
    if (query.until) (where.push('day <= ?'), params.push(query.until));
    if (query.member !== undefined) (where.push('member = ?'), params.push(query.member));
    const text = `SELECT ${[
      ...select,
      'SUM(requests) AS requests',
      'SUM(errors) AS errors',
      'SUM(input_tokens) AS i',
      'SUM(output_tokens) AS o',
      'SUM(cache_creation_tokens) AS cc',
      'SUM(cache_read_tokens) AS cr',
      'SUM(cost) AS cost',
    ].join(', ')}
      FROM daily ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ${keys.length ? `GROUP BY ${keys.join(', ')} ORDER BY ${keys.join(', ')}` : ''}`;
    return this.sql(text)
      .all(...params)
      .filter((r) => r.requests !== null)
      .map((r) => usageRowOf(r, keys));
  }

  close(): void {
    this.db.close();
  }
}

function memberOf(row: Record<string, SqlValue>): MemberRecord {
  const member: MemberRecord = { name: String(row.name), createdAt: num(row.created_at) };
  const revokedAt = optional(row.revoked_at);
  if (revokedAt !== undefined) member.revokedAt = revokedAt;
  const budgets: [keyof Budgets, string][] = [
    ['dailyTokens', 'daily_tokens'],
    ['monthlyTokens', 'monthly_tokens'],
    ['dailyCost', 'daily_cost'],
    ['monthlyCost', 'monthly_cost'],
    ['maxInFlight', 'max_in_flight'],
  ];
  for (const [key, column] of budgets) {
    const value = optional(row[column]);
    if (value !== undefined) member[key] = value;
  }
  return member;
}
