/**
 * Attacks on the ledger by a client that controls everything inside
 * claude-cli: spend the team's key without the spend reaching the member's
 * row. Each case is an attack first; the assertion is what the ledger must
 * hold afterwards (never less than what the upstream can have billed).
 */
import test from 'ava';
import http from 'node:http';
import { deadline, send, sse, startUpstream, waitFor } from './fixtures.js';
import { ADMIN_TOKEN, memberCli, startTeamFor, type TeamProcess } from './team-fixtures.js';
import { estimateRequest } from '../../lib/gateway/team/reservation.js';
import { estimateCost, priceOf } from '../../lib/gateway/team/pricing.js';

interface Row {
  member: string;
  status: number;
  inputTokens: number;
  cacheReadTokens: number;
  outputTokens: number;
  cost: number;
  usageUnread?: boolean;
  error?: string;
}

async function rowsOf(team: TeamProcess, member: string, count: number): Promise<Row[]> {
  let rows: Row[] = [];
  for (const end = Date.now() + 5000; rows.length < count && Date.now() < end; await new Promise((r) => setTimeout(r, 50))) {
    const answer = await new Promise<string>((resolve, reject) => {
      http
        .get({
          host: '127.0.0.1',
          port: team.port,
          path: '/admin/api/requests?limit=50',
          headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
        })
        .on('response', (res) => {
          let text = '';
          res.on('data', (d: Buffer) => (text += d.toString()));
          res.on('end', () => resolve(text));
        })
        .on('error', reject);
    });
    rows = (JSON.parse(answer) as { requests: Row[] }).requests.filter((r) => r.member === member);
  }
  return rows;
}

/** A raw Messages request with a member token, to hang up on at the moment an attack needs. */
function postMessages(port: number, token: string): http.ClientRequest {
  return http.request({ host: '127.0.0.1', port, method: 'POST', path: '/v1/messages', headers: { 'x-api-key': token }, agent: false });
}

const MAX_TOKENS = 4000;
const streamBody = JSON.stringify({
  model: 'claude-sonnet-4-5',
  max_tokens: MAX_TOKENS,
  stream: true,
  messages: [{ role: 'user', content: 'x' }],
});

/**
 * A long answer: message_start says 1 output token (as Anthropic's does), the
 * whole text follows, and the cumulative output count only comes in
 * message_delta at the end. The upstream has generated (and billed) every
 * token by the time the text is out.
 */
function longStream(_req: http.IncomingMessage, res: http.ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  res.write(
    sse('message_start', {
      type: 'message_start',
      message: { model: 'claude-sonnet-4-5', usage: { input_tokens: 10, cache_read_input_tokens: 50_000, output_tokens: 1 } },
    }),
  );
  for (let i = 0; i < 20; i++)
    res.write(
      sse('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'word '.repeat(50) } }),
    );
  res.write(sse('content_block_stop', { type: 'content_block_stop', index: 0 }));
  // The final usage a moment later: the attacker hangs up in between.
  const timer = setTimeout(() => {
    res.write(sse('message_delta', { type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 3900 } }));
    res.end(sse('message_stop', { type: 'message_stop' }));
  }, 300);
  res.on('close', () => clearTimeout(timer));
}

test.serial(
  'a stream cut after the text but before message_delta is charged its output at the maximum, not at 1 output token',
  async (t) => {
    const upstream = await startUpstream(longStream);
    const team = await startTeamFor(t, upstream);
    const token = memberCli(team.dataDir, ['add', 'mallory']).stdout.trim();
    // The attack: read the whole answer, then hang up before the event that carries the bill.
    const text = await deadline(
      new Promise<string>((resolve, reject) => {
        const req = postMessages(team.port, token);
        req.on('response', (res) => {
          let got = '';
          res.on('data', (d: Buffer) => {
            got += d.toString();
            if (got.includes('content_block_stop')) {
              req.destroy();
              resolve(got);
            }
          });
        });
        req.on('error', (error) => (req.destroyed ? undefined : reject(error)));
        req.end(streamBody);
      }),
      5000,
      'the answer text',
    );
    t.is(text.split('content_block_delta').length - 1, 40, 'the attacker got the whole answer');
    const [row] = await rowsOf(team, 'mallory', 1);
    const estimate = estimateRequest('claude-sonnet-4-5', MAX_TOKENS, Buffer.byteLength(streamBody));
    t.truthy(row);
    t.true(row!.outputTokens >= 3900, `the row says ${row!.outputTokens} output tokens for an answer the upstream billed at 3900`);
    // The input side is message_start's, exact; only the output, which never came, is at the maximum.
    t.like(row, { usageUnread: true, inputTokens: 10, cacheReadTokens: 50_000, outputTokens: estimate.outputTokens });
    const charged = estimateCost('claude-sonnet-4-5', {
      inputTokens: 10,
      outputTokens: MAX_TOKENS,
      cacheCreationTokens: 0,
      cacheReadTokens: 50_000,
    });
    t.true(Math.abs(row!.cost - charged) < 1e-9, `cost ${row!.cost}, expected ${charged}`);
  },
);

test.serial('a request the client leaves after it went upstream is charged at the maximum, not at zero', async (t) => {
  let upstreamClosed = false;
  const upstream = await startUpstream(
    (_req, res) => res.on('close', () => (upstreamClosed = true)) /* generates, never answers in time */,
  );
  const team = await startTeamFor(t, upstream);
  const token = memberCli(team.dataDir, ['add', 'mallory']).stdout.trim();
  const body = JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: MAX_TOKENS, messages: [{ role: 'user', content: 'x' }] });
  const req = postMessages(team.port, token);
  req.on('error', () => undefined);
  req.end(body);
  await waitFor(() => upstream.seen.length === 1, 5000, 'the request to reach the upstream');
  req.destroy();
  await waitFor(() => upstreamClosed, 2000, 'the upstream to see the close');
  const [row] = await rowsOf(team, 'mallory', 1);
  const estimate = estimateRequest('claude-sonnet-4-5', MAX_TOKENS, Buffer.byteLength(body));
  t.like(row, { status: 499, usageUnread: true, outputTokens: estimate.outputTokens });
});

test('a dated Opus 4 or 4.1 model id is priced as Opus 4, not as the cheaper Opus 4.5', (t) => {
  // Anthropic's reply names the dated id (claude-opus-4-0 answers as claude-opus-4-20250514): the ledger prices that name.
  t.deepEqual(priceOf('claude-opus-4-20250514'), { input: 15, output: 75 });
  t.deepEqual(priceOf('claude-opus-4-1-20250805'), { input: 15, output: 75 });
  t.deepEqual(priceOf('claude-opus-4-0'), { input: 15, output: 75 });
  t.deepEqual(priceOf('claude-opus-4-5-20251101'), { input: 5, output: 25 });
  t.deepEqual(priceOf('claude-opus-4-6'), { input: 5, output: 25 });
  t.deepEqual(priceOf('claude-opus-4-10'), { input: 5, output: 25 });
  const counts = { inputTokens: 0, outputTokens: 1_000_000, cacheCreationTokens: 0, cacheReadTokens: 0 };
  t.is(estimateCost('claude-opus-4-20250514', counts), 75);
});

test.serial('web searches the upstream ran for a request are in its cost ($10 per 1,000), not free', async (t) => {
  // The model may search many times in one request (max_uses is the client's); each is billed beside the tokens.
  const usage = { input_tokens: 100, output_tokens: 50, server_tool_use: { web_search_requests: 40 } };
  const upstream = await startUpstream((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ type: 'message', model: 'claude-sonnet-4-5', content: [], stop_reason: 'end_turn', usage }));
  });
  const team = await startTeamFor(t, upstream);
  const token = memberCli(team.dataDir, ['add', 'mallory']).stdout.trim();
  const body = JSON.stringify({
    model: 'claude-sonnet-4-5',
    max_tokens: 100,
    messages: [],
    tools: [{ type: 'web_search_20250305', name: 'web_search' }],
  });
  const reply = (await send(team.port, { headers: { 'x-api-key': token }, body })).status;
  t.is(reply, 200);
  const [row] = await rowsOf(team, 'mallory', 1);
  const tokens = estimateCost('claude-sonnet-4-5', { inputTokens: 100, outputTokens: 50, cacheCreationTokens: 0, cacheReadTokens: 0 });
  t.truthy(row);
  t.true(Math.abs(row!.cost - (tokens + 0.4)) < 1e-9, `cost ${row!.cost}: tokens ${tokens} + 40 searches at $0.01`);
});
