/**
 * The speed goals of issue 12, measured in one run against baselines taken in
 * the same run, interleaved so that load on a shared machine hits both alike.
 * The raw side does the work cctl does (bench/raw-compose.ts):
 *
 *   1. warm `cctl up` (stack down, images current) to all-healthy, against raw
 *      `compose up -d --wait` on the same file (Compose v1 has no --wait: raw
 *      `up -d`, then cctl's own wait: docker events and a 250 ms inspect loop).
 *   2. `cctl up` when everything is up and current, against the checks its
 *      short path used to make, done raw (config --hash, ps, one inspect).
 *      cctl now makes only the ps and the inspect: its fingerprint covers
 *      every input Compose reads (lib/ops/up/record.ts), so Compose's
 *      configuration is known unchanged without asking. The raw side keeps
 *      the config --hash: a baseline is not made lighter to win.
 *   3. `cctl usage daily --json` against the floor of a Node wrapper: a bare
 *      Node script spawning the same `compose exec` (bench/hot-path.ts covers
 *      every pass-through verb).
 *
 * Goals (bench/goals.ts; --check exits 1 on a miss, --goal ID=LIMIT changes one):
 *   warm-ms             warm up < 3000 ms on engine >= 25, < 5000 ms older (absolute)
 *   warm-ratio          cctl / raw warm up <= 1.05 (relative)
 *   current-ms          up when current < 300 ms on Compose v2 (absolute; issue 19), < 500 ms on v1
 *                       (each Compose v1 call starts a Python interpreter)
 *   current-ratio       cctl / the raw checks <= 1.5 (relative: cctl also starts Node
 *                       and hashes its inputs, about 60 ms over ~250 ms of docker calls)
 *   usage-floor-ratio   cctl usage daily --json / the floor <= 1.10 (relative)
 *
 *   node --import tsx bench/speed.ts [--runs N] [--check] [--relative-only] [--tolerance F] [--goal ID=LIMIT]   (npm run bench)
 *   CCTL_COMPOSE=docker-compose node --import tsx bench/speed.ts   (Compose v1, on an engine it can drive)
 *
 * Needs an engine and the stand-in base image (as the e2e tests do).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { CLI, e2eEnv } from '../test/helpers/cli.js';
import { compose } from '../lib/engine/compose.js';
import { projectArgv } from '../lib/ops/compose.js';
import { benchArgs, Goals, median } from './goals.js';
import { rawIsCurrent, rawUpHealthy, type RawTarget } from './raw-compose.js';

const args = benchArgs({ runs: { type: 'string', default: process.env.BENCH_RUNS ?? '7' } });
const goals = new Goals('bench/speed.ts', args);
const RUNS = Number(args.runs);
if (!Number.isInteger(RUNS) || RUNS < 1) throw new Error('--runs must be a whole number >= 1');

const dir = mkdtempSync(join(tmpdir(), 'cctl-bench-speed-'));
const name = 'cctlbenchspeed';
// Its own cache folder, so the runs neither use nor disturb the user's (the first cctl call fills it).
// Raw Compose gets what cctl passes itself (its files, the time zone, no agent), or each would
// recreate claude-cli after the other and both would be timing a recreate.
const env = e2eEnv({
  COMPOSE_PROJECT_NAME: name,
  CCTL_CACHE_DIR: join(dir, '.cache'),
  TZ: 'UTC',
  GIT_AUTHOR_NAME: 'Bench',
  GIT_COMMITTER_NAME: 'Bench',
  GIT_AUTHOR_EMAIL: 'bench@example.invalid',
  GIT_COMMITTER_EMAIL: 'bench@example.invalid',
});
delete env.SSH_AUTH_SOCK;
const engine = await compose();
// Raw Compose takes the same files as cctl: the committed one and, once cctl wrote it, the per-machine one.
const target = { file: join(dir, 'compose.yaml'), dir, name, exists: true, nameSource: 'environment' as const };
const raw = (...args: string[]) => projectArgv(engine, target, args, env);
const SERVICES = ['claude-cli', 'proxy'];
const rawTarget: RawTarget = { engine, project: target, env, services: SERVICES };

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
const pathsOf = (kind: string) =>
  Object.entries(paths[kind]!)
    .map(([p, n]) => `${p}×${n}`)
    .join(' ');
const sh = (argv: readonly string[]) => execFileSync(argv[0]!, argv.slice(1), { cwd: dir, env, stdio: 'pipe' }).toString();
const cctl = (...args: string[]) => [process.execPath, CLI, ...args];

/** Wall time of an async step, in ms. */
async function timedAsync(step: () => Promise<unknown> | unknown): Promise<number> {
  const t0 = performance.now();
  await step();
  return performance.now() - t0;
}
const stop = () => sh(raw('rm', '-s', '-f', ...SERVICES));

const spread = (xs: readonly number[]) => `${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)}`;

try {
  const daemon = sh(['docker', 'version', '--format', '{{.Server.Version}}']).trim();
  timed(cctl('up', '--timeout', '900')); // builds once; everything below is warm

  const warm = { cctl: [] as number[], raw: [] as number[] };
  const current = { cctl: [] as number[], raw: [] as number[], node: [] as number[] };
  let hashNotes = 0;
  for (let i = 0; i < RUNS; i++) {
    // Alternate which goes first, so neither always follows the other's warm-up.
    const order = i % 2 ? (['cctl', 'raw'] as const) : (['raw', 'cctl'] as const);
    for (const who of order) {
      stop();
      warm[who].push(who === 'raw' ? await timedAsync(() => rawUpHealthy(rawTarget)) : cctlUp('warm'));
    }
    // The stack is up and current now: the no-op case.
    for (const who of order) {
      current[who].push(
        who === 'raw'
          ? await timedAsync(() => {
              const found = rawIsCurrent(rawTarget);
              if (!found.healthy) throw new Error('the raw checks found the stack not running healthy after an up');
              if (!found.sameHash) hashNotes++;
            })
          : cctlUp('current'),
      );
    }
    // Node's own start-up beside them: the floor of any Node CLI, which the absolute goal cannot go under.
    current.node.push(timed([process.execPath, '-e', '0']));
  }

  const usageRaw = raw('exec', '-T', 'claude-cli', 'ccusage', 'claude', 'daily', '--json');
  // The floor for any Node wrapper: a bare script that only spawns the raw command and passes its status on.
  const wrapper = [
    process.execPath,
    '-e',
    `require('child_process').spawn(process.argv[1], process.argv.slice(2), { stdio: 'inherit' }).on('close', (c) => (process.exitCode = c))`,
    ...usageRaw,
  ];
  const usage = { cctl: [] as number[], raw: [] as number[], node: [] as number[], wrapper: [] as number[] };
  for (let i = 0; i < 2; i++) (timed(usageRaw), timed(cctl('usage', 'daily', '--json'))); // warm-up
  for (let i = 0; i < RUNS * 3; i++) {
    const order = i % 2 ? (['cctl', 'raw', 'wrapper', 'node'] as const) : (['node', 'wrapper', 'raw', 'cctl'] as const);
    const argv = { raw: usageRaw, node: [process.execPath, '-e', '0'], wrapper, cctl: cctl('usage', 'daily', '--json') };
    for (const who of order) usage[who].push(timed(argv[who]));
  }

  const ms = (x: number) => `${x.toFixed(0).padStart(5)} ms`;
  const w = { cctl: median(warm.cctl), raw: median(warm.raw) };
  const c = { cctl: median(current.cctl), raw: median(current.raw), node: median(current.node) };
  const u = { cctl: median(usage.cctl), raw: median(usage.raw), node: median(usage.node), wrapper: median(usage.wrapper) };
  const load = (await import('node:os')).loadavg()[0]!.toFixed(2);
  // Issue 12's warm-up goal: under 3 s where start_interval exists (engine >= 25), under 5 s on older engines.
  const warmGoal = Number(daemon.split('.')[0]) >= 25 ? 3000 : 5000;
  console.log(
    `engine ${daemon}, compose ${engine.flavour} ${engine.version}; ${RUNS} interleaved runs (usage: ${RUNS * 3}); load average now ${load}`,
  );
  console.log(
    `warm up to all-healthy   cctl ${ms(w.cctl)} (${spread(warm.cctl)})   raw up -d${engine.flavour === 'v1' ? " + cctl's event wait" : ' --wait'} ${ms(w.raw)} (${spread(warm.raw)})   (cctl paths: ${pathsOf('warm')})`,
  );
  console.log(
    `up when current          cctl ${ms(c.cctl)} (${spread(current.cctl)})   raw checks (config --hash, ps, inspect) ${ms(c.raw)} (${spread(current.raw)})   node -e 0 ${ms(c.node)}   (cctl paths: ${pathsOf('current')})`,
  );
  console.log(
    `usage daily --json       cctl ${ms(u.cctl)} (${spread(usage.cctl)})   floor ${ms(u.wrapper)} (${spread(usage.wrapper)})   raw exec ${ms(u.raw)}   node -e 0 ${ms(u.node)}`,
  );
  if (hashNotes)
    console.log(
      `(the raw config hashes differed from the containers' labels in ${hashNotes} of ${RUNS} runs: cctl's up adds its own environment; the raw side did the same calls)`,
    );
  goals.check('warm-ms', 'warm up to all-healthy, cctl median', w.cctl, '<=', warmGoal, 'ms', 'absolute');
  goals.check('warm-ratio', 'warm up, cctl / raw', w.cctl / w.raw, '<=', 1.05, 'x', 'relative');
  goals.check('current-ms', 'up when current, cctl median', c.cctl, '<=', engine.flavour === 'v1' ? 500 : 300, 'ms', 'absolute');
  goals.check('current-ratio', 'up when current, cctl / the raw checks', c.cctl / c.raw, '<=', 1.5, 'x', 'relative');
  goals.check('usage-floor-ratio', 'usage daily --json, cctl / the floor', u.cctl / u.wrapper, '<=', 1.1, 'x', 'relative');
  goals.finish();
} finally {
  try {
    sh(raw('down', '-v', '--timeout', '1'));
  } catch {
    // Nothing to clean, or the engine went away; the images stay for the next run.
  }
  rmSync(dir, { recursive: true, force: true });
}
