/**
 * One set of store cases (ledger-contract.ts) against SQLite and against a
 * real Postgres started here from Debian's package: each case passes on both,
 * and both stores answer every query with the same figures.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { CASES } from './ledger-contract.js';
import { ROOT, tsNode } from './team-fixtures.js';

type Result = { ok: true; value: unknown } | { ok: false; error: string };

function runCases(kind: 'sqlite' | 'postgres', base: string): Record<string, Result> {
  const [bin, ...args] = tsNode('test/gateway/ledger-contract-run.ts');
  const run = spawnSync(bin!, [...args, kind, base], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
  if (run.status !== 0) throw new Error(`the ${kind} cases did not run (exit ${run.status}): ${run.stderr}`);
  return (JSON.parse(run.stdout) as { results: Record<string, Result> }).results;
}

let pg: TestPostgres;
let sqlite: Record<string, Result>;
let postgres: Record<string, Result>;
const dir = mkdtempSync(join(tmpdir(), 'cctl-contract-'));

test.before(async () => {
  pg = await startPostgres();
  sqlite = runCases('sqlite', dir);
  postgres = runCases('postgres', `postgres://cctl@127.0.0.1:${pg.port}/postgres`);
});
test.after.always(() => {
  pg?.stop();
  rmSync(dir, { recursive: true, force: true });
});

for (const name of Object.keys(CASES)) {
  test(`sqlite: ${name}`, (t) => {
    const r = sqlite[name]!;
    t.true(r.ok, r.ok ? '' : r.error);
  });
  test(`postgres: ${name}`, (t) => {
    const r = postgres[name]!;
    t.true(r.ok, r.ok ? '' : r.error);
  });
  test(`same answers: ${name}`, (t) => {
    const [a, b] = [sqlite[name]!, postgres[name]!];
    t.true(a.ok && b.ok);
    if (a.ok && b.ok) t.deepEqual(b.value, a.value);
  });
}
