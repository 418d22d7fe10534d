/**
 * Runs the store cases (ledger-contract.ts) under Node 22 against one store:
 *   ledger-contract-run.ts sqlite DIR           fresh files in DIR
 *   ledger-contract-run.ts postgres ADMIN_URL   fresh databases on that server
 * Prints {"results": {case: {ok, value} | {ok: false, error}}} as JSON.
 */
import { join } from 'node:path';
import postgres from 'postgres';
import type { LedgerBackend, SqliteBackend } from '../../lib/gateway/team/backend.js';
import type { PostgresBackend } from '../../lib/gateway/team/postgres.js';
import { CASES, type Target } from './ledger-contract.js';

const [kind, base] = process.argv.slice(2) as ['sqlite' | 'postgres', string];
let n = 0;
const admin = kind === 'postgres' ? postgres(base, { onnotice: () => {} }) : undefined;

const target: Target =
  kind === 'sqlite'
    ? {
        fresh: async () => join(base, `ledger-${++n}.db`),
        bumpVersion: async (b: LedgerBackend, version: number) => (b as SqliteBackend).store.db.exec(`PRAGMA user_version = ${version}`),
      }
    : {
        fresh: async () => {
          const name = `contract_${process.pid}_${++n}`;
          await admin!.unsafe(`CREATE DATABASE ${name}`);
          const url = new URL(base);
          url.pathname = `/${name}`;
          return url.toString();
        },
        bumpVersion: async (b: LedgerBackend, version: number) => {
          await (b as PostgresBackend).raw('INSERT INTO cctl_schema VALUES ($1, $2, $3)', [version, 'from the future', Date.now()]);
        },
      };

const results: Record<string, unknown> = {};
for (const [name, run] of Object.entries(CASES)) {
  try {
    results[name] = { ok: true, value: await run(target) };
  } catch (error) {
    results[name] = { ok: false, error: (error as Error).stack ?? String(error) };
  }
}
await admin?.end();
process.stdout.write(JSON.stringify({ results }));
