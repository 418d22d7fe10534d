/**
 * The benchmarks' part of CI (.ci/bench.sh, used by .ci/run): its RESULTS
 * line, the one a CI log's tail shows, carries bench/check.ts's summary (which
 * bench missed which goal, the figure and the limit), and a failed bench:check
 * fails the run. Driven here with stand-in commands; test/bench/engine-free.test.ts
 * drives it on a real bench:check that misses a goal.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchCheck } from '../helpers/ci-bench.js';
import { SHELLCHECK_INSTALL, withTool } from '../helpers/tools.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

const SUMMARY = 'FAILED: bench/egress.ts down-ratio = 0.157 x, needs >= 0.615 x (goal 0.800 x, 30 % tolerance)';

test('a failed bench:check fails the run, and its RESULTS line names the goal, the figure and the limit', (t) => {
  const r = benchCheck(`bash -c 'echo "${SUMMARY}" > "$CCTL_BENCH_SUMMARY"; exit 1'`);
  t.is(r.overall, 1, r.stderr);
  t.is(r.line.replace(/\(\d+ s\)/, '(N s)'), `benchmarks (npm run bench:check): FAILED, exit 1 (N s): ${SUMMARY.slice(8)}`);
});

test('a bench:check that fails before writing its summary still fails the run, and says so', (t) => {
  const r = benchCheck(`bash -c 'exit 3'`);
  t.is(r.overall, 1, r.stderr);
  t.regex(r.line, /^benchmarks \(npm run bench:check\): FAILED, exit 3 \(\d+ s\): no summary written: the command itself failed/);
});

test('a passing bench:check leaves overall alone and carries its summary', (t) => {
  const r = benchCheck(`bash -c 'echo "goals met in 5 benches" > "$CCTL_BENCH_SUMMARY"'`);
  t.is(r.overall, 0, r.stderr);
  t.regex(r.line, /^benchmarks \(npm run bench:check\): goals met in 5 benches \(\d+ s\)$/);
});

test('.ci/run runs bench:check through run_bench_check', (t) => {
  const ci = readFileSync(join(ROOT, '.ci', 'run'), 'utf8');
  t.regex(ci, /^source \.ci\/bench\.sh$/m);
  t.regex(ci, /^\s+run_bench_check npm run --silent bench:check$/m);
  t.notRegex(ci, /RESULTS\+=\("benchmarks/);
});

withTool('shellcheck', SHELLCHECK_INSTALL)('.ci/bench.sh is clean under shellcheck', (t) => {
  const r = spawnSync('shellcheck', ['-s', 'bash', join(ROOT, '.ci', 'bench.sh')], { encoding: 'utf8' });
  t.is(r.status, 0, r.stdout + r.stderr);
});
