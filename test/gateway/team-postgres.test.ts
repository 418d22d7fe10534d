/**
 * Two team gateway processes (replicas) sharing one Postgres ledger, started
 * here from Debian's package: every reply has its row whichever replica
 * served it, both answer the same totals, a revoke made on one is refused by
 * both on the next request, and a budget holds across replicas (each request
 * is admitted in the database, not in a replica's memory).
 */
import test from 'ava';
import type http from 'node:http';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { bearer, send, startUpstream, type Upstream } from './fixtures.js';
import { ADMIN_TOKEN, cleanup, postgresMemberCli, startTeam, type TeamProcess } from './team-fixtures.js';
import { estimateRequest } from '../../lib/gateway/team/reservation.js';

let pg: TestPostgres;
test.before(async () => {
  pg = await startPostgres();
});
test.after.always(() => pg?.stop());

async function replicas(upstream: Upstream, url: string, t: { teardown(fn: () => Promise<void>): void }): Promise<TeamProcess[]> {
  const started = await Promise.all([0, 1].map(() => startTeam(upstream.url, { env: { CCTL_LEDGER_URL: url } })));
  t.teardown(async () => {
    await Promise.all(started.map((r) => r.stop()));
    for (const r of started) cleanup(r.dataDir);
  });
  return started;
}

const usageOf = async (team: TeamProcess) =>
  (
    JSON.parse((await send(team.port, { path: '/admin/api/usage?by=member', headers: bearer(ADMIN_TOKEN) })).body) as {
      rows: { member: string; requests: number; inputTokens: number }[];
    }
  ).rows;

const reply = (_req: http.IncomingMessage, res: http.ServerResponse, body: string) => {
  const { model } = JSON.parse(body) as { model: string };
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ type: 'message', model, content: [], stop_reason: 'end_turn', usage: { input_tokens: 10, output_tokens: 2 } }));
};

test('every reply from either replica has its row, and both report the same totals', async (t) => {
  const upstream = await startUpstream(reply, { readBody: true });
  t.teardown(() => upstream.close());
  const url = await pg.database();
  const [a, b] = await replicas(upstream, url, t);
  const token = postgresMemberCli(url, ['add', 'ann', '--max-in-flight', '100']);
  let ok = 0;
  await Promise.all(
    Array.from({ length: 60 }, async (_, i) => {
      const r = await send((i % 2 ? a : b)!.port, {
        body: JSON.stringify({ model: 'claude-sonnet-4', max_tokens: 10, messages: [] }),
        headers: { 'x-api-key': token },
      });
      if (r.status === 200) ok++;
    }),
  );
  t.is(ok, 60);
  t.is(upstream.seen.length, 60, 'the upstream answered each once');
  // Each replica commits its own rows in batches (every 50 ms): the other sees them once committed.
  const deadline = Date.now() + 5000;
  while (((await usageOf(a!))[0]?.requests ?? 0) < 60 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  t.like((await usageOf(a!))[0], { member: 'ann', requests: 60, inputTokens: 600 });
  t.deepEqual(await usageOf(b!), await usageOf(a!));
});

test('a revoke made through one replica is refused by both on the next request, and a renewed name leaves the old token refused', async (t) => {
  const upstream = await startUpstream(reply, { readBody: true });
  t.teardown(() => upstream.close());
  const url = await pg.database();
  const [a, b] = await replicas(upstream, url, t);
  const token = postgresMemberCli(url, ['add', 'bob']);
  const body = JSON.stringify({ model: 'm', max_tokens: 1, messages: [] });
  for (const r of [a!, b!]) t.is((await send(r.port, { body, headers: { 'x-api-key': token } })).status, 200);
  postgresMemberCli(url, ['revoke', 'bob']);
  for (const r of [a!, b!]) {
    const refused = await send(r.port, { body, headers: { 'x-api-key': token } });
    t.is(refused.status, 401);
    t.is(refused.headers['x-should-retry'], 'false');
    t.regex(refused.body, /revoked or never issued/);
  }
  // The name given a new token: each replica has seen the old one, and must still refuse it.
  const renewed = postgresMemberCli(url, ['add', 'bob']);
  for (const r of [a!, b!]) {
    t.is((await send(r.port, { body, headers: { 'x-api-key': token } })).status, 401, 'the old token stays refused');
    t.is((await send(r.port, { body, headers: { 'x-api-key': renewed } })).status, 200, 'the new token is admitted');
  }
  // A refused token leaves no row, as on SQLite: bob's ledger holds the 4 admitted requests, not the 4 refusals.
  t.like(
    (await usageOf(a!)).find((row) => row.member === 'bob'),
    { requests: 4 },
  );
});

test('a budget holds across replicas: parallel slow requests on both admit only what the rule allows', async (t) => {
  const waiting: (() => void)[] = [];
  const upstream = await startUpstream((req, res, body) => void waiting.push(() => reply(req, res, body)), { readBody: true });
  t.teardown(() => upstream.close());
  const url = await pg.database();
  const [a, b] = await replicas(upstream, url, t);
  const body = JSON.stringify({ model: 'claude-sonnet-4', max_tokens: 200, messages: [{ role: 'user', content: 'x'.repeat(100) }] });
  const estimate = estimateRequest('claude-sonnet-4', 200, Buffer.byteLength(body)).tokens;
  const budget = estimate * 4;
  const token = postgresMemberCli(url, ['add', 'cat', '--daily-tokens', String(budget), '--max-in-flight', '100']);
  const replies = Array.from({ length: 20 }, (_, i) => send((i % 2 ? a : b)!.port, { body, headers: { 'x-api-key': token } }));
  // The admitted ones wait at the upstream; the rest are refused at once.
  const deadline = Date.now() + 10_000;
  while (waiting.length < 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  await new Promise((r) => setTimeout(r, 300));
  for (const answer of waiting.splice(0)) answer();
  const statuses = (await Promise.all(replies)).map((r) => r.status);
  // Held < budget admits while 0, 1, 2 or 3 estimates are held: exactly four, however the replicas interleave.
  t.is(statuses.filter((s) => s === 200).length, 4, statuses.join(','));
  t.is(statuses.filter((s) => s === 429).length, 16);
  t.is(upstream.seen.length, 4, 'the refused ones never reached the upstream');
});
