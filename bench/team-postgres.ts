/**
 * The Postgres ledger against SQLite (issue 21), in one run:
 *   1. added latency: the same small request through a local gateway, a team
 *      gateway on SQLite and a team gateway on Postgres, interleaved; the
 *      Postgres ledger's p50 over SQLite's (goal: < 1 ms);
 *   2. requests/s for 1 and for 3 team gateway processes sharing one Postgres
 *      ledger (replicas, without Swarm's mesh), with the machine's core count;
 *   3. over 1,000,000 request rows in Postgres: the dashboard's queries (the
 *      last 50 requests included) and one member's month as `usage --team`
 *      asks it (goal: < 200 ms each).
 * Postgres is Debian's, started in a temporary folder (test/helpers/postgres.ts).
 *
 *   npm run build && node --import tsx bench/team-postgres.ts [--quick]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { PostgresBackend } from '../lib/gateway/team/postgres.js';
import type { LedgerRow } from '../lib/gateway/team/store.js';
import { startPostgres } from '../test/helpers/postgres.js';
import { ADMIN_TOKEN, cleanup, node22, ROOT, seedLedger, tempDataDir } from '../test/gateway/team-fixtures.js';

const quick = process.argv.includes('--quick');
const SAMPLES = quick ? 500 : 3000;
const SUSTAIN_MS = quick ? 5000 : 15_000;
const CONCURRENCY = 32;
const SEED_ROWS = quick ? 200_000 : 1_000_000;
const CLIENT_TOKEN = 'bench-client-token-0123456789';

const reply = JSON.stringify({ id: 'm', type: 'message', model: 'claude-sonnet-4-5', content: [], usage: { input_tokens: 10, output_tokens: 3, cache_read_input_tokens: 50 } });
const upstream = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(reply) });
    res.end(reply);
  });
});
await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
const upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;

interface Proc { port: number; child: ChildProcess; stop(): Promise<void> }
function startGateway(env: Record<string, string>): Promise<Proc> {
  const child = spawn(node22(), ['--disable-warning=ExperimentalWarning', join(ROOT, 'dist', 'gateway', 'main.js')], {
    env: { PATH: process.env.PATH, PORT: '0', CCTL_UPSTREAM_URL: upstreamUrl, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`gateway exited with ${code}`)));
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      const event = JSON.parse(line) as { event?: string; port?: number };
      if (event.event !== 'listening') return;
      lines.removeAllListeners('line');
      child.stdout!.resume();
      resolve({ port: event.port!, child, stop: () => new Promise((r) => { child.removeAllListeners('exit'); child.once('exit', () => r()); child.kill('SIGTERM'); }) });
    });
  });
}

const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY * 3 });
function request(port: number, token: string, path = '/v1/messages', method = 'POST'): Promise<{ ms: number; status: number; body: string }> {
  const started = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method, agent, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ ms: Number(process.hrtime.bigint() - started) / 1e6, status: res.statusCode!, body }));
    });
    req.on('error', reject);
    req.end(method === 'POST' ? '{"model":"claude-sonnet-4-5","max_tokens":5,"messages":[]}' : undefined);
  });
}
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;
const f = (n: number, d = 3) => n.toFixed(d);

const pg = await startPostgres();
const url = await pg.database('bench_ledger');
const dir = tempDataDir();
const keyFile = `${dir}-key`;
writeFileSync(keyFile, 'sk-bench-key\n');
const sqliteToken = (JSON.parse(seedLedger(dir, { members: ['bench'] })) as { tokens: Record<string, string> }).tokens.bench!;
const teamEnv = { CCTL_GATEWAY_MODE: 'team', CCTL_ADMIN_TOKEN: ADMIN_TOKEN, ANTHROPIC_API_KEY_FILE: keyFile, CCTL_MAX_IN_FLIGHT: '1000' };
const sqlite = await startGateway({ ...teamEnv, CCTL_DATA_DIR: dir });
const postgres = await startGateway({ ...teamEnv, CCTL_DATA_DIR: dir, CCTL_LEDGER_URL: url });
const local = await startGateway({ CCTL_AUTH_MODE: 'team-key', CCTL_CLIENT_TOKEN: CLIENT_TOKEN, ANTHROPIC_API_KEY_FILE: keyFile });
const store = await PostgresBackend.open(url);
const { createHash, randomBytes } = await import('node:crypto');
const pgToken = `cctl_member_${randomBytes(16).toString('hex')}`;
await store.addMember('bench', createHash('sha256').update(pgToken).digest('hex'), {});

// --- 1. added latency ---------------------------------------------------------
const targets: [string, number, string][] = [['local', local.port, CLIENT_TOKEN], ['sqlite', sqlite.port, sqliteToken], ['postgres', postgres.port, pgToken]];
const samples: Record<string, number[]> = { local: [], sqlite: [], postgres: [] };
for (let i = 0; i < SAMPLES + 200; i++) {
  // Rotating which goes first, so drift hits all three alike; the first 200 warm up.
  for (let k = 0; k < 3; k++) {
    const [name, port, token] = targets[(i + k) % 3]!;
    const r = await request(port, token);
    if (r.status !== 200) throw new Error(`${name}: ${r.status} ${r.body}`);
    if (i >= 200) samples[name]!.push(r.ms);
  }
}
console.log(`1. latency, ${SAMPLES} requests each, interleaved:`);
for (const name of ['local', 'sqlite', 'postgres']) console.log(`   ${name.padEnd(8)} p50 ${f(pct(samples[name]!, 50))} ms  p99 ${f(pct(samples[name]!, 99))} ms`);
const added = pct(samples.postgres!, 50) - pct(samples.sqlite!, 50);
console.log(`   Postgres ledger over SQLite: p50 +${f(added)} ms (goal < 1.000: ${added < 1 ? 'met' : 'MISSED'})`);
await local.stop();
await sqlite.stop();

// --- 2. replicas ----------------------------------------------------------------
async function sustained(ports: number[]): Promise<number> {
  let done = 0;
  let next = 0;
  const until = Date.now() + SUSTAIN_MS;
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (Date.now() < until) {
      const r = await request(ports[next++ % ports.length]!, pgToken);
      if (r.status === 200) done++;
    }
  }));
  return done / (SUSTAIN_MS / 1000);
}
const one = await sustained([postgres.port]);
const more = [postgres, await startGateway({ ...teamEnv, CCTL_DATA_DIR: dir, CCTL_LEDGER_URL: url }), await startGateway({ ...teamEnv, CCTL_DATA_DIR: dir, CCTL_LEDGER_URL: url })];
const three = await sustained(more.map((p) => p.port));
console.log(`2. ${CONCURRENCY} concurrent for ${SUSTAIN_MS / 1000} s on ${cpus().length} cores (Postgres on the same cores): 1 replica ${f(one, 0)} req/s, 3 replicas ${f(three, 0)} req/s`);
for (const p of more.slice(1)) await p.stop();

// --- 3. queries over 1,000,000 rows -----------------------------------------------
let t0 = Date.now();
const now = Date.now();
const span = 90 * 86_400_000;
let seed = 42;
const rnd = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
const models = ['claude-sonnet-4-5', 'claude-opus-4-1', 'claude-haiku-4-5'];
for (let done = 0; done < SEED_ROWS; done += 20_000) {
  const rows: LedgerRow[] = [];
  for (let i = done; i < Math.min(SEED_ROWS, done + 20_000); i++) {
    const input = Math.floor(rnd() * 4000);
    rows.push({ time: now - span + Math.floor((i / SEED_ROWS) * span), member: `member${Math.floor(rnd() * 25)}`, project: ['web', 'api', 'infra', 'docs'][Math.floor(rnd() * 4)]!,
      model: models[Math.floor(rnd() * 3)]!, status: 200, durationMs: 500, inputTokens: input, outputTokens: 100, cacheCreationTokens: 0, cacheReadTokens: input * 4, cost: input * 3e-6 });
  }
  await store.insert(rows);
}
await store.raw('ANALYZE');
console.log(`3. seeded ${SEED_ROWS.toLocaleString('en-US')} rows into Postgres in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
const since = new Date(now - 29 * 86_400_000).toISOString().slice(0, 10);
const month = `${new Date(now).toISOString().slice(0, 7)}-01`;
const queries: [string, string][] = [
  ['dashboard: by day and member, 30 days', `/admin/api/usage?by=day,member&since=${since}`],
  ['dashboard: by member', `/admin/api/usage?by=member&since=${since}`],
  ['dashboard: by model', `/admin/api/usage?by=model&since=${since}`],
  ['dashboard: the last 50 requests', '/admin/api/requests?limit=50'],
  ["usage --team: one member's month (by day)", `/admin/api/usage?by=member,day&since=${month}`],
];
for (const [what, path] of queries) {
  await request(postgres.port, ADMIN_TOKEN, path, 'GET');
  const times: number[] = [];
  for (let i = 0; i < 20; i++) times.push((await request(postgres.port, ADMIN_TOKEN, path, 'GET')).ms);
  const p50 = pct(times, 50);
  console.log(`   ${what.padEnd(44)} p50 ${f(p50, 1)} ms (goal < 200: ${p50 < 200 ? 'met' : 'MISSED'})`);
}
t0 = Date.now();
await postgres.stop();
await store.close();
pg.stop();
cleanup(dir);
upstream.close();
agent.destroy();
