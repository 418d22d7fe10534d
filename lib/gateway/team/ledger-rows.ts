/**
 * What the ledger holds and answers, the same on SQLite (store.ts) and
 * Postgres (postgres.ts): a request's row, a member, and the usage query
 * with its rows; and, for `gateway migrate`, the rows as stored and the
 * totals both sides must agree on.
 */
import type { Budgets } from './budgets.js';

export interface LedgerRow {
  /** Milliseconds since the epoch. */
  time: number;
  member: string;
  project: string;
  model: string;
  status: number;
  durationMs: number;
  inputTokens: number;
  outputTokens: number;
  cacheCreationTokens: number;
  cacheReadTokens: number;
  /** Estimated, in US dollars. */
  cost: number;
  error?: string;
  /** The reply's usage could not be read, so the row charges the request's maximum (the reservation's estimate). */
  usageUnread?: boolean;
  /** The reservation this row settles: deleted in the transaction that inserts the row. */
  reservation?: number;
}

export interface MemberRecord extends Budgets {
  name: string;
  createdAt: number;
  revokedAt?: number;
}

export type UsageKey = 'day' | 'month' | 'member' | 'project' | 'model';
export const USAGE_KEYS: readonly UsageKey[] = ['day', 'month', 'member', 'project', 'model'];

export interface UsageQuery {
  by: UsageKey[];
  /** Inclusive UTC days, YYYY-MM-DD. */
  since?: string;
  until?: string;
  /** One member's rows only (one member's month: the roll-up's (member, day) index). */
  member?: string;
}

export type UsageRow = Partial<Record<UsageKey, string>> & {
  requests: number;
  errors: number;
  inputTokens: number;
  outputTokens: number;
  cacheCreationTokens: number;
  cacheReadTokens: number;
  totalTokens: number;
  cost: number;
};

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
