/**
 * One engine façade: only lib/engine builds docker or compose argv, and only
 * engine/compose-lib.ts loads the docker-compose package. Checked on the
 * source, so a new `run(['docker', ...])` in a command or use case fails here.
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
