/** The workbench settings, the team's Dockerfile fragment, and what `up` passes for identity and agent. */
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { assetsHash } from '../../lib/project/assets.js';
import { renderOwned, type PlainMap } from '../../lib/project/model.js';
import { defaults } from '../../lib/project/settings.js';
import { coerce, fromStored } from '../../lib/project/setting-layers.js';
import {
  FRAGMENT_EXAMPLE,
  FRAGMENT_FILE,
  FRAGMENT_MARKER,
  readFragment,
  spliceFragment,
  withTeamParts,
  writeFragmentExample,
} from '../../lib/project/workbench.js';
import { gitIdentity, hostGitIdentity, sshAgentSource, DESKTOP_AGENT_SOCKET } from '../../lib/ops/workbench.js';
import { machineFacts } from '../../lib/ops/machine-file.js';
import type { Project } from '../../lib/project/locate.js';
import { scratchDir } from '../helpers/scratch.js';

const asProject = (dir: string): Project => ({ dir, file: join(dir, 'compose.yaml'), exists: false, name: 'wb', nameSource: 'folder' });

const project = () => scratchDir('cctl-wb-');

test('packages and env are lists of checked names; values and options are refused', (t) => {
  t.deepEqual(coerce('packages', 'python3 python3-pytest, make', '--set packages'), ['python3', 'python3-pytest', 'make']);
  t.deepEqual(fromStored({ packages: ['gh', 'libpq-dev=15.4-0+deb12u1'] }, 'x-cctl').packages, ['gh', 'libpq-dev=15.4-0+deb12u1']);
  t.throws(() => coerce('packages', 'python3 --allow-unauthenticated', '--set packages'), { message: /package names/ });
  t.throws(() => coerce('packages', 'a;rm', '--set packages'), { message: /package names/ });
  t.deepEqual(coerce('env', 'GH_TOKEN,NPM_TOKEN', '--set env'), ['GH_TOKEN', 'NPM_TOKEN']);
  t.throws(() => coerce('env', 'GH_TOKEN=abc', '--set env'), { message: /a name, not NAME=value/ });
  t.throws(() => coerce('env', 'ANTHROPIC_BASE_URL', '--set env'), { message: /which cctl sets itself/ });
  t.throws(() => coerce('git-email', 'not an address', '--set git-email'), { message: /e-mail/ });
  t.throws(() => coerce('ssh-agent', 'maybe', '--set ssh-agent'), { message: /auto, on, off/ });
});

test('the committed file names the token variables but holds no values, no identity and no agent socket', (t) => {
  const s = { ...defaults(), packages: ['python3'], env: ['GH_TOKEN'] };
  const cli = (renderOwned(s, { project: 'p', buildHash: 'h' }).services as PlainMap)['claude-cli'] as PlainMap;
  const environment = cli.environment as PlainMap;
  t.is(((cli.build as PlainMap).args as PlainMap).PACKAGES, 'python3');
  t.is(environment.GH_TOKEN, null, 'null: Compose takes the value from its environment');
  // The identity and the socket differ per developer: the per-machine file carries them (machine-file.test.ts).
  t.false('GIT_AUTHOR_NAME' in environment);
  t.false('SSH_AUTH_SOCK' in environment);
  t.false((cli.volumes as string[]).some((v) => v.includes('ssh-agent')));
});

test('the fragment is spliced at the marker and the image ends as claude; FROM is refused', (t) => {
  const dir = project();
  t.is(readFragment(dir), undefined);
  mkdirSync(join(dir, '.cctl'), { recursive: true });
  writeFileSync(join(dir, FRAGMENT_FILE), 'USER root\nRUN touch /etc/team\n');
  const out = spliceFragment(`FROM x\n${FRAGMENT_MARKER}\nLABEL a=b\n`, readFragment(dir));
  t.regex(out, /RUN touch \/etc\/team\n.*\nUSER claude\nWORKDIR \/workspace\nLABEL a=b/);
  writeFileSync(join(dir, FRAGMENT_FILE), 'RUN true\nfrom debian\n');
  t.throws(() => readFragment(dir), { message: /line 2 starts a new stage/ });
});

test('the real Dockerfile has the marker, and the fragment and local/ files change the build hash', (t) => {
  const dockerfile = readFileSync(new URL('../../docker/Dockerfile', import.meta.url));
  t.true(dockerfile.toString().includes(FRAGMENT_MARKER));
  const dir = project();
  const hash = () => assetsHash(withTeamParts(new Map([['docker/Dockerfile', dockerfile]]), dir));
  const none = hash();
  t.is(hash(), none, 'nothing changed: same hash');
  mkdirSync(join(dir, '.cctl', 'docker', 'local'), { recursive: true });
  writeFileSync(join(dir, FRAGMENT_FILE), 'RUN true\n');
  const withFragment = hash();
  t.not(withFragment, none);
  writeFileSync(join(dir, '.cctl', 'docker', 'local', 'tool.sh'), 'echo\n');
  t.not(hash(), withFragment, 'a file the fragment may COPY counts too');
  t.true(withTeamParts(new Map(), dir).has('docker/local/tool.sh'), 'kept in wanted, so the sync never removes it');
});

test('init writes the commented example once, and never when the fragment exists', (t) => {
  const dir = project();
  t.is(writeFragmentExample(dir), FRAGMENT_EXAMPLE);
  t.regex(readFileSync(join(dir, FRAGMENT_EXAMPLE), 'utf8'), /^# The team's additions/);
  t.is(writeFragmentExample(dir), undefined);
  const other = project();
  mkdirSync(join(other, '.cctl'));
  writeFileSync(join(other, FRAGMENT_FILE), 'RUN true\n');
  t.is(writeFragmentExample(other), undefined);
});

test('git identity: settings, then the environment, then the repository config', async (t) => {
  const dir = project();
  execFileSync('git', ['init', '-q', dir]);
  execFileSync('git', ['-C', dir, 'config', 'user.name', 'Repo Person']);
  execFileSync('git', ['-C', dir, 'config', 'user.email', 'repo@example.com']);
  const s = defaults();
  t.deepEqual(await gitIdentity(s, dir, {}), { name: 'Repo Person', email: 'repo@example.com' });
  t.deepEqual(await gitIdentity(s, dir, { GIT_AUTHOR_NAME: 'Env Person' }), { name: 'Env Person', email: 'repo@example.com' });
  t.deepEqual(await gitIdentity({ 'git-name': 'Bot', 'git-email': 'bot@x.org' }, dir, {}), { name: 'Bot', email: 'bot@x.org' });
  const { facts } = await machineFacts(asProject(dir), { ...s, 'ssh-agent': 'off' }, 'h', { PATH: process.env.PATH, HOME: dir });
  t.deepEqual(facts.git, { name: 'Repo Person', email: 'repo@example.com' });
  t.is(facts.sshSocket, undefined);
});

test('git identity from the host: each key from the nearest scope (one git call reads both)', async (t) => {
  const dir = project();
  const home = project();
  execFileSync('git', ['init', '-q', dir]);
  const env = { PATH: process.env.PATH, HOME: home, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: join(home, 'gitconfig') };
  execFileSync('git', ['config', '--global', 'user.name', 'Global Person'], { env });
  execFileSync('git', ['config', '--global', 'user.email', 'global@example.com'], { env });
  execFileSync('git', ['-C', dir, 'config', 'user.name', 'Repo  Person Jr.'], { env });
  t.deepEqual(await hostGitIdentity(dir, env), { name: 'Repo  Person Jr.', email: 'global@example.com' });
  // An empty value in the nearer scope clears it, as `git config --get` says.
  execFileSync('git', ['-C', dir, 'config', 'user.email', ''], { env });
  t.deepEqual(await hostGitIdentity(dir, env), { name: 'Repo  Person Jr.', email: undefined });
});

test('no identity anywhere: nothing is set', async (t) => {
  const dir = project();
  const { facts } = await machineFacts(asProject(dir), { ...defaults(), 'ssh-agent': 'off' }, 'h', {
    PATH: process.env.PATH,
    HOME: dir,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
  });
  t.deepEqual(facts.git, { name: undefined, email: undefined });
});

test('ssh agent: a local socket is forwarded, a remote engine or a missing agent is not (on says why)', async (t) => {
  const dir = project();
  const sock = join(dir, 'agent.sock');
  const server = createServer().listen(sock);
  await new Promise((r) => server.once('listening', r));
  try {
    t.deepEqual(sshAgentSource('auto', { SSH_AUTH_SOCK: sock }, 'linux'), { socket: sock, via: 'host' });
    t.deepEqual(sshAgentSource('auto', { SSH_AUTH_SOCK: sock, DOCKER_HOST: 'unix:///var/run/docker.sock' }, 'linux'), {
      socket: sock,
      via: 'host',
    });
    t.regex(
      String((sshAgentSource('auto', { SSH_AUTH_SOCK: sock, DOCKER_HOST: 'ssh://build-box' }, 'linux') as { reason: string }).reason),
      /remote/,
    );
    t.regex(String((sshAgentSource('auto', {}, 'linux') as { reason: string }).reason), /SSH_AUTH_SOCK is not set/);
    t.regex(String((sshAgentSource('auto', { SSH_AUTH_SOCK: join(dir, 'nope') }, 'linux') as { reason: string }).reason), /not a socket/);
    t.throws(() => sshAgentSource('on', {}, 'linux'), { message: /ssh-agent is on, but SSH_AUTH_SOCK is not set/ });
    t.deepEqual(sshAgentSource('auto', {}, 'darwin'), { socket: DESKTOP_AGENT_SOCKET, via: 'docker-desktop' });
    t.deepEqual(sshAgentSource('off', { SSH_AUTH_SOCK: sock }, 'linux'), { reason: 'ssh-agent is off' });
    const { facts } = await machineFacts(asProject(dir), { ...defaults(), 'git-name': 'a', 'git-email': 'a@b.c' }, 'h', {
      SSH_AUTH_SOCK: sock,
      HOME: dir,
    });
    t.is(facts.sshSocket, sock);
  } finally {
    server.close();
  }
});
