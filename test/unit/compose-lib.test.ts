/**
 * The docker-compose package behind engine/compose-lib.ts, run for real
 * against a stand-in compose (a shell script): the argv the package spawns is
 * the argv cctl traces and hands to the fake, its plain-object rejections
 * become CctlErrors, and a file to validate reaches compose on stdin.
 */
import test from 'ava';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build, validate, type ComposeInvocation } from '../../lib/engine/compose-client.js';
import type { ComposeCommand } from '../../lib/engine/compose.js';
import { CctlError } from '../../lib/kernel/errors.js';
import { ProcessError } from '../../lib/engine/runner.js';
import { FakeEngine, withEngine } from '../helpers/fake-engine.js';

/** A stand-in compose: prints its args one per line, keeps stdin when a file comes as `-`, and exits with $EXIT (after $ERR on stderr). */
function standIn(t: { teardown(fn: () => void): void }) {
  const dir = mkdtempSync(join(tmpdir(), 'cctl-compose-lib-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const script = join(dir, 'compose');
  writeFileSync(
    script,
    `#!/bin/sh\nfor a in "$@"; do printf '%s\\n' "$a"; [ "$a" = - ] && cat > "${dir}/stdin"; done\n[ -n "$ERR" ] && printf '%s\\n' "$ERR" >&2\nexit "\${EXIT:-0}"\n`,
  );
  chmodSync(script, 0o755);
  const engine: ComposeCommand = { flavour: 'standalone-v2', command: [script], version: '2.0.0' };
  const file = join(dir, 'compose.yaml');
  const inv = (env: NodeJS.ProcessEnv = process.env, profiles = ['claude']): ComposeInvocation => ({
    engine,
    files: [file],
    project: 'demo',
    dir,
    profiles,
    env,
  });
  return { dir, script, engine, file, inv, stdin: () => readFileSync(join(dir, 'stdin'), 'utf8') };
}

test.serial('the package spawns exactly the argv cctl traces, and its output reaches the progress callback', async (t) => {
  const s = standIn(t);
  const chunks: string[] = [];
  const result = await build(s.inv(), { services: ['claude-cli', 'proxy'], noCache: true, onOutput: (c) => chunks.push(c) });
  const expected = [
    '--project-directory',
    s.dir,
    '-f',
    s.file,
    '-p',
    'demo',
    '--profile',
    'claude',
    'build',
    '--no-cache',
    'claude-cli',
    'proxy',
  ];
  t.deepEqual(result.stdout.trim().split('\n'), expected);
  t.is(chunks.join(''), result.stdout);
  // The fake at the seam is handed the same argv.
  const fake = new FakeEngine().on(s.script, { stdout: 'built\n' });
  await withEngine(fake, () => build(s.inv(), { services: ['claude-cli', 'proxy'], noCache: true }));
  t.deepEqual(
    fake.calls.map((c) => c.argv),
    [[s.script, ...expected]],
  );
});

test.serial('a rejection (a plain object) becomes a CctlError whose cause holds the output', async (t) => {
  const s = standIn(t);
  const error = await t.throwsAsync(
    build(s.inv({ ...process.env, EXIT: '3', ERR: 'failed to solve: boom' }, []), { services: ['claude-cli'] }),
  );
  t.true(error instanceof CctlError);
  t.regex(error!.message, /^Building claude-cli failed: failed to solve: boom/);
  const cause = (error as CctlError).cause as ProcessError;
  t.true(cause instanceof ProcessError);
  t.is(cause.exitCode, 3);
  t.deepEqual(cause.command.slice(-2), ['build', 'claude-cli']);
  t.regex(cause.stdout, /claude-cli/);
});

test.serial('validation pipes the text as -f - with the project directory, and a missing compose is a CctlError', async (t) => {
  const s = standIn(t);
  const fake = new FakeEngine().on(s.script, { stdout: '' });
  await withEngine(fake, () => validate(s.inv(), 'services: {}\n'));
  // The piped text is the only file: the committed one is not read.
  t.deepEqual(
    fake.calls.map((c) => c.argv),
    [[s.script, '--project-directory', s.dir, '-p', 'demo', '--profile', 'claude', '-f', '-', 'config', '-q']],
  );
  await validate(s.inv(), 'services: {}\n');
  t.is(s.stdin(), 'services: {}\n');
  const gone = { ...s.inv(), engine: { ...s.engine, command: [join(s.dir, 'no-such-compose')] } };
  const error = await t.throwsAsync(validate(gone, 'x'));
  t.true(error instanceof CctlError);
  t.regex(error!.message, /compose config.*failed/);
});
