/**
 * How the team gateway serves: HTTPS from certificate and key files (and its
 * health probe follows), and retention pruning old request rows at start
 * while the daily totals stay.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import { join } from 'node:path';
import { send, startUpstream } from './fixtures.js';
import { ADMIN_TOKEN, cleanup, ROOT, seedLedger, startTeam, tempDataDir, tsNode } from './team-fixtures.js';

test('with CCTL_TLS_CERT_FILE and CCTL_TLS_KEY_FILE it answers HTTPS only, and `main.js health` probes over TLS', async (t) => {
  const dir = tempDataDir();
  const cert = join(dir, 'tls.crt');
  const key = join(dir, 'tls.key');
  const made = spawnSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '1',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
    ],
    { encoding: 'utf8' },
  );
  if (made.status !== 0) throw new Error(`openssl is needed for this test: ${made.stderr}`);
  const upstream = await startUpstream();
  const team = await startTeam(upstream.url, { dataDir: dir, env: { CCTL_TLS_CERT_FILE: cert, CCTL_TLS_KEY_FILE: key } });
  t.teardown(async () => {
    await team.stop();
    await upstream.close();
    cleanup(dir);
  });
  const status = await new Promise<number>((resolve, reject) => {
    https
      .get(
        {
          host: '127.0.0.1',
          port: team.port,
          path: '/admin/api/members',
          ca: readFileSync(cert),
          headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode!);
        },
      )
      .on('error', reject);
  });
  t.is(status, 200);
  await t.throwsAsync(send(team.port, { path: '/health' }), undefined, 'plain HTTP is not served');
  const [bin, ...args] = tsNode('lib/gateway/main.ts');
  const probe = (env: Record<string, string>) =>
    spawnSync(bin!, [...args, 'health'], { cwd: ROOT, env: { PATH: process.env.PATH, PORT: String(team.port), ...env }, encoding: 'utf8' });
  t.is(probe({ CCTL_TLS_CERT_FILE: cert }).status, 0);
  t.is(probe({}).status, 1, 'the control: an HTTP probe of an HTTPS gateway fails');
});

test('retention prunes request rows older than CCTL_RETENTION_DAYS at start; the daily totals stay', async (t) => {
  const dir = tempDataDir();
  const day = 86_400_000;
  const row = (ageDays: number) => ({
    time: Date.now() - ageDays * day,
    member: 'ann',
    project: 'p',
    model: 'm',
    status: 200,
    durationMs: 1,
    inputTokens: 10,
    outputTokens: 1,
    cacheCreationTokens: 0,
    cacheReadTokens: 0,
    cost: 0,
  });
  seedLedger(dir, { rows: [row(40), row(35), row(2), row(0)] });
  const upstream = await startUpstream();
  const team = await startTeam(upstream.url, { dataDir: dir, env: { CCTL_RETENTION_DAYS: '30' } });
  t.teardown(async () => {
    await team.stop();
    await upstream.close();
    cleanup(dir);
  });
  const admin = async (path: string) =>
    JSON.parse((await send(team.port, { path, headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).body);
  const recent = (await admin('/admin/api/requests?limit=100')) as { requests: unknown[] };
  t.is(recent.requests.length, 2);
  const totals = (await admin('/admin/api/usage?by=member')) as { rows: { requests: number; inputTokens: number }[] };
  t.like(totals.rows[0], { requests: 4, inputTokens: 40 });
});
