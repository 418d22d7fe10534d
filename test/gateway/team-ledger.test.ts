/**
 * The ledger's two threads, in Node 22 (node:sqlite): a clean close commits
 * every recorded row, even ones still waiting for their batch, and a writer
 * thread that dies is replaced, and a locked ledger holds up admissions but
 * never the event loop.
 */
import test from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { send, startUpstream } from './fixtures.js';
import { ADMIN_TOKEN, cleanup, memberCli, ROOT, seedLedger, startTeam, tempDataDir, tsNode } from './team-fixtures.js';

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
  t.true(
    (out.logs as string[]).some((l) => l.includes('writer thread stopped')),
    JSON.stringify(out.logs),
  );
});

test('a reservation is taken on the event loop while the write lock is free, and by the writer thread while another holds it', (t) => {
  const dir = tempDataDir();
  t.teardown(() => cleanup(dir));
  const out = scenario(dir, 'where-reservations-go');
  t.like(out.free, { ok: true });
  t.deepEqual(out.askedWhileFree, [], 'no round trip to the writer thread while the lock is free');
  t.like(out.taken, { ok: true });
  t.deepEqual(out.askedWhileTaken, ['reserve'], 'the writer thread waits for a lock held elsewhere');
  t.true(out.loopTurns >= 5, `the event loop kept turning while the lock was held (${out.loopTurns} turns of 20 ms in 300 ms)`);
  t.like(out.totals, { requests: 1 }, 'the row recorded before the first reservation was committed with it');
  t.deepEqual(out.logs, []);
});

test('a row on its way to the writer thread frees its place before the next admission: with a cap of 1, the next request is admitted', (t) => {
  const dir = tempDataDir();
  t.teardown(() => cleanup(dir));
  const out = scenario(dir, 'settled-before-next');
  t.like(out.first, { ok: true });
  t.like(out.second, { ok: true }, JSON.stringify(out.second));
  t.deepEqual(out.logs, []);
});

test('a stalled ledger delays admissions, never the event loop: health answers, and every request is served once the lock goes', async (t) => {
  // Budgets are reserved in the ledger (atomically, so they hold under
  // concurrency), so a request waits for a ledger that holds its write lock;
  // that wait is in the writer thread, and everything else keeps moving.
  const upstream = await startUpstream();
  const team = await startTeam(upstream.url);
  t.teardown(async () => {
    await team.stop();
    await upstream.close();
    cleanup(team.dataDir);
  });
  const token = memberCli(team.dataDir, ['add', 'ann']).stdout.trim();
  const [bin, ...args] = tsNode('test/gateway/team-ledger-run.ts');
  const holder = spawn(bin!, [...args, join(team.dataDir, 'ledger.db'), 'hold-write-lock', '2000'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  // Listened for now: the requests below end when the lock goes, and the holder may exit before they are counted.
  const holderExited = once(holder, 'exit');
  await once(holder.stdout!, 'data');
  const started = Date.now();
  const requests = Array.from({ length: 5 }, () =>
    send(team.port, { body: '{"model":"m","max_tokens":5,"messages":[]}', headers: { 'x-api-key': token } }),
  );
  const healthTimes: number[] = [];
  for (let i = 0; i < 10; i++) {
    const t0 = Date.now();
    t.is((await send(team.port, { method: 'GET', path: '/health' })).status, 200);
    healthTimes.push(Date.now() - t0);
    await new Promise((r) => setTimeout(r, 100));
  }
  t.true(Math.max(...healthTimes) < 1000, `health answered within ${Math.max(...healthTimes)} ms while the ledger was locked`);
  const replies = await Promise.all(requests);
  t.deepEqual(
    replies.map((r) => r.status),
    [200, 200, 200, 200, 200],
  );
  t.true(Date.now() - started >= 1500, 'the requests waited for the ledger');
  await holderExited;
  const deadline = Date.now() + 10_000;
  let rows = 0;
  while (rows < 5 && Date.now() < deadline) {
    const body = JSON.parse(
      (await send(team.port, { path: '/admin/api/usage?by=member', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).body,
    ) as { rows: { requests: number }[] };
    rows = body.rows[0]?.requests ?? 0;
    if (rows < 5) await new Promise((r) => setTimeout(r, 100));
  }
  t.is(rows, 5, 'every row was committed once the lock was released');
});
