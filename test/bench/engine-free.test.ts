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
    /goal latency-ratio-p50: gateway p50 \/ direct p50 = [\d.]+ x, goal <= 0\.010 x .*MISSED by/,
  ],
  [
    'egress.ts',
    ['--quick'],
    'down-ratio=1000',
    /goal down-ratio: tunnel \/ direct MB\/s, download, best of 2 = [\d.]+ x, goal >= 1000 x .*MISSED by/,
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

test.serial('bench:check (bench/check.ts) fails when a bench misses a goal, naming it', (t) => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'bench/check.ts', '--only', 'startup', '--', '--goal', 'help-ratio=0.01'], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 600_000,
  });
  t.is(r.status, 1, r.stdout + r.stderr);
  t.regex(r.stdout, /bench\/startup\.ts: FAILED, exit 1/);
  t.regex(r.stdout, /goal help-ratio: .*MISSED/);
});

test.serial('bench:check refuses a bench name it does not have', (t) => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'bench/check.ts', '--only', 'nope'], { cwd: ROOT, encoding: 'utf8' });
  t.is(r.status, 2);
  t.regex(r.stderr, /no bench named nope/);
});
