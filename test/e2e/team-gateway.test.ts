/**
 * The team gateway end to end (issue 16), on the real engine: a team gateway
 * made by `cctl gateway init/up` with a fake Messages API of the test's own as
 * its upstream, and a member's workspace stack (`cctl init --team-gateway`)
 * whose local gateway forwards to it. Both reach each other the way a server
 * is reached, through published ports on the host (the docker0 address).
 * Without TLS the gateway is published on 127.0.0.1 only until --listen
 * widens it; with a self-signed certificate, usage --team and the member's
 * local gateway trust it through --ca-cert / CCTL_CA_CERT.
 */
import { mkdirSync, readFileSync, writeFileSync, existsSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { e2e, BASE_IMAGE } from '../helpers/e2e.js';
import { tempProject, removeProjectImages } from '../helpers/project.js';
import { CLI, e2eEnv, composeCommand } from '../helpers/cli.js';
import { run, runSettled, type RunResult } from '../../lib/engine/runner.js';
import { startFakeUpstream } from '../helpers/fake-upstream.js';
import { FAKE_MESSAGES_API as FAKE, REPLY } from '../helpers/fake-messages.js';

const REAL_KEY = 'sk-ant-team-e2e-real-key';
const tmp = tempProject('teamgw');
const gwName = `${tmp.name}gw`;
const gwDir = join(tmp.dir, 'team-gateway');
const memberDir = join(tmp.dir, 'member');
const fakeDir = join(tmp.dir, 'fake');
const recDir = join(tmp.dir, 'rec');
const fakeName = `${tmp.name}-fake`;
const tlsDir = join(tmp.dir, 'tls');
mkdirSync(memberDir);
mkdirSync(fakeDir);
mkdirSync(recDir);
chmodSync(recDir, 0o777);
writeFileSync(join(fakeDir, 'fake.mjs'), FAKE);
writeFileSync(join(tmp.dir, 'key'), `${REAL_KEY}\n`, { mode: 0o600 });

const gwEnv = e2eEnv({ COMPOSE_PROJECT_NAME: gwName, CCTL_GATEWAY_DIR: gwDir });
const memberEnv = e2eEnv({ COMPOSE_PROJECT_NAME: tmp.name });
for (const env of [gwEnv, memberEnv]) {
  delete env.ANTHROPIC_API_KEY;
  delete env.ANTHROPIC_AUTH_TOKEN;
  delete env.CCTL_ADMIN_TOKEN;
  delete env.CCTL_TEAM_GATEWAY_URL;
}

let hostIp = '';
let gwPort = 0;
let token = '';
/** gateway init's flags (a re-run of init writes the folder anew from them, plus what changes). */
let gwInitArgs: string[] = [];

/** cctl as a user runs it; CCTL_TEST_CLI may point at another build of bin/cctl.js (the shared dist/ changes under a busy tree). */
const cctl = (args: string[], options: { cwd: string; env: NodeJS.ProcessEnv }) =>
  quiet(['node', process.env.CCTL_TEST_CLI ?? CLI, ...args], 900_000, options);

async function quiet(argv: string[], timeoutMs = 60_000, options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<RunResult> {
  return runSettled(argv, { timeoutMs, ...options });
}

const recorded = () =>
  existsSync(join(recDir, 'requests.jsonl'))
    ? readFileSync(join(recDir, 'requests.jsonl'), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { method: string; url: string; headers: Record<string, string> })
    : [];

/** The real Claude Code in the member's claude-cli. */
const claudeP = () =>
  quiet(
    [
      ...composeCommand(),
      '-p',
      tmp.name,
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
    120_000,
  );

interface MemberRow {
  member: string;
  requests: number;
  inputTokens: number;
  outputTokens: number;
  cacheCreationTokens: number;
  cacheReadTokens: number;
}
async function teamUsage(): Promise<MemberRow[]> {
  const r = await cctl(['usage', '--team', 'member', '--json'], { cwd: memberDir, env: gwEnv });
  if (r.exitCode !== 0) throw new Error(`usage --team failed: ${r.stderr}`);
  return (JSON.parse(r.stdout) as { rows: MemberRow[] }).rows;
}

e2e.after.always(async () => {
  await cctl(['down', '-v', '--yes'], { cwd: memberDir, env: memberEnv }).catch(() => undefined);
  await cctl(['gateway', 'down'], { cwd: tmp.dir, env: gwEnv }).catch(() => undefined);
  await quiet(['docker', 'rm', '-f', fakeName]);
  await quiet(['docker', 'volume', 'rm', `${gwName}_ledger`]);
  // Tags only: the layers stay cached for the next run and for other stacks.
  await quiet([
    'docker',
    'image',
    'rm',
    `cctl-${tmp.name}-proxy:local`,
    `cctl-${tmp.name}-claude-cli:local`,
    `cctl-${gwName}-gateway:local`,
  ]);
  await removeProjectImages(tmp.name);
  tmp.cleanup();
});

e2e.serial('gateway init and up: a healthy team gateway with the fake API as upstream', async (t) => {
  hostIp = (await run(['docker', 'network', 'inspect', 'bridge', '-f', '{{(index .IPAM.Config 0).Gateway}}'])).stdout.trim();
  t.regex(hostIp, /^\d+\.\d+\.\d+\.\d+$/);
  const { port: fakePort } = await startFakeUpstream(fakeName, fakeDir, recDir);
  const free = await run(['node', '-e', "const s=require('net').createServer().listen(0,()=>{console.log(s.address().port);s.close()})"]);
  gwPort = Number(free.stdout.trim());
  gwInitArgs = ['gateway', 'init', '--port', String(gwPort), '--base-image', BASE_IMAGE, '--upstream', `http://${hostIp}:${fakePort}`];
  const init = await cctl([...gwInitArgs, '--key-file', join(tmp.dir, 'key')], { cwd: tmp.dir, env: gwEnv });
  t.is(init.exitCode, 0, init.stderr);
  t.false(init.stdout.includes(REAL_KEY));
  const up = await cctl(['gateway', 'up', '--timeout', '300'], { cwd: tmp.dir, env: gwEnv });
  t.is(up.exitCode, 0, up.stdout + up.stderr);
  t.regex(up.stdout, /gateway\s+running\s+healthy/);
  t.regex(
    up.stdout,
    new RegExp(`Built cctl-${gwName}-gateway:local|Gateway image is current`),
    "the image carries the folder's project name",
  );
  // Plain HTTP: published on loopback only, as the engine itself reports it.
  t.is((await run(['docker', 'port', `${gwName}-gateway-1`, '3000/tcp'])).stdout.trim(), `127.0.0.1:${gwPort}`);
  const status = JSON.parse((await cctl(['gateway', 'status', '--json'], { cwd: tmp.dir, env: gwEnv })).stdout) as { listen: string };
  t.is(status.listen, '127.0.0.1');
  // The members' containers reach the host at the docker0 address, a private one: widen to it, knowingly.
  t.is((await cctl([...gwInitArgs, '--listen', hostIp], { cwd: tmp.dir, env: gwEnv })).exitCode, 0);
  const widened = await cctl(['gateway', 'up', '--timeout', '300'], { cwd: tmp.dir, env: gwEnv });
  t.is(widened.exitCode, 0, widened.stdout + widened.stderr);
  t.is((await run(['docker', 'port', `${gwName}-gateway-1`, '3000/tcp'])).stdout.trim(), `${hostIp}:${gwPort}`);
  const add = await cctl(['gateway', 'member', 'add', 'alice', '--json'], { cwd: tmp.dir, env: gwEnv });
  t.is(add.exitCode, 0, add.stderr);
  token = (JSON.parse(add.stdout) as { token: string }).token;
  t.regex(token, /^cctl_member_/);
});

/** The machine's CA (for builds) and the team gateway's self-signed certificate of the TLS test, in one bundle for the member's --ca-cert. */
const bundle = join(memberDir, 'team-ca.pem');

e2e.serial('a member’s stack: init --team-gateway and up; the real claude -p answers through both gateways', async (t) => {
  // Made now, so that the member's images carry the bundle from the start and the TLS test below rebuilds nothing.
  mkdirSync(tlsDir);
  await run([
    'openssl',
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=team-gateway',
    '-addext',
    `subjectAltName=IP:${hostIp},IP:127.0.0.1`,
    '-keyout',
    join(tlsDir, 'gw.key'),
    '-out',
    join(tlsDir, 'gw.crt'),
  ]);
  const machineCa = memberEnv.CCTL_CA_CERT;
  writeFileSync(bundle, `${machineCa ? readFileSync(machineCa, 'utf8') : ''}\n${readFileSync(join(tlsDir, 'gw.crt'), 'utf8')}`);
  const init = await cctl(['init', '--team-gateway', `http://${hostIp}:${gwPort}`, '--ca-cert', bundle], {
    cwd: memberDir,
    env: { ...memberEnv, CCTL_MEMBER_TOKEN: token },
  });
  t.is(init.exitCode, 0, init.stderr);
  t.false(init.stdout.includes(token), 'the token is never printed');
  const up = await cctl(['up', '--timeout', '600'], { cwd: memberDir, env: memberEnv });
  t.is(up.exitCode, 0, up.stdout + up.stderr);
  const env = await quiet([
    ...composeCommand(),
    '-p',
    tmp.name,
    '--project-directory',
    memberDir,
    '--profile',
    'claude',
    'exec',
    '-T',
    'claude-cli',
    'env',
  ]);
  t.false(env.stdout.includes(token), 'claude-cli never sees the member token');
  t.false(env.stdout.includes(REAL_KEY));

  const r = await claudeP();
  t.is(r.exitCode, 0, r.stdout + r.stderr);
  t.true(r.stdout.includes(REPLY), r.stdout);
  const seen = recorded();
  t.true(seen.length > 0);
  for (const s of seen) {
    t.is(s.headers['x-api-key'], REAL_KEY, `${s.method} ${s.url}`);
    t.false(JSON.stringify(s.headers).includes(token));
    t.is(s.headers['x-cctl-project'], undefined);
    t.true(
      ['POST /v1/messages', 'POST /v1/messages/count_tokens'].includes(`${s.method} ${s.url.split('?')[0]}`),
      `only the Messages API reaches the upstream: ${s.method} ${s.url}`,
    );
  }
  t.log(`through both gateways, claude -p sent: ${seen.map((s) => `${s.method} ${s.url}`).join('; ')}`);
});

e2e.serial('cctl usage --team shows the request under the member, with the fake API’s exact counts', async (t) => {
  const messages = recorded().filter((s) => s.method === 'POST' && s.url.split('?')[0] === '/v1/messages').length;
  t.true(messages >= 1);
  const rows = await teamUsage();
  t.is(rows.length, 1);
  // The fake reports 7 input and 6 output tokens per message, streamed or not.
  t.like(rows[0], {
    member: 'alice',
    requests: recorded().length,
    inputTokens: 7 * messages,
    outputTokens: 6 * messages,
    cacheCreationTokens: 0,
    cacheReadTokens: 0,
  });
  const table = await cctl(['usage', '--team', 'member'], { cwd: memberDir, env: gwEnv });
  t.regex(table.stdout, /^alice\s+/m);
});

e2e.serial('the ledger survives gateway down and up', async (t) => {
  const before = await teamUsage();
  const down = await cctl(['gateway', 'down'], { cwd: tmp.dir, env: gwEnv });
  t.is(down.exitCode, 0, down.stderr);
  const up = await cctl(['gateway', 'up', '--timeout', '300'], { cwd: tmp.dir, env: gwEnv });
  t.is(up.exitCode, 0, up.stdout + up.stderr);
  t.deepEqual(await teamUsage(), before);
});

/** The last lines of both gateways' logs, for a claude -p that did not answer as expected. */
async function logBoth(t: { log(...values: unknown[]): void }): Promise<void> {
  const logs = await quiet([
    ...composeCommand(),
    '-p',
    tmp.name,
    '--project-directory',
    memberDir,
    '--profile',
    'claude',
    'logs',
    '--tail',
    '15',
    'proxy',
  ]);
  t.log(`member proxy log:\n${logs.stdout}`);
  t.log(`team gateway log:\n${(await cctl(['gateway', 'logs', '--tail', '15'], { cwd: tmp.dir, env: gwEnv })).stdout}`);
}

e2e.serial('after member revoke, the next claude -p fails with a clear 401', async (t) => {
  const revoke = await cctl(['gateway', 'member', 'revoke', 'alice'], { cwd: tmp.dir, env: gwEnv });
  t.is(revoke.exitCode, 0, revoke.stderr);
  const r = await claudeP();
  const said = r.stdout + r.stderr;
  if (!/revoked or never issued/.test(said)) await logBoth(t);
  t.not(r.exitCode, 0);
  t.log(said.trim().split('\n').slice(-3).join(' | '));
  t.regex(said, /401/);
  t.regex(said, /revoked or never issued/);
});

e2e.serial('with a self-signed certificate: usage --team fails with the --ca-cert hint, and trusts it through CCTL_CA_CERT', async (t) => {
  const init = await cctl([...gwInitArgs, '--tls-cert', join(tlsDir, 'gw.crt'), '--tls-key', join(tlsDir, 'gw.key'), '--listen', hostIp], {
    cwd: tmp.dir,
    env: gwEnv,
  });
  t.is(init.exitCode, 0, init.stderr);
  const up = await cctl(['gateway', 'up', '--timeout', '300'], { cwd: tmp.dir, env: gwEnv });
  t.is(up.exitCode, 0, up.stdout + up.stderr);

  const { CCTL_CA_CERT: _machineCa, ...noCa } = gwEnv;
  const untrusted = await cctl(['usage', '--team', 'member', '--json'], { cwd: memberDir, env: noCa });
  t.not(untrusted.exitCode, 0);
  t.regex(untrusted.stderr, /DEPTH_ZERO_SELF_SIGNED_CERT[\s\S]*--ca-cert FILE \(or CCTL_CA_CERT=FILE\)/);
  const trusted = await cctl(['usage', '--team', 'member', '--json'], {
    cwd: memberDir,
    env: { ...noCa, CCTL_CA_CERT: join(tlsDir, 'gw.crt') },
  });
  t.is(trusted.exitCode, 0, trusted.stderr);
  t.true((JSON.parse(trusted.stdout) as { rows: MemberRow[] }).rows.some((r) => r.member === 'alice'));
});

// A test of its own: ava's timeout counts from the last finished test. The member's stack keeps its --ca-cert bundle
// (machine CA + the gateway's certificate) although CCTL_CA_CERT names the machine CA alone: a project's CA beats the variable.
e2e.serial('a member whose project trusts the self-signed certificate (--ca-cert): the real claude -p answers through it', async (t) => {
  const { CCTL_CA_CERT: _machineCa, ...noCa } = gwEnv;
  // A new member (alice is revoked), whose project trusts the gateway's certificate on top of the machine's CA.
  const add = await cctl(['gateway', 'member', 'add', 'bob', '--json'], { cwd: tmp.dir, env: gwEnv });
  t.is(add.exitCode, 0, add.stderr);
  const bob = (JSON.parse(add.stdout) as { token: string }).token;
  const member = await cctl(['init', '--team-gateway', `https://${hostIp}:${gwPort}`, '--ca-cert', bundle], {
    cwd: memberDir,
    env: { ...memberEnv, CCTL_MEMBER_TOKEN: bob },
  });
  t.is(member.exitCode, 0, member.stderr);
  const memberUp = await cctl(['up', '--timeout', '900'], { cwd: memberDir, env: memberEnv });
  t.is(memberUp.exitCode, 0, memberUp.stdout + memberUp.stderr);
  const r = await claudeP();
  if (r.exitCode !== 0) await logBoth(t);
  t.is(r.exitCode, 0, r.stdout + r.stderr);
  t.true(r.stdout.includes(REPLY), r.stdout);
  const rows = await cctl(['usage', '--team', 'member', '--json'], {
    cwd: memberDir,
    env: { ...noCa, CCTL_CA_CERT: join(tlsDir, 'gw.crt') },
  });
  t.true(
    (JSON.parse(rows.stdout) as { rows: MemberRow[] }).rows.some((row) => row.member === 'bob' && row.requests > 0),
    rows.stdout,
  );
});
