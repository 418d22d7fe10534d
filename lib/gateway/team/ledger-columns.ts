/**
 * The ledger's rows read from either store's columns (SQLite's numbers,
 * Postgres's BIGINT strings), and the totals statement both run, the same
 * text on both.
 */
import type { Budgets } from './budgets.js';
import type { DailyRow, LedgerRow, LedgerTotals, MemberRecord, StoredMember, UsageKey, UsageRow } from './ledger-rows.js';

export const num = (value: unknown): number =>
  typeof value === 'number'
    ? value
    : typeof value === 'bigint'
      ? Number(value)
      : typeof value === 'string' && value !== ''
        ? Number(value)
        : 0;

/** Rounded as usage() rounds, so totals compare across stores whose sums differ in the last bits. */
export const roundCost = (cost: number): number => Math.round(cost * 1e6) / 1e6;

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
  const budgets: [keyof Budgets, string][] = [
    ['dailyTokens', 'daily_tokens'],
    ['monthlyTokens', 'monthly_tokens'],
    ['dailyCost', 'daily_cost'],
    ['monthlyCost', 'monthly_cost'],
    ['maxInFlight', 'max_in_flight'],
  ];
  for (const [key, column] of budgets) if (r[column] !== null && r[column] !== undefined) member[key] = num(r[column]);
  return member;
}

/** The same without the hash: what the gateway and the admin API see. */
export function memberRecordOf(r: Record<string, unknown>): MemberRecord {
  const { tokenHash: _hash, ...member } = storedMemberOf(r);
  return member;
}

/** A usage() row from either store's sums (aliases i, o, cc, cr, cost), with the grouping keys' values. */
export function usageRowOf(r: Record<string, unknown>, keys: readonly UsageKey[]): UsageRow {
  const row: UsageRow = {
    requests: num(r.requests),
    errors: num(r.errors),
    inputTokens: num(r.i),
    outputTokens: num(r.o),
    cacheCreationTokens: num(r.cc),
    cacheReadTokens: num(r.cr),
    totalTokens: num(r.i) + num(r.o) + num(r.cc) + num(r.cr),
    cost: roundCost(num(r.cost)),
  };
  for (const k of keys) row[k] = String(r[k]);
  return row;
}
