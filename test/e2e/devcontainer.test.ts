/**
 * The editor attaches to cctl's own containers, checked with the real Dev
 * Containers CLI (@devcontainers/cli, what VS Code runs underneath): after
 * `cctl up`, `devcontainer up` finds cctl's claude-cli (no second
 * `<folder>_devcontainer` stack), `devcontainer exec` runs as claude in
 * /workspace with the gateway as ANTHROPIC_BASE_URL, the real `claude -p`
 * answers through the gateway from the fake Messages API, and the stack
 * stays healthy. An initializeCommand (which the editor runs on the host)
 * cannot be written from inside claude-cli, and one written on the host is
 * refused by the next `cctl up` and named by doctor. Engine 26 with the
 * Compose v2 plugin only (the Dev Containers CLI's own compose calls).
 * Runs as a regular user, with a HOME of its own (the per-machine file).
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { e2e, BASE_IMAGE } from '../helpers/e2e.js';
import { CLI, composeCommand, e2eEnv } from '../helpers/cli.js';
import { scratchDir } from '../helpers/scratch.js';
import { asRegularUser, giveToRegularUser } from '../helpers/regular-user.js';
import { FAKE_MESSAGES_API, REPLY } from '../helpers/fake-messages.js';
import { proxyEnvFile } from '../../lib/project/secrets.js';
import { run, runSettled, type RunResult } from '../../lib/engine/runner.js';

const DEVCONTAINER = fileURLToPath(new URL('../../node_modules/@devcontainers/cli/devcontainer.js', import.meta.url));
const root = scratchDir('cctl-devc-');
const name = `cctle2edevc${randomBytes(3).toString('hex')}`;
const dir = join(root, name);
const home = join(root, 'home');
const file = join(dir, '.devcontainer', 'devcontainer.json');
mkdirSync(join(dir, 'fake'), { recursive: true });
mkdirSync(home);
mkdirSync(join(root, 'tmp'));
writeFileSync(join(dir, 'fake', 'fake.mjs'), FAKE_MESSAGES_API);
// A service of the project's own: the fake Anthropic upstream, on the default network, which the gateway reaches.
writeFileSync(
  join(dir, 'compose.yaml'),
  `services:\n  fake-upstream:\n    image: ${BASE_IMAGE}\n    command: ["node", "/srv/fake.mjs"]\n    init: true\n    volumes:\n      - ./fake:/srv:ro\n`,
);
giveToRegularUser(root);
const env = e2eEnv({ HOME: home, CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1' });
for (const key of ['COMPOSE_PROJECT_NAME', 'ANTHROPIC_API_KEY', 'ANTHROPIC_AUTH_TOKEN']) delete env[key];

const as = (argv: string[], timeoutMs = 600_000): Promise<RunResult> =>
  runSettled([...asRegularUser, ...argv], { cwd: dir, env, timeoutMs });
const cctl = (args: string[]) => as(['node', CLI, ...args]);
/** The CLI's own options go before the command it runs (which takes every word after it). */
// Its own temp folder too (it keeps a folder per user under the temp dir): nothing of the test's is left in /tmp.
const devcontainer = ([verb, ...rest]: string[], timeoutMs?: number) =>
  as(
    [
      'env',
      `TMPDIR=${join(root, 'tmp')}`,
      'node',
      DEVCONTAINER,
      verb!,
      '--workspace-folder',
      dir,
      '--user-data-folder',
      join(root, 'devcontainer-data'),
      ...rest,
    ],
    timeoutMs,
  );
/** The Dev Containers CLI prints its outcome as the last JSON line on stdout. */
const outcome = (r: RunResult) =>
  JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}') as {
    outcome?: string;
    containerId?: string;
    remoteUser?: string;
    remoteWorkspaceFolder?: string;
  };
const containersOf = async (label: string) =>
  (await run(['docker', 'ps', '-aq', '--filter', `label=${label}`])).stdout.trim().split('\n').filter(Boolean);
const cliContainer = async () =>
  (
    await run([
      'docker',
      'ps',
      '-q',
      '--no-trunc',
      '--filter',
      `label=com.docker.compose.project=${name}`,
      '--filter',
      'label=com.docker.compose.service=claude-cli',
    ])
  ).stdout.trim();
const composeProjects = async () =>
  (JSON.parse((await run(['docker', 'compose', 'ls', '-a', '--format', 'json'])).stdout) as Array<{ Name: string }>).map((p) => p.Name);

e2e.after.always(async () => {
  await run([...composeCommand(), '-f', join(dir, 'compose.yaml'), '-p', name, '--profile', 'claude', 'down', '-v', '--timeout', '1'], {
    cwd: dir,
    env,
  }).catch(() => undefined);
  await run([...composeCommand(), '-p', `${name}_devcontainer`, 'down', '-v', '--timeout', '1'], { env }).catch(() => undefined);
  const images = (await run(['docker', 'images', '--format', '{{.Repository}}:{{.Tag}}'])).stdout
    .split('\n')
    .filter((i) => i.includes(name));
  if (images.length) await run(['docker', 'image', 'rm', ...images]).catch(() => undefined);
  rmSync(root, { recursive: true, force: true });
});

let cliId = '';

e2e.serial('cctl init --devcontainer and up; devcontainer up attaches to the same claude-cli', async (t) => {
  const init = await cctl(['init', '--auth', 'team-key', '--upstream', 'http://fake-upstream:8080', '--devcontainer']);
  t.is(init.exitCode, 0, init.stderr + init.stdout);
  const proxyEnv = proxyEnvFile(name, env);
  writeFileSync(proxyEnv, readFileSync(proxyEnv, 'utf8').replace(/^ANTHROPIC_API_KEY=$/m, 'ANTHROPIC_API_KEY=sk-devc-test-key'));
  const committed = readFileSync(file, 'utf8');
  t.false(committed.includes(home), 'no home folder in the committed file');
  const up = await cctl(['up', '--timeout', '900']);
  t.is(up.exitCode, 0, up.stderr + up.stdout);
  await as([...composeCommand(), '-f', join(dir, 'compose.yaml'), '-p', name, 'up', '-d', 'fake-upstream']);
  cliId = await cliContainer();
  t.regex(cliId, /^[0-9a-f]{64}$/);
  const before = await containersOf(`com.docker.compose.project=${name}`);

  const started = Date.now();
  const dc = await devcontainer(['up']);
  t.log(`devcontainer up: ${Date.now() - started} ms`);
  t.is(dc.exitCode, 0, dc.stderr.slice(-3000) + dc.stdout);
  t.like(outcome(dc), { outcome: 'success', containerId: cliId, remoteUser: 'claude', remoteWorkspaceFolder: '/workspace' });
  // The engine's view: the same containers, no new ones, no second project.
  t.deepEqual((await containersOf(`com.docker.compose.project=${name}`)).sort(), before.sort());
  t.false((await composeProjects()).some((p) => p.includes('devcontainer')));
  t.is(await cliContainer(), cliId, 'claude-cli was not recreated');
});

e2e.serial('devcontainer exec: claude in /workspace, the gateway as ANTHROPIC_BASE_URL; claude -p answers through it', async (t) => {
  const who = await devcontainer(['exec', 'sh', '-c', 'id -un; pwd; printf "%s\\n" "$ANTHROPIC_BASE_URL"'], 120_000);
  t.is(who.exitCode, 0, who.stderr.slice(-2000));
  t.deepEqual(who.stdout.trim().split('\n').slice(-3), ['claude', '/workspace', 'http://proxy:3000']);
  const started = Date.now();
  const claude = await devcontainer(
    ['exec', '--remote-env', 'CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1', 'claude', '-p', 'say hello'],
    180_000,
  );
  t.log(`claude -p through devcontainer exec: exit ${claude.exitCode} in ${Date.now() - started} ms`);
  t.is(claude.exitCode, 0, claude.stdout + claude.stderr.slice(-2000));
  t.true(claude.stdout.includes(REPLY), claude.stdout);
  // The gateway counted it: its log names the Messages API call.
  const logs = await run(
    [...composeCommand(), '-f', join(dir, 'compose.yaml'), '-p', name, '--profile', 'claude', 'logs', '--no-color', 'proxy'],
    { cwd: dir, env },
  );
  t.regex(logs.stdout, /\/v1\/messages/);
});

e2e.serial('cctl status stays healthy after the editor attached', async (t) => {
  const status = await cctl(['status', '--json']);
  t.is(status.exitCode, 0, status.stderr);
  const services = (JSON.parse(status.stdout) as { services: Array<{ name: string; state: string; health: string }> }).services;
  t.deepEqual(services.map((s) => s.name).sort(), ['claude-cli', 'proxy']);
  for (const s of services) t.like(s, { state: 'running', health: 'healthy' }, s.name);
  t.is(await cliContainer(), cliId);
});

e2e.serial('an initializeCommand: read-only from inside claude-cli; written on the host, refused by up and named by doctor', async (t) => {
  const accepted = readFileSync(file, 'utf8');
  // The attacker's way: from inside claude-cli, as claude.
  const inside = await cctl([
    'exec',
    '--',
    'sh',
    '-c',
    `sed -i 's|"service"|"initializeCommand": "touch /tmp/${name}-owned", "service"|' /workspace/.devcontainer/devcontainer.json`,
  ]);
  t.not(inside.exitCode, 0);
  t.regex(inside.stderr + inside.stdout, /Read-only file system/);
  t.is(readFileSync(file, 'utf8'), accepted, 'the file is as accepted');

  // A change on the host since the accepted version (another tool, a pull, a copy from elsewhere): held all the same.
  const doc = JSON.parse(accepted) as Record<string, unknown>;
  writeFileSync(file, JSON.stringify({ initializeCommand: `touch /tmp/${name}-owned`, ...doc }, null, 2));
  const up = await cctl(['up']);
  t.is(up.exitCode, 1, up.stdout + up.stderr);
  t.regex(
    up.stderr,
    /devcontainer\.json differs from the version accepted last:\n\s+initializeCommand \(the editor runs it ON THIS MACHINE/,
  );
  t.regex(up.stderr, /--accept-changes/);
  const doctor = await cctl(['doctor', '--json']);
  const check = (JSON.parse(doctor.stdout) as { checks: Array<{ name: string; status: string; detail: string }> }).checks.find(
    (c) => c.name === 'devcontainer',
  );
  t.like(check, { status: 'fail' });
  t.regex(check?.detail ?? '', /initializeCommand/);
  const accept = await cctl(['up', '--accept-changes']);
  t.is(accept.exitCode, 0, accept.stderr);
  t.is((await cctl(['up'])).exitCode, 0, 'accepted once, not asked again');
});
