/**
 * Each engine-free bench, run for real (--quick), fails under --check when a
 * goal is missed, and says which and by how much: a limit no machine can meet
 * is set with --goal. bench/check.ts (npm run bench:check) passes a failure on.
 * These take a minute or two; they run with the whole suite (npm test), not
 * with test/unit.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { benchCheck } from '../helpers/ci-bench.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function bench(file: string, args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', `bench/${file}`, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 600_000 });
  return { status: r.status, out: r.stdout + r.stderr };
}

const cases: Array<[string, string[], string, RegExp]> = [
  [
    'startup.ts',
    ['--runs', '3'],
    'version-ratio=0.01',
    /goal version-ratio: cctl --version \/ node -e 0, medians = [\d.]+ x, goal <= 0\.010 x \[--goal, stated <= 1\.15 x\]: MISSED by [\d.]+ x/,
  ],
  [
    'proxy.ts',
    ['--quick'],
    'latency-ratio-p50=0.01',
    /goal latency-ratio-p50: gateway p50 \/ bare forwarder p50 = [\d.]+ x, goal <= 0\.010 x .*MISSED by/,
  ],
  [
    'egress.ts',
    ['--quick'],
    'down-ratio=1000',
    /goal down-ratio: MB relayed per CPU second, gateway \/ bare relay, download, 3 x 100 MB = [\d.]+ x, goal >= 1000 x .*MISSED by/,
  ],
  [
    'team-postgres.ts',
    ['--quick'],
    'replica-failures=-1',
    /goal replica-failures: requests that failed under load, 1 and 3 replicas = 0\.000, goal <= -1\.00 .*MISSED by/,
  ],
  [
    'team-gateway.ts',
    ['--quick'],
    'rollup-gain=1000000',
    /goal rollup-gain: member totals of 30 days: rows p50 \/ roll-up p50 = [\d.]+ x, goal >= 1000000 x .*MISSED by/,
  ],
];

for (const [file, args, goal, missed] of cases) {
  test.serial(`bench/${file} --check exits 1 on a missed goal (--goal ${goal}) and says by how much`, (t) => {
    const r = bench(file, [...args, '--check', '--goal', goal]);
    t.is(r.status, 1, r.out);
    t.regex(r.out, missed);
    t.regex(r.out, new RegExp(`${file.replace('.', '\\.')}: \\d+ goals, [1-9]\\d* missed`));
  });
}

test.serial('bench/startup.ts without --check reports the same miss but exits 0', (t) => {
  const r = bench('startup.ts', ['--runs', '3', '--goal', 'version-ratio=0.01']);
  t.is(r.status, 0, r.out);
  t.regex(r.out, /MISSED/);
});

test.serial('bench:check measures a bench that missed once more, fails when it misses again, and its last line names the goal', (t) => {
  const r = spawnSync(
    process.execPath,
    ['--import', 'tsx', 'bench/check.ts', '--only', 'startup', '--', '--runs', '3', '--goal', 'help-ratio=0.01'],
    { cwd: ROOT, encoding: 'utf8', timeout: 600_000 },
  );
  t.is(r.status, 1, r.stdout + r.stderr);
  // Both runs printed in full, the second one labelled.
  t.is(r.stdout.match(/^goal help-ratio: .*MISSED/gm)?.length, 2, r.stdout);
  t.regex(r.stdout, /== bench\/startup\.ts .*\(run 2: measured once more after a miss\)/);
  const last = r.stdout.trim().split('\n').at(-1)!;
  t.regex(
    last,
    /^bench:check: FAILED: bench\/startup\.ts run 1: help-ratio = [\d.]+ x, needs <= 0\.013 x \(goal 0\.010 x, 30 % tolerance\) \| run 2: help-ratio = [\d.]+ x, needs <= 0\.013 x/,
  );
});

test.serial("CI's RESULTS line carries that summary (.ci/bench.sh run_bench_check on a real bench:check)", (t) => {
  const r = benchCheck(`node --import tsx bench/check.ts --only startup -- --runs 3 --goal version-ratio=0.01`);
  t.is(r.overall, 1, r.line + r.stderr);
  t.regex(
    r.line,
    /^benchmarks \(npm run bench:check\): FAILED, exit 1 \(\d+ s\): bench\/startup\.ts run 1: version-ratio = [\d.]+ x, needs <= 0\.013 x.* \| run 2: version-ratio/,
  );
});

test.serial('bench:check refuses a bench name it does not have', (t) => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'bench/check.ts', '--only', 'nope'], { cwd: ROOT, encoding: 'utf8' });
  t.is(r.status, 2);
  t.regex(r.stderr, /no bench named nope/);
});
