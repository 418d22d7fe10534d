/**
 * `cctl gateway deploy --swarm` end to end on the real engine: the test makes
 * a single-node swarm (`docker swarm init`) and leaves it in its teardown,
 * whatever happened. Three gateway replicas share the Postgres ledger; the
 * HAProxy front publishes the port (this machine's kernel has no IPVS, so
 * Swarm's routing mesh cannot answer here); a member's stack made by
 * `cctl init --team-gateway` runs the real claude -p through it. The fake Messages API is the
 * upstream and writes one line per request it answered. What is checked is
 * read from the engine (docker service inspect, docker exec in each task) and
 * from the database (psql in the Postgres task), not from cctl.
 *
 * Engine 26 with the Compose v2 plugin only; not in test:legacy. Run it last
 * in a phase: swarm mode adds the ingress and docker_gwbridge networks.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { e2e, BASE_IMAGE } from '../helpers/e2e.js';
import { removeProjectImages, tempProject } from '../helpers/project.js';
import { CLI, composeCommand, e2eEnv } from '../helpers/cli.js';
import { run, runSettled } from '../../lib/engine/runner.js';
import { startFakeUpstream } from '../helpers/fake-upstream.js';
import { FAKE_MESSAGES_API as FAKE, REPLY } from '../helpers/fake-messages.js';
import { askGateway, load, stackProbe, type Tally } from '../helpers/gateway-load.js';

type Parsed = { name: string; metrics: { value?: string; labels?: Record<string, string> }[] }[];
const parsePrometheus = createRequire(import.meta.url)('parse-prometheus-text-format') as (text: string) => Parsed;

const tmp = tempProject('swarm');
const stack = `${tmp.name}gw`;
const gwDir = join(tmp.dir, 'team-gateway');
const fakeDir = join(tmp.dir, 'fake');
const recDir = join(tmp.dir, 'rec');
const fakeName = `${tmp.name}-fake`;
/** A member's workspace, its stack pointed at the swarm's front. */
const memberDir = join(tmp.dir, 'member');
const memberName = `${tmp.name}mb`;
for (const d of [fakeDir, recDir, memberDir]) mkdirSync(d);
chmodSync(fakeDir, 0o755);
chmodSync(recDir, 0o777);
writeFileSync(join(fakeDir, 'fake.mjs'), FAKE);
writeFileSync(join(tmp.dir, 'key'), 'sk-ant-team-swarm-e2e-real-key\n', { mode: 0o600 });

const env = e2eEnv({ COMPOSE_PROJECT_NAME: stack, CCTL_GATEWAY_DIR: gwDir });
for (const name of ['ANTHROPIC_API_KEY', 'ANTHROPIC_AUTH_TOKEN', 'CCTL_ADMIN_TOKEN', 'CCTL_TEAM_GATEWAY_URL']) delete env[name];
const memberEnv = e2eEnv({ COMPOSE_PROJECT_NAME: memberName });
for (const name of ['ANTHROPIC_API_KEY', 'ANTHROPIC_AUTH_TOKEN', 'CCTL_ADMIN_TOKEN', 'CCTL_TEAM_GATEWAY_URL']) delete memberEnv[name];
const cctl = (args: string[], where: { cwd: string; env: NodeJS.ProcessEnv } = { cwd: tmp.dir, env }) =>
  runSettled(['node', process.env.CCTL_TEST_CLI ?? CLI, ...args], { timeoutMs: 900_000, ...where });
const quiet = (argv: string[]) => runSettled(argv, { timeoutMs: 120_000 });

let port = 0;
let swarmMade = false;
let gwbridgeBefore = true;
const tokens = new Map<string, string>();

const { tasks, psql, rows, answered, inTask } = stackProbe(stack, recDir);

async function addMember(name: string, budget: string[] = []): Promise<string> {
  const add = await cctl(['gateway', 'member', 'add', name, ...budget, '--json']);
  if (add.exitCode !== 0) throw new Error(`member add ${name}: ${add.stderr}`);
  const token = (JSON.parse(add.stdout) as { token: string }).token;
  tokens.set(name, token);
  return token;
}

/** Until the front answers /health on the published port (HAProxy resolves the replicas within seconds). */
async function frontReady(): Promise<void> {
  for (let i = 0; i < 60; i++) {
    const ok = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(2000) }).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((r) => setTimeout(r, 1000));
  }
  throw new Error('the front never answered /health');
}

e2e.after.always(async () => {
  await cctl(['down', '-v', '--yes'], { cwd: memberDir, env: memberEnv }).catch(() => undefined);
  await removeProjectImages(memberName);
  await cctl(['gateway', 'down']).catch(() => undefined);
  for (let i = 0; i < 60; i++) {
    const left = await quiet(['docker', 'ps', '-aq', '--filter', `label=com.docker.stack.namespace=${stack}`]);
    if (!left.stdout.trim()) break;
    await new Promise((r) => setTimeout(r, 1000));
  }
  await quiet(['docker', 'rm', '-f', fakeName]);
  await quiet(['docker', 'volume', 'rm', `${stack}_ledger`, `${stack}_postgres`]);
  await quiet(['docker', 'image', 'rm', `cctl-${stack}-gateway:local`, `cctl-${stack}-postgres:local`, `cctl-${stack}-front:local`]);
  if (swarmMade) {
    await quiet(['docker', 'swarm', 'leave', '--force']);
    if (!gwbridgeBefore) await quiet(['docker', 'network', 'rm', 'docker_gwbridge']);
  }
  tmp.cleanup();
});

e2e.serial('deploy --swarm outside a swarm is refused with how to make one; then a single-node swarm', async (t) => {
  const state = (await run(['docker', 'info', '--format', '{{.Swarm.LocalNodeState}}'])).stdout.trim();
  t.is(state, 'inactive', 'the engine must not be in a swarm already: this test makes its own and leaves it');
  const { port: fakePort, hostIp } = await startFakeUpstream(fakeName, fakeDir, recDir);
  port = Number(
    (
      await run(['node', '-e', "const s=require('net').createServer().listen(0,()=>{console.log(s.address().port);s.close()})"])
    ).stdout.trim(),
  );
  const init = await cctl([
    'gateway',
    'init',
    '--port',
    String(port),
    '--listen',
    '0.0.0.0',
    '--base-image',
    BASE_IMAGE,
    '--upstream',
    `http://${hostIp}:${fakePort}`,
    '--ledger',
    'postgres',
    '--key-file',
    join(tmp.dir, 'key'),
  ]);
  t.is(init.exitCode, 0, init.stderr);
  const refused = await cctl(['gateway', 'deploy', '--swarm']);
  t.is(refused.exitCode, 1);
  t.regex(refused.stderr, /not part of a swarm \(Swarm: inactive\)[\s\S]*docker swarm init --advertise-addr/);
  gwbridgeBefore = (await quiet(['docker', 'network', 'inspect', 'docker_gwbridge'])).exitCode === 0;
  await run(['docker', 'swarm', 'init', '--advertise-addr', '127.0.0.1']);
  swarmMade = true;
});

e2e.serial('3 replicas, Postgres pinned with its volume, Swarm secrets, the HAProxy front on the port; status and logs', async (t) => {
  const deploy = await cctl(['gateway', 'deploy', '--swarm', '--replicas', '3', '--timeout', '600']);
  t.is(deploy.exitCode, 0, deploy.stdout + deploy.stderr);
  const inspect = async (service: string) =>
    (JSON.parse((await run(['docker', 'service', 'inspect', `${stack}_${service}`])).stdout) as Record<string, any>[])[0]!.Spec;
  const gw = await inspect('gateway');
  t.is(gw.Mode.Replicated.Replicas, 3);
  t.is(gw.EndpointSpec.Mode, 'dnsrr');
  const secretNames = (gw.TaskTemplate.ContainerSpec.Secrets as { SecretName: string; File: { Name: string } }[])
    .map((s) => s.File.Name)
    .sort();
  t.deepEqual(secretNames, ['admin_token', 'anthropic_api_key', 'ledger_url', 'metrics_token']);
  const secrets = (await run(['docker', 'secret', 'ls', '--format', '{{.Name}}'])).stdout;
  t.regex(secrets, new RegExp(`${stack}_anthropic_api_key_[0-9a-f]{12}`));
  const pg = await inspect('postgres');
  t.is(pg.Mode.Replicated.Replicas, 1);
  t.is(pg.EndpointSpec.Mode, 'dnsrr');
  const node = (await run(['docker', 'info', '--format', '{{.Name}}'])).stdout.trim();
  t.deepEqual(pg.TaskTemplate.Placement.Constraints, [`node.hostname == ${node}`]);
  t.like((pg.TaskTemplate.ContainerSpec.Mounts as { Source: string; Target: string }[])[0], {
    Source: `${stack}_postgres`,
    Target: '/var/lib/postgresql/data',
  });
  const front = await inspect('front');
  t.like(front.EndpointSpec.Ports[0], { TargetPort: 3000, PublishedPort: port, PublishMode: 'host' });
  t.is((await tasks('gateway')).length, 3);
  await frontReady();
  const status = await cctl(['gateway', 'status', '--json']);
  t.is(status.exitCode, 0, status.stderr);
  const services = (JSON.parse(status.stdout) as { services: { name: string; replicas: string }[] }).services;
  t.deepEqual(services.map((s) => `${s.name} ${s.replicas}`).sort(), [
    `${stack}_front 1/1`,
    `${stack}_gateway 3/3`,
    `${stack}_postgres 1/1`,
  ]);
  const logs = await cctl(['gateway', 'logs', '--tail', '20']);
  t.regex(logs.stdout + logs.stderr, new RegExp(`${stack}_gateway\\.[123]\\.\\w+@`));
});

e2e.serial(
  '2,000 requests over the replicas: ledger rows equal the requests the upstream answered, exactly; /metrics agrees',
  async (t) => {
    const token = await addMember('alice', ['--max-in-flight', '32']);
    const base = answered();
    const tally = await load(port, token, 'alice', { total: 2000, concurrency: 16 });
    t.is(tally.ok, 2000, JSON.stringify(tally));
    t.is(answered() - base, 2000);
    t.is(await rows('alice'), 2000);
    // Each replica answered its share, and the three processes' own counters add up to every reply.
    const metricsToken = readFileSync(join(gwDir, 'secrets', 'metrics-token'), 'utf8').trim();
    const auth = { authorization: `Bearer ${metricsToken}` };
    const perReplica: number[] = [];
    let ledgerSeen = 0;
    for (const id of await tasks('gateway')) {
      const scrape = await inTask(id, '/metrics', auth);
      t.is(scrape.status, 200);
      const parsed = parsePrometheus(scrape.text);
      const family = (name: string) => parsed.find((f) => f.name === name)?.metrics ?? [];
      perReplica.push(
        family('cctl_gateway_requests_total')
          .filter((m) => m.labels?.code === '200')
          .reduce((sum, m) => sum + Number(m.value), 0),
      );
      ledgerSeen = Number(family('cctl_ledger_requests_total').find((m) => m.labels?.member === 'alice')?.value);
      t.is(ledgerSeen, 2000, 'every replica reads the same ledger totals');
      const tokensIn = Number(
        family('cctl_ledger_tokens_total').find((m) => m.labels?.member === 'alice' && m.labels?.kind === 'input')?.value,
      );
      t.is(tokensIn, Number(await psql("SELECT sum(input_tokens) FROM requests WHERE member = 'alice'")));
    }
    t.is(perReplica.length, 3);
    t.is(
      perReplica.reduce((a, b) => a + b, 0),
      2000,
    );
    t.true(
      perReplica.every((n) => n > 100),
      `spread over the replicas: ${perReplica.join(', ')}`,
    );
    t.log(`rows ${await rows('alice')} = answered ${answered() - base}; per replica ${perReplica.join(', ')}`);
  },
);

e2e.serial("the real claude -p from a member's stack (cctl init --team-gateway) through the front: the member's rows", async (t) => {
  const hostIp = (await run(['docker', 'network', 'inspect', 'bridge', '-f', '{{(index .IPAM.Config 0).Gateway}}'])).stdout.trim();
  const token = await addMember('mia');
  const init = await cctl(['init', '--team-gateway', `http://${hostIp}:${port}`], {
    cwd: memberDir,
    env: { ...memberEnv, CCTL_MEMBER_TOKEN: token },
  });
  t.is(init.exitCode, 0, init.stderr);
  const up = await cctl(['up', '--timeout', '600'], { cwd: memberDir, env: memberEnv });
  t.is(up.exitCode, 0, up.stdout + up.stderr);
  // Every request claude -p makes (Messages with ?beta=true, count_tokens): the fake's record, line by line.
  const record = join(recDir, 'requests.jsonl');
  const lines = () => (existsSync(record) ? readFileSync(record, 'utf8').split('\n').filter(Boolean).length : 0);
  const base = lines();
  const claude = await runSettled(
    [
      ...composeCommand(),
      '-p',
      memberName,
      '--project-directory',
      memberDir,
      '--profile',
      'claude',
      'exec',
      '-T',
      '-e',
      'CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1',
      '--user',
      'claude',
      '--workdir',
      '/workspace',
      'claude-cli',
      'claude',
      '-p',
      'say hello',
    ],
    { timeoutMs: 120_000 },
  );
  t.is(claude.exitCode, 0, claude.stdout + claude.stderr);
  t.true(claude.stdout.includes(REPLY), claude.stdout);
  const upstream = lines() - base;
  t.true(upstream >= 1, 'the fake upstream answered claude -p');
  // Every request claude -p made reached the upstream through a replica and has its row under the member.
  t.is(await rows('mia'), upstream);
  t.log(`claude -p through the front: ${upstream} upstream requests, ${await rows('mia')} rows for mia`);
  t.is((await cctl(['down', '-v', '--yes'], { cwd: memberDir, env: memberEnv })).exitCode, 0);
});

e2e.serial('a revoke made through one replica is refused on the next request by every replica', async (t) => {
  const base = answered();
  const token = await addMember('bob');
  t.is((await askGateway(port, token, 'bob')).status, 200);
  t.is((await cctl(['gateway', 'member', 'revoke', 'bob'])).exitCode, 0);
  const headers = {
    authorization: `Bearer ${token}`,
    'content-type': 'application/json',
    'anthropic-version': '2023-06-01',
    'x-cctl-project': 'bob',
  };
  const body = JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 64, messages: [{ role: 'user', content: 'hi' }] });
  const ids = await tasks('gateway');
  t.is(ids.length, 3);
  for (const id of ids) {
    const r = await inTask(id, '/v1/messages', headers, body);
    t.is(r.status, 401, `replica ${id}`);
    t.regex(r.text, /revoked or never issued/);
  }
  t.is(answered() - base, 1, 'no refused request reached the upstream');
});

e2e.serial('50 parallel requests against one budget across the replicas stay within the documented bound', async (t) => {
  const limit = 1000;
  const token = await addMember('carol', ['--daily-tokens', String(limit), '--max-in-flight', '50']);
  const tally = await load(port, token, 'carol', { total: 50, concurrency: 50 });
  const spent = Number(
    await psql(
      "SELECT coalesce(sum(input_tokens + output_tokens + cache_creation_tokens + cache_read_tokens), 0) FROM requests WHERE member = 'carol' AND status = 200",
    ),
  );
  // Guide, "The bound": overspend <= the largest single estimate (body bytes + max_tokens) + cap x estimate error (0 here: 13 tokens < estimate).
  const estimate = tally.bodyBytes + 64;
  t.log(
    `carol: ${tally.ok} admitted, ${tally.statuses[429] ?? 0} refused (429), ${spent} tokens spent of ${limit} (bound ${limit + estimate})`,
  );
  t.is(tally.ok + (tally.statuses[429] ?? 0), 50, JSON.stringify(tally.statuses));
  t.true(spent <= limit + estimate, `${spent} tokens > ${limit} + ${estimate}`);
  t.true((tally.statuses[429] ?? 0) > 0, 'the budget refused some');
  t.is(
    Number(await psql("SELECT count(*) FROM requests WHERE member = 'carol' AND status = 200")),
    tally.ok,
    'each admitted request has its row',
  );
});

e2e.serial("one replica's task killed under load: every reply a client received has its row; the stack recovers", async (t) => {
  const concurrency = 12;
  const token = await addMember('dave', ['--max-in-flight', '32']);
  const base = answered();
  const running = load(port, token, 'dave', { total: 600, concurrency });
  await new Promise((r) => setTimeout(r, 1500));
  const [victim] = await tasks('gateway');
  await run(['docker', 'kill', victim!]);
  const tally: Tally = await running;
  const recorded = await rows('dave');
  const upstream = answered() - base;
  t.log(
    `dave: ${tally.ok} replied 200, ${recorded} rows, ${upstream} answered upstream, ${tally.ok - recorded} replies without a row; ${JSON.stringify(tally.statuses)}`,
  );
  // Guide, "Replicas on Docker Swarm": a reply ends only once its row is committed, so a replica killed
  // outright loses the requests it was answering, never the row of a reply a client received.
  t.true(recorded >= tally.ok, `${tally.ok - recorded} replies have no row`);
  t.true(recorded <= upstream, 'no row without an upstream answer');
  t.true(tally.ok >= 500, 'the other replicas kept answering');
  for (let i = 0; i < 60 && (await tasks('gateway')).length < 3; i++) await new Promise((r) => setTimeout(r, 2000));
  t.is((await tasks('gateway')).length, 3, 'Swarm replaced the killed task');
});

e2e.serial('a rolling update (deploy again) under load drops no admitted request', async (t) => {
  const token = await addMember('erin', ['--max-in-flight', '32']);
  const base = answered();
  const before = new Set(await tasks('gateway'));
  let stop = false;
  const tallies: Tally[] = [];
  const loop = (async () => {
    while (!stop) tallies.push(await load(port, token, 'erin', { total: 40, concurrency: 8 }));
  })();
  const deploy = await cctl(['gateway', 'deploy', '--swarm', '--replicas', '3', '--timeout', '600']);
  await new Promise((r) => setTimeout(r, 2000));
  stop = true;
  await loop;
  t.is(deploy.exitCode, 0, deploy.stdout + deploy.stderr);
  const after = await tasks('gateway');
  t.is(after.length, 3);
  t.false(
    after.some((id) => before.has(id)),
    'every replica was replaced',
  );
  const sent = tallies.reduce((n, x) => n + x.sent, 0);
  const ok = tallies.reduce((n, x) => n + x.ok, 0);
  const failed = tallies.flatMap((x) => Object.entries(x.statuses).filter(([code]) => code !== '200'));
  t.log(
    `erin: ${sent} sent during the update, ${ok} answered 200, failures ${JSON.stringify(failed)} ${JSON.stringify(tallies.flatMap((x) => x.failures).slice(0, 8))}`,
  );
  t.deepEqual(failed, []);
  t.is(ok, sent);
  t.is(await rows('erin'), ok);
  t.is(answered() - base, ok);
});

e2e.serial('down removes the stack; its volumes stay', async (t) => {
  const down = await cctl(['gateway', 'down']);
  t.is(down.exitCode, 0, down.stderr);
  t.regex(down.stdout, /Removed the stack/);
  t.is((await quiet(['docker', 'service', 'inspect', `${stack}_gateway`])).exitCode, 1);
  t.is((await quiet(['docker', 'volume', 'inspect', `${stack}_postgres`])).exitCode, 0);
  t.false(existsSync(join(gwDir, 'stack.yaml')));
});
