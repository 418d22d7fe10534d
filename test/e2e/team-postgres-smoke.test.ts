/**
 * The gateway folder with its own Postgres (`gateway init --ledger postgres`)
 * on whichever Compose CCTL_COMPOSE names: one smoke run from init to
 * `down --volumes`. Written for Compose v1.29 on engine 20.10, where this
 * folder (two services, a build of Debian's postgresql, file secrets, a
 * health check per service) had never run; on v2 it passes as well.
 *   CCTL_COMPOSE=docker-compose npx ava test/e2e/team-postgres-smoke.test.ts
 * Everything checked is read from the engine (labels, health, volumes) and
 * from the database (psql in the Postgres container), found by Compose's
 * labels, since v1 and v2 name containers differently.
 */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { e2e, BASE_IMAGE } from '../helpers/e2e.js';
import { tempProject } from '../helpers/project.js';
import { CLI, composeCommand, e2eEnv } from '../helpers/cli.js';
import { run, runSettled } from '../../lib/engine/runner.js';
import { startFakeUpstream } from '../helpers/fake-upstream.js';
import { FAKE_MESSAGES_API as FAKE } from '../helpers/fake-messages.js';

const tmp = tempProject('pgsmoke');
const project = `${tmp.name}gw`;
const gwDir = join(tmp.dir, 'team-gateway');
const fakeDir = join(tmp.dir, 'fake');
const fakeName = `${tmp.name}-fake`;
mkdirSync(fakeDir);
chmodSync(fakeDir, 0o755);
writeFileSync(join(fakeDir, 'fake.mjs'), FAKE);
writeFileSync(join(tmp.dir, 'key'), 'sk-ant-pg-smoke-real-key\n', { mode: 0o600 });

const env = e2eEnv({ COMPOSE_PROJECT_NAME: project, CCTL_GATEWAY_DIR: gwDir });
for (const name of ['ANTHROPIC_API_KEY', 'ANTHROPIC_AUTH_TOKEN', 'CCTL_ADMIN_TOKEN', 'CCTL_TEAM_GATEWAY_URL']) delete env[name];
const cctl = (args: string[]) => runSettled(['node', process.env.CCTL_TEST_CLI ?? CLI, ...args], { timeoutMs: 900_000, cwd: tmp.dir, env });
const quiet = (argv: string[]) => runSettled(argv, { timeoutMs: 60_000 });

/** The service's container ids, by Compose's labels (v1: project_service_1, v2: project-service-1). */
async function containers(service: string): Promise<string[]> {
  const ps = await run([
    'docker',
    'ps',
    '-aq',
    '--filter',
    `label=com.docker.compose.project=${project}`,
    '--filter',
    `label=com.docker.compose.service=${service}`,
  ]);
  return ps.stdout.split('\n').filter(Boolean);
}

e2e.after.always(async () => {
  await cctl(['gateway', 'down', '--volumes', '--yes']).catch(() => undefined);
  await quiet(['docker', 'rm', '-f', fakeName]);
  await quiet(['docker', 'volume', 'rm', `${project}_ledger`, `${project}_postgres`]);
  await quiet(['docker', 'image', 'rm', `cctl-${project}-gateway:local`, `cctl-${project}-postgres:local`]);
  tmp.cleanup();
});

e2e.serial('init --ledger postgres, up, member add, one request recorded in Postgres, down --volumes', async (t) => {
  const compose = composeCommand();
  // x.y.z only: a distribution's build says 2.26.1-4 where the label says 2.26.1.
  const version = /\d+\.\d+\.\d+/.exec((await run([...compose, 'version', '--short'])).stdout)?.[0];
  t.log(
    `compose: ${compose.join(' ')} ${version}; engine ${(await run(['docker', 'version', '--format', '{{.Server.Version}}'])).stdout.trim()}`,
  );

  const { port: fakePort, hostIp } = await startFakeUpstream(fakeName, fakeDir);
  const free = await run(['node', '-e', "const s=require('net').createServer().listen(0,()=>{console.log(s.address().port);s.close()})"]);
  const port = Number(free.stdout.trim());

  const init = await cctl([
    'gateway',
    'init',
    '--port',
    String(port),
    '--base-image',
    BASE_IMAGE,
    '--upstream',
    `http://${hostIp}:${fakePort}`,
    '--ledger',
    'postgres',
    '--key-file',
    join(tmp.dir, 'key'),
  ]);
  t.is(init.exitCode, 0, init.stdout + init.stderr);
  const up = await cctl(['gateway', 'up', '--timeout', '600']);
  t.is(up.exitCode, 0, up.stdout + up.stderr);

  const [pg] = await containers('postgres');
  const [gw] = await containers('gateway');
  t.truthy(pg, 'a postgres container');
  t.truthy(gw, 'a gateway container');
  const inspect = async (id: string) => (JSON.parse((await run(['docker', 'inspect', id])).stdout) as Record<string, any>[])[0]!;
  for (const id of [pg!, gw!]) {
    const c = await inspect(id);
    t.is(c.State.Health?.Status, 'healthy', `${c.Name} healthy`);
    // The containers were made by the Compose under test, not by another one on the PATH.
    t.is(c.Config.Labels['com.docker.compose.version'], version, `${c.Name} made by Compose ${version}`);
  }
  t.like(
    ((await inspect(pg!)).Mounts as { Name?: string; Destination: string }[]).find((m) => m.Destination === '/var/lib/postgresql/data'),
    {
      Name: `${project}_postgres`,
    },
  );

  const add = await cctl(['gateway', 'member', 'add', 'vera', '--json']);
  t.is(add.exitCode, 0, add.stderr);
  const { token } = JSON.parse(add.stdout) as { token: string };
  const reply = await fetch(`http://127.0.0.1:${port}/v1/messages`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
    body: JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 64, messages: [{ role: 'user', content: 'hi' }] }),
    signal: AbortSignal.timeout(30_000),
  });
  t.is(reply.status, 200, await reply.clone().text());
  await reply.text();
  const psql = await run([
    'docker',
    'exec',
    pg!,
    'psql',
    '-h',
    '/run/postgresql',
    '-U',
    'cctl',
    '-d',
    'cctl',
    '-At',
    '-c',
    "SELECT count(*) FROM requests WHERE member = 'vera'",
  ]);
  t.is(psql.stdout.trim(), '1', 'the reply has its row in Postgres');

  const status = await cctl(['gateway', 'status', '--json']);
  t.is(status.exitCode, 0, status.stderr);
  const services = (JSON.parse(status.stdout) as { services: { name: string; health: string }[] }).services;
  t.deepEqual(services.map((s) => `${s.name} ${s.health}`).sort(), ['gateway healthy', 'postgres healthy']);

  const down = await cctl(['gateway', 'down', '--volumes', '--yes']);
  t.is(down.exitCode, 0, down.stdout + down.stderr);
  t.deepEqual([...(await containers('postgres')), ...(await containers('gateway'))], [], 'no container left');
  for (const volume of [`${project}_postgres`, `${project}_ledger`])
    t.is((await quiet(['docker', 'volume', 'inspect', volume])).exitCode, 1, `${volume} removed`);
});
