/**
 * Memory by uploads, from anyone who can reach the team gateway's port: a
 * request with a made-up member token and a large body. SQLite looks the
 * token up before a byte of the body is read; with a Postgres ledger the
 * lookup used to wait for the whole body (it shares a round trip with the
 * reservation), so any number of strangers' 32 MB bodies were buffered. The
 * gateway must refuse an unknown token before it reads the body, on both.
 * A member's own stalled uploads are capped like its requests in flight.
 */
import test, { type ExecutionContext } from 'ava';
import net from 'node:net';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { send, startUpstream, waitFor } from './fixtures.js';
import { memberCli, postgresMemberCli, startTeamFor } from './team-fixtures.js';

let pg: TestPostgres | undefined;
test.after.always(() => pg?.stop());

/**
 * `count` 16 MB uploads that stall after their first 256 KB, the key of upload i from `keyOf`; what the gateway
 * answered on each socket so far (the sockets go when the test ends).
 */
function stallUploads(t: ExecutionContext, port: number, count: number, keyOf: (i: number) => string): string[] {
  const answers: string[] = [];
  const sockets: net.Socket[] = [];
  t.teardown(() => sockets.forEach((s) => s.destroy()));
  for (let i = 0; i < count; i++) {
    const socket = net.connect(port, '127.0.0.1');
    sockets.push(socket);
    answers.push('');
    socket.on('data', (d: Buffer) => (answers[i] += d.toString()));
    socket.on('error', () => undefined);
    socket.write(`POST /v1/messages HTTP/1.1\r\nHost: x\r\nx-api-key: ${keyOf(i)}\r\nContent-Length: ${16 * 1024 * 1024}\r\n\r\n`);
    socket.write(Buffer.alloc(256 * 1024, 0x20));
  }
  return answers;
}

async function strangersUpload(t: ExecutionContext, env: Record<string, string>, addMember: (dataDir: string) => string): Promise<void> {
  const upstream = await startUpstream();
  const team = await startTeamFor(t, upstream, { env });
  const token = addMember(team.dataDir);
  const answers = stallUploads(t, team.port, 10, (i) => 'cctl_member_' + String(i).padStart(43, 'x'));
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

test.serial(
  "bodies a member's requests are still uploading are capped like requests in flight: the gateway holds no more of them",
  async (t) => {
    // Team mode reads a whole body before the reservation (its size and max_tokens make the estimate). Without a
    // cap there, one member's parallel 32 MB uploads would each be buffered: memory for the whole team's gateway.
    const upstream = await startUpstream();
    const team = await startTeamFor(t, upstream, { env: { CCTL_MAX_IN_FLIGHT: '4' } });
    const token = memberCli(team.dataDir, ['add', 'mallory']).stdout.trim();
    const answers = stallUploads(t, team.port, 12, () => token);
    await waitFor(
      () => answers.filter((a) => a.startsWith('HTTP/1.1 429')).length >= 8,
      5000,
      'the uploads past the cap to be refused',
    ).catch(() => undefined);
    const refused = answers.filter((a) => a.startsWith('HTTP/1.1 429')).length;
    t.is(
      refused,
      8,
      `${refused} of 12 uploads refused at once; the others: ${answers.filter((a) => !a.startsWith('HTTP/1.1 429')).length} held`,
    );
    t.is(upstream.seen.length, 0);
  },
);
