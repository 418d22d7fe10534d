/**
 * The speed goals of issue 12, measured in one run against baselines taken in
 * the same run, interleaved so that load on a shared machine hits both alike:
 *
 *   1. warm `cctl up` (stack down, images current) to all-healthy, against raw
 *      `compose up -d --wait` on the same file (Compose v1 has no --wait: raw
 *      `up -d`, then polling docker inspect every 100 ms). Goal: < 3 s on
 *      engine >= 25, and a ratio <= 1.05.
 *   2. `cctl up` when everything is up and current. Goal: < 0.5 s. The raw
 *      `up -d --wait` on the running stack is printed for scale.
 *   3. `cctl usage daily --json` against raw `compose exec -T claude-cli
 *      ccusage claude daily --json`. Goal: cctl adds no more than a bare
 *      `node -e 0` takes (measured in the same loop).
 *
 *   node --import tsx bench/speed.ts [--runs N]     (npm run bench)
 *   CCTL_COMPOSE=docker-compose node --import tsx bench/speed.ts   (Compose v1, on an engine it can drive)
 *
 * Needs an engine and the stand-in base image (as the e2e tests do). Prints
 * medians, spreads and ratios; asserts nothing.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { CLI, e2eEnv } from '../test/helpers/cli.js';
import { compose, composeArgv } from '../lib/engine/compose.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: process.env.BENCH_RUNS ?? '7' } } });
const RUNS = Number(values.runs);
if (!Number.isInteger(RUNS) || RUNS < 3) throw new Error('--runs must be an integer >= 3');

const dir = mkdtempSync(join(tmpdir(), 'cctl-bench-speed-'));
const name = 'cctlbenchspeed';
// Its own cache folder, so the runs neither use nor disturb the user's (the first cctl call fills it).
// Raw Compose gets what cctl passes itself (user ids, time zone, git identity, no agent), or each
// would recreate claude-cli after the other and both would be timing a recreate.
const uid = String(process.getuid?.() ?? 1001);
const gid = String(process.getgid?.() ?? 1001);
const env = e2eEnv({
  COMPOSE_PROJECT_NAME: name,
  CCTL_CACHE_DIR: join(dir, '.cache'),
  ...(uid === '0' ? {} : { CCTL_UID: uid, CCTL_GID: gid }),
  TZ: 'UTC',
  GIT_AUTHOR_NAME: 'Bench',
  GIT_COMMITTER_NAME: 'Bench',
  GIT_AUTHOR_EMAIL: 'bench@example.invalid',
  GIT_COMMITTER_EMAIL: 'bench@example.invalid',
});
delete env.SSH_AUTH_SOCK;
const engine = await compose();
const target = { file: join(dir, 'compose.yaml'), dir, name };
const raw = (...args: string[]) => composeArgv(engine, target, args, ['claude']);
const SERVICES = ['claude-cli', 'proxy'];

let lastStdout = '';
/** Runs one command to completion; its wall time in ms. Output is captured, and a failure stops the bench. */
function timed(argv: readonly string[]): number {
  const t0 = performance.now();
  const r = spawnSync(argv[0]!, argv.slice(1), { cwd: dir, env, stdio: ['pipe', 'pipe', 'pipe'], encoding: 'utf8', timeout: 900_000 });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${argv.join(' ')} exited ${r.status ?? r.signal}: ${r.stderr}`);
  lastStdout = r.stdout;
  return ms;
}

/** `cctl up --json`, timed, counting which way each run went (full, start, current). */
const paths: Record<string, Record<string, number>> = { warm: {}, current: {} };
function cctlUp(kind: 'warm' | 'current'): number {
  const ms = timed(cctl('up', '--json'));
  const path = (JSON.parse(lastStdout) as { path?: string }).path ?? '?';
  paths[kind]![path] = (paths[kind]![path] ?? 0) + 1;
  return ms;
}
const pathsOf = (kind: string) => Object.entries(paths[kind]!).map(([p, n]) => `${p}×${n}`).join(' ');
const sh = (argv: readonly string[]) => execFileSync(argv[0]!, argv.slice(1), { cwd: dir, env, stdio: 'pipe' }).toString();
const cctl = (...args: string[]) => [process.execPath, CLI, ...args];

function healthyIds(): boolean {
  const ids = sh(['docker', 'ps', '-q', '--filter', `label=com.docker.compose.project=${name}`]).split('\n').filter(Boolean);
  if (ids.length < SERVICES.length) return false;
  return sh(['docker', 'inspect', '--format', '{{.State.Health.Status}}', ...ids]).split('\n').filter(Boolean).every((h) => h === 'healthy');
}

/** The raw warm start: `up -d --wait` where Compose has it, else `up -d` and a 100 ms inspect loop. */
function rawWarmUp(): number {
  if (engine.flavour !== 'v1') return timed(raw('up', '-d', '--wait', ...SERVICES));
  const t0 = performance.now();
  sh(raw('up', '-d', ...SERVICES));
  for (let i = 0; i < 3000 && !healthyIds(); i++) execFileSync('sleep', ['0.1']);
  return performance.now() - t0;
}
const stop = () => sh(raw('rm', '-s', '-f', ...SERVICES));

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const spread = (xs: readonly number[]) => `${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)}`;

try {
  const daemon = sh(['docker', 'version', '--format', '{{.Server.Version}}']).trim();
  timed(cctl('up', '--timeout', '900')); // builds once; everything below is warm

  const warm = { cctl: [] as number[], raw: [] as number[] };
  const current = { cctl: [] as number[], raw: [] as number[] };
  for (let i = 0; i < RUNS; i++) {
    // Alternate which goes first, so neither always follows the other's warm-up.
    const order = i % 2 ? (['cctl', 'raw'] as const) : (['raw', 'cctl'] as const);
    for (const who of order) {
      stop();
      warm[who].push(who === 'raw' ? rawWarmUp() : cctlUp('warm'));
    }
    // The stack is up and current now: the no-op case.
    for (const who of order) current[who].push(who === 'raw' ? timed(raw('up', '-d', ...(engine.flavour === 'v1' ? [] : ['--wait']), ...SERVICES)) : cctlUp('current'));
  }

  const usageRaw = raw('exec', '-T', 'claude-cli', 'ccusage', 'claude', 'daily', '--json');
  // The floor for any Node wrapper: a bare script that only spawns the raw command and passes its status on.
  const wrapper = [process.execPath, '-e', `require('child_process').spawn(process.argv[1], process.argv.slice(2), { stdio: 'inherit' }).on('close', (c) => (process.exitCode = c))`, ...usageRaw];
  const usage = { cctl: [] as number[], raw: [] as number[], node: [] as number[], wrapper: [] as number[] };
  for (let i = 0; i < 2; i++) timed(usageRaw), timed(cctl('usage', 'daily', '--json')); // warm-up
  for (let i = 0; i < RUNS * 3; i++) {
    const order = i % 2 ? (['cctl', 'raw', 'wrapper', 'node'] as const) : (['node', 'wrapper', 'raw', 'cctl'] as const);
    const argv = { raw: usageRaw, node: [process.execPath, '-e', '0'], wrapper, cctl: cctl('usage', 'daily', '--json') };
    for (const who of order) usage[who].push(timed(argv[who]));
  }

  const ms = (x: number) => `${x.toFixed(0).padStart(5)} ms`;
  const verdict = (ok: boolean) => (ok ? 'met' : 'MISSED');
  const w = { cctl: median(warm.cctl), raw: median(warm.raw) };
  const c = { cctl: median(current.cctl), raw: median(current.raw) };
  const u = { cctl: median(usage.cctl), raw: median(usage.raw), node: median(usage.node), wrapper: median(usage.wrapper) };
  const load = (await import('node:os')).loadavg()[0]!.toFixed(2);
  // Issue 12's warm-up goal: under 3 s where start_interval exists (engine >= 25), under 5 s on older engines.
  const warmGoal = Number(daemon.split('.')[0]) >= 25 ? 3000 : 5000;
  console.log(`engine ${daemon}, compose ${engine.flavour} ${engine.version}; ${RUNS} interleaved runs (usage: ${RUNS * 3}); load average now ${load}`);
  console.log(`warm up to all-healthy   cctl ${ms(w.cctl)} (${spread(warm.cctl)})   raw up -d${engine.flavour === 'v1' ? ' + poll' : ' --wait'} ${ms(w.raw)} (${spread(warm.raw)})   ratio ${(w.cctl / w.raw).toFixed(2)}   goal < ${warmGoal} ms and <= 1.05: ${verdict(w.cctl < warmGoal && w.cctl / w.raw <= 1.05)}   (cctl paths: ${pathsOf('warm')})`);
  console.log(`up when current          cctl ${ms(c.cctl)} (${spread(current.cctl)})   raw up -d${engine.flavour === 'v1' ? '' : ' --wait'} ${ms(c.raw)} (${spread(current.raw)})   ratio ${(c.cctl / c.raw).toFixed(2)}   goal < 500 ms: ${verdict(c.cctl < 500)}   (cctl paths: ${pathsOf('current')})`);
  console.log(`usage daily --json       cctl ${ms(u.cctl)} (${spread(usage.cctl)})   raw exec ${ms(u.raw)} (${spread(usage.raw)})   ratio ${(u.cctl / u.raw).toFixed(2)}   cctl adds ${ms(u.cctl - u.raw)}, node -e 0 takes ${ms(u.node)}   goal adds <= node -e 0: ${verdict(u.cctl - u.raw <= u.node)}`);
  console.log(`                         (a bare Node script that only spawns the raw exec adds ${ms(u.wrapper - u.raw)}: the floor for any Node wrapper)`);
} finally {
  try {
    sh(raw('down', '-v', '--timeout', '1'));
  } catch {
    // Nothing to clean, or the engine went away; the images stay for the next run.
  }
  rmSync(dir, { recursive: true, force: true });
}
