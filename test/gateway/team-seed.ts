/**
 * Runs under Node 22 (node:sqlite), spawned by the tests and benches:
 *   team-seed.ts LEDGER.db '{"rows":[...], "generate":{...}, "members":[...], "queries":[...]}'
 * inserts explicit rows, or `generate.count` synthetic ones spread over
 * `generate.days` days up to now, then prints {"results":[...]} with one
 * usage() answer per query.
 */
import { addMember } from '../../lib/gateway/team/members.js';
import { LedgerStore, type LedgerRow, type UsageQuery } from '../../lib/gateway/team/store.js';

interface Spec {
  rows?: LedgerRow[];
  members?: string[];
  generate?: { count: number; days: number; members: string[]; models: string[]; projects: string[]; batch?: number };
  queries?: UsageQuery[];
}

const [path, specText] = process.argv.slice(2);
const spec = JSON.parse(specText!) as Spec;
const store = new LedgerStore(path!);
const tokens: Record<string, string> = {};
for (const name of spec.members ?? []) tokens[name] = addMember(store, name);
if (spec.rows) store.insert(spec.rows);
const g = spec.generate;
if (g) {
  const now = Date.now();
  const span = g.days * 86_400_000;
  const batch = g.batch ?? 10_000;
  // A fixed linear congruential sequence: the same ledger on every run.
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
    store.insert(rows);
  }
}
const results = (spec.queries ?? []).map((q) => store.usage(q));
store.close();
process.stdout.write(JSON.stringify({ results, tokens }));
