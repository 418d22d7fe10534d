/**
 * Part 4 of bench/team-postgres.ts: the same synthetic ledger in SQLite and
 * in Postgres, then through a team gateway on each, the admin API as the
 * dashboard and `cctl usage --team` ask it: the last 50 requests (read from
 * the request rows, not the roll-up), one member's whole previous month by
 * day (`member=`), and the dashboard's four queries together; p50 of 20.
 */
import { PostgresBackend } from '../lib/gateway/team/postgres.js';
import { ADMIN_TOKEN, seedLedger } from '../test/gateway/team-fixtures.js';
import { syntheticRows, type Synthetic } from '../test/gateway/team-seed-rows.js';
import type { Goals } from './goals.js';
import { f, machine, pct, type Proc, type Timed } from './team-kit.js';

export interface QueryBench {
  seed: Synthetic;
  /** An empty data folder for the SQLite ledger, and an empty Postgres database. */
  sqliteDir: string;
  postgresUrl: string;
  goals: Goals;
  request: (port: number, token: string, path?: string, method?: string) => Promise<Timed>;
  /** Starts a team gateway with these variables added (CCTL_DATA_DIR or CCTL_LEDGER_URL). */
  serve: (env: { CCTL_DATA_DIR?: string; CCTL_LEDGER_URL?: string }) => Promise<Proc>;
}

async function times(n: number, fn: () => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const s = process.hrtime.bigint();
    await fn();
    out.push(Number(process.hrtime.bigint() - s) / 1e6);
  }
  return out;
}

export async function ledgerQueries({ seed, sqliteDir, postgresUrl, goals, request, serve }: QueryBench): Promise<void> {
  const month = new Date();
  month.setUTCDate(0); // the last day of the previous month: a whole month inside the 90 seeded days
  const until = month.toISOString().slice(0, 10);
  const since = `${until.slice(0, 7)}-01`;
  const dashSince = new Date(Date.now() - 29 * 86_400_000).toISOString().slice(0, 10);
  const dashboard = [
    `/admin/api/usage?by=day,member&since=${dashSince}`,
    `/admin/api/usage?by=member&since=${dashSince}`,
    `/admin/api/usage?by=model&since=${dashSince}`,
    '/admin/api/requests?limit=50',
  ];
  const memberMonth = `/admin/api/usage?by=day&member=member7&since=${since}&until=${until}`;
  console.log(
    `4. queries over ${seed.count.toLocaleString('en-US')} request rows (${seed.days} days, 25 members, 3 models, 4 projects), p50 of 20 through the admin API:`,
  );
  let t0 = Date.now();
  seedLedger(sqliteDir, { generate: seed });
  const seededSqlite = (Date.now() - t0) / 1000;
  const bigStore = await PostgresBackend.open(postgresUrl);
  t0 = Date.now();
  for (const rows of syntheticRows(seed)) await bigStore.insert(rows);
  await bigStore.raw('ANALYZE');
  await bigStore.close();
  console.log(`   seeded in ${f(seededSqlite, 1)} s (SQLite), ${f((Date.now() - t0) / 1000, 1)} s (Postgres) (${machine()})`);
  for (const [name, env] of [
    ['sqlite', { CCTL_DATA_DIR: sqliteDir }],
    ['postgres', { CCTL_LEDGER_URL: postgresUrl }],
  ] as const) {
    const served = await serve(env);
    const get = (path: string) => request(served.port, ADMIN_TOKEN, path, 'GET');
    const recentRows = (JSON.parse((await get('/admin/api/requests?limit=50')).body) as { requests: unknown[] }).requests.length;
    const monthRows = (JSON.parse((await get(memberMonth)).body) as { rows: { requests: number }[] }).rows;
    if (recentRows !== 50 || monthRows.length < 28)
      throw new Error(`${name}: ${recentRows} recent rows, ${monthRows.length} days in the member's month`);
    const recent = pct(await times(20, () => get('/admin/api/requests?limit=50')), 50);
    const mine = pct(await times(20, () => get(memberMonth)), 50);
    const page = pct(await times(20, () => Promise.all(dashboard.map(get))), 50);
    const requests = monthRows.reduce((s, r) => s + r.requests, 0);
    console.log(
      `   ${name.padEnd(8)} last 50 requests ${f(recent, 1)} ms, member7's ${since.slice(0, 7)} by day (${requests} requests) ${f(mine, 1)} ms, the dashboard's 4 queries together ${f(page, 1)} ms (${machine()})`,
    );
    goals.check(`${name}-recent-ms`, `${name}: the last 50 requests (request rows), p50`, recent, '<=', 200, 'ms', 'absolute');
    goals.check(`${name}-member-month-ms`, `${name}: one member's month by day, p50`, mine, '<=', 200, 'ms', 'absolute');
    goals.check(`${name}-dashboard-ms`, `${name}: the dashboard's 4 queries together, p50`, page, '<=', 200, 'ms', 'absolute');
    await served.stop();
  }
}
