/**
 * Lifecycle benchmark, measured against raw Compose in the same run,
 * interleaved (order alternating) so load on the machine hits both alike:
 *   - warm `cctl up` (image built, stack down) to all-healthy, next to raw
 *     `compose up -d --wait` (Compose v1: `up -d` and cctl's own event wait;
 *     bench/raw-compose.ts);
 *   - `cctl status` next to raw `compose ps`;
 *   - `cctl --version` next to `node -e 0`.
 *
 * Goals (bench/goals.ts; --check exits 1 on a miss, --goal ID=LIMIT changes one):
 *   warm-ratio      cctl up / raw, to all-healthy <= 1.05 (relative)
 *   status-ratio    cctl status / compose ps <= 2 (relative: status adds Node's
 *                   start-up and one inspect for health to the ps)
 *   version-ratio   cctl --version / node -e 0 <= 1.15 (relative)
 *
 *   node --import tsx bench/lifecycle.ts [--runs N] [--check] [--relative-only] [--tolerance F] [--goal ID=LIMIT]
 *   (needs an engine and the stand-in base; CCTL_COMPOSE=docker-compose for Compose v1)
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { CLI, e2eEnv } from '../test/helpers/cli.js';
import { compose as detectCompose } from '../lib/engine/compose.js';
import { projectArgv } from '../lib/ops/compose.js';
import { benchArgs, Goals, median } from './goals.js';
import { rawUpHealthy, type RawTarget } from './raw-compose.js';

const args = benchArgs({ runs: { type: 'string', default: process.env.BENCH_RUNS ?? '5' } });
const goals = new Goals('bench/lifecycle.ts', args);
const RUNS = Number(args.runs);
if (!Number.isInteger(RUNS) || RUNS < 1) throw new Error('--runs must be a whole number >= 1');

const dir = mkdtempSync(join(tmpdir(), 'cctl-bench-'));
const name = 'cctlbenchlife';
const env = e2eEnv({ COMPOSE_PROJECT_NAME: name, CCTL_CACHE_DIR: join(dir, '.cache') });
const sh = (file: string, argv: string[]) => execFileSync(file, argv, { cwd: dir, env, stdio: 'pipe' }).toString();
const cctl = (...a: string[]) => sh(process.execPath, [CLI, ...a]);
// The compose users have (the v2 plugin), or CCTL_COMPOSE's (docker-compose for the legacy pair).
const engine = await detectCompose();
const project = { file: join(dir, 'compose.yaml'), dir, name, exists: true, nameSource: 'environment' as const };
const compose = (...a: string[]) => {
  const [file, ...rest] = projectArgv(engine, project, a, env);
  return sh(file!, rest);
};
const rawTarget: RawTarget = { engine, project, env, services: ['claude-cli', 'proxy'] };

async function time(fn: () => unknown): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}
const stop = () => compose('rm', '-s', '-f', 'claude-cli', 'proxy');

try {
  cctl('up', '--timeout', '900'); // build once; everything below is warm
  const up = { cctl: [] as number[], raw: [] as number[] };
  for (let i = 0; i < RUNS; i++) {
    for (const who of i % 2 ? (['cctl', 'raw'] as const) : (['raw', 'cctl'] as const)) {
      stop();
      up[who].push(await time(() => (who === 'raw' ? rawUpHealthy(rawTarget) : cctl('up'))));
    }
  }
  const status = { cctl: [] as number[], raw: [] as number[] };
  for (let i = 0; i < RUNS * 2; i++) {
    for (const who of i % 2 ? (['cctl', 'raw'] as const) : (['raw', 'cctl'] as const))
      status[who].push(await time(() => (who === 'raw' ? compose('ps') : cctl('status'))));
  }
  const version = { cctl: [] as number[], node: [] as number[] };
  const nodeEnv = { ...env };
  delete nodeEnv.NODE_OPTIONS;
  for (let i = 0; i < RUNS * 4; i++) {
    for (const who of i % 2 ? (['cctl', 'node'] as const) : (['node', 'cctl'] as const)) {
      version[who].push(
        await time(() =>
          execFileSync(process.execPath, who === 'node' ? ['-e', '0'] : [CLI, '--version'], { env: nodeEnv, stdio: 'pipe' }),
        ),
      );
    }
  }

  const row = (label: string, a: number[], b: number[], base: string) =>
    console.log(
      `${label.padEnd(34)} cctl ${median(a).toFixed(0).padStart(6)} ms   ${base} ${median(b).toFixed(0).padStart(6)} ms   ratio ${(median(a) / median(b)).toFixed(2)}`,
    );
  console.log(`compose ${engine.flavour} ${engine.version}; runs: ${RUNS} (medians)`);
  row('warm up to all-healthy', up.cctl, up.raw, engine.flavour === 'v1' ? "raw up -d + cctl's wait" : 'raw up -d --wait');
  row('status vs compose ps', status.cctl, status.raw, 'raw ps');
  row('cctl --version vs node -e 0', version.cctl, version.node, 'node -e 0');
  goals.check('warm-ratio', 'warm up to all-healthy, cctl / raw', median(up.cctl) / median(up.raw), '<=', 1.05, 'x', 'relative');
  goals.check('status-ratio', 'cctl status / compose ps', median(status.cctl) / median(status.raw), '<=', 2, 'x', 'relative');
  goals.check('version-ratio', 'cctl --version / node -e 0', median(version.cctl) / median(version.node), '<=', 1.15, 'x', 'relative');
  goals.finish();
} finally {
  try {
    compose('down', '-v', '--timeout', '1');
  } catch {
    // Nothing to clean, or the engine went away.
  }
  rmSync(dir, { recursive: true, force: true });
}
