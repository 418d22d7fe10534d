/**
 * The Postgres store's statements over arrays: one INSERT ... SELECT FROM
 * unnest(...) per table, whatever the batch size, so a batch is two prepared
 * statements and never thousands of parameters.
 */
import type { DailyRow } from './backend.js';
import type { LedgerRow } from './store.js';

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
    rows.map((d) => d.day), rows.map((d) => d.member), rows.map((d) => d.project), rows.map((d) => d.model),
    rows.map((d) => d.requests), rows.map((d) => d.errors), rows.map((d) => d.inputTokens), rows.map((d) => d.outputTokens),
    rows.map((d) => d.cacheCreationTokens), rows.map((d) => d.cacheReadTokens), rows.map((d) => d.cost),
  ];
}

export function insertRequests(tx: Sql, rows: readonly LedgerRow[]): Promise<Rows> {
  return tx.unsafe(
    `INSERT INTO requests (time, member, project, model, status, duration_ms, input_tokens, output_tokens, cache_creation_tokens, cache_read_tokens, cost, error, usage_unread)
     SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::int[], $6::float8[], $7::bigint[], $8::bigint[], $9::bigint[], $10::bigint[], $11::float8[], $12::text[], $13::int[])`,
    [
      rows.map((r) => r.time), rows.map((r) => r.member), rows.map((r) => r.project), rows.map((r) => r.model), rows.map((r) => r.status),
      rows.map((r) => r.durationMs), rows.map((r) => r.inputTokens), rows.map((r) => r.outputTokens), rows.map((r) => r.cacheCreationTokens),
      rows.map((r) => r.cacheReadTokens), rows.map((r) => r.cost), rows.map((r) => r.error ?? null), rows.map((r) => (r.usageUnread ? 1 : 0)),
    ],
    { prepare: true },
  );
}

