/**
 * Team gateway benchmark (issue 16). Prints, in one run:
 *   1. the latency the team mode adds (member lookup, budget reservation in
 *      the ledger, ledger row): the same small request through
 *      a team gateway, for a member without and one with a budget (whose
 *      reservation also reads the month's spend), and through a local-mode
 *      gateway (no ledger), interleaved, p50/p99 and the difference;
 *   2. sustained requests/s with the ledger on (over the measured time), in
 *      rounds, and the gateway's lowest RSS in each round, with the rows it
 *      wrote;
 *   3. over a ledger seeded with 1,000,000 rows: the dashboard's four API
 *      queries, `/admin/api/usage` as `cctl usage --team` asks it, and the
 *      whole `cctl usage --team member --json` command. Those read the daily
 *      roll-up; the same totals computed from the request rows themselves are
 *      timed beside them, in SQL on the same file, so the roll-up's gain shows.
 *
 * Goals (bench/goals.ts; --check exits 1 on a miss, --goal ID=LIMIT changes one):
 *   added-p50-ms        team p50 minus local p50 < 0.2 ms (absolute)
 *   added-p50-budget-ms the same for a member with a budget (absolute)
 *   latency-ratio-p50   team p50 / local p50 <= 1.25 (relative: 0.2 ms on a local p50
 *                       near 0.9 ms; bench:check runs it, the ms goals it only prints)
 *   latency-ratio-budget-p50  the same for the member with a budget <= 1.25 (relative)
 *   sustained-failures  requests that failed while sustained: 0 (relative: a count)
 *   rss-slope           slope of the lowest RSS per round after warm-up <= 5 % of
 *                       the level per round (relative)
 *   dashboard-ms, usage-<by>-ms, cli-ms   < 200 ms (absolute)
 *   rollup-gain         rows p50 / roll-up p50 for the member totals of 30 days,
 *                       in SQL >= 5 (relative: why the roll-up exists)
 *
 * Both gateways run as they do in the image: dist/gateway/main.js on Node 22
 * (node:sqlite), in their own processes; the client and fake upstream share
 * this one.
 *
 *   npm run build && node --import tsx bench/team-gateway.ts [--quick] [--check] [--relative-only] [--tolerance F] [--goal ID=LIMIT]
 *
 * BENCH_BASELINE_GATEWAY=/path/to/an/older/dist/gateway/main.js adds that
 * build's team gateway to part 1 as one more interleaved series, so a change
 * to the request path is measured against the old one in the same run.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { ADMIN_TOKEN, cleanup, memberCli, node22, ROOT, seedLedger, tempDataDir } from '../test/gateway/team-fixtures.js';
import { benchArgs, Goals, relativeSlopePercent } from './goals.js';

const args = benchArgs({ quick: { type: 'boolean', default: false } });
const goals = new Goals('bench/team-gateway.ts', args);
const quick = args.quick;
const SAMPLES = quick ? 1000 : 5000;
const WARMUP = quick ? 300 : 1000;
// Sustained load in rounds; the first ones warm up (V8 grows its heap in steps to fit the load, and
// SQLite its page cache), then the low point of RSS after GC should stay put.
const ROUND_MS = quick ? 1500 : 4000;
const ROUNDS = quick ? 8 : 10;
const WARMUP_ROUNDS = quick ? 5 : 4;
const CONCURRENCY = 32;
const SEED_ROWS = quick ? 200_000 : 1_000_000;
// The full run's density in both modes (1,000,000 rows over 90 days: about 11,100 a day, 37 per roll-up row
// of a day, member, project and model): a quick run has fewer days, not thinner ones. Over 90 days, 200,000
// rows gave 7 per roll-up row, and the roll-up's gain (goal rollup-gain) was 2.5x where a team sees 5x or more.
const SEED_DAYS = quick ? 18 : 90;
const CLIENT_TOKEN = 'bench-client-token-0123456789';

const reply = JSON.stringify({
  id: 'msg_b',
  type: 'message',
  model: 'claude-sonnet-4-5',
  content: [{ type: 'text', text: 'ok' }],
  usage: { input_tokens: 10, output_tokens: 3, cache_read_input_tokens: 50 },
});
const upstream = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(reply) });
    res.end(reply);
  });
});
await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
const upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;

interface Proc {
  port: number;
  child: ChildProcess;
  stop(): Promise<void>;
}
function startGateway(env: Record<string, string>, main = join(ROOT, 'dist', 'gateway', 'main.js')): Promise<Proc> {
  const child = spawn(node22(), ['--disable-warning=ExperimentalWarning', main], {
    env: { PATH: process.env.PATH, PORT: '0', CCTL_UPSTREAM_URL: upstreamUrl, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`gateway exited with ${code}`)));
    // Request log lines go to stdout as in production; only the first one is read.
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', (line) => {
      child.stdout!.resume();
      const port = (JSON.parse(line) as { port: number }).port;
      resolve({
        port,
        child,
        stop: () =>
          new Promise((r) => {
            child.removeAllListeners('exit');
            child.once('exit', () => r());
            child.kill('SIGTERM');
          }),
      });
    });
  });
}

/**
 * Node 22 module (argv: ledger file, first day): the dashboard's totals computed from the request rows
 * and from the daily roll-up, each timed 10 times, interleaved; prints JSON {what: {rows, rollup, same}}.
 */
const ROW_QUERIES = `
import { DatabaseSync } from 'node:sqlite';
const [file, since] = process.argv.slice(-2);
const db = new DatabaseSync(file, { readOnly: true });
const sinceMs = Date.parse(since + 'T00:00:00Z');
const sums = 'COUNT(*) AS requests, SUM(input_tokens + output_tokens + cache_creation_tokens + cache_read_tokens) AS tokens, ROUND(SUM(cost), 6) AS cost';
const rollSums = 'SUM(requests) AS requests, SUM(input_tokens + output_tokens + cache_creation_tokens + cache_read_tokens) AS tokens, ROUND(SUM(cost), 6) AS cost';
const pairs = {
  'member totals, 30 days': [
    db.prepare('SELECT member, ' + sums + ' FROM requests WHERE time >= ? GROUP BY member ORDER BY member'), [sinceMs],
    db.prepare('SELECT member, ' + rollSums + ' FROM daily WHERE day >= ? GROUP BY member ORDER BY member'), [since]],
  'day x member, 30 days': [
    db.prepare("SELECT strftime('%Y-%m-%d', time / 1000, 'unixepoch') AS day, member, " + sums + ' FROM requests WHERE time >= ? GROUP BY 1, 2 ORDER BY 1, 2'), [sinceMs],
    db.prepare('SELECT day, member, ' + rollSums + ' FROM daily WHERE day >= ? GROUP BY 1, 2 ORDER BY 1, 2'), [since]],
  'model totals, all time': [
    db.prepare('SELECT model, ' + sums + ' FROM requests GROUP BY model ORDER BY model'), [],
    db.prepare('SELECT model, ' + rollSums + ' FROM daily GROUP BY model ORDER BY model'), []],
};
const out = {};
for (const [what, [rows, rowArgs, rollup, rollArgs]] of Object.entries(pairs)) {
  const r = { rows: [], rollup: [], same: JSON.stringify(rows.all(...rowArgs)) === JSON.stringify(rollup.all(...rollArgs)) };
  for (let i = 0; i < 10; i++) {
    let t = performance.now(); rows.all(...rowArgs); r.rows.push(performance.now() - t);
    t = performance.now(); rollup.all(...rollArgs); r.rollup.push(performance.now() - t);
  }
  out[what] = r;
}
process.stdout.write(JSON.stringify(out));
`;

const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
function request(
  port: number,
  token: string,
  path = '/v1/messages',
  method = 'POST',
): Promise<{ ms: number; status: number; body: string }> {
  const started = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        path,
        method,
        agent,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'x-cctl-project': 'bench' },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ ms: Number(process.hrtime.bigint() - started) / 1e6, status: res.statusCode!, body }));
      },
    );
    req.on('error', reject);
    req.end(method === 'POST' ? '{"model":"claude-sonnet-4-5","max_tokens":5,"messages":[]}' : undefined);
  });
}
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;
const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
const f = (n: number, d = 3) => n.toFixed(d);

// --- 1. added latency ---------------------------------------------------------
const dir = tempDataDir();
const keyFile = `${dir}-key`;
writeFileSync(keyFile, 'sk-bench-key\n');
const { tokens } = JSON.parse(seedLedger(dir, { members: ['bench', 'budgeted'] })) as { tokens: Record<string, string> };
const member = tokens.bench!;
const budgeted = tokens.budgeted!;
// A budget it never reaches: every admission reads the month's spend and sums the reservations.
// Part 2 runs CONCURRENCY requests at once for this member, above the default in-flight cap.
if (memberCli(dir, ['budget', 'bench', '--max-in-flight', String(CONCURRENCY)]).status !== 0) throw new Error('could not set the cap');
if (memberCli(dir, ['budget', 'budgeted', '--monthly-cost', '1000000', '--daily-tokens', '1000000000000']).status !== 0)
  throw new Error('could not set the budget');
const team = await startGateway({
  CCTL_GATEWAY_MODE: 'team',
  CCTL_DATA_DIR: dir,
  CCTL_ADMIN_TOKEN: ADMIN_TOKEN,
  ANTHROPIC_API_KEY_FILE: keyFile,
});
const local = await startGateway({ CCTL_AUTH_MODE: 'team-key', CCTL_CLIENT_TOKEN: CLIENT_TOKEN, ANTHROPIC_API_KEY_FILE: keyFile });
const baselineMain = process.env.BENCH_BASELINE_GATEWAY;
const baselineDir = baselineMain ? tempDataDir() : undefined;
const baseline = baselineMain
  ? await startGateway(
      { CCTL_GATEWAY_MODE: 'team', CCTL_DATA_DIR: baselineDir!, CCTL_ADMIN_TOKEN: ADMIN_TOKEN, ANTHROPIC_API_KEY_FILE: keyFile },
      baselineMain,
    )
  : undefined;
const baselineToken = baselineDir
  ? (JSON.parse(seedLedger(baselineDir, { members: ['bench'] })) as { tokens: Record<string, string> }).tokens.bench!
  : '';
const series = [
  { name: 'local mode            ', send: () => request(local.port, CLIENT_TOKEN), ms: [] as number[] },
  { name: 'team, no budget       ', send: () => request(team.port, member), ms: [] as number[] },
  { name: 'team, with a budget   ', send: () => request(team.port, budgeted), ms: [] as number[] },
  ...(baseline ? [{ name: 'team, baseline build  ', send: () => request(baseline.port, baselineToken), ms: [] as number[] }] : []),
];
for (let i = 0; i < WARMUP; i++) for (const s of series) await s.send();
for (let i = 0; i < SAMPLES; i++) {
  // Interleaved, and rotating which goes first, so drift hits all alike.
  for (let j = 0; j < series.length; j++) {
    const s = series[(i + j) % series.length]!;
    const r = await s.send();
    if (r.status !== 200) throw new Error(`${s.name.trim()}: ${r.status} ${r.body}`);
    s.ms.push(r.ms);
  }
}
const [without, plain, withBudget] = series.map((s) => s.ms) as [number[], number[], number[]];
console.log(`1. added latency, ${SAMPLES} requests each, interleaved (team = member lookup + reservation + ledger row):`);
for (const s of series) console.log(`   ${s.name} p50 ${f(pct(s.ms, 50))} ms  p99 ${f(pct(s.ms, 99))} ms`);
console.log(
  `   added, no budget       p50 ${f(pct(plain, 50) - pct(without, 50))} ms (goal < 0.200)  ratio ${f(pct(plain, 50) / pct(without, 50), 2)}x`,
);
console.log(
  `   added, with a budget   p50 ${f(pct(withBudget, 50) - pct(without, 50))} ms (goal < 0.200)  ratio ${f(pct(withBudget, 50) / pct(without, 50), 2)}x`,
);
if (baseline) {
  const old = series[3]!.ms;
  console.log(`   added, baseline build  p50 ${f(pct(old, 50) - pct(without, 50))} ms`);
  console.log(
    `   this build against the baseline: p50 ${f(pct(plain, 50) - pct(old, 50))} ms without a budget, ${f(pct(withBudget, 50) - pct(old, 50))} ms with one (goal < 0.200)`,
  );
  await baseline.stop();
  cleanup(baselineDir!);
}
goals.check(
  'added-p50-ms',
  'latency team mode adds (lookup, reservation, row), p50',
  pct(plain, 50) - pct(without, 50),
  '<=',
  0.2,
  'ms',
  'absolute',
);
goals.check(
  'added-p50-budget-ms',
  'latency team mode adds for a member with a budget, p50',
  pct(withBudget, 50) - pct(without, 50),
  '<=',
  0.2,
  'ms',
  'absolute',
);
goals.check('latency-ratio-p50', 'team p50 / local p50', pct(plain, 50) / pct(without, 50), '<=', 1.25, 'x', 'relative');
goals.check(
  'latency-ratio-budget-p50',
  'team p50 / local p50, member with a budget',
  pct(withBudget, 50) / pct(without, 50),
  '<=',
  1.25,
  'x',
  'relative',
);
await local.stop();

// --- 2. sustained -----------------------------------------------------------
let done = 0;
let failed = 0;
const lows: number[] = [];
const started = process.hrtime.bigint();
for (let round = 0; round < ROUNDS; round++) {
  const samples: number[] = [];
  const sampler = setInterval(() => samples.push(rssMb(team.child.pid!)), 50);
  const until = Date.now() + ROUND_MS;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (Date.now() < until) {
        const r = await request(team.port, member);
        if (r.status === 200) done++;
        else failed++;
      }
    }),
  );
  clearInterval(sampler);
  samples.push(rssMb(team.child.pid!));
  lows.push(Math.min(...samples));
}
// The rate over the time the requests really took: the last ones end after the deadline.
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
const totals = JSON.parse((await request(team.port, ADMIN_TOKEN, '/admin/api/usage?by=member', 'GET')).body) as {
  rows: { requests: number }[];
};
console.log(
  `2. sustained, ${CONCURRENCY} concurrent, ${ROUNDS} rounds of ${ROUND_MS / 1000} s: ${done} requests in ${f(seconds, 1)} s measured = ${f(done / seconds, 0)} req/s, ${failed} failed; ledger rows for the member: ${totals.rows[0]?.requests}`,
);
console.log(`   gateway's lowest RSS in each round (MB): ${lows.map((x) => f(x, 1)).join(' → ')}`);
goals.check('sustained-failures', 'requests that failed under sustained load', failed, '<=', 0, '', 'relative');
goals.check(
  'rss-slope',
  `slope of the lowest RSS per round, rounds ${WARMUP_ROUNDS + 1}-${ROUNDS}`,
  relativeSlopePercent(lows.slice(WARMUP_ROUNDS)),
  '<=',
  5,
  '%/round',
  'relative',
);
await team.stop();
cleanup(dir);

// --- 3. queries over a seeded ledger -------------------------------------------
const big = tempDataDir();
writeFileSync(`${big}-key`, 'sk-bench-key\n');
let t0 = Date.now();
seedLedger(big, {
  generate: {
    count: SEED_ROWS,
    days: SEED_DAYS,
    members: Array.from({ length: 25 }, (_, i) => `member${i}`),
    models: ['claude-sonnet-4-5', 'claude-opus-4-1', 'claude-haiku-4-5'],
    projects: ['web', 'api', 'infra', 'docs'],
    batch: 20_000,
  },
});
console.log(
  `3. seeded ${SEED_ROWS.toLocaleString('en-US')} rows (${SEED_DAYS} days, 25 members, 3 models, 4 projects) in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
);
const served = await startGateway({
  CCTL_GATEWAY_MODE: 'team',
  CCTL_DATA_DIR: big,
  CCTL_ADMIN_TOKEN: ADMIN_TOKEN,
  ANTHROPIC_API_KEY_FILE: `${big}-key`,
});
const since = new Date(Date.now() - 29 * 86_400_000).toISOString().slice(0, 10);
const dashboard = [
  `/admin/api/usage?by=day,member&since=${since}`,
  `/admin/api/usage?by=member&since=${since}`,
  `/admin/api/usage?by=model&since=${since}`,
  '/admin/api/requests?limit=50',
];
const times = (n: number, fn: () => Promise<unknown>) =>
  (async () => {
    const out: number[] = [];
    for (let i = 0; i < n; i++) {
      const s = process.hrtime.bigint();
      await fn();
      out.push(Number(process.hrtime.bigint() - s) / 1e6);
    }
    return out;
  })();
await request(served.port, ADMIN_TOKEN, dashboard[0]!, 'GET');
for (const path of dashboard) {
  const ms = await times(20, () => request(served.port, ADMIN_TOKEN, path, 'GET'));
  console.log(`   ${path.padEnd(56)} p50 ${f(pct(ms, 50), 2)} ms  max ${f(Math.max(...ms), 2)} ms`);
}
const page = await times(20, () => Promise.all(dashboard.map((p) => request(served.port, ADMIN_TOKEN, p, 'GET'))));
goals.check('dashboard-ms', "the dashboard's 4 queries together (as the page sends them), p50", pct(page, 50), '<=', 200, 'ms', 'absolute');
for (const by of ['day', 'month', 'member', 'model']) {
  const ms = await times(20, () => request(served.port, ADMIN_TOKEN, `/admin/api/usage?by=${by}`, 'GET'));
  goals.check(`usage-${by}-ms`, `usage --team ${by} API, p50`, pct(ms, 50), '<=', 200, 'ms', 'absolute');
}
t0 = Date.now();
const cli = spawnSync(process.execPath, [join(ROOT, 'bin', 'cctl.js'), 'usage', '--team', 'member', '--json'], {
  env: { ...process.env, CCTL_TEAM_GATEWAY_URL: `http://127.0.0.1:${served.port}`, CCTL_ADMIN_TOKEN: ADMIN_TOKEN },
  encoding: 'utf8',
});
const cliMs = Date.now() - t0;
if (cli.status !== 0) throw new Error(`cctl usage --team member --json exited ${cli.status}: ${cli.stderr}`);
console.log(`   cctl usage --team member --json: ${(JSON.parse(cli.stdout) as { rows: unknown[] }).rows.length} members`);
goals.check('cli-ms', 'cctl usage --team member --json, whole command incl. Node start', cliMs, '<=', 200, 'ms', 'absolute');
await served.stop();
// The API above reads the daily roll-up. The same totals from the request rows, and from the roll-up, in
// SQL on the same file (Node 22's node:sqlite, read-only, its own process), 10 runs each, interleaved.
const rawSql = spawnSync(
  node22(),
  ['--disable-warning=ExperimentalWarning', '--input-type=module', '-e', ROW_QUERIES, join(big, 'ledger.db'), since],
  { encoding: 'utf8', timeout: 600_000 },
);
if (rawSql.status !== 0) throw new Error(`the row queries failed: ${rawSql.stderr}`);
const sql = JSON.parse(rawSql.stdout) as Record<string, { rows: number[]; rollup: number[]; same: boolean }>;
for (const [what, r] of Object.entries(sql)) {
  if (!r.same) throw new Error(`${what}: the rows and the roll-up disagree`);
  console.log(
    `   SQL ${what.padEnd(30)} over the rows p50 ${f(pct(r.rows, 50), 2)} ms, over the roll-up p50 ${f(pct(r.rollup, 50), 2)} ms (${f(pct(r.rows, 50) / pct(r.rollup, 50), 1)}x)`,
  );
}
const byMember = sql['member totals, 30 days']!;
goals.check(
  'rollup-gain',
  'member totals of 30 days: rows p50 / roll-up p50',
  pct(byMember.rows, 50) / pct(byMember.rollup, 50),
  '>=',
  5,
  'x',
  'relative',
);
cleanup(big);
upstream.close();
agent.destroy();
goals.finish();
