/**
 * The team gateway's Postgres ledger beside its SQLite one (issue 21), in one
 * run. Postgres is Debian's, started in a temporary folder on this machine
 * (test/helpers/postgres.ts), on the same cores as everything else here.
 *   1. added latency: the same small request through a local gateway (no
 *      ledger), a team gateway on SQLite and one on Postgres, interleaved;
 *   2. replicas: requests/s for 1 and for 3 team gateway processes sharing the
 *      one Postgres ledger, requests spread round-robin by this client (no
 *      Swarm here: plain processes on this host, no routing mesh), over the
 *      measured time, with the machine's core count; afterwards the ledger
 *      holds exactly one row per reply;
 *   3. memory: the SQLite and the Postgres gateway under steady load, the low
 *      point of RSS in each window, and its slope after the warm-up. A short
 *      run by default; --soak-minutes N soaks for N minutes (issue 21: 10);
 *   4. over 1,000,000 request rows (--quick: 20,000) in each store: the
 *      dashboard's queries (the last 50 requests read the request rows), and
 *      one member's month as `/admin/api/usage?by=day&member=NAME` asks it.
 *
 * Goals (bench/goals.ts; --check exits 1 on a miss, --goal ID=LIMIT changes one):
 *   pg-added-p50-ms        Postgres p50 minus SQLite p50 < 1 ms (absolute)
 *   pg-over-sqlite-p50     Postgres p50 / SQLite p50 <= 2 (relative: the 1 ms on
 *                          a SQLite p50 near 1 ms, so bench:check holds it)
 *   replica-failures       non-200 replies under load, 1 and 3 replicas: 0 (relative: a count)
 *   replica-rows-missing   replies without their ledger row, and rows without a reply: 0 (relative: a count)
 *   replicas-3-over-1      3 replicas' req/s / 1 replica's >= 0.6 (relative). Not scaling: on 2 shared
 *                          cores, 3 gateways, Postgres and the client take turns on the same CPU
 *                          (measured 0.66-0.76 at load 21-29); it fails when a shared lock or the
 *                          ledger serialises the replicas. On 4+ free cores expect and ask more.
 *   rss-slope-sqlite, rss-slope-postgres   short run: slope of the window lows <= 5 %/window (relative)
 *   soak-sqlite-mb-per-min, soak-postgres-mb-per-min   --soak-minutes: slope < 1 MB/min (absolute)
 *   sqlite-recent-ms, sqlite-member-month-ms, sqlite-dashboard-ms,
 *   postgres-recent-ms, postgres-member-month-ms, postgres-dashboard-ms   p50 < 200 ms (absolute)
 *
 *   npm run build && node --import tsx bench/team-postgres.ts [--quick] [--soak-minutes N] [--check] [--relative-only] [--tolerance F] [--goal ID=LIMIT]
 */
import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { PostgresBackend } from '../lib/gateway/team/postgres.js';
import { startPostgres } from '../test/helpers/postgres.js';
import { ADMIN_TOKEN, cleanup, memberCli, seedLedger, tempDataDir } from '../test/gateway/team-fixtures.js';
import type { Synthetic } from '../test/gateway/team-seed-rows.js';
import { benchArgs, Goals, relativeSlopePercent } from './goals.js';
import { ledgerQueries } from './team-queries.js';
import { client, f, machine, pct, rssMb, slope, startGateway, startUpstream, sustain, type Proc } from './team-kit.js';

const args = benchArgs({ quick: { type: 'boolean', default: false }, 'soak-minutes': { type: 'string', default: '0' } });
const goals = new Goals('bench/team-postgres.ts', args);
const quick = args.quick;
const soakMinutes = Number(args['soak-minutes']);
if (!Number.isFinite(soakMinutes) || soakMinutes < 0)
  throw new Error(`--soak-minutes takes a number of minutes, not "${args['soak-minutes']}"`);
const SAMPLES = quick ? 200 : 2000;
const WARMUP = quick ? 100 : 300;
const SUSTAIN_MS = quick ? 4000 : 20_000;
const REPLICA_ROUNDS = quick ? 4 : 10;
const CONCURRENCY = 24;
// Memory: windows of steady load; the low point of RSS in each. The soak's first fifth (at least a minute) warms up.
const WINDOW_MS = soakMinutes ? 10_000 : 1500;
const WINDOWS = soakMinutes ? Math.round((soakMinutes * 60_000) / WINDOW_MS) : 8;
const WARMUP_WINDOWS = soakMinutes ? Math.max(Math.round(60_000 / WINDOW_MS), Math.round(WINDOWS / 5)) : 4;
const SOAK_CONCURRENCY = 8;
const SEED: Synthetic = {
  count: quick ? 20_000 : 1_000_000,
  days: 90,
  members: Array.from({ length: 25 }, (_, i) => `member${i}`),
  models: ['claude-sonnet-4-5', 'claude-opus-4-1', 'claude-haiku-4-5'],
  projects: ['web', 'api', 'infra', 'docs'],
  batch: 20_000,
};
const CLIENT_TOKEN = 'bench-client-token-0123456789';

const upstream = await startUpstream();
const { request, close: closeClient } = client(CONCURRENCY * 3);
const pg = await startPostgres();
const url = await pg.database('bench_ledger');
const dir = tempDataDir();
// A Postgres gateway still needs a data folder (for nothing it writes here); each is removed at the end.
const scratch: string[] = [];
const scratchDir = () => (scratch.push(tempDataDir()), scratch.at(-1)!);
const keyFile = `${dir}-key`;
writeFileSync(keyFile, 'sk-bench-key\n');
const sqliteToken = (JSON.parse(seedLedger(dir, { members: ['bench'] })) as { tokens: Record<string, string> }).tokens.bench!;
if (memberCli(dir, ['budget', 'bench', '--max-in-flight', '1000']).status !== 0) throw new Error('could not set the in-flight cap');
const store = await PostgresBackend.open(url);
// The replicas part sends as CONCURRENCY members (bench, team1, ...): a team's load, not one member's row lock.
const pgTokens = Array.from({ length: CONCURRENCY }, () => `cctl_member_${randomBytes(16).toString('hex')}`);
for (const [i, token] of pgTokens.entries())
  await store.addMember(i ? `team${i}` : 'bench', createHash('sha256').update(token).digest('hex'), { maxInFlight: 1000 });
const pgToken = pgTokens[0]!;
const teamEnv = { CCTL_GATEWAY_MODE: 'team', CCTL_ADMIN_TOKEN: ADMIN_TOKEN, ANTHROPIC_API_KEY_FILE: keyFile };
const gateway = (env: Record<string, string>) => startGateway(upstream.url, env);
const sqlite = await gateway({ ...teamEnv, CCTL_DATA_DIR: dir });
const postgres = await gateway({ ...teamEnv, CCTL_DATA_DIR: scratchDir(), CCTL_LEDGER_URL: url });
const local = await gateway({ CCTL_AUTH_MODE: 'team-key', CCTL_CLIENT_TOKEN: CLIENT_TOKEN, ANTHROPIC_API_KEY_FILE: keyFile });
let pgReplies = 0;

// --- 1. added latency ---------------------------------------------------------
const series = [
  { name: 'local (no ledger)', port: local.port, token: CLIENT_TOKEN, ms: [] as number[] },
  { name: 'team, SQLite', port: sqlite.port, token: sqliteToken, ms: [] as number[] },
  { name: 'team, Postgres', port: postgres.port, token: pgToken, ms: [] as number[] },
];
for (let i = 0; i < WARMUP + SAMPLES; i++) {
  // Interleaved, rotating which goes first, so drift and load hit all three alike.
  for (let k = 0; k < series.length; k++) {
    const s = series[(i + k) % series.length]!;
    const r = await request(s.port, s.token);
    if (r.status !== 200) throw new Error(`${s.name}: ${r.status} ${r.body}`);
    if (s.port === postgres.port) pgReplies++;
    if (i >= WARMUP) s.ms.push(r.ms);
  }
}
const [, lite, post] = series.map((s) => pct(s.ms, 50)) as [number, number, number];
console.log(`1. added latency, ${SAMPLES} requests each, interleaved (${machine()}):`);
for (const s of series) console.log(`   ${s.name.padEnd(18)} p50 ${f(pct(s.ms, 50))} ms  p99 ${f(pct(s.ms, 99))} ms`);
goals.check('pg-added-p50-ms', 'latency the Postgres ledger adds over SQLite, p50', post - lite, '<=', 1, 'ms', 'absolute');
goals.check('pg-over-sqlite-p50', 'Postgres p50 / SQLite p50', post / lite, '<=', 2, 'x', 'relative');
await local.stop();

// --- 2. replicas sharing one Postgres ledger -------------------------------------
const extra = [
  await gateway({ ...teamEnv, CCTL_DATA_DIR: scratchDir(), CCTL_LEDGER_URL: url }),
  await gateway({ ...teamEnv, CCTL_DATA_DIR: scratchDir(), CCTL_LEDGER_URL: url }),
];
const replicas = [postgres, ...extra];
// In rounds, 1 and 3 replicas alternating (and which goes first), so the load of a shared machine hits both alike.
const one = { ok: 0, failed: 0, seconds: 0, rate: 0 };
const three = { ...one };
for (let round = 0; round < REPLICA_ROUNDS; round++) {
  for (const [sum, set] of round % 2
    ? ([
        [three, replicas],
        [one, [postgres]],
      ] as const)
    : ([
        [one, [postgres]],
        [three, replicas],
      ] as const)) {
    const r = await sustain(
      request,
      set.map((p) => ({ port: p.port, tokens: pgTokens })),
      SUSTAIN_MS / REPLICA_ROUNDS,
      CONCURRENCY,
    );
    sum.ok += r.ok;
    sum.failed += r.failed;
    sum.seconds += r.seconds;
  }
}
one.rate = one.ok / one.seconds;
three.rate = three.ok / three.seconds;
const loadAfter = machine();
pgReplies += one.ok + three.ok;
console.log(
  `2. replicas: team gateway processes on this host sharing one Postgres (no Swarm, no routing mesh: this client spreads requests round-robin), ${CONCURRENCY} concurrent, one member each, ${REPLICA_ROUNDS} rounds alternating`,
);
console.log(`   1 replica : ${one.ok} requests in ${f(one.seconds, 1)} s measured = ${f(one.rate, 0)} req/s, ${one.failed} failed`);
console.log(
  `   3 replicas: ${three.ok} requests in ${f(three.seconds, 1)} s measured = ${f(three.rate, 0)} req/s, ${three.failed} failed (${loadAfter})`,
);
goals.check('replica-failures', 'requests that failed under load, 1 and 3 replicas', one.failed + three.failed, '<=', 0, '', 'relative');
goals.check(
  'replicas-3-over-1',
  `3 replicas' req/s / 1 replica's, on ${machine().split(',')[0]} shared with Postgres and the client`,
  three.rate / one.rate,
  '>=',
  0.6,
  'x',
  'relative',
);
// Stopping a replica commits its last batch: then the ledger must hold one row per reply, no more, no fewer.
for (const p of extra) await p.stop();

// --- 3. memory under steady load ------------------------------------------------
const soaked: [string, Proc, string][] = [
  ['sqlite', sqlite, sqliteToken],
  ['postgres', postgres, pgToken],
];
const lows: Record<string, number[]> = { sqlite: [], postgres: [] };
const soakStarted = Date.now();
for (let w = 0; w < WINDOWS; w++) {
  const samples: Record<string, number[]> = { sqlite: [], postgres: [] };
  const sample = () => soaked.forEach(([name, p]) => samples[name]!.push(rssMb(p.child.pid!)));
  const sampler = setInterval(sample, 100);
  const r = await sustain(
    request,
    soaked.map(([, p, token]) => ({ port: p.port, tokens: [token] })),
    WINDOW_MS,
    SOAK_CONCURRENCY,
  );
  clearInterval(sampler);
  sample();
  pgReplies += r.okBy[1]!;
  if (r.failed) throw new Error(`${r.failed} requests failed in memory window ${w + 1}`);
  for (const [name] of soaked) lows[name]!.push(Math.min(...samples[name]!));
  if (soakMinutes && (w + 1) % 6 === 0)
    console.log(
      `   soak: ${f((Date.now() - soakStarted) / 60_000, 1)} min, lowest RSS sqlite ${f(lows.sqlite!.at(-1)!, 1)} MB, postgres ${f(lows.postgres!.at(-1)!, 1)} MB (${machine()})`,
    );
}
const minutes = (Date.now() - soakStarted) / 60_000;
console.log(
  `3. memory: ${WINDOWS} windows of ${WINDOW_MS / 1000} s (${f(minutes, 1)} min), ${SOAK_CONCURRENCY} concurrent over both gateways, lowest RSS per window after ${WARMUP_WINDOWS} warm-up windows (${machine()}):`,
);
for (const [name] of soaked) {
  const after = lows[name]!.slice(WARMUP_WINDOWS);
  console.log(`   ${name.padEnd(8)} ${lows[name]!.map((x) => f(x, 1)).join(' ')} MB`);
  if (soakMinutes) {
    const perMinute = slope(after.map((y, i) => [(i * WINDOW_MS) / 60_000, y] as const));
    goals.check(
      `soak-${name}-mb-per-min`,
      `${name} gateway's lowest RSS after warm-up, slope over ${f(minutes - (WARMUP_WINDOWS * WINDOW_MS) / 60_000, 1)} min`,
      perMinute,
      '<=',
      1,
      'MB/min',
      'absolute',
    );
  } else
    goals.check(
      `rss-slope-${name}`,
      `${name} gateway's lowest RSS per window, windows ${WARMUP_WINDOWS + 1}-${WINDOWS}`,
      relativeSlopePercent(after),
      '<=',
      5,
      '%/window',
      'relative',
    );
}
await sqlite.stop();
// Stopping the last replica commits its last batch: now every reply any replica gave must have its row.
await postgres.stop();
const [{ requests: pgRows } = { requests: 0 }] = await store.usage({ by: [] });
const pgAnswered = Number((await store.raw('SELECT COUNT(*) AS n FROM requests'))[0]!.n);
console.log(`   Postgres ledger: ${pgAnswered} request rows, ${pgRows} in the roll-up, ${pgReplies} replies from its gateways`);
goals.check(
  'replica-rows-missing',
  'Postgres: replies without their row, or rows without a reply (all replicas)',
  Math.abs(pgRows - pgAnswered) + Math.abs(pgAnswered - pgReplies),
  '<=',
  0,
  '',
  'relative',
);
await store.close();

// --- 4. the dashboard and one member's month over many request rows (team-queries.ts) -----
const big = tempDataDir();
await ledgerQueries({
  seed: SEED,
  sqliteDir: big,
  postgresUrl: await pg.database('bench_big'),
  goals,
  request,
  serve: (env) => gateway({ ...teamEnv, ...env, CCTL_DATA_DIR: env.CCTL_DATA_DIR ?? scratchDir() }),
});
for (const d of [dir, big, ...scratch]) cleanup(d);
pg.stop();
upstream.close();
closeClient();
goals.finish();
