/**
 * Runs under Node 22 (node:sqlite), spawned by the tests and benches:
 *   team-seed.ts LEDGER.db '{"rows":[...], "generate":{...}, "members":[...], "queries":[...]}'
 * inserts explicit rows, or `generate.count` synthetic ones spread over
 * `generate.days` days up to now, then prints {"results":[...]} with one
 * usage() answer per query.
 */
import { addMember } from '../../lib/gateway/team/members.js';
import { LedgerStore, type LedgerRow, type UsageQuery } from '../../lib/gateway/team/store.js';
import { syntheticRows, type Synthetic } from './team-seed-rows.js';

interface Spec {
  rows?: LedgerRow[];
  members?: string[];
  generate?: Synthetic;
  queries?: UsageQuery[];
}

const [path, specText] = process.argv.slice(2);
const spec = JSON.parse(specText!) as Spec;
const store = new LedgerStore(path!);
const tokens: Record<string, string> = {};
for (const name of spec.members ?? []) tokens[name] = addMember(store, name);
if (spec.rows) store.insert(spec.rows);
if (spec.generate) for (const rows of syntheticRows(spec.generate)) store.insert(rows);
const results = (spec.queries ?? []).map((q) => store.usage(q));
store.close();
process.stdout.write(JSON.stringify({ results, tokens }));
