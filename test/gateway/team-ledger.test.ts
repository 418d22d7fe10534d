/**
 * The ledger's two threads, in Node 22 (node:sqlite): a clean close commits
 * every recorded row, even ones still waiting for their batch, and a writer
 * thread that dies is replaced.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { cleanup, ROOT, seedLedger, tempDataDir, tsNode } from './team-fixtures.js';

function scenario(dir: string, name: string): Record<string, any> {
  const [bin, ...args] = tsNode('test/gateway/team-ledger-run.ts');
  const result = spawnSync(bin!, [...args, join(dir, 'ledger.db'), name], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  if (result.status !== 0) throw new Error(result.stderr);
  return JSON.parse(result.stdout) as Record<string, any>;
}

test('close() commits rows still waiting for their batch', (t) => {
  const dir = tempDataDir();
  t.teardown(() => cleanup(dir));
  t.like(scenario(dir, 'close-commits'), { closed: true });
  const { results } = JSON.parse(seedLedger(dir, { queries: [{ by: [] }] })) as { results: { requests: number }[][] };
  t.is(results[0]![0]!.requests, 1234);
});

test('a writer thread that dies is replaced, and recording goes on', (t) => {
  const dir = tempDataDir();
  t.teardown(() => cleanup(dir));
  const out = scenario(dir, 'writer-dies');
  t.like(out.before, { requests: 1, inputTokens: 1 });
  t.like(out.after, { requests: 2, inputTokens: 3 });
  t.true((out.logs as string[]).some((l) => l.includes('writer thread stopped')), JSON.stringify(out.logs));
});
