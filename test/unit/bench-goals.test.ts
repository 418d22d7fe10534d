/**
 * bench/goals.ts, the goal bookkeeping every bench shares: a missed goal sets
 * exit status 1 under --check and says by how much; tolerance loosens only
 * relative goals; --relative-only leaves absolute ones unchecked; --goal
 * replaces a limit and must name a goal.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { Goals, relativeSlopePercent } from '../../bench/goals.js';

function capture(fn: () => void): string {
  const log = console.log;
  let out = '';
  console.log = (...a: unknown[]) => void (out += `${a.join(' ')}\n`);
  const code = process.exitCode;
  try {
    fn();
  } finally {
    console.log = log;
    process.exitCode = code;
  }
  return out;
}

test('a met goal exits 0, a missed one 1 under --check, saying what and by how much', (t) => {
  let status = -1;
  const out = capture(() => {
    const g = new Goals('b', { check: true });
    t.true(g.check('fast', 'thing', 1.0, '<=', 1.1, 'x', 'relative'));
    t.false(g.check('slow', 'other thing', 1.32, '<=', 1.1, 'x', 'relative'));
    t.false(g.check('rate', 'a rate', 0.4, '>=', 0.8, 'x', 'relative'));
    status = g.finish();
  });
  t.is(status, 1);
  t.regex(out, /goal fast: thing = 1\.00 x, goal <= 1\.10 x: met/);
  t.regex(out, /goal slow: other thing = 1\.32 x, goal <= 1\.10 x: MISSED by 0\.220 x \(20\.0%\)/);
  t.regex(out, /goal rate: a rate = 0\.400 x, goal >= 0\.800 x: MISSED by 0\.400 x \(50\.0%\)/);
  t.regex(out, /b: 3 goals, 2 missed/);
});

test('without --check a miss is printed but the status stays 0', (t) => {
  let status = -1;
  capture(() => {
    const g = new Goals('b', {});
    g.check('slow', 'x', 2, '<=', 1, '', 'relative');
    status = g.finish();
  });
  t.is(status, 0);
});

test('tolerance loosens relative goals only, and --relative-only leaves absolute ones unchecked', (t) => {
  let status = -1;
  const out = capture(() => {
    const g = new Goals('b', { check: true, tolerance: '0.3', 'relative-only': true });
    t.true(g.check('ratio', 'r', 1.4, '<=', 1.1, 'x', 'relative')); // 1.1 * 1.3 = 1.43
    t.true(g.check('floor', 'f', 0.65, '>=', 0.8, 'x', 'relative')); // 0.8 / 1.3 = 0.615
    t.false(g.check('ms', 'm', 900, '<=', 200, 'ms', 'absolute'));
    status = g.finish();
  });
  t.is(status, 0, out);
  t.regex(out, /with 30\.0% tolerance <= 1\.43 x\): met/);
  t.regex(out, /goal ms: .*MISSED by 700 ms.*not checked \(absolute goal, --relative-only\)/);
});

test('--goal replaces one limit, shows the stated one, and must name a goal of the bench', (t) => {
  let status = -1;
  const out = capture(() => {
    const g = new Goals('b', { check: true, goal: ['ratio=0.5'] });
    t.false(g.check('ratio', 'r', 1.0, '<=', 1.1, 'x', 'relative'));
    status = g.finish();
  });
  t.is(status, 1);
  t.regex(out, /goal <= 0\.500 x \[--goal, stated <= 1\.10 x\]: MISSED by 0\.500 x/);
  const unknown = capture(() => {
    const g = new Goals('b', { check: true, goal: ['nope=1'] });
    g.check('ratio', 'r', 1.0, '<=', 1.1, 'x', 'relative');
    status = g.finish();
  });
  t.is(status, 1);
  t.regex(unknown, /--goal names no goal of this bench: nope \(its goals: ratio\)/);
  t.throws(() => new Goals('b', { goal: ['ratio'] }), { message: /--goal takes ID=LIMIT/ });
  t.throws(() => new Goals('b', { tolerance: '-1' }), { message: /--tolerance/ });
});

test('a measurement that is not a number misses its goal', (t) => {
  capture(() => {
    const g = new Goals('b', { check: true });
    t.false(g.check('nan', 'n', NaN, '<=', 1, '', 'relative'));
  });
});

test('relativeSlopePercent: flat is 0, steady growth is its rate, a level after a step is small', (t) => {
  t.is(relativeSlopePercent([50, 50, 50]), 0);
  t.true(Math.abs(relativeSlopePercent([100, 110, 120]) - (10 / 110) * 100) < 1e-9);
  t.true(relativeSlopePercent([75.2, 75.1, 75.3]) < 0.5);
  t.true(relativeSlopePercent([60, 70, 80, 90]) > 10);
  t.true(Number.isNaN(relativeSlopePercent([1])));
});

/** bench/goals.sh in sh with set -eu, as bench/image.sh runs it: its exit status and output. */
function shGoals(script: string): { status: number | null; out: string } {
  const r = spawnSync('sh', ['-c', `set -eu\n. ./bench/goals.sh\n${script}`], { cwd: new URL('../..', import.meta.url), encoding: 'utf8' });
  return { status: r.status, out: r.stdout + r.stderr };
}

test('bench/goals.sh (image.sh): met goals exit 0; under --check a miss exits 1 and says by how much', (t) => {
  const met = shGoals(
    'goal_args --check\ngoal size-ratio "image / payload" 1.08 1.15\ngoal steps "steps re-run" 0 0\ngoals_finish bench/x.sh\necho after',
  );
  t.is(met.status, 0, met.out);
  t.regex(met.out, /goal size-ratio: image \/ payload = 1\.08, goal <= 1\.15: met/);
  t.regex(met.out, /bench\/x\.sh: all goals met\nafter/);
  const missed = shGoals(
    'goal_args --check\ngoal size-ratio "image / payload" 1.31 1.15\ngoal steps "steps re-run" 2 0\ngoals_finish bench/x.sh\necho after',
  );
  t.is(missed.status, 1, missed.out);
  t.regex(missed.out, /goal size-ratio: image \/ payload = 1\.31, goal <= 1\.15: MISSED by 0\.16/);
  t.regex(missed.out, /goal steps: steps re-run = 2, goal <= 0: MISSED by 2/);
  t.notRegex(missed.out, /after/);
  const noCheck = shGoals('goal_args\ngoal steps "steps" 2 0\ngoals_finish bench/x.sh\necho after');
  t.is(noCheck.status, 0);
  t.regex(noCheck.out, /MISSED by 2[\s\S]*after/);
});

test('bench/goals.sh: --goal replaces a limit and must name a goal; bad arguments are refused', (t) => {
  const tightened = shGoals('goal_args --check --goal size-ratio=0.5\ngoal size-ratio "r" 1.08 1.15\ngoals_finish b');
  t.is(tightened.status, 1);
  t.regex(tightened.out, /goal <= 0\.5 \[--goal, stated <= 1\.15\]: MISSED by 0\.58/);
  const unknown = shGoals('goal_args --check --goal nope=1\ngoal size-ratio "r" 1.08 1.15\ngoals_finish b');
  t.is(unknown.status, 1);
  t.regex(unknown.out, /--goal names no goal of this bench: nope/);
  t.is(shGoals('goal_args --goal size-ratio').status, 2);
  t.is(shGoals('goal_args --fast').status, 2);
  t.is(shGoals('goal_args --check\ngoal x "not a number" abc 1\ngoals_finish b').status, 1);
});
