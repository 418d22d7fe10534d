/**
 * Budgets hold under concurrency (issue 20, item 2). Twenty slow requests
 * sent at once against a one-dollar daily budget: each is admitted only while
 * the member's spend plus what the requests in flight reserved is below the
 * budget, so at most ceil(budget / estimate) get through, and the ledger
 * total stays within the budget plus one request's estimate (the bound the
 * guide documents). The in-flight cap holds the same way, per member and by
 * default. The fake upstream holds every reply until all twenty have been
 * admitted or refused, so they are truly in flight together.
 */
import test from 'ava';
import type http from 'node:http';
import { send, startUpstream, type Upstream } from './fixtures.js';
import { ADMIN_TOKEN, cleanup, memberCli, startTeam, type TeamProcess } from './team-fixtures.js';
import { estimateRequest } from '../../lib/gateway/team/reservation.js';
import { estimateCost } from '../../lib/gateway/team/pricing.js';

const MODEL = 'claude-sonnet-4-5';
const MAX_TOKENS = 20_000;
const INPUT_TOKENS = 1000;
/** About 2 kB, so that the input the upstream reports (1000 tokens) is below the body's byte count, as real input is. */
const BODY = JSON.stringify({ model: MODEL, max_tokens: MAX_TOKENS, messages: [{ role: 'user', content: 'x'.repeat(1900) }] });

/** A fake Messages API that holds each reply until release(), then reports max_tokens of output. */
async function heldUpstream(): Promise<Upstream & { held: () => number; release: () => void }> {
  const waiting: (() => void)[] = [];
  let released = false;
  const upstream = await startUpstream((req: http.IncomingMessage, res: http.ServerResponse, body: string) => {
    const reply = () => {
      const request = JSON.parse(body) as { model: string; max_tokens: number };
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          type: 'message',
          model: request.model,
          content: [],
          stop_reason: 'max_tokens',
          usage: { input_tokens: INPUT_TOKENS, output_tokens: request.max_tokens },
        }),
      );
    };
    if (released) reply();
    else waiting.push(reply);
    void req;
  });
  return Object.assign(upstream, {
    held: () => waiting.length,
    release: () => {
      released = true;
      for (const reply of waiting.splice(0)) reply();
    },
  });
}

async function settle<T>(what: () => Promise<T>, done: (value: T) => boolean, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await what();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((r) => setTimeout(r, 50));
  }
}

const usage = async (team: TeamProcess) =>
  (
    JSON.parse(
      (await send(team.port, { path: '/admin/api/usage?by=member', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).body,
    ) as { rows: { member: string; requests: number; cost: number }[] }
  ).rows;

test('twenty parallel slow requests against a one-dollar budget: at most what the rule admits, and the ledger within the documented bound', async (t) => {
  const upstream = await heldUpstream();
  const team = await startTeam(upstream.url);
  t.teardown(async () => {
    upstream.release();
    await team.stop();
    await upstream.close();
    cleanup(team.dataDir);
  });
  const token = memberCli(team.dataDir, ['add', 'ann', '--daily-cost', '1']).stdout.trim();
  const budget = 1;
  const estimate = estimateRequest(MODEL, MAX_TOKENS, Buffer.byteLength(BODY)).cost;
  const actual = estimateCost(MODEL, { inputTokens: INPUT_TOKENS, outputTokens: MAX_TOKENS, cacheCreationTokens: 0, cacheReadTokens: 0 });
  t.true(actual <= estimate, 'the estimate is an upper bound for this request');
  const allowed = Math.ceil(budget / estimate);

  const replies = Array.from({ length: 20 }, () =>
    send(team.port, { body: BODY, headers: { 'x-api-key': token, 'content-type': 'application/json' } }),
  );
  const refusals: http.IncomingHttpHeaders[] = [];
  for (const reply of replies) void reply.then((r) => r.status === 429 && refusals.push(r.headers));
  // Every request is either held at the upstream or already refused: all were in flight at once.
  t.is(
    await settle(
      async () => upstream.held() + refusals.length,
      (n) => n === 20,
      90_000,
    ),
    20,
    'all twenty admitted or refused',
  );
  const admitted = upstream.held();
  upstream.release();
  const statuses = (await Promise.all(replies)).map((r) => r.status);

  t.log(`estimate $${estimate.toFixed(4)}, actual $${actual.toFixed(4)} a request; admitted ${admitted} of 20 (rule allows ${allowed})`);
  t.true(admitted >= 1 && admitted <= allowed, `admitted ${admitted}, the rule allows at most ${allowed}`);
  t.is(statuses.filter((s) => s === 200).length, admitted);
  t.is(statuses.filter((s) => s === 429).length, 20 - admitted);
  // Refused because others hold the rest: worth retrying, so no x-should-retry: false.
  t.true(
    refusals.every((h) => h['x-should-retry'] === undefined && h['retry-after'] === '2'),
    JSON.stringify(refusals[0]),
  );

  const rows = await settle(
    () => usage(team),
    (r) => r[0]?.requests === 20,
  );
  const total = rows[0]!.cost;
  t.true(total <= budget + estimate, `ledger total $${total} within budget + one estimate ($${(budget + estimate).toFixed(4)})`);
  t.true(Math.abs(total - admitted * actual) < 1e-6, `the ledger charges what the upstream reported: $${total}`);

  // With the budget spent, the next request is refused for good until the day resets.
  const after = await send(team.port, { body: BODY, headers: { 'x-api-key': token } });
  t.is(after.status, 429);
  t.is(after.headers['x-should-retry'], 'false');
  t.regex(JSON.parse(after.body).error.message, /has reached the daily cost budget of \$1\.00/);
});

test('the in-flight cap holds per member (its own setting, else CCTL_MAX_IN_FLIGHT), and a finished request frees its place at once', async (t) => {
  const upstream = await heldUpstream();
  const team = await startTeam(upstream.url, { env: { CCTL_MAX_IN_FLIGHT: '2' } });
  t.teardown(async () => {
    upstream.release();
    await team.stop();
    await upstream.close();
    cleanup(team.dataDir);
  });
  const ann = memberCli(team.dataDir, ['add', 'ann', '--max-in-flight', '3']).stdout.trim();
  const bob = memberCli(team.dataDir, ['add', 'bob']).stdout.trim();
  const fire = (token: string, n: number) =>
    Array.from({ length: n }, () => send(team.port, { body: BODY, headers: { 'x-api-key': token } }));
  const annReplies = fire(ann, 10);
  const bobReplies = fire(bob, 10);
  let refused = 0;
  for (const r of [...annReplies, ...bobReplies]) void r.then((x) => x.status === 429 && refused++);
  t.is(
    await settle(
      async () => upstream.held() + refused,
      (n) => n === 20,
      90_000,
    ),
    20,
  );
  t.is(upstream.held(), 5, 'ann 3 (her own cap) and bob 2 (the gateway default)');
  upstream.release();
  const ann429 = (await Promise.all(annReplies)).filter((r) => r.status === 429);
  t.is(ann429.length, 7);
  t.regex(JSON.parse(ann429[0]!.body).error.message, /has 3 requests in flight, the most this gateway allows at once/);
  t.is(ann429[0]!.headers['x-should-retry'], undefined, 'worth retrying');
  t.is((await Promise.all(bobReplies)).filter((r) => r.status === 429).length, 8);

  // One after another, with a cap of 1: each request's row settles its place before the next is admitted.
  t.is(memberCli(team.dataDir, ['budget', 'bob', '--max-in-flight', '1']).status, 0);
  for (let i = 0; i < 5; i++) t.is((await send(team.port, { body: BODY, headers: { 'x-api-key': bob } })).status, 200, `request ${i}`);
});
