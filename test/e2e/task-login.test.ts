/**
 * Tasks in login mode share one login, and its refresh, on the real engine:
 * the project's home volume holds an OAuth login (.credentials.json) whose
 * access token has expired; two tasks run the real `claude -p` at the same
 * time. Claude Code refreshes the token at platform.claude.com, played by a
 * fake OAuth server of the test's own (HTTPS, a throw-away CA) that rotates
 * refresh tokens the way a real one does: each works once. Both sessions
 * answer through the project's gateway with the new access token, the
 * refresh is made once (Claude Code serialises it across the processes that
 * share a home, and the second session reads what the first wrote), and the
 * home keeps the live pair: no task costs the others their login.
 * Engine 26 with Compose v2 (tasks need v2). Runs as a regular user.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { e2e, BASE_IMAGE } from '../helpers/e2e.js';
import { CLI, composeCommand, e2eEnv } from '../helpers/cli.js';
import { scratchDir } from '../helpers/scratch.js';
import { asRegularUser, giveToRegularUser } from '../helpers/regular-user.js';
import { FAKE_MESSAGES_API, REPLY } from '../helpers/fake-messages.js';
import { run, runSettled, type RunResult } from '../../lib/engine/runner.js';

/** platform.claude.com's token endpoint, rotating: a refresh token works once; other paths answer {} (Claude Code's profile and bootstrap calls). */
const FAKE_OAUTH = String.raw`
import https from 'node:https';
import { appendFileSync, readFileSync } from 'node:fs';
let generation = 1;
let live = 'sk-ant-ort01-gen1';
const log = (e) => appendFileSync('/rec/oauth.jsonl', JSON.stringify(e) + '\n');
https.createServer({ key: readFileSync('/tls/key.pem'), cert: readFileSync('/tls/cert.pem') }, (req, res) => {
  let raw = '';
  req.on('data', (c) => (raw += c));
  req.on('end', () => {
    let body = {};
    try { body = JSON.parse(raw); } catch { body = Object.fromEntries(new URLSearchParams(raw)); }
    if (req.method === 'POST' && req.url.startsWith('/v1/oauth/token')) {
      const ok = body.grant_type === 'refresh_token' && body.refresh_token === live;
      log({ host: req.headers.host, grant: body.grant_type, refresh: body.refresh_token, ok });
      if (!ok) {
        res.writeHead(400, { 'content-type': 'application/json' });
        return res.end(JSON.stringify({ error: 'invalid_grant', error_description: 'refresh token already used' }));
      }
      generation += 1;
      live = 'sk-ant-ort01-gen' + generation;
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(JSON.stringify({ token_type: 'Bearer', access_token: 'sk-ant-oat01-gen' + generation, refresh_token: live, expires_in: 28800, scope: body.scope || 'user:inference user:profile' }));
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{}');
  });
}).listen(443, '0.0.0.0', () => console.log('fake oauth on 443'));
`;
const OAUTH_HOSTS = ['platform.claude.com', 'api.anthropic.com', 'claude.ai'];

const root = scratchDir('cctl-tasklogin-');
const name = `cctle2etasklogin${randomBytes(3).toString('hex')}`;
const dir = join(root, name);
const home = join(root, 'home');
const fakes = join(root, 'fakes');
const rec = join(root, 'rec');
const tls = join(dir, 'tls');
const apiName = `${name}-api`;
const oauthName = `${name}-oauth`;
const TASKS = ['one', 'two'];
for (const d of [dir, home, fakes, rec, tls]) mkdirSync(d, { recursive: true });
writeFileSync(join(fakes, 'api.mjs'), FAKE_MESSAGES_API);
writeFileSync(join(fakes, 'oauth.mjs'), FAKE_OAUTH);
writeFileSync(
  join(home, '.gitconfig'),
  '[user]\n\tname = Task Tester\n\temail = task-tester@example.test\n[init]\n\tdefaultBranch = main\n',
);
giveToRegularUser(root);
chmodSync(rec, 0o777);
const env = e2eEnv({ HOME: home });
for (const key of ['COMPOSE_PROJECT_NAME', 'ANTHROPIC_API_KEY', 'ANTHROPIC_AUTH_TOKEN', 'CLAUDE_CODE_OAUTH_TOKEN']) delete env[key];

const cctl = (args: string[], timeoutMs = 600_000): Promise<RunResult> =>
  runSettled([...asRegularUser, 'node', CLI, ...args], { cwd: dir, env, timeoutMs });
const git = (...args: string[]) =>
  execFileSync(asRegularUser[0] ?? 'git', [...asRegularUser.slice(1), ...(asRegularUser.length ? ['git'] : []), ...args], {
    cwd: dir,
    env,
    encoding: 'utf8',
  });
const lines = (file: string) =>
  readFileSync(join(rec, file), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);

e2e.after.always(async () => {
  for (const task of TASKS)
    await run([...composeCommand(), '-p', `${name}-task-${task}`, 'down', '--timeout', '1'], { env }).catch(() => undefined);
  await run(['docker', 'rm', '-f', apiName, oauthName]).catch(() => undefined);
  await run([...composeCommand(), '-f', join(dir, 'compose.yaml'), '-p', name, '--profile', 'claude', 'down', '-v', '--timeout', '1'], {
    cwd: dir,
    env,
  }).catch(() => undefined);
  const images = (await run(['docker', 'images', '--format', '{{.Repository}}:{{.Tag}}'])).stdout
    .split('\n')
    .filter((i) => i.includes(name));
  if (images.length) await run(['docker', 'image', 'rm', ...images]).catch(() => undefined);
});

e2e.serial('login mode: two tasks refresh one expired login at once; one refresh, both answer, the home keeps the live pair', async (t) => {
  // A throw-away CA for the fake OAuth host, committed with the project so every worktree has it at /workspace/tls.
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe', cwd: tls });
  openssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
    '-days',
    '2',
    '-subj',
    '/CN=cctl oauth test CA',
  );
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'key.pem', '-out', 'req.csr', '-subj', '/CN=platform.claude.com');
  writeFileSync(join(tls, 'ext.cnf'), `subjectAltName=${OAUTH_HOSTS.map((h) => `DNS:${h}`).join(',')}\n`);
  openssl(
    'x509',
    '-req',
    '-in',
    'req.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'cert.pem',
    '-days',
    '2',
    '-extfile',
    'ext.cnf',
  );
  for (const f of ['ca.pem', 'key.pem', 'cert.pem']) chmodSync(join(tls, f), 0o644);

  git('init', '-q');
  // Login mode (the default): the gateway passes each session's own Authorization through to the upstream.
  const init = await cctl(['init', '--upstream', 'http://fake-api:8080']);
  t.is(init.exitCode, 0, init.stderr + init.stdout);
  writeFileSync(join(dir, '.gitignore'), 'tls/*.key\ntls/*.csr\ntls/*.srl\ntls/*.cnf\n');
  giveToRegularUser(dir);
  git('add', '-A');
  git('commit', '-qm', 'app with its claude profile');
  const up = await cctl(['up', '--timeout', '900']);
  t.is(up.exitCode, 0, up.stderr + up.stdout);

  // The fakes join the project's network, where the gateway and every task's claude-cli are.
  const network = `${name}_default`;
  const fake = (container: string, script: string, aliases: string[], mounts: string[]) =>
    run([
      'docker',
      'run',
      '-d',
      '--name',
      container,
      '--network',
      network,
      ...aliases.flatMap((a) => ['--network-alias', a]),
      ...mounts.flatMap((m) => ['-v', m]),
      '--init',
      BASE_IMAGE,
      'node',
      `/srv/${script}`,
    ]);
  await fake(apiName, 'api.mjs', ['fake-api'], [`${fakes}:/srv:ro`, `${rec}:/rec`]);
  await fake(oauthName, 'oauth.mjs', OAUTH_HOSTS, [`${fakes}:/srv:ro`, `${rec}:/rec`, `${tls}:/tls:ro`]);

  // One login in the shared home, its access token expired an hour ago.
  const expired = {
    claudeAiOauth: {
      accessToken: 'sk-ant-oat01-gen1',
      refreshToken: 'sk-ant-ort01-gen1',
      expiresAt: Date.now() - 3_600_000,
      scopes: ['user:inference', 'user:profile'],
      subscriptionType: 'pro',
    },
  };
  const write =
    "const fs=require('fs');fs.mkdirSync('/home/claude/.claude',{recursive:true});" +
    "fs.writeFileSync('/home/claude/.claude/.credentials.json',process.argv[1],{mode:0o600})";
  const seeded = await cctl(['exec', '--', 'node', '-e', write, JSON.stringify(expired)]);
  t.is(seeded.exitCode, 0, seeded.stderr);

  for (const task of TASKS) {
    const made = await cctl(['task', 'new', task]);
    t.is(made.exitCode, 0, made.stderr + made.stdout);
  }
  const claude = (task: string) =>
    cctl(
      ['task', 'exec', task, '--', 'env', 'NODE_EXTRA_CA_CERTS=/workspace/tls/ca.pem', 'claude', '-p', `say hello from ${task}`],
      240_000,
    );
  const answers = await Promise.all(TASKS.map(claude));
  if (answers.some((a) => a.exitCode !== 0)) {
    const hosts = await cctl(['task', 'exec', 'one', '--', 'getent', 'hosts', 'proxy', 'platform.claude.com', 'api.anthropic.com']);
    t.log(`names from a task: ${hosts.stdout}${hosts.stderr}`);
    t.log(`oauth: ${readFileSync(join(rec, 'oauth.jsonl'), 'utf8')}`);
    t.log(`api: ${readFileSync(join(rec, 'requests.jsonl'), 'utf8').slice(-3000)}`);
    for (const a of answers) t.log(`${a.exitCode}: ${a.stdout} ${a.stderr}`);
  }
  for (const [i, answer] of answers.entries()) {
    t.is(answer.exitCode, 0, `${TASKS[i]}: ${answer.stdout}${answer.stderr.slice(-2000)}`);
    t.true(answer.stdout.includes(REPLY), `${TASKS[i]}: ${answer.stdout}`);
  }

  // One refresh, of the seeded token, and no refused one: the second session used what the first wrote.
  const grants = lines('oauth.jsonl');
  t.log(`refresh calls: ${JSON.stringify(grants)}`);
  t.deepEqual(grants, [{ host: 'platform.claude.com', grant: 'refresh_token', refresh: 'sk-ant-ort01-gen1', ok: true }]);
  // Every Messages request reached the upstream through the gateway with the new access token, never the expired one.
  const auth = lines('requests.jsonl')
    .filter((r) => r.url === '/v1/messages' || String(r.url).startsWith('/v1/messages?'))
    .map((r) => (r.headers as Record<string, string>).authorization);
  t.true(auth.length >= 2, JSON.stringify(auth));
  t.deepEqual([...new Set(auth)], ['Bearer sk-ant-oat01-gen2']);
  // The home keeps the live pair: the next session, in any task or the project, starts logged in.
  const stored = await cctl(['exec', '--', 'cat', '/home/claude/.claude/.credentials.json']);
  t.like(JSON.parse(stored.stdout), { claudeAiOauth: { accessToken: 'sk-ant-oat01-gen2', refreshToken: 'sk-ant-ort01-gen2' } });
  for (const task of TASKS) t.is((await cctl(['task', 'rm', task, '--force'])).exitCode, 0);
});
