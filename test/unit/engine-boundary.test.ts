/**
 * One engine façade: only lib/engine builds docker or compose argv, and only
 * engine/compose-lib.ts loads the docker-compose package. Checked on the
 * source, so a new `run(['docker', ...])` in a command or use case fails here,
 * and so does a compose verb spelled out (`['exec', '-T', ...]`) for some
 * helper to prefix: compose calls go through the typed client
 * (engine/compose-client.ts).
 */
import test from 'ava';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const LIB = fileURLToPath(new URL('../../lib', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

const outside = sources(LIB).filter((f) => !/^(engine|gateway)\//.test(relative(LIB, f)));

/** A docker or compose call spelled out: run(['docker', ...]), runInteractive(['docker-compose', ...]). */
const DOCKER_ARGV = /\b(run|runInteractive|runThrough|capture|interactive)\(\s*\[\s*['"]docker(-compose)?['"]/;

test('no module outside lib/engine builds a docker argv', (t) => {
  const offenders = outside.filter((f) => DOCKER_ARGV.test(readFileSync(f, 'utf8'))).map((f) => relative(LIB, f));
  t.deepEqual(offenders, []);
});

test('the check can fail: it sees an argv literal', (t) => {
  t.true(DOCKER_ARGV.test("await run(['docker', 'ps'])"));
  t.true(DOCKER_ARGV.test('runInteractive([\n  "docker-compose", "logs"])'));
  t.false(DOCKER_ARGV.test("for (const sub of ['docker', 'proxy'])"));
});

test('only engine/compose-lib.ts loads the docker-compose package', (t) => {
  const users = sources(LIB)
    .filter((f) => /from\s+['"]docker-compose['"]|import\(\s*['"]docker-compose['"]\s*\)/.test(readFileSync(f, 'utf8')))
    .map((f) => relative(LIB, f));
  t.deepEqual(users, ['engine/compose-lib.ts']);
});

/**
 * A compose verb's args spelled out as a list: `['up', '-d', ...]`, `['exec', '-T', CLI_SERVICE, ...]`,
 * `[...plain, 'logs', ...flags]`, `['config', '--hash', '*']`.
 */
const COMPOSE_VERB_ARGS =
  /\[\s*(?:\.\.\.[\w.]+,\s*)*['"](?:up|down|exec|logs|config|build|pull|push|ps|stop|rm|start|restart|create|kill|images|port|top|cp|run)['"]\s*,\s*(?:['"]-|\.\.\.|[A-Z][A-Z_]+\b)/;

test("no module outside lib/engine spells out a compose verb's args", (t) => {
  const offenders = outside.filter((f) => COMPOSE_VERB_ARGS.test(readFileSync(f, 'utf8'))).map((f) => relative(LIB, f));
  t.deepEqual(offenders, []);
});

test('the verb check can fail: it sees what the use cases used to build', (t) => {
  for (const line of [
    "composeRun(project, ['exec', '-T', CLI_SERVICE, 'ssh-add', '-l'])",
    "composeRun(ctx.project, ['up', '-d', '--no-build', ...services], { signal })",
    "composeInteractive(project, [...plain, 'logs', ...flags, ...services])",
    "composeRun(project, ['config', '--hash', '*'], { env })",
    "composeRun(project, ['stop', '--timeout', '5', ...services])",
    "composeInteractive(project, ['logs', ...flags, ...SERVICES])",
  ]) {
    t.true(COMPOSE_VERB_ARGS.test(line), line);
  }
  t.false(COMPOSE_VERB_ARGS.test("const verbs = ['up', 'down'] as const"));
  t.false(COMPOSE_VERB_ARGS.test("help: ['logs', 'status']"));
});

/** The runner's spawning functions, imported as values. */
const SPAWNS =
  /import\s*\{[^}]*\b(?<!type )(run|runInteractive|runThrough|runSettled)\b[^}]*\}\s*from\s*['"][./]*(?:engine\/)?runner\.js['"]/;

test('outside lib/engine, only a module that runs another program (git) spawns through the runner', (t) => {
  const spawners = outside.filter((f) => SPAWNS.test(readFileSync(f, 'utf8'))).map((f) => relative(LIB, f));
  // workbench.ts reads the host's git identity (`git config --get`), task/git.ts runs `git worktree`: not docker, not compose.
  t.deepEqual(spawners.sort(), ['ops/task/git.ts', 'ops/workbench.ts']);
  t.true(SPAWNS.test("import { ProcessError, run, runInteractive, type RunResult } from '../engine/runner.js';"));
  t.false(SPAWNS.test("import { ProcessError, type RunResult } from '../engine/runner.js';"));
});
