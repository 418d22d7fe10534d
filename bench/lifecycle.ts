/**
 * Lifecycle benchmark, measured against raw Compose in the same run:
 *   - warm `cctl up` (image built, stack down) to all-healthy, next to raw
 *     `docker-compose --profile claude up -d` plus polling health;
 *   - `cctl status` next to raw `compose ps`;
 *   - `cctl --version`.
 * Run: node --import tsx bench/lifecycle.ts   (needs an engine and the stand-in base)
 * Prints medians and ratios; it asserts nothing.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { CLI, composeCommand, e2eEnv } from '../test/helpers/cli.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const dir = mkdtempSync(join(tmpdir(), 'cctl-bench-'));
const name = 'cctlbenchlife';
const env = e2eEnv({ COMPOSE_PROJECT_NAME: name });
const sh = (file: string, args: string[]) => execFileSync(file, args, { cwd: dir, env, stdio: 'pipe' }).toString();
const cctl = (...args: string[]) => sh('node', [CLI, ...args]);
// The compose users have (the v2 plugin), or CCTL_COMPOSE's (docker-compose for the legacy pair).
const [composeBin, ...composePrefix] = composeCommand();
const compose = (...args: string[]) => sh(composeBin!, [...composePrefix, '-f', join(dir, 'compose.yaml'), '-p', name, '--profile', 'claude', ...args]);

function time(fn: () => void): number {
  const t0 = performance.now();
  fn();
  return performance.now() - t0;
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function rawUpHealthy(): void {
  compose('up', '-d', 'claude-cli', 'proxy');
  for (let i = 0; i < 600; i++) {
    const ids = compose('ps', '-q').trim().split('\n').filter(Boolean);
    const health = sh('docker', ['inspect', '--format', '{{.State.Health.Status}}', ...ids]).trim().split('\n');
    if (health.length === 2 && health.every((h) => h === 'healthy')) return;
    execFileSync('sleep', ['0.25']);
  }
  throw new Error('raw up did not become healthy');
}

const stop = () => compose('rm', '-s', '-f', 'claude-cli', 'proxy');

cctl('up', '--timeout', '900'); // build once; everything below is warm
const up = { cctl: [] as number[], raw: [] as number[] };
for (let i = 0; i < RUNS; i++) {
  stop();
  up.raw.push(time(rawUpHealthy));
  stop();
  up.cctl.push(time(() => cctl('up')));
}
const status = { cctl: [] as number[], raw: [] as number[] };
for (let i = 0; i < RUNS * 2; i++) {
  status.raw.push(time(() => compose('ps')));
  status.cctl.push(time(() => cctl('status')));
}
const version: number[] = [];
for (let i = 0; i < RUNS * 4; i++) version.push(time(() => cctl('--version')));
compose('down', '-v', '--timeout', '1');

const row = (label: string, a: number[], b: number[]) =>
  console.log(`${label.padEnd(34)} cctl ${median(a).toFixed(0).padStart(6)} ms   raw ${median(b).toFixed(0).padStart(6)} ms   ratio ${(median(a) / median(b)).toFixed(2)}`);
console.log(`runs: ${RUNS} (medians)`);
row('warm up to all-healthy', up.cctl, up.raw);
row('status vs compose ps', status.cctl, status.raw);
console.log(`${'cctl --version'.padEnd(34)} median ${median(version).toFixed(0)} ms`);
