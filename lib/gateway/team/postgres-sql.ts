/**
 * The Postgres store's statements over arrays: one INSERT ... SELECT FROM
 * unnest(...) per table, whatever the batch size, so a batch is two prepared
 * statements and never thousands of parameters; the roll-up a batch adds,
 * and the usage query over it.
 */
import { num, usageRowOf } from './ledger-columns.js';
import type { DailyRow } from './ledger-rows.js';
import { dayOf } from './budgets.js';
import { USAGE_KEYS, type LedgerRow, type UsageKey, type UsageQuery, type UsageRow } from './ledger-rows.js';

export type Rows = Record<string, unknown>[] & { count: number };

/** The part of the driver's API the store uses. */
export interface Sql {
  unsafe(query: string, params?: unknown[], options?: { prepare?: boolean }): Promise<Rows>;
  begin<T>(work: (sql: Sql) => Promise<T>): Promise<T>;
  end(options?: { timeout?: number }): Promise<void>;
}
export const DAILY_UNNEST = `(day, member, project, model, requests, errors, input_tokens, output_tokens, cache_creation_tokens, cache_read_tokens, cost)
  SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::bigint[], $7::bigint[], $8::bigint[], $9::bigint[], $10::bigint[], $11::float8[])`;

export function dailyColumns(rows: readonly DailyRow[]): unknown[] {
  return [
    rows.map((d) => d.day),
    rows.map((d) => d.member),
    rows.map((d) => d.project),
    rows.map((d) => d.model),
    rows.map((d) => d.requests),
    rows.map((d) => d.errors),
    rows.map((d) => d.inputTokens),
    rows.map((d) => d.outputTokens),
    rows.map((d) => d.cacheCreationTokens),
    rows.map((d) => d.cacheReadTokens),
    rows.map((d) => d.cost),
  ];
}

const REQUESTS_UNNEST = `(time, member, project, model, status, duration_ms, input_tokens, output_tokens, cache_creation_tokens, cache_read_tokens, cost, error, usage_unread)
  SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::int[], $6::float8[], $7::bigint[], $8::bigint[], $9::bigint[], $10::bigint[], $11::float8[], $12::text[], $13::int[])`;

function requestColumns(rows: readonly LedgerRow[]): unknown[] {
  return [
    rows.map((r) => r.time),
    rows.map((r) => r.member),
    rows.map((r) => r.project),
    rows.map((r) => r.model),
    rows.map((r) => r.status),
    rows.map((r) => r.durationMs),
    rows.map((r) => r.inputTokens),
    rows.map((r) => r.outputTokens),
    rows.map((r) => r.cacheCreationTokens),
    rows.map((r) => r.cacheReadTokens),
    rows.map((r) => r.cost),
    rows.map((r) => r.error ?? null),
    rows.map((r) => (r.usageUnread ? 1 : 0)),
  ];
}

export function insertRequests(tx: Sql, rows: readonly LedgerRow[]): Promise<Rows> {
  return tx.unsafe(`INSERT INTO requests ${REQUESTS_UNNEST}`, requestColumns(rows), { prepare: true });
}

/** $1, $2, ... of a statement's text, renumbered from $(1 + by). */
const shifted = (text: string, by: number) => text.replace(/\$(\d+)/g, (_, n: string) => `$${Number(n) + by}`);

const BATCH_SQL = `WITH inserted AS (INSERT INTO requests ${REQUESTS_UNNEST}),
  settled AS (DELETE FROM reservations WHERE id = ANY($14::bigint[]))
INSERT INTO daily ${shifted(DAILY_UNNEST, 14)}
ON CONFLICT (day, member, project, model) DO UPDATE SET requests = daily.requests + excluded.requests,
  errors = daily.errors + excluded.errors, input_tokens = daily.input_tokens + excluded.input_tokens,
  output_tokens = daily.output_tokens + excluded.output_tokens,
  cache_creation_tokens = daily.cache_creation_tokens + excluded.cache_creation_tokens,
  cache_read_tokens = daily.cache_read_tokens + excluded.cache_read_tokens, cost = daily.cost + excluded.cost`;

/**
 * A batch of rows in one statement, so one round trip, and atomic as every
 * statement is: the rows, the reservations they settle deleted, their
 * roll-up added to the daily totals. The roll-up is summed here first and
 * written in key order (dailySums), so two replicas committing at once lock
 * the same daily rows in the same order and never deadlock.
 */
export function insertBatch(sql: Sql, rows: readonly LedgerRow[]): Promise<Rows> {
  const settled = rows.flatMap((r) => (r.reservation === undefined ? [] : [r.reservation]));
  return sql.unsafe(BATCH_SQL, [...requestColumns(rows), settled, ...dailyColumns(dailySums(rows))], { prepare: true });
}

/**
 * A batch's roll-up, summed here first and in key order, so two replicas
 * committing at once lock the same daily rows in the same order.
 */
export function dailySums(rows: readonly LedgerRow[]): DailyRow[] {
  const daily = new Map<string, DailyRow>();
  for (const r of rows) {
    const d = { day: dayOf(r.time), member: r.member, project: r.project, model: r.model };
    const key = JSON.stringify([d.day, d.member, d.project, d.model]);
    const sum = daily.get(key) ?? {
      ...d,
      requests: 0,
      errors: 0,
      inputTokens: 0,
      outputTokens: 0,
      cacheCreationTokens: 0,
      cacheReadTokens: 0,
      cost: 0,
    };
    sum.requests += 1;
    sum.errors += r.status >= 400 ? 1 : 0;
    sum.inputTokens += r.inputTokens;
    sum.outputTokens += r.outputTokens;
    sum.cacheCreationTokens += r.cacheCreationTokens;
    sum.cacheReadTokens += r.cacheReadTokens;
    sum.cost += r.cost;
    daily.set(key, sum);
  }
  return [...daily.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, d]) => d);
}

const p = (params: unknown[], value: unknown) => `$${params.push(value)}`;
const USAGE_COLUMNS: Record<UsageKey, string> = {
  day: 'day',
  month: 'substr(day, 1, 7)',
  member: 'member',
  project: 'project',
  model: 'model',
};

export async function usageOf(sql: Sql, query: UsageQuery): Promise<UsageRow[]> {
  const keys = query.by.filter((k, i) => USAGE_KEYS.includes(k) && query.by.indexOf(k) === i);
  const params: unknown[] = [];
  const where: string[] = [];
  if (query.since) where.push(`day >= ${p(params, query.since)}`);
  if (query.until) where.push(`day <= ${p(params, query.until)}`);
  if (query.member !== undefined) where.push(`member = ${p(params, query.member)}`);
  const text = `SELECT ${[
    ...keys.map((k) => `${USAGE_COLUMNS[k]} AS ${k}`),
    'SUM(requests) AS requests',
    'SUM(errors) AS errors',
    'SUM(input_tokens) AS i',
    'SUM(output_tokens) AS o',
    'SUM(cache_creation_tokens) AS cc',
    'SUM(cache_read_tokens) AS cr',
    'SUM(cost) AS cost',
  ].join(', ')}
    FROM daily ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
    ${keys.length ? `GROUP BY ${keys.map((k) => USAGE_COLUMNS[k]).join(', ')} ORDER BY ${keys.map((k) => USAGE_COLUMNS[k]).join(', ')}` : ''}`;
  return (await sql.unsafe(text, params)).filter((r) => r.requests !== null).map((r) => usageRowOf(r, keys));
}
