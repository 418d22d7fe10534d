/**
 * The workbench on a real engine, run as a regular user (under root, dev: UID 1500, in the
 * docker group) the way most people run cctl: the `packages` setting and the
 * team's Dockerfile fragment in the image, the host's git identity on
 * commits, files owned by the host user, the SSH agent forwarded (and not,
 * with ssh-agent off), and a token passed by name that no project file holds.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { e2e } from '../helpers/e2e.js';
import { tempProject, removeProjectImages } from '../helpers/project.js';
import { machineImageName } from '../../lib/project/machine-file.js';
import { CLI, e2eEnv, composeCommand } from '../helpers/cli.js';
import { asRegularUser, giveFileToRegularUser, giveToRegularUser, REGULAR_UID } from '../helpers/regular-user.js';
import { ProcessError, run, runSettled, type RunResult } from '../../lib/engine/runner.js';
import { scratchDir } from '../helpers/scratch.js';

const DEV_UID = REGULAR_UID;
const tmp = tempProject('wb');
const home = scratchDir('cctl-wb-home-');
const asDev = asRegularUser;
const agentSocket = join(home, 'agent.sock');
const key = join(home, 'id_e2e');
const token = `t-${Date.now().toString(36)}-123`;
let agentPid = '';
let fingerprint = '';

const env = e2eEnv({ COMPOSE_PROJECT_NAME: tmp.name, HOME: home, SSH_AUTH_SOCK: agentSocket, GH_TOKEN: token });
delete env.GIT_AUTHOR_NAME;
delete env.GIT_AUTHOR_EMAIL;
delete env.GIT_COMMITTER_NAME;
delete env.GIT_COMMITTER_EMAIL;

writeFileSync(join(home, '.gitconfig'), '[user]\n\tname = Dev Tester\n\temail = dev@example.test\n');
mkdirSync(join(tmp.dir, '.cctl'));
mkdirSync(join(tmp.dir, 'tests'));
writeFileSync(join(tmp.dir, '.cctl', 'Dockerfile.local'), 'USER root\nRUN echo v1 > /etc/team-marker\n');
writeFileSync(join(tmp.dir, 'tests', 'test_sample.py'), 'def test_adds():\n    assert 1 + 1 == 2\n');
for (const dir of [home, tmp.dir]) giveToRegularUser(dir);

/** cctl as dev; never rejects. */
async function cctl(args: string[], extra: NodeJS.ProcessEnv = {}): Promise<RunResult> {
  return runSettled([...asDev, 'node', CLI, ...args], { cwd: tmp.dir, env: { ...env, ...extra } });
}

async function up(t: { is: (a: unknown, b: unknown, m?: string) => void }): Promise<{ built: string[] }> {
  const r = await cctl(['up', '--json', '--timeout', '900']);
  t.is(r.exitCode, 0, r.stderr + r.stdout);
  return JSON.parse(r.stdout) as { built: string[] };
}

function sharedPrefix(a: readonly string[], b: readonly string[]): number {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
}

async function layers(): Promise<string[]> {
  const { stdout } = await run(['docker', 'image', 'inspect', '--format', '{{json .RootFS.Layers}}', machineImageName(tmp, 'claude-cli')]);
  return JSON.parse(stdout) as string[];
}

e2e.before(async () => {
  const started = (await run([...asDev, 'ssh-agent', '-a', agentSocket], { env })).stdout;
  agentPid = /SSH_AGENT_PID=(\d+)/.exec(started)![1]!;
  await run([...asDev, 'ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', 'cctl-e2e', '-f', key], { env });
  await run([...asDev, 'ssh-add', key], { env });
  fingerprint = (await run(['ssh-keygen', '-lf', `${key}.pub`])).stdout.split(' ')[1]!;
});

e2e.after.always(async () => {
  await run(
    [...composeCommand(), '-f', join(tmp.dir, 'compose.yaml'), '-p', tmp.name, '--profile', 'claude', 'down', '-v', '--timeout', '1'],
    { cwd: tmp.dir, env },
  ).catch(() => undefined);
  await removeProjectImages(tmp.name);
  if (agentPid) process.kill(Number(agentPid));
  rmSync(join(home, '.config', 'cctl', 'projects', tmp.name), { recursive: true, force: true });
  tmp.cleanup();
  rmSync(home, { recursive: true, force: true });
});

e2e.serial('packages, fragment, identity, agent and token: one up, as a regular user', async (t) => {
  const init = await cctl(['init', '--set', 'packages=python3 python3-pytest', '--set', 'env=GH_TOKEN']);
  t.is(init.exitCode, 0, init.stderr);
  t.regex(init.stdout, /Dockerfile\.local\.example|Dockerfile/);
  await up(t);

  const pytest = await cctl(['exec', '--', 'python3', '-m', 'pytest', '-q', 'tests']);
  t.is(pytest.exitCode, 0, pytest.stdout + pytest.stderr);
  t.regex(pytest.stdout, /1 passed/);
  t.is((await cctl(['exec', '--', 'cat', '/etc/team-marker'])).stdout.trim(), 'v1');
  t.is((await cctl(['exec', '--', 'id', '-un'])).stdout.trim(), 'claude', 'the fragment used USER root; the image still ends as claude');

  t.is((await cctl(['exec', '--', 'printenv', 'GH_TOKEN'])).stdout.trim(), token);
  // grep exits 1 when nothing matches, 0 with the names of the files that hold it.
  const grep = await run(['grep', '-rl', '--', token, tmp.dir]).catch((e: ProcessError) => e);
  t.is(grep.exitCode, 1, `the token is in no file under the project: ${grep instanceof ProcessError ? grep.stdout : grep.stdout}`);
});

e2e.serial('a commit in /workspace records the host identity, and its files belong to the host user', async (t) => {
  const script =
    'mkdir -p /workspace/repo && cd /workspace/repo && git init -q && echo x > f && git add f && git commit -qm first && git log -1 --format="%an <%ae>|%cn <%ce>"';
  const r = await cctl(['exec', '--', 'sh', '-c', script]);
  t.is(r.exitCode, 0, r.stderr);
  t.is(r.stdout.trim(), 'Dev Tester <dev@example.test>|Dev Tester <dev@example.test>');
  for (const path of ['repo/f', 'repo/.git/HEAD']) t.is(statSync(join(tmp.dir, path)).uid, DEV_UID, path);
  const safe = await cctl(['exec', '--', 'git', 'config', '--system', '--get-all', 'safe.directory']);
  t.is(safe.stdout.trim(), '/workspace');
});

e2e.serial('ssh-add -l in claude-cli lists the key of the forwarded agent', async (t) => {
  const r = await cctl(['exec', '--', 'ssh-add', '-l']);
  t.is(r.exitCode, 0, r.stderr);
  t.true(r.stdout.includes(fingerprint), `${r.stdout} should list ${fingerprint}`);
  t.is(readdirSync(join(tmp.dir)).filter((f) => f.startsWith('id_')).length, 0, 'no key file reached the project');
});

e2e.serial('doctor: the identity and the agent as seen from inside', async (t) => {
  const r = await cctl(['doctor', '--json']);
  const checks = (JSON.parse(r.stdout) as { checks: Array<{ name: string; status: string; detail: string }> }).checks;
  t.like(
    checks.find((c) => c.name === 'git-identity'),
    { status: 'pass', detail: 'Dev Tester <dev@example.test> (from the host)' },
  );
  t.like(
    checks.find((c) => c.name === 'ssh-agent'),
    { status: 'pass', detail: 'reachable from claude-cli (1 key(s))' },
  );
  const bare = await cctl(['doctor', '--json'], { HOME: tmp.dir, GIT_CONFIG_NOSYSTEM: '1' });
  const identity = (JSON.parse(bare.stdout) as { checks: Array<{ name: string; status: string }> }).checks.find(
    (c) => c.name === 'git-identity',
  );
  t.is(identity?.status, 'warn', 'no identity on the host: doctor warns');
});

e2e.serial('nothing changed: up builds nothing; a fragment change rebuilds only what follows it', async (t) => {
  t.deepEqual((await up(t)).built, []);
  const before = await layers();
  writeFileSync(join(tmp.dir, '.cctl', 'Dockerfile.local'), 'USER root\nRUN echo v2 > /etc/team-marker\n');
  giveFileToRegularUser(join(tmp.dir, '.cctl', 'Dockerfile.local'));
  t.true((await up(t)).built.includes('claude-cli'));
  t.is((await cctl(['exec', '--', 'cat', '/etc/team-marker'])).stdout.trim(), 'v2');
  const after = await layers();
  // The image ends [..., COPY scripts, RUN chmod, RUN safe.directory, RUN packages, RUN fragment, WORKDIR]. BuildKit
  // renews only the last two; the classic builder (CI's legacy engine) may count WORKDIR differently, hence >=.
  t.true(sharedPrefix(before, after) >= before.length - 3, 'every layer before the fragment comes from the cache');
});

e2e.serial('a packages change re-runs only the packages step (Claude Code, ccusage, monitor layers unchanged)', async (t) => {
  const before = await layers();
  t.is((await cctl(['init', '--set', 'packages=python3 python3-pytest make'])).exitCode, 0);
  const started = Date.now();
  t.true((await up(t)).built.includes('claude-cli'));
  t.log(`rebuild after a packages change: ${((Date.now() - started) / 1000).toFixed(1)} s`);
  t.is((await cctl(['exec', '--', 'make', '--version'])).exitCode, 0);
  const after = await layers();
  // Only the packages step and what follows it (the fragment's RUN and WORKDIR) are new: Claude Code,
  // ccusage and the monitor sit earlier, in the shared prefix.
  t.true(sharedPrefix(before, after) >= before.length - 4, 'Claude Code, ccusage, the monitor and the scripts are shared');
});

e2e.serial('ssh-agent off: claude-cli sees no agent', async (t) => {
  t.is((await cctl(['init', '--set', 'ssh-agent=off'])).exitCode, 0);
  await up(t);
  const r = await cctl(['exec', '--', 'sh', '-c', 'echo "sock=${SSH_AUTH_SOCK:-}"; ssh-add -l']);
  t.not(r.exitCode, 0);
  t.regex(r.stdout, /^sock=$/m);
  t.false(r.stdout.includes(fingerprint));
  t.false(readFileSync(join(tmp.dir, 'compose.yaml'), 'utf8').includes('ssh-agent.sock'));
});
