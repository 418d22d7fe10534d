/**
 * The team gateway with its own Postgres (`gateway init --ledger postgres`),
 * end to end on the real engine: cctl builds the Postgres image from the
 * Debian base with Debian's postgresql package, starts it beside the gateway
 * with a named volume, a health check and the generated password as a
 * secret, and the gateway keeps its ledger there. Requests go straight to
 * the gateway's published port with a member token (the member's own stack
 * is team-gateway.test.ts's part); the fake Messages API is the upstream.
 * What is checked is read from the engine (docker inspect) and from the
 * database itself (psql in the Postgres container), not from cctl.
 */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { e2e, BASE_IMAGE } from '../helpers/e2e.js';
import { tempProject } from '../helpers/project.js';
import { CLI, e2eEnv } from '../helpers/cli.js';
import { run, runSettled, type RunResult } from '../../lib/engine/runner.js';
import { startFakeUpstream } from '../helpers/fake-upstream.js';
import { FAKE_MESSAGES_API as FAKE } from '../helpers/fake-messages.js';

const REAL_KEY = 'sk-ant-team-pg-e2e-real-key';
const tmp = tempProject('teampg');
const gwName = `${tmp.name}gw`;
const gwDir = join(tmp.dir, 'team-gateway');
const fakeDir = join(tmp.dir, 'fake');
const fakeName = `${tmp.name}-fake`;
mkdirSync(fakeDir);
chmodSync(fakeDir, 0o755);
writeFileSync(join(fakeDir, 'fake.mjs'), FAKE);
writeFileSync(join(tmp.dir, 'key'), `${REAL_KEY}\n`, { mode: 0o600 });

const gwEnv = e2eEnv({ COMPOSE_PROJECT_NAME: gwName, CCTL_GATEWAY_DIR: gwDir });
for (const name of ['ANTHROPIC_API_KEY', 'ANTHROPIC_AUTH_TOKEN', 'CCTL_ADMIN_TOKEN', 'CCTL_TEAM_GATEWAY_URL']) delete gwEnv[name];

let gwPort = 0;
let initArgs: string[] = [];
/** Per member: the token and how many requests the fake answered for it. */
const members = new Map<string, { token: string; answered: number }>();

const cctl = (args: string[]) =>
  runSettled(['node', process.env.CCTL_TEST_CLI ?? CLI, ...args], { timeoutMs: 900_000, cwd: tmp.dir, env: gwEnv });
const quiet = (argv: string[], timeoutMs = 60_000): Promise<RunResult> => runSettled(argv, { timeoutMs });
const container = (service: string) => `${gwName}-${service}-1`;

/** SQL run by psql inside the Postgres container, as the ledger's own role (the socket; no password on a command line). */
async function psql(sql: string): Promise<string> {
  const r = await run([
    'docker',
    'exec',
    container('postgres'),
    'psql',
    '-h',
    '/run/postgresql',
    '-U',
    'cctl',
    '-d',
    'cctl',
    '-At',
    '-c',
    sql,
  ]);
  return r.stdout.trim();
}

async function ask(token: string): Promise<Response> {
  return fetch(`http://127.0.0.1:${gwPort}/v1/messages`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      'anthropic-version': '2023-06-01',
      'x-cctl-project': 'pg-e2e',
    },
    body: JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 64, messages: [{ role: 'user', content: 'hi' }] }),
    signal: AbortSignal.timeout(30_000),
  });
}

async function addMember(name: string): Promise<string> {
  const add = await cctl(['gateway', 'member', 'add', name, '--json']);
  if (add.exitCode !== 0) throw new Error(`member add ${name}: ${add.stderr}`);
  const token = (JSON.parse(add.stdout) as { token: string }).token;
  members.set(name, { token, answered: 0 });
  return token;
}

async function send(name: string, n: number): Promise<void> {
  const m = members.get(name)!;
  for (let i = 0; i < n; i++) {
    const r = await ask(m.token);
    const text = await r.text();
    if (r.status !== 200) throw new Error(`request ${i} for ${name}: ${r.status} ${text}`);
    m.answered++;
  }
}

interface MemberRow {
  member: string;
  requests: number;
  inputTokens: number;
  outputTokens: number;
}
async function teamUsage(): Promise<MemberRow[]> {
  const r = await cctl(['usage', '--team', 'member', '--json']);
  if (r.exitCode !== 0) throw new Error(`usage --team failed: ${r.stderr}`);
  return (JSON.parse(r.stdout) as { rows: MemberRow[] }).rows.sort((a, b) => a.member.localeCompare(b.member));
}

e2e.after.always(async () => {
  await cctl(['gateway', 'down']).catch(() => undefined);
  await quiet(['docker', 'rm', '-f', fakeName]);
  await quiet(['docker', 'volume', 'rm', `${gwName}_ledger`, `${gwName}_postgres`]);
  await quiet(['docker', 'image', 'rm', `cctl-${gwName}-gateway:local`, `cctl-${gwName}-postgres:local`, `${gwName}-own-postgres:1`]);
  tmp.cleanup();
});

e2e.serial('a SQLite team gateway answers members, as before', async (t) => {
  const { port: fakePort, hostIp } = await startFakeUpstream(fakeName, fakeDir);
  const free = await run(['node', '-e', "const s=require('net').createServer().listen(0,()=>{console.log(s.address().port);s.close()})"]);
  gwPort = Number(free.stdout.trim());
  initArgs = ['gateway', 'init', '--port', String(gwPort), '--base-image', BASE_IMAGE, '--upstream', `http://${hostIp}:${fakePort}`];
  const init = await cctl([...initArgs, '--key-file', join(tmp.dir, 'key')]);
  t.is(init.exitCode, 0, init.stderr);
  const up = await cctl(['gateway', 'up', '--timeout', '300']);
  t.is(up.exitCode, 0, up.stdout + up.stderr);
  await addMember('alice');
  await send('alice', 5);
  t.like((await teamUsage())[0], { member: 'alice', requests: 5, inputTokens: 35, outputTokens: 30 });
  const early = await cctl(['gateway', 'migrate', '--from', 'sqlite']);
  t.is(early.exitCode, 1);
  t.regex(early.stderr, /keeps its ledger in SQLite[\s\S]*cctl gateway init --ledger postgres/);
});

e2e.serial(
  "--ledger postgres: the Postgres service is built from Debian's package, healthy, on a named volume, its password a secret",
  async (t) => {
    const init = await cctl([...initArgs, '--ledger', 'postgres']);
    t.is(init.exitCode, 0, init.stderr);
    t.regex(init.stdout, /ledger: Postgres, the "postgres" service/);
    const up = await cctl(['gateway', 'up', '--timeout', '600']);
    t.is(up.exitCode, 0, up.stdout + up.stderr);
    t.regex(up.stdout, /postgres\s+running\s+healthy/);
    t.regex(up.stdout, /gateway\s+running\s+healthy/);

    const [pg] = JSON.parse((await run(['docker', 'inspect', container('postgres')])).stdout) as Record<string, any>[];
    t.is(pg!.State.Health.Status, 'healthy');
    t.is(pg!.Config.Image, `cctl-${gwName}-postgres:local`);
    t.is(pg!.Config.User, 'postgres', 'the server never runs as root');
    t.deepEqual(pg!.HostConfig.CapDrop, ['ALL']);
    t.deepEqual(pg!.NetworkSettings.Ports['5432/tcp'] ?? null, null, 'the database is not published on the host');
    const data = (pg!.Mounts as { Type: string; Name?: string; Destination: string }[]).find(
      (m) => m.Destination === '/var/lib/postgresql/data',
    );
    t.like(data, { Type: 'volume', Name: `${gwName}_postgres` });
    const password = (await run(['cat', join(gwDir, 'secrets', 'postgres-password')])).stdout.trim();
    t.true(password.length >= 32);
    t.false(JSON.stringify(pg!.Config.Env).includes(password), 'the password is no variable of the container');
    const [gw] = JSON.parse((await run(['docker', 'inspect', container('gateway')])).stdout) as Record<string, any>[];
    t.false(JSON.stringify(gw!.Config.Env).includes(password));
    t.true((gw!.Config.Env as string[]).includes('CCTL_LEDGER_URL_FILE=/run/secrets/ledger_url'));

    // Debian's package, its server version as the database answers it.
    t.regex(await psql('SHOW server_version'), /^\d+\.\d+ \(Debian/);
    t.is(await psql("SELECT datcollate FROM pg_database WHERE datname = 'cctl'"), 'C', 'text compares byte-wise, as in SQLite');
    // A password is needed over the network: the gateway's URL has it; a wrong one is refused.
    const wrong = await quiet([
      'docker',
      'exec',
      '-e',
      'PGPASSWORD=wrong',
      container('postgres'),
      'psql',
      '-h',
      '127.0.0.1',
      '-U',
      'cctl',
      '-d',
      'cctl',
      '-c',
      'SELECT 1',
    ]);
    t.not(wrong.exitCode, 0);
    t.regex(wrong.stderr, /password authentication failed/);
    // The gateway made the schema: the ledger's tables are there, at the newest version.
    t.regex(
      await psql("SELECT string_agg(tablename, ',' ORDER BY tablename) FROM pg_tables WHERE schemaname = 'public'"),
      /daily.*members.*requests.*reservations/,
    );
  },
);

e2e.serial(
  "gateway migrate --from sqlite copies the old ledger and checks it; alice's token works on Postgres; a second run is refused",
  async (t) => {
    t.deepEqual(await teamUsage(), [], 'the new ledger starts empty');
    const migrate = await cctl(['gateway', 'migrate', '--from', 'sqlite', '--json']);
    t.is(migrate.exitCode, 0, migrate.stdout + migrate.stderr);
    const report = JSON.parse(migrate.stdout) as { ok: boolean; source: Record<string, number>; target: Record<string, number> };
    t.true(report.ok);
    t.like(report.source, { members: 1, requests: 5, dailyRequests: 5 });
    t.deepEqual(report.target, report.source);
    t.is(await psql("SELECT count(*) || ',' || sum(input_tokens) FROM requests WHERE member = 'alice'"), '5,35');
    t.like((await teamUsage())[0], { member: 'alice', requests: 5, inputTokens: 35, outputTokens: 30 });
    await send('alice', 1);
    t.is(await psql("SELECT count(*) FROM requests WHERE member = 'alice'"), '6');
    const again = await cctl(['gateway', 'migrate', '--from', 'sqlite']);
    t.is(again.exitCode, 1);
    t.regex(again.stderr, /is not empty \(1 members, 6 request rows/);
  },
);

e2e.serial('requests through the gateway are rows in Postgres, with the exact counts; they survive down and up', async (t) => {
  await addMember('bob');
  await send('bob', 7);
  t.is(await psql("SELECT count(*) FROM requests WHERE member = 'bob'"), '7');
  t.is(await psql("SELECT sum(input_tokens) || ',' || sum(output_tokens) FROM requests WHERE member = 'bob'"), '49,42');
  t.is(await psql("SELECT requests FROM daily WHERE member = 'bob'"), '7');
  t.is(await psql('SELECT count(*) FROM reservations'), '0', 'every reservation was settled by its row');
  const bob = (await teamUsage()).find((r) => r.member === 'bob');
  t.like(bob, { requests: 7, inputTokens: 49, outputTokens: 42 });

  t.is((await cctl(['gateway', 'down'])).exitCode, 0);
  t.is((await quiet(['docker', 'inspect', container('postgres')])).exitCode, 1, 'down removed the containers');
  const up = await cctl(['gateway', 'up', '--timeout', '300']);
  t.is(up.exitCode, 0, up.stdout + up.stderr);
  t.like(
    (await teamUsage()).find((r) => r.member === 'bob'),
    { requests: 7, inputTokens: 49, outputTokens: 42 },
  );
  await send('bob', 1);
  t.is(await psql("SELECT count(*) FROM requests WHERE member = 'bob'"), '8');
});

e2e.serial('a revoke is refused on the next request; status and logs show both services', async (t) => {
  t.is((await cctl(['gateway', 'member', 'revoke', 'bob'])).exitCode, 0);
  const r = await ask(members.get('bob')!.token);
  t.is(r.status, 401);
  t.regex(await r.text(), /revoked or never issued/);
  const status = JSON.parse((await cctl(['gateway', 'status', '--json'])).stdout) as { services: { name: string; health: string }[] };
  t.deepEqual(status.services.map((s) => `${s.name} ${s.health}`).sort(), ['gateway healthy', 'postgres healthy']);
  const logs = await cctl(['gateway', 'logs', '--tail', '50']);
  t.regex(logs.stdout, /postgres-1\s+\|/);
});

e2e.serial("--postgres-image: the team's own image runs as it is, on the same volume", async (t) => {
  await run(['docker', 'tag', `cctl-${gwName}-postgres:local`, `${gwName}-own-postgres:1`]);
  const init = await cctl([...initArgs, '--ledger', 'postgres', '--postgres-image', `${gwName}-own-postgres:1`]);
  t.is(init.exitCode, 0, init.stderr);
  const up = await cctl(['gateway', 'up', '--timeout', '300']);
  t.is(up.exitCode, 0, up.stdout + up.stderr);
  t.regex(up.stdout, /postgres\s+running\s+healthy/);
  t.is(JSON.parse((await run(['docker', 'inspect', container('postgres')])).stdout)[0].Config.Image, `${gwName}-own-postgres:1`);
  t.is(await psql("SELECT count(*) FROM requests WHERE member = 'bob'"), '8', 'the same volume, the same ledger');
});
