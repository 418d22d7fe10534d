/**
 * A team gateway process killed outright (SIGKILL) under load loses no
 * recorded request: every reply a client received in full has its ledger
 * row, on SQLite and on a real Postgres. The kill lands the moment a client
 * has read a reply to its end, which is when a row still waiting for its
 * batch commit would be lost. Half the replies are JSON (the client sees the
 * end at the last byte of Content-Length), half are event streams (the end
 * is the last chunk).
 */
import test, { type ExecutionContext } from 'ava';
import type http from 'node:http';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { bearer, send, sse, startUpstream, type Upstream } from './fixtures.js';
import { ADMIN_TOKEN, cleanup, memberCli, postgresMemberCli, startTeam, tempDataDir, type TeamProcess } from './team-fixtures.js';

let pg: TestPostgres | undefined;
test.after.always(() => pg?.stop());

const usage = { input_tokens: 10, output_tokens: 2 };
function reply(_req: http.IncomingMessage, res: http.ServerResponse, body: string): void {
  const { model, stream } = JSON.parse(body) as { model: string; stream?: boolean };
  if (!stream) {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ type: 'message', model, content: [], stop_reason: 'end_turn', usage }));
    return;
  }
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  res.write(sse('message_start', { type: 'message_start', message: { model, usage: { input_tokens: 10, output_tokens: 1 } } }));
  res.write(sse('message_delta', { type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 2 } }));
  res.end(sse('message_stop', { type: 'message_stop' }));
}

async function rowsOf(upstream: Upstream, dataDir: string, env: Record<string, string>): Promise<number> {
  // A fresh process on the same ledger reads what the killed one committed.
  const reader = await startTeam(upstream.url, { dataDir, env });
  try {
    const answer = await send(reader.port, { path: '/admin/api/usage?by=member', headers: bearer(ADMIN_TOKEN) });
    return (
      (JSON.parse(answer.body) as { rows: { member: string; requests: number }[] }).rows.find((r) => r.member === 'ann')?.requests ?? 0
    );
  } finally {
    await reader.stop();
  }
}

async function killUnderLoad(t: ExecutionContext, env: Record<string, string>, addMember: (dataDir: string) => string): Promise<void> {
  const upstream = await startUpstream(reply, { readBody: true });
  t.teardown(() => upstream.close());
  const dataDir = tempDataDir();
  t.teardown(() => cleanup(dataDir));
  const token = addMember(dataDir);
  const team: TeamProcess = await startTeam(upstream.url, { dataDir, env });
  const killAfter = 150;
  let complete = 0;
  let killed = false;
  const worker = async (w: number) => {
    for (let i = 0; !killed; i++) {
      const stream = (w + i) % 2 === 0;
      const body = JSON.stringify({ model: 'claude-sonnet-4', max_tokens: 10, stream, messages: [{ role: 'user', content: 'hi' }] });
      const answer = await send(team.port, { body, headers: { 'x-api-key': token } }).catch(() => undefined);
      if (!answer) return;
      if (answer.status !== 200) throw new Error(`status ${answer.status}: ${answer.body}`);
      if (stream && !answer.body.includes('message_stop')) throw new Error('a stream ended early');
      complete += 1;
      // The moment a client holds a whole reply: a row still waiting for its commit dies with the process.
      if (complete === killAfter && !killed) {
        killed = true;
        team.child.kill('SIGKILL');
      }
    }
  };
  await Promise.all(Array.from({ length: 8 }, (_, w) => worker(w)));
  await team.stop();
  t.true(killed, 'the gateway was killed under load');
  const recorded = await rowsOf(upstream, dataDir, env);
  t.log(`${complete} replies received in full, ${recorded} rows, ${upstream.seen.length} answered upstream`);
  t.true(recorded >= complete, `${complete - recorded} replies received in full have no row`);
  t.true(recorded <= upstream.seen.length, 'no row without an upstream answer');
}

test.serial('SQLite: a gateway killed under load keeps a row for every reply a client received', async (t) => {
  await killUnderLoad(t, {}, (dataDir) => memberCli(dataDir, ['add', 'ann', '--max-in-flight', '100']).stdout.trim());
});

test.serial('Postgres: a gateway killed under load keeps a row for every reply a client received', async (t) => {
  pg = await startPostgres();
  const url = await pg.database();
  await killUnderLoad(t, { CCTL_LEDGER_URL: url }, () => postgresMemberCli(url, ['add', 'ann', '--max-in-flight', '100']));
});
