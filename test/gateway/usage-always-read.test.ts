/**
 * Usage is always read (issue 20, item 3): the gateway asks the upstream only
 * for encodings it can decode, and a successful reply whose usage it still
 * cannot read (here zstd, which an upstream sends regardless) is charged at
 * the request's maximum, flagged in the ledger and in the log line, never
 * recorded as zero. Request-controlled names are cut to their documented
 * length (item 8).
 */
import test from 'ava';
import type http from 'node:http';
import { CLIENT_TOKEN, send, startGateway, startUpstream } from './fixtures.js';
import { ADMIN_TOKEN, cleanup, memberCli, startTeam } from './team-fixtures.js';
import { estimateRequest } from '../../lib/gateway/team/reservation.js';
import { MODEL_NAME_LIMIT, PROJECT_NAME_LIMIT } from '../../lib/gateway/bounds.js';

/** Answers with bytes labelled zstd, whatever the request asked for. */
function zstdReply(_req: http.IncomingMessage, res: http.ServerResponse): void {
  res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'zstd' });
  res.end(Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x58, 0x61, 0x00, 0x00]));
}

const BODY = JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 1000, messages: [{ role: 'user', content: 'hello' }] });

test('the upstream is asked only for encodings the gateway decodes', async (t) => {
  const upstream = await startUpstream();
  const { gateway, port } = await startGateway(upstream.url);
  t.teardown(() => Promise.all([gateway.close(), upstream.close()]));
  const asked = async (acceptEncoding?: string) => {
    await send(port, {
      headers: { authorization: `Bearer ${CLIENT_TOKEN}`, ...(acceptEncoding === undefined ? {} : { 'accept-encoding': acceptEncoding }) },
      body: BODY,
    });
    return upstream.seen.at(-1)!.headers['accept-encoding'];
  };
  t.is(await asked('gzip, deflate, br, zstd'), 'gzip, br, deflate');
  t.is(await asked('zstd'), 'identity');
  t.is(await asked('br;q=1, gzip;q=0'), 'br');
  t.is(await asked('*'), 'gzip, br, deflate');
  t.is(await asked(undefined), 'identity');
});

test('local gateway: a zstd reply is flagged in the log line as unread', async (t) => {
  const upstream = await startUpstream(zstdReply);
  const { gateway, port, logs } = await startGateway(upstream.url);
  t.teardown(() => Promise.all([gateway.close(), upstream.close()]));
  const reply = await send(port, { headers: { authorization: `Bearer ${CLIENT_TOKEN}`, 'accept-encoding': 'zstd' }, body: BODY });
  t.is(reply.status, 200);
  t.is(reply.headers['content-encoding'], 'zstd', 'the client still gets the reply as sent');
  await new Promise((r) => setTimeout(r, 50));
  t.like(
    logs.find((l) => l.path === '/v1/messages'),
    { status: 200, usageUnread: 'content-encoding zstd cannot be decoded' },
  );
});

test('team gateway: zstd replies are charged at the request maximum and flagged, never as zero', async (t) => {
  const upstream = await startUpstream(zstdReply);
  const team = await startTeam(upstream.url);
  t.teardown(async () => {
    await team.stop();
    await upstream.close();
    cleanup(team.dataDir);
  });
  const token = memberCli(team.dataDir, ['add', 'ann']).stdout.trim();
  for (let i = 0; i < 3; i++) {
    t.is(
      (await send(team.port, { body: BODY, headers: { 'x-api-key': token, 'accept-encoding': 'zstd', 'x-cctl-project': 'web' } })).status,
      200,
    );
  }
  const estimate = estimateRequest('claude-sonnet-4-5', 1000, Buffer.byteLength(BODY));
  const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
  let rows: { usageUnread?: boolean; cost: number; inputTokens: number; outputTokens: number; error?: string; project: string }[] = [];
  for (const deadline = Date.now() + 5000; rows.length < 3 && Date.now() < deadline; await new Promise((r) => setTimeout(r, 50))) {
    rows = (JSON.parse((await send(team.port, { path: '/admin/api/requests?limit=10', headers: admin })).body) as { requests: typeof rows })
      .requests;
  }
  t.is(rows.length, 3);
  for (const row of rows) {
    t.like(row, {
      usageUnread: true,
      inputTokens: estimate.inputTokens,
      outputTokens: estimate.outputTokens,
      error: 'usage unread: content-encoding zstd cannot be decoded',
    });
    t.true(Math.abs(row.cost - estimate.cost) < 1e-9);
  }
  const total = (
    JSON.parse((await send(team.port, { path: '/admin/api/usage?by=member', headers: admin })).body) as { rows: { totalTokens: number }[] }
  ).rows[0]!;
  t.is(total.totalTokens, 3 * estimate.tokens, '3 requests, never 0 tokens');
  t.true(
    team.lines.some((l) => l.includes('"usageUnread":"content-encoding zstd cannot be decoded"')),
    'logged',
  );
});

test('team gateway: model and project names from the request are cut to their documented length, in the row and the log', async (t) => {
  // The upstream echoes the model it was asked for, as the real one does for a name it knows.
  const upstream = await startUpstream((_req, res, body) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        type: 'message',
        model: (JSON.parse(body) as { model: string }).model,
        content: [],
        usage: { input_tokens: 1, output_tokens: 1 },
      }),
    );
  });
  const team = await startTeam(upstream.url);
  t.teardown(async () => {
    await team.stop();
    await upstream.close();
    cleanup(team.dataDir);
  });
  const token = memberCli(team.dataDir, ['add', 'ann']).stdout.trim();
  const longModel = `claude-${'z'.repeat(10_000)}`;
  const reply = await send(team.port, {
    body: JSON.stringify({ model: longModel, max_tokens: 1, messages: [] }),
    headers: { 'x-api-key': token, 'x-cctl-project': 'p'.repeat(5000) },
  });
  t.is(reply.status, 200);
  let rows: { model: string; project: string }[] = [];
  for (const deadline = Date.now() + 5000; rows.length < 1 && Date.now() < deadline; await new Promise((r) => setTimeout(r, 50))) {
    rows = (
      JSON.parse(
        (await send(team.port, { path: '/admin/api/requests?limit=10', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).body,
      ) as { requests: typeof rows }
    ).requests;
  }
  t.is(rows[0]?.model, longModel.slice(0, MODEL_NAME_LIMIT));
  t.is(rows[0]?.project, 'p'.repeat(PROJECT_NAME_LIMIT));
  t.false(
    team.lines.some((l) => l.includes('z'.repeat(MODEL_NAME_LIMIT + 1))),
    'no log line carries the whole name',
  );
});
