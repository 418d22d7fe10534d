/**
 * Synthetic ledger rows for the seeded tests and benches: COUNT rows spread
 * evenly over the last DAYS days up to now, members, models and projects
 * drawn from a fixed linear congruential sequence, so every run (and either
 * store) gets the same ledger. Yielded in batches of BATCH rows.
 */
import type { LedgerRow } from '../../lib/gateway/team/store.js';

export interface Synthetic {
  count: number;
  days: number;
  members: string[];
  models: string[];
  projects: string[];
  batch?: number;
}

export function* syntheticRows(g: Synthetic, now = Date.now()): Generator<LedgerRow[]> {
  const span = g.days * 86_400_000;
  const batch = g.batch ?? 10_000;
  let seed = 42;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  for (let done = 0; done < g.count; done += batch) {
    const rows: LedgerRow[] = [];
    for (let i = done; i < Math.min(g.count, done + batch); i++) {
      const input = Math.floor(next() * 4000);
      const output = Math.floor(next() * 1500);
      rows.push({
        time: now - span + Math.floor((i / g.count) * span),
        member: g.members[Math.floor(next() * g.members.length)]!,
        project: g.projects[Math.floor(next() * g.projects.length)]!,
        model: g.models[Math.floor(next() * g.models.length)]!,
        status: next() < 0.02 ? 529 : 200,
        durationMs: 200 + next() * 3000,
        inputTokens: input,
        outputTokens: output,
        cacheCreationTokens: Math.floor(input / 3),
        cacheReadTokens: input * 4,
        cost: (input * 3 + output * 15) / 1e6,
      });
    }
    yield rows;
  }
}
