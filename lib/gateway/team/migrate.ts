/**
 * `cctl gateway migrate --from sqlite`, inside the gateway's container: copies
 * the SQLite ledger left in the gateway's volume into the Postgres ledger the
 * gateway now uses, then checks the copy. Members (token hashes and budgets,
 * revoked ones too) and the daily roll-up go first, in one transaction; the
 * request rows follow in blocks, oldest first. The roll-up is copied as it
 * is, not rebuilt from the requests: retention may have pruned the requests
 * behind it. Live reservations are not copied (they last one request).
 *
 * The target must be empty: a copy into a ledger that already has rows could
 * neither be checked exactly nor undone. After the copy, the row counts and
 * the sums of tokens and cost must be equal on both sides, or the command
 * fails and says what differs.
 */
import type { LedgerBackend, LedgerTotals } from './backend.js';

export interface MigrationReport {
  ok: boolean;
  source: LedgerTotals;
  target: LedgerTotals;
  /** The totals that differ, by name (empty when ok). */
  differences: string[];
}

export class MigrationError extends Error {}

/** Sums of cost are compared to a millionth of a dollar: both stores add floating-point numbers, in their own order. */
function same(key: keyof LedgerTotals, a: number, b: number): boolean {
  return key.endsWith('Cost') ? Math.abs(a - b) < 1e-6 : a === b;
}

export function compareTotals(source: LedgerTotals, target: LedgerTotals): string[] {
  return (Object.keys(source) as (keyof LedgerTotals)[])
    .filter((key) => !same(key, source[key], target[key]))
    .map((key) => `${key}: ${source[key]} in SQLite, ${target[key]} in Postgres`);
}

export async function migrateLedger(
  source: LedgerBackend,
  target: LedgerBackend,
  options: { blockSize?: number; progress?: (copied: number, of: number) => void } = {},
): Promise<MigrationReport> {
  const before = await target.totals();
  if (before.members || before.requests || before.dailyRows) {
    throw new MigrationError(
      `The ledger at ${target.where} is not empty (${before.members} members, ${before.requests} request rows, ${before.dailyRows} roll-up rows): migrate copies into an empty ledger only, so that the copy can be checked exactly.`,
    );
  }
  const totals = await source.totals();
  await target.importRows(await source.storedMembers(), [], await source.dailyRows());
  const block = options.blockSize ?? 5000;
  let after = 0;
  let copied = 0;
  for (;;) {
    const page = await source.requestPage(after, block);
    if (!page.length) break;
    await target.importRows(
      [],
      page.map((p) => p.row),
      [],
    );
    after = page[page.length - 1]!.id;
    copied += page.length;
    options.progress?.(copied, totals.requests);
  }
  const copy = await target.totals();
  const differences = compareTotals(totals, copy);
  return { ok: differences.length === 0, source: totals, target: copy, differences };
}
