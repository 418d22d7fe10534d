/**
 * Only the Messages API goes upstream (issue 20, item 1), in both modes:
 * batches (a budget bypass: their cost is in no reply the gateway reads),
 * files (shared by every member behind one key) and any other /v1 route are
 * answered 404 by the gateway, in the Messages API's error shape, and the
 * fake upstream never sees them, whatever the credential.
 */
import test from 'ava';
import { CLIENT_TOKEN, send, startGateway, startUpstream, type Upstream } from './fixtures.js';
import { cleanup, memberCli, startTeam, type TeamProcess } from './team-fixtures.js';

/** Method and path of each route that must never reach the upstream. */
const REFUSED: [string, string][] = [
  ['POST', '/v1/messages/batches'],
  ['GET', '/v1/messages/batches'],
  ['GET', '/v1/messages/batches/msgbatch_01/results'],
  ['POST', '/v1/messages/batches/msgbatch_01/cancel'],
  ['DELETE', '/v1/messages/batches/msgbatch_01'],
  ['GET', '/v1/files'],
  ['POST', '/v1/files'],
  ['GET', '/v1/files/file_01/content'],
  ['DELETE', '/v1/files/file_01'],
  ['GET', '/v1/models'],
  ['POST', '/v1/complete'],
  ['POST', '/v1/unknown/route'],
  ['GET', '/v1/messages'],
  ['POST', '/v1'],
  ['POST', '/v1/messages/../files'],
  ['POST', '/v1/messages/batches?beta=true'],
];

async function expectRefused(t: import('ava').ExecutionContext, port: number, upstream: Upstream, headers: Record<string, string>) {
  for (const [method, path] of REFUSED) {
    const reply = await send(port, {
      method,
      path,
      headers: { ...headers, 'content-type': 'application/json' },
      ...(method === 'GET' || method === 'DELETE' ? {} : { body: '{"requests":[]}' }),
    });
    t.is(reply.status, 404, `${method} ${path}`);
    const body = JSON.parse(reply.body) as { type: string; error: { type: string; message: string } };
    t.is(body.type, 'error');
    t.is(body.error.type, 'not_found_error');
    t.regex(body.error.message, /relays only POST \/v1\/messages and POST \/v1\/messages\/count_tokens/);
  }
  t.deepEqual(
    upstream.seen.map((s) => `${s.method} ${s.url}`),
    [],
    'nothing but the Messages API reached the upstream',
  );
}

test('local gateway: batches, files and unknown /v1 routes never reach the upstream, with or without the client token', async (t) => {
  const upstream = await startUpstream();
  const { gateway, port, logs } = await startGateway(upstream.url);
  t.teardown(() => Promise.all([gateway.close(), upstream.close()]));
  await expectRefused(t, port, upstream, { authorization: `Bearer ${CLIENT_TOKEN}` });
  await expectRefused(t, port, upstream, {});
  t.true(logs.some((l) => l.status === 404 && l.path === '/v1/files' && l.error === 'API route not relayed'));

  // The two Messages routes still go through.
  for (const path of ['/v1/messages?beta=true', '/v1/messages/count_tokens?beta=true']) {
    t.is(
      (await send(port, { path, headers: { authorization: `Bearer ${CLIENT_TOKEN}` }, body: '{"model":"m","max_tokens":1,"messages":[]}' }))
        .status,
      200,
      path,
    );
  }
  t.deepEqual(
    upstream.seen.map((s) => `${s.method} ${s.url}`),
    ['POST /v1/messages?beta=true', 'POST /v1/messages/count_tokens?beta=true'],
  );
});

test('team gateway: a member token does not open batches, files or any other /v1 route, and nothing is charged for them', async (t) => {
  const upstream = await startUpstream();
  let team: TeamProcess | undefined;
  t.teardown(async () => {
    await team?.stop();
    await upstream.close();
    if (team) cleanup(team.dataDir);
  });
  team = await startTeam(upstream.url);
  const token = memberCli(team.dataDir, ['add', 'ann']).stdout.trim();
  await expectRefused(t, team.port, upstream, { 'x-api-key': token });
  await expectRefused(t, team.port, upstream, {});
  const ok = await send(team.port, {
    path: '/v1/messages?beta=true',
    headers: { 'x-api-key': token },
    body: '{"model":"m","max_tokens":1,"messages":[]}',
  });
  t.is(ok.status, 200);
  t.deepEqual(
    upstream.seen.map((s) => `${s.method} ${s.url}`),
    ['POST /v1/messages?beta=true'],
  );
});
