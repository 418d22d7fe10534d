/**
 * The CI guard (.ci/suite.sh, used by .ci/run): a phase that runs no test, or
 * skips one, fails; a CCTL_CI_PHASES that names no known phase stops the run
 * before it starts. run_suite is driven on real ava runs of tiny suites, in a
 * scratch project that borrows this repository's node_modules.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { asRegularUser } from '../helpers/regular-user.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SUITE = join(ROOT, '.ci', 'suite.sh');

/** Runs bash with .ci/suite.sh sourced, then SCRIPT. */
function bash(script: string, env: Record<string, string> = {}) {
  return spawnSync('bash', ['-c', `source '${SUITE}'\n${script}`], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 120_000 });
}

for (const bad of ['1,2', '3', ' ', '', '1 two', '*']) {
  test(`CCTL_CI_PHASES=${JSON.stringify(bad)} is refused, saying which phases exist`, (t) => {
    const r = bash('ci_phases "$V"', { V: bad });
    t.is(r.status, 2, r.stdout + r.stderr);
    t.is(r.stdout, '');
    t.regex(r.stderr, /CCTL_CI_PHASES.*(names no phase|unknown phase).*1 2/);
  });
}

test('CCTL_CI_PHASES with known phases lists each once', (t) => {
  t.is(bash('ci_phases "1 2"').stdout, '1\n2\n');
  t.is(bash('ci_phases " 2  1 2 "').stdout, '2\n1\n');
  t.is(bash('ci_phases 1').stdout, '1\n');
});

test('.ci/run refuses an unknown phase before anything else: as a regular user, it never reaches its root check', (t) => {
  // As a regular user .ci/run can install and start nothing (it stops at "run as root"), so this is safe to
  // run anywhere; reaching that check with a bad phase would mean the phases are read too late.
  const run = (phases: string) =>
    spawnSync(
      asRegularUser[0] ?? 'bash',
      [...asRegularUser.slice(1), ...(asRegularUser.length ? ['bash'] : []), join(ROOT, '.ci', 'run')],
      {
        encoding: 'utf8',
        env: { ...process.env, CCTL_CI_PHASES: phases, CCTL_STATE_DIR: join(tmpdir(), 'cctl-ci-guard-never-used') },
        timeout: 30_000,
      },
    );
  const bad = run('1,2');
  t.is(bad.status, 2, bad.stderr);
  t.regex(bad.stderr, /unknown phase "1,2"/);
  const good = run('1');
  t.is(good.status, 1, good.stderr);
  t.regex(good.stderr, /run as root/);
});

/** A scratch ava project holding the given test files (plain ESM), using this repository's ava. */
function avaProject(t: { teardown(fn: () => void): void }, files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'cctl-ci-guard-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ type: 'module', ava: { files: ['tests/**/*.test.js'], workerThreads: false, timeout: '5m' } }),
  );
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  mkdirSync(join(dir, 'tests'));
  for (const [name, body] of Object.entries(files)) writeFileSync(join(dir, 'tests', name), `import test from 'ava';\n${body}\n`);
  return dir;
}

/** run_suite on COMMAND in DIR: its exit status (0 = the phase passed) and its RESULTS line. */
function suite(dir: string, command: string) {
  const state = join(dir, 'state');
  mkdirSync(state, { recursive: true });
  const r = bash(
    `RESULTS=(); overall=0; cd '${dir}' && run_suite "phase x" ${command} >/dev/null; printf '%s\\n' "\${RESULTS[@]}"; exit "$overall"`,
    { CCTL_STATE_DIR: state, CI: 'true' },
  );
  return { status: r.status, line: r.stdout.trim(), stderr: r.stderr };
}

const ava = `node '${join(ROOT, 'node_modules', 'ava', 'entrypoints', 'cli.mjs')}'`;

test.serial('a phase whose only test is skipped fails, though ava exits 0', (t) => {
  const dir = avaProject(t, { 'a.test.js': "test.skip('stands aside', (t) => t.pass());" });
  const alone = spawnSync('bash', ['-c', `cd '${dir}' && ${ava}`], { encoding: 'utf8', timeout: 300_000 });
  t.is(alone.status, 0, `ava itself passes this run: ${alone.stdout}${alone.stderr}`);
  const r = suite(dir, ava);
  t.is(r.status, 1, r.line);
  t.regex(r.line, /tests \(phase x\): 0 passed, 0 failed, 1 skipped .*FAILED, no test passed, 1 skipped/);
});

test.serial('a phase that runs no test at all fails (a command that tests nothing and exits 0)', (t) => {
  const dir = avaProject(t, {});
  const r = suite(dir, 'true');
  t.is(r.status, 1, r.line);
  t.regex(r.line, /0 passed, 0 failed, 0 skipped .*FAILED, no test passed/);
});

test.serial('a phase with one skip among passing tests fails', (t) => {
  const dir = avaProject(t, { 'a.test.js': "test('runs', (t) => t.pass());\ntest.skip('stands aside', (t) => t.pass());" });
  const r = suite(dir, ava);
  t.is(r.status, 1, r.line);
  t.regex(r.line, /1 passed, 0 failed, 1 skipped .*FAILED, 1 skipped/);
});

test.serial('a phase whose tests all pass passes, with its counts', (t) => {
  const dir = avaProject(t, { 'a.test.js': "test('one', (t) => t.pass());\ntest('two', (t) => t.is(1, 1));" });
  const r = suite(dir, ava);
  t.is(r.status, 0, r.line + r.stderr);
  t.regex(r.line, /^tests \(phase x\): 2 passed, 0 failed, 0 skipped \(\d+ s\)$/);
});

test.serial('a phase with a failing test fails, counted', (t) => {
  const dir = avaProject(t, { 'a.test.js': "test('one', (t) => t.pass());\ntest('two', (t) => t.is(1, 2));" });
  const r = suite(dir, ava);
  t.is(r.status, 1, r.line);
  t.regex(r.line, /1 passed, 1 failed, 0 skipped/);
});
