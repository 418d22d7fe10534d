/**
 * The ledger store as one asynchronous interface, with two implementations:
 * SQLite (a file in the gateway's volume, one gateway) and Postgres (a server
 * that several gateway replicas share). The store tests run one set of cases
 * against both (test/gateway/ledger-contract.ts), and `gateway migrate`
 * copies from one to the other through it.
 */
import type { Spend } from './budgets.js';
import type { ReservationAsk, ReservationResult } from './reservation.js';
import { LedgerStore, type Budgets, type LedgerRow, type MemberRecord, type UsageQuery, type UsageRow } from './store.js';

/** A members row as stored, token hash included: only `gateway migrate` reads it. */
export interface StoredMember extends MemberRecord {
  tokenHash: string;
}

/** A daily roll-up row as stored: migrate copies them, as retention may have pruned the requests behind them. */
export interface DailyRow {
  day: string;
  member: string;
  project: string;
  model: string;
  requests: number;
  errors: number;
  inputTokens: number;
  outputTokens: number;
  cacheCreationTokens: number;
  cacheReadTokens: number;
  cost: number;
}

/** Row counts and column sums, compared by `gateway migrate` on both sides. */
export interface LedgerTotals {
  members: number;
  requests: number;
  dailyRows: number;
  /** Sums over the request rows. */
  requestTokens: number;
  requestCost: number;
  /** Sums over the roll-up. */
  dailyRequests: number;
  dailyTokens: number;
  dailyCost: number;
}

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

export const num = (value: unknown): number =>
  typeof value === 'number' ? value : typeof value === 'bigint' ? Number(value) : typeof value === 'string' && value !== '' ? Number(value) : 0;

/** Rounded as usage() rounds, so totals compare across stores whose sums differ in the last bits. */
export const roundCost = (cost: number): number => Math.round(cost * 1e6) / 1e6;

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
    return this.store.db.prepare('SELECT * FROM requests WHERE id > ? ORDER BY id LIMIT ?').all(afterId, limit)
      .map((r) => ({ id: num(r.id), row: requestOf(r) }));
  }
  async dailyRows(): Promise<DailyRow[]> {
    return this.store.db.prepare('SELECT * FROM daily ORDER BY day, member, project, model').all().map(dailyOf);
  }
  async totals(): Promise<LedgerTotals> {
    return totalsOf(
      this.store.db.prepare(TOTALS_SQL).get() ?? {},
    );
  }
  async importRows(members: readonly StoredMember[], requests: readonly LedgerRow[], daily: readonly DailyRow[]) {
    const db = this.store.db;
    db.exec('BEGIN IMMEDIATE');
    try {
      const m = db.prepare(`INSERT INTO members (name, token_hash, created_at, revoked_at, daily_tokens, monthly_tokens, daily_cost, monthly_cost, max_in_flight)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`);
      for (const x of members) m.run(x.name, x.tokenHash, x.createdAt, x.revokedAt ?? null, x.dailyTokens ?? null, x.monthlyTokens ?? null, x.dailyCost ?? null, x.monthlyCost ?? null, x.maxInFlight ?? null);
      const r = db.prepare(`INSERT INTO requests (time, member, project, model, status, duration_ms, input_tokens, output_tokens,
        cache_creation_tokens, cache_read_tokens, cost, error, usage_unread) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
      for (const x of requests) r.run(x.time, x.member, x.project, x.model, x.status, x.durationMs, x.inputTokens, x.outputTokens, x.cacheCreationTokens, x.cacheReadTokens, x.cost, x.error ?? null, x.usageUnread ? 1 : 0);
      const d = db.prepare('INSERT INTO daily VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)');
      for (const x of daily) d.run(x.day, x.member, x.project, x.model, x.requests, x.errors, x.inputTokens, x.outputTokens, x.cacheCreationTokens, x.cacheReadTokens, x.cost);
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

/** Counts and sums, one statement, the same text on both stores. */
export const TOTALS_SQL = `SELECT
  (SELECT COUNT(*) FROM members) AS members,
  (SELECT COUNT(*) FROM requests) AS requests,
  (SELECT COUNT(*) FROM daily) AS daily_rows,
  (SELECT COALESCE(SUM(input_tokens + output_tokens + cache_creation_tokens + cache_read_tokens), 0) FROM requests) AS request_tokens,
  (SELECT COALESCE(SUM(cost), 0) FROM requests) AS request_cost,
  (SELECT COALESCE(SUM(requests), 0) FROM daily) AS daily_requests,
  (SELECT COALESCE(SUM(input_tokens + output_tokens + cache_creation_tokens + cache_read_tokens), 0) FROM daily) AS daily_tokens,
  (SELECT COALESCE(SUM(cost), 0) FROM daily) AS daily_cost`;

export function totalsOf(r: Record<string, unknown>): LedgerTotals {
  return {
    members: num(r.members),
    requests: num(r.requests),
    dailyRows: num(r.daily_rows),
    requestTokens: num(r.request_tokens),
    requestCost: roundCost(num(r.request_cost)),
    dailyRequests: num(r.daily_requests),
    dailyTokens: num(r.daily_tokens),
    dailyCost: roundCost(num(r.daily_cost)),
  };
}

/** A requests row, from either store's column names. */
export function requestOf(r: Record<string, unknown>): LedgerRow {
  return {
    time: num(r.time),
    member: String(r.member),
    project: String(r.project),
    model: String(r.model),
    status: num(r.status),
    durationMs: num(r.duration_ms),
    inputTokens: num(r.input_tokens),
    outputTokens: num(r.output_tokens),
    cacheCreationTokens: num(r.cache_creation_tokens),
    cacheReadTokens: num(r.cache_read_tokens),
    cost: num(r.cost),
    ...(r.error === null || r.error === undefined ? {} : { error: String(r.error) }),
    ...(num(r.usage_unread) ? { usageUnread: true } : {}),
  };
}

export function dailyOf(r: Record<string, unknown>): DailyRow {
  return {
    day: String(r.day),
    member: String(r.member),
    project: String(r.project),
    model: String(r.model),
    requests: num(r.requests),
    errors: num(r.errors),
    inputTokens: num(r.input_tokens),
    outputTokens: num(r.output_tokens),
    cacheCreationTokens: num(r.cache_creation_tokens),
    cacheReadTokens: num(r.cache_read_tokens),
    cost: num(r.cost),
  };
}

/** A members row with its token hash, from either store. */
export function storedMemberOf(r: Record<string, unknown>): StoredMember {
  const member: StoredMember = { name: String(r.name), tokenHash: String(r.token_hash), createdAt: num(r.created_at) };
  if (r.revoked_at !== null && r.revoked_at !== undefined) member.revokedAt = num(r.revoked_at);
  const budgets: [keyof Budgets, string][] = [['dailyTokens', 'daily_tokens'], ['monthlyTokens', 'monthly_tokens'], ['dailyCost', 'daily_cost'], ['monthlyCost', 'monthly_cost'], ['maxInFlight', 'max_in_flight']];
  for (const [key, column] of budgets) if (r[column] !== null && r[column] !== undefined) member[key] = num(r[column]);
  return member;
}

/** The same without the hash: what the gateway and the admin API see. */
export function memberRecordOf(r: Record<string, unknown>): MemberRecord {
  const { tokenHash: _hash, ...member } = storedMemberOf(r);
  return member;
}
