/**
 * Team gateway benchmark (issue 16). Prints, in one run:
 *   1. the latency the team mode adds (member lookup + ledger row): the same
 *      small request through a team gateway and through a local-mode gateway
 *      (no ledger), interleaved, p50/p99 and the difference (goal: p50 < 0.2 ms);
 *   2. sustained requests/s with the ledger on, and the gateway's RSS every
 *      few seconds (it should level off), with the rows it wrote;
 *   3. over a ledger seeded with 1,000,000 rows: the dashboard's four API
 *      queries, `/admin/api/usage` as `cctl usage --team` asks it, and the
 *      whole `cctl usage --team member --json` command (goal: < 200 ms each).
 *
 * Both gateways run as they do in the image: dist/gateway/main.js on Node 22
 * (node:sqlite), in their own processes; the client and fake upstream share
 * this one.
 *
 *   npm run build && node --import tsx bench/team-gateway.ts [--quick]
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { ADMIN_TOKEN, cleanup, node22, ROOT, seedLedger, tempDataDir } from '../test/gateway/team-fixtures.js';

const quick = process.argv.includes('--quick');
const SAMPLES = quick ? 1000 : 5000;
const WARMUP = quick ? 300 : 1000;
const SUSTAIN_MS = quick ? 8000 : 30_000;
const CONCURRENCY = 32;
const SEED_ROWS = quick ? 200_000 : 1_000_000;
const CLIENT_TOKEN = 'bench-client-token-0123456789';

const reply = JSON.stringify({ id: 'msg_b', type: 'message', model: 'claude-sonnet-4-5', content: [{ type: 'text', text: 'ok' }], usage: { input_tokens: 10, output_tokens: 3, cache_read_input_tokens: 50 } });
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
    // Request log lines go to stdout as in production; only the first one is read.
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', (line) => {
      child.stdout!.resume();
      const port = (JSON.parse(line) as { port: number }).port;
      resolve({ port, child, stop: () => new Promise((r) => { child.removeAllListeners('exit'); child.once('exit', () => r()); child.kill('SIGTERM'); }) });
    });
  });
}

const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
function request(port: number, token: string, path = '/v1/messages', method = 'POST'): Promise<{ ms: number; status: number; body: string }> {
  const started = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method, agent, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'x-cctl-project': 'bench' } }, (res) => {
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
const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
const f = (n: number, d = 3) => n.toFixed(d);

// --- 1. added latency ---------------------------------------------------------
const dir = tempDataDir();
const keyFile = `${dir}-key`;
writeFileSync(keyFile, 'sk-bench-key\n');
const { tokens } = JSON.parse(seedLedger(dir, { members: ['bench'] })) as { tokens: Record<string, string> };
const member = tokens.bench!;
const team = await startGateway({ CCTL_GATEWAY_MODE: 'team', CCTL_DATA_DIR: dir, CCTL_ADMIN_TOKEN: ADMIN_TOKEN, ANTHROPIC_API_KEY_FILE: keyFile });
const local = await startGateway({ CCTL_AUTH_MODE: 'team-key', CCTL_CLIENT_TOKEN: CLIENT_TOKEN, ANTHROPIC_API_KEY_FILE: keyFile });
for (let i = 0; i < WARMUP; i++) {
  await request(team.port, member);
  await request(local.port, CLIENT_TOKEN);
}
const withLedger: number[] = [];
const without: number[] = [];
for (let i = 0; i < SAMPLES; i++) {
  // Interleaved, and alternating which goes first, so drift hits both alike.
  const [a, b] = i % 2 ? [() => request(team.port, member), () => request(local.port, CLIENT_TOKEN)] : [() => request(local.port, CLIENT_TOKEN), () => request(team.port, member)];
  const first = await a();
  const second = await b();
  (i % 2 ? withLedger : without).push(first.ms);
  (i % 2 ? without : withLedger).push(second.ms);
}
console.log(`1. added latency, ${SAMPLES} requests each, interleaved (team = member lookup + ledger row):`);
console.log(`   local mode   p50 ${f(pct(without, 50))} ms  p99 ${f(pct(without, 99))} ms`);
console.log(`   team mode    p50 ${f(pct(withLedger, 50))} ms  p99 ${f(pct(withLedger, 99))} ms`);
console.log(`   added        p50 ${f(pct(withLedger, 50) - pct(without, 50))} ms (goal < 0.200)  ratio ${f(pct(withLedger, 50) / pct(without, 50), 2)}x`);
await local.stop();

// --- 2. sustained -----------------------------------------------------------
const rss: string[] = [`${f(rssMb(team.child.pid!), 1)}`];
let done = 0;
let failed = 0;
const until = Date.now() + SUSTAIN_MS;
const sampler = setInterval(() => rss.push(f(rssMb(team.child.pid!), 1)), SUSTAIN_MS / 6);
await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
  while (Date.now() < until) {
    const r = await request(team.port, member);
    if (r.status === 200) done++;
    else failed++;
  }
}));
clearInterval(sampler);
rss.push(f(rssMb(team.child.pid!), 1));
const totals = JSON.parse((await request(team.port, ADMIN_TOKEN, '/admin/api/usage?by=member', 'GET')).body) as { rows: { requests: number }[] };
console.log(`2. sustained, ${CONCURRENCY} concurrent for ${SUSTAIN_MS / 1000} s: ${f(done / (SUSTAIN_MS / 1000), 0)} req/s, ${failed} failed; ledger rows for the member: ${totals.rows[0]?.requests}`);
console.log(`   gateway RSS (MB) over the run: ${rss.join(' → ')}`);
await team.stop();
cleanup(dir);

// --- 3. queries over a seeded ledger -------------------------------------------
const big = tempDataDir();
writeFileSync(`${big}-key`, 'sk-bench-key\n');
let t0 = Date.now();
seedLedger(big, { generate: { count: SEED_ROWS, days: 90, members: Array.from({ length: 25 }, (_, i) => `member${i}`), models: ['claude-sonnet-4-5', 'claude-opus-4-1', 'claude-haiku-4-5'], projects: ['web', 'api', 'infra', 'docs'], batch: 20_000 } });
console.log(`3. seeded ${SEED_ROWS.toLocaleString('en-US')} rows (90 days, 25 members, 3 models, 4 projects) in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
const served = await startGateway({ CCTL_GATEWAY_MODE: 'team', CCTL_DATA_DIR: big, CCTL_ADMIN_TOKEN: ADMIN_TOKEN, ANTHROPIC_API_KEY_FILE: `${big}-key` });
const since = new Date(Date.now() - 29 * 86_400_000).toISOString().slice(0, 10);
const dashboard = [`/admin/api/usage?by=day,member&since=${since}`, `/admin/api/usage?by=member&since=${since}`, `/admin/api/usage?by=model&since=${since}`, '/admin/api/requests?limit=50'];
const times = (n: number, fn: () => Promise<unknown>) => (async () => { const out: number[] = []; for (let i = 0; i < n; i++) { const s = process.hrtime.bigint(); await fn(); out.push(Number(process.hrtime.bigint() - s) / 1e6); } return out; })();
await request(served.port, ADMIN_TOKEN, dashboard[0]!, 'GET');
for (const path of dashboard) {
  const ms = await times(20, () => request(served.port, ADMIN_TOKEN, path, 'GET'));
  console.log(`   ${path.padEnd(56)} p50 ${f(pct(ms, 50), 2)} ms  max ${f(Math.max(...ms), 2)} ms`);
}
const page = await times(20, () => Promise.all(dashboard.map((p) => request(served.port, ADMIN_TOKEN, p, 'GET'))));
console.log(`   the dashboard's 4 queries together (as the page sends them) p50 ${f(pct(page, 50), 2)} ms (goal < 200)`);
for (const by of ['day', 'month', 'member', 'model']) {
  const ms = await times(20, () => request(served.port, ADMIN_TOKEN, `/admin/api/usage?by=${by}`, 'GET'));
  console.log(`   usage --team ${by.padEnd(7)} API p50 ${f(pct(ms, 50), 2)} ms (goal < 200)`);
}
t0 = Date.now();
const cli = spawnSync(process.execPath, [join(ROOT, 'bin', 'cctl.js'), 'usage', '--team', 'member', '--json'], { env: { ...process.env, CCTL_TEAM_GATEWAY_URL: `http://127.0.0.1:${served.port}`, CCTL_ADMIN_TOKEN: ADMIN_TOKEN }, encoding: 'utf8' });
console.log(`   cctl usage --team member --json, whole command incl. Node start: ${Date.now() - t0} ms (exit ${cli.status}, ${(JSON.parse(cli.stdout || '{"rows":[]}') as { rows: unknown[] }).rows.length} members)`);
await served.stop();
cleanup(big);
upstream.close();
agent.destroy();
