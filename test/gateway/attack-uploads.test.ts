/**
 * Memory by uploads, from anyone who can reach the team gateway's port: a
 * request with a made-up member token and a large body. SQLite looks the
 * token up before a byte of the body is read; with a Postgres ledger the
 * lookup used to wait for the whole body (it shares a round trip with the
 * reservation), so any number of strangers' 32 MB bodies were buffered. The
 * gateway must refuse an unknown token before it reads the body, on both.
 */
import test, { type ExecutionContext } from 'ava';
import net from 'node:net';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { send, startUpstream, waitFor } from './fixtures.js';
import { cleanup, memberCli, postgresMemberCli, startTeam } from './team-fixtures.js';

let pg: TestPostgres | undefined;
test.after.always(() => pg?.stop());

async function strangersUpload(t: ExecutionContext, env: Record<string, string>, addMember: (dataDir: string) => string): Promise<void> {
  const upstream = await startUpstream();
  const team = await startTeam(upstream.url, { env });
  const sockets: net.Socket[] = [];
  t.teardown(async () => {
    for (const s of sockets) s.destroy();
    await team.stop();
    await upstream.close();
    cleanup(team.dataDir);
  });
  const token = addMember(team.dataDir);
  const answers: string[] = [];
  for (let i = 0; i < 10; i++) {
    const socket = net.connect(team.port, '127.0.0.1');
    sockets.push(socket);
    answers.push('');
    socket.on('data', (d: Buffer) => (answers[i] += d.toString()));
    socket.on('error', () => undefined);
    const stranger = 'cctl_member_' + String(i).padStart(43, 'x');
    socket.write(`POST /v1/messages HTTP/1.1\r\nHost: x\r\nx-api-key: ${stranger}\r\nContent-Length: ${16 * 1024 * 1024}\r\n\r\n`);
    socket.write(Buffer.alloc(256 * 1024, 0x20));
  }
  const refused = () => answers.filter((a) => a.startsWith('HTTP/1.1 401')).length;
  await waitFor(() => refused() === 10, 5000, 'the strangers to be refused').catch(() => undefined);
  t.is(refused(), 10, `${10 - refused()} of 10 strangers' uploads are being read`);
  t.is(upstream.seen.length, 0);
  // The member's own requests still go through, first and later ones (a replica remembers the token).
  const body = JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 5, messages: [] });
  for (let i = 0; i < 2; i++) t.is((await send(team.port, { body, headers: { 'x-api-key': token } })).status, 200);
}

test.serial('SQLite: an unknown token is refused before its body is read', async (t) => {
  await strangersUpload(t, {}, (dataDir) => memberCli(dataDir, ['add', 'ann']).stdout.trim());
});

test.serial('Postgres: an unknown token is refused before its body is read', async (t) => {
  pg = await startPostgres();
  const url = await pg.database();
  await strangersUpload(t, { CCTL_LEDGER_URL: url }, () => postgresMemberCli(url, ['add', 'ann']));
});
