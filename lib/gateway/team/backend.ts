/**
 * The ledger store as one asynchronous interface, with two implementations:
 * SQLite (a file in the gateway's volume, one gateway) and Postgres (a server
 * that several gateway replicas share). The store tests run one set of cases
 * against both (test/gateway/ledger-contract.ts), and `gateway migrate`
 * copies from one to the other through it. Rows are read from either
 * store's columns in ledger-columns.ts.
 */
import type { Spend } from './budgets.js';
import type { ReservationAsk, ReservationResult } from './reservation.js';
import { dailyOf, num, requestOf, storedMemberOf, totalsOf, TOTALS_SQL } from './ledger-columns.js';
import type { DailyRow, LedgerTotals, StoredMember } from './ledger-rows.js';
import { LedgerStore, type Budgets, type LedgerRow, type MemberRecord, type UsageQuery, type UsageRow } from './store.js';

export type { DailyRow, LedgerTotals, StoredMember } from './ledger-rows.js';

export interface LedgerBackend {
  readonly kind: 'sqlite' | 'postgres';
  /** Where it is, for messages: a path, or the server and database without the password. */
  readonly where: string;
  schemaVersion(): Promise<number>;

  addMember(name: string, tokenHash: string, budgets: Budgets, now?: number): Promise<void>;
  revokeMember(name: string, now?: number): Promise<boolean>;
  setBudgets(name: string, budgets: Budgets): Promise<boolean>;
  memberByTokenHash(tokenHash: string): Promise<MemberRecord | undefined>;
  members(): Promise<MemberRecord[]>;

  /** A batch of rows and their roll-up, in one transaction; a row naming a reservation settles it there. */
  insert(rows: readonly LedgerRow[]): Promise<void>;
  /** Admits against the in-flight cap and budgets and reserves the estimate, atomically (the rule: reservation.ts). */
  reserve(ask: ReservationAsk): Promise<ReservationResult>;
  /** Drops a reservation no row will settle. */
  release(id: number): Promise<void>;
  /** Settled spend in the UTC day and month of `time`. */
  spendOf(member: string, time: number): Promise<Spend>;
  prune(before: number): Promise<number>;
  recent(limit: number): Promise<LedgerRow[]>;
  usage(query: UsageQuery): Promise<UsageRow[]>;

  // -- for gateway migrate ----------------------------------------------------
  storedMembers(): Promise<StoredMember[]>;
  /** Request rows with id > afterId, oldest id first. */
  requestPage(afterId: number, limit: number): Promise<{ id: number; row: LedgerRow }[]>;
  dailyRows(): Promise<DailyRow[]>;
  totals(): Promise<LedgerTotals>;
  /** Writes rows exactly as given (no roll-up): the target side of a migration, in one transaction. */
  importRows(members: readonly StoredMember[], requests: readonly LedgerRow[], daily: readonly DailyRow[]): Promise<void>;

  close(): Promise<void>;
}

/** SQLite through the synchronous LedgerStore: the same calls, as promises. */
export class SqliteBackend implements LedgerBackend {
  readonly kind = 'sqlite';
  readonly store: LedgerStore;

  constructor(readonly where: string) {
    this.store = new LedgerStore(where);
  }

  async schemaVersion() {
    return num(this.store.db.prepare('PRAGMA user_version').get()?.user_version);
  }
  async addMember(name: string, tokenHash: string, budgets: Budgets, now?: number) {
    this.store.addMember(name, tokenHash, budgets, now);
  }
  async revokeMember(name: string, now?: number) {
    return this.store.revokeMember(name, now);
  }
  async setBudgets(name: string, budgets: Budgets) {
    return this.store.setBudgets(name, budgets);
  }
  async memberByTokenHash(tokenHash: string) {
    return this.store.memberByTokenHash(tokenHash);
  }
  async members() {
    return this.store.members();
  }
  async insert(rows: readonly LedgerRow[]) {
    this.store.insert(rows);
  }
  async reserve(ask: ReservationAsk) {
    return this.store.reserve(ask);
  }
  async release(id: number) {
    this.store.release(id);
  }
  async spendOf(member: string, time: number) {
    return this.store.spendOf(member, time);
  }
  async prune(before: number) {
    return this.store.prune(before);
  }
  async recent(limit: number) {
    return this.store.recent(limit);
  }
  async usage(query: UsageQuery) {
    return this.store.usage(query);
  }

  async storedMembers(): Promise<StoredMember[]> {
    return this.store.db.prepare('SELECT * FROM members ORDER BY name').all().map(storedMemberOf);
  }
  async requestPage(afterId: number, limit: number) {
    return this.store.db
      .prepare('SELECT * FROM requests WHERE id > ? ORDER BY id LIMIT ?')
      .all(afterId, limit)
      .map((r) => ({ id: num(r.id), row: requestOf(r) }));
  }
  async dailyRows(): Promise<DailyRow[]> {
    return this.store.db.prepare('SELECT * FROM daily ORDER BY day, member, project, model').all().map(dailyOf);
  }
  async totals(): Promise<LedgerTotals> {
    return totalsOf(this.store.db.prepare(TOTALS_SQL).get() ?? {});
  }
  async importRows(members: readonly StoredMember[], requests: readonly LedgerRow[], daily: readonly DailyRow[]) {
    const db = this.store.db;
    db.exec('BEGIN IMMEDIATE');
    try {
      const m =
        db.prepare(`INSERT INTO members (name, token_hash, created_at, revoked_at, daily_tokens, monthly_tokens, daily_cost, monthly_cost, max_in_flight)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`);
      for (const x of members)
        m.run(
          x.name,
          x.tokenHash,
          x.createdAt,
          x.revokedAt ?? null,
          x.dailyTokens ?? null,
          x.monthlyTokens ?? null,
          x.dailyCost ?? null,
          x.monthlyCost ?? null,
          x.maxInFlight ?? null,
        );
      const r = db.prepare(`INSERT INTO requests (time, member, project, model, status, duration_ms, input_tokens, output_tokens,
        cache_creation_tokens, cache_read_tokens, cost, error, usage_unread) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
      for (const x of requests)
        r.run(
          x.time,
          x.member,
          x.project,
          x.model,
          x.status,
          x.durationMs,
          x.inputTokens,
          x.outputTokens,
          x.cacheCreationTokens,
          x.cacheReadTokens,
          x.cost,
          x.error ?? null,
          x.usageUnread ? 1 : 0,
        );
      const d = db.prepare('INSERT INTO daily VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)');
      for (const x of daily)
        d.run(
          x.day,
          x.member,
          x.project,
          x.model,
          x.requests,
          x.errors,
          x.inputTokens,
          x.outputTokens,
          x.cacheCreationTokens,
          x.cacheReadTokens,
          x.cost,
        );
      db.exec('COMMIT');
    } catch (error) {
      db.exec('ROLLBACK');
      throw error;
    }
  }
  async close() {
    this.store.close();
  }
}
