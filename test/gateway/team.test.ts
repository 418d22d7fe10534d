/**
 * The team gateway in its own Node 22 process (node:sqlite), against a fake
 * Messages API on loopback: exact ledger counts for plain and streamed
 * replies, revocation on the next request, budgets, and the admin API's guard.
 */
import test from 'ava';
import type http from 'node:http';
import { CLIENT_TOKEN, errorOf, send, sse, startGateway, startUpstream, type Upstream } from './fixtures.js';
import { ADMIN_TOKEN, cleanup, memberCli, REAL_KEY, startTeam, tempDataDir, type TeamProcess } from './team-fixtures.js';

const PLAIN_USAGE = { input_tokens: 11, output_tokens: 7, cache_creation_input_tokens: 2, cache_read_input_tokens: 3 };

function fakeMessages(req: http.IncomingMessage, res: http.ServerResponse, body: string): void {
  const request = JSON.parse(body || '{}') as { stream?: boolean; model?: string };
  if (!request.stream) {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({ id: 'msg_1', type: 'message', model: request.model, content: [], stop_reason: 'end_turn', usage: PLAIN_USAGE }),
    );
    return;
  }
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  res.write(
    sse('message_start', {
      type: 'message_start',
      message: {
        model: request.model,
        usage: { input_tokens: 25, cache_creation_input_tokens: 100, cache_read_input_tokens: 2000, output_tokens: 1 },
      },
    }),
  );
  res.write(sse('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'hello' } }));
  res.write(sse('message_delta', { type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 321 } }));
  res.end(sse('message_stop', { type: 'message_stop' }));
  void req;
}

let upstream: Upstream;
let team: TeamProcess;

test.before(async () => {
  upstream = await startUpstream(fakeMessages);
  team = await startTeam(upstream.url);
});
test.after.always(async () => {
  await team?.stop();
  await upstream?.close();
  if (team) cleanup(team.dataDir);
});

const admin = (path: string, token: string | null = ADMIN_TOKEN) =>
  send(team.port, { path, headers: token ? { authorization: `Bearer ${token}` } : {} });

function addMember(name: string, ...flags: string[]): string {
  const result = memberCli(team.dataDir, ['add', name, ...flags]);
  if (result.status !== 0) throw new Error(result.stderr);
  return result.stdout.trim();
}

const ask = (token: string, body: object, project = 'web-app') =>
  send(team.port, {
    body: JSON.stringify(body),
    headers: { 'x-api-key': token, 'content-type': 'application/json', 'x-cctl-project': project },
  });

async function rowsFor(member: string, count: number) {
  let rows: { member: string }[] = [];
  const deadline = Date.now() + 5000;
  for (;;) {
    const reply = await admin('/admin/api/requests?limit=1000');
    rows = (JSON.parse(reply.body) as { requests: { member: string }[] }).requests.filter((r) => r.member === member);
    if (rows.length >= count || Date.now() > deadline) return rows;
    await new Promise((r) => setTimeout(r, 25));
  }
}

test.serial(
  'a plain reply is recorded with the upstream’s exact counts; the real key goes upstream, the member token and project header do not',
  async (t) => {
    const token = addMember('alice');
    t.regex(token, /^cctl_member_[A-Za-z0-9_-]{43}$/);
    const reply = await ask(token, { model: 'claude-sonnet-4-5', max_tokens: 10, messages: [] });
    t.is(reply.status, 200);
    const seen = upstream.seen.at(-1)!;
    t.is(seen.headers['x-api-key'], REAL_KEY);
    t.false(JSON.stringify(seen.headers).includes(token));
    t.is(seen.headers['x-cctl-project'], undefined);
    const [row] = (await rowsFor('alice', 1)) as Record<string, unknown>[];
    t.like(row, {
      member: 'alice',
      project: 'web-app',
      model: 'claude-sonnet-4-5',
      status: 200,
      inputTokens: 11,
      outputTokens: 7,
      cacheCreationTokens: 2,
      cacheReadTokens: 3,
    });
    t.true((row!.cost as number) > 0);
    t.true((row!.durationMs as number) > 0);
  },
);

test.serial('a streamed reply is recorded with the counts of message_start and message_delta', async (t) => {
  const token = addMember('bob');
  const reply = await ask(token, { model: 'claude-opus-4-1', stream: true, max_tokens: 10, messages: [] }, 'api');
  t.is(reply.status, 200);
  t.true(reply.body.includes('message_stop'));
  const [row] = await rowsFor('bob', 1);
  t.like(row, {
    member: 'bob',
    project: 'api',
    model: 'claude-opus-4-1',
    inputTokens: 25,
    outputTokens: 321,
    cacheCreationTokens: 100,
    cacheReadTokens: 2000,
  });
});

test.serial('revoking a member refuses their very next request with a 401 that says why', async (t) => {
  const token = addMember('carol');
  t.is((await ask(token, { model: 'm', messages: [] })).status, 200);
  const revoke = memberCli(team.dataDir, ['revoke', 'carol']);
  t.is(revoke.status, 0, revoke.stderr);
  const refused = await ask(token, { model: 'm', messages: [] });
  t.is(refused.status, 401);
  t.is(refused.headers['x-should-retry'], 'false', 'retrying cannot help: the SDKs obey this header');
  t.like(errorOf(refused), { type: 'authentication_error' });
  t.regex(errorOf(refused).message, /revoked or never issued/);
  const list = JSON.parse(memberCli(team.dataDir, ['list']).stdout) as { members: { name: string; revokedAt?: number }[] };
  t.true(typeof list.members.find((m) => m.name === 'carol')?.revokedAt === 'number');
  t.is(memberCli(team.dataDir, ['revoke', 'carol']).status, 1, 'a second revoke says there is no such active member');
});

test.serial('no token, an unknown token, and a token of another gateway are all refused', async (t) => {
  t.is((await send(team.port, { body: '{}' })).status, 401);
  t.is((await ask('cctl_member_' + 'x'.repeat(43), {})).status, 401);
  // A real token, issued by another gateway (its own ledger): useless here.
  const elsewhere = tempDataDir();
  t.teardown(() => cleanup(elsewhere));
  const foreign = memberCli(elsewhere, ['add', 'alice']).stdout.trim();
  t.regex(foreign, /^cctl_member_/);
  t.is((await ask(foreign, {})).status, 401);
  t.is(upstream.seen.filter((s) => s.headers['x-api-key'] !== REAL_KEY).length, 0);
});

test.serial('a daily token budget answers 429 once used up, naming the limit and when it resets', async (t) => {
  const token = addMember('dave', '--daily-tokens', '30');
  t.is((await ask(token, { model: 'claude-haiku-4-5', messages: [] })).status, 200);
  await rowsFor('dave', 1);
  t.is((await ask(token, { model: 'claude-haiku-4-5', messages: [] })).status, 200, '23 of 30 used: still under');
  await rowsFor('dave', 2);
  const refused = await ask(token, { model: 'claude-haiku-4-5', messages: [] });
  t.is(refused.status, 429);
  const error = errorOf(refused);
  t.is(error.type, 'rate_limit_error');
  t.is(refused.headers['x-should-retry'], 'false');
  t.true(Number(refused.headers['retry-after']) > 0 && Number(refused.headers['retry-after']) <= 86_400);
  const midnight = new Date(Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate() + 1)).toISOString();
  t.true(error.message.includes('daily token budget of 30 (used 46)'), error.message);
  t.true(error.message.includes(midnight), error.message);
  // The refusal is a ledger row too (an error, no tokens).
  const rows = (await rowsFor('dave', 3)) as Record<string, unknown>[];
  t.like(rows[0], { status: 429, inputTokens: 0 });
  // Raising the budget lets the member go on at once.
  t.is(memberCli(team.dataDir, ['budget', 'dave', '--daily-tokens', '1000']).status, 0);
  t.is((await ask(token, { model: 'claude-haiku-4-5', messages: [] })).status, 200);
});

test.serial('the admin API refuses without the admin token and answers with it', async (t) => {
  for (const path of ['/admin/api/usage', '/admin/api/requests', '/admin/api/members']) {
    const none = await admin(path, null);
    t.is(none.status, 401, path);
    t.false(none.body.includes('alice'));
    t.is((await admin(path, 'wrong-token-wrong-token')).status, 401, path);
    t.is((await admin(path, 'admin-token-for-tests-012345678')).status, 401, `${path}: a prefix of the token`);
    t.is((await admin(path)).status, 200, path);
  }
  const members = JSON.parse((await admin('/admin/api/members')).body) as { members: Record<string, unknown>[] };
  t.false(JSON.stringify(members).includes('token'), 'no token or hash leaves the gateway');
  t.is((await admin('/admin/api/usage?by=weekday')).status, 400);
  t.is(
    (await send(team.port, { path: '/admin/api/usage', method: 'POST', body: '{}', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } }))
      .status,
    405,
  );
});

test.serial('usage by member adds up the rows recorded above', async (t) => {
  const reply = JSON.parse((await admin('/admin/api/usage?by=member')).body) as { rows: Record<string, unknown>[] };
  const alice = reply.rows.find((r) => r.member === 'alice');
  t.like(alice, { requests: 1, inputTokens: 11, outputTokens: 7, cacheCreationTokens: 2, cacheReadTokens: 3, totalTokens: 23, errors: 0 });
});

test.serial('the dashboard page is served with a strict Content-Security-Policy and no data in it', async (t) => {
  const page = await send(team.port, { path: '/dashboard' });
  t.is(page.status, 200);
  t.regex(String(page.headers['content-type']), /^text\/html/);
  t.regex(String(page.headers['content-security-policy']), /default-src 'none'; script-src 'sha256-[^']+'/);
  t.false(page.body.includes('alice'));
  t.false(
    /<script[^>]+src=|<link[^>]+href=|https?:\/\//.test(page.body.replace('http://www.w3.org/2000/svg', '')),
    'no external script, style or font',
  );
});

test.serial(
  'through a member’s local gateway: claude-cli’s client token in, the member token and project name out; a revoke reaches the client as 401',
  async (t) => {
    const token = addMember('frank');
    const local = await startGateway(`http://127.0.0.1:${team.port}`, {
      teamCredential: { kind: 'auth-token', value: token },
      projectName: 'shop',
    });
    t.teardown(() => local.gateway.close(100));
    const viaLocal = () =>
      send(local.port, {
        body: JSON.stringify({ model: 'claude-sonnet-4-5', messages: [] }),
        headers: { authorization: `Bearer ${CLIENT_TOKEN}`, 'x-cctl-project': 'spoofed' },
      });
    t.is((await viaLocal()).status, 200);
    const [row] = await rowsFor('frank', 1);
    t.like(row, { member: 'frank', project: 'shop', inputTokens: 11 });
    t.is(upstream.seen.at(-1)!.headers['x-api-key'], REAL_KEY);
    t.is(memberCli(team.dataDir, ['revoke', 'frank']).status, 0);
    const refused = await viaLocal();
    t.is(refused.status, 401);
    t.regex(errorOf(refused).message, /revoked or never issued/);
  },
);

test.serial('a clean stop commits every recorded row: they are there after a restart', async (t) => {
  const token = addMember('erin');
  for (let i = 0; i < 20; i++) t.is((await ask(token, { model: 'claude-sonnet-4-5', messages: [] })).status, 200);
  t.is(await team.stop(), 0);
  team = await startTeam(upstream.url, { dataDir: team.dataDir });
  const rows = await rowsFor('erin', 20);
  t.is(rows.length, 20);
});
