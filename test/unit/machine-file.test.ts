/**
 * One committed file for the whole team (issue 19 item 4): the compose file
 * init writes is the same bytes on every engine and Compose, and what differs
 * per machine goes to the per-machine file in the private folder.
 */
import test from 'ava';
import { chownSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { initProject } from '../../lib/ops/init.js';
import { claudeIds, cliImageName, renderMachine, type MachineFacts } from '../../lib/project/machine-file.js';
import { projectArgv, projectFiles } from '../../lib/ops/compose.js';
import { foreignStack } from '../../lib/ops/owner.js';
import { CA_IN_PROJECT } from '../../lib/project/assets.js';
import { machineFilePath } from '../../lib/project/private-dir.js';
import { changedSince, acceptedFrom, protectedBinds, swappedBinds } from '../../lib/project/protected-paths.js';
import { assertBindsInPlace } from '../../lib/ops/protected.js';
import { defaults } from '../../lib/project/settings.js';
import { fromFlags } from '../../lib/project/setting-layers.js';
import type { PlainMap } from '../../lib/project/model.js';
import type { Project } from '../../lib/project/locate.js';
import { ENGINE_20, ENGINE_26, FakeEngine, V1, V2, withEngine, type Flavour } from '../helpers/fake-engine.js';
import { ownHome } from '../helpers/project.js';

ownHome(test, 'machine');

function scratch(t: { teardown(fn: () => void): void }, name = 'app'): { dir: string; env: NodeJS.ProcessEnv; project: Project } {
  const root = mkdtempSync(join(tmpdir(), 'cctl-machine-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const dir = join(root, name);
  mkdirSync(dir);
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: join(root, 'home'),
    CCTL_MONITOR: '0',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_CONFIG_NOSYSTEM: '1',
  };
  return { dir, env, project: { file: join(dir, 'compose.yaml'), exists: false, dir, name, nameSource: 'folder' } };
}

const again = (p: Project): Project => ({ ...p, exists: existsSync(p.file) });

const STANDALONE_OLD: Flavour = { env: 'docker-compose', prefix: ['docker-compose'], version: 'v2.20.0' };
const PLUGIN_26: Flavour = { ...V2, version: 'v2.26.1' };
const COMBOS: Array<[string, typeof ENGINE_26, Flavour]> = [
  ['engine 26 + plugin 2.26', ENGINE_26, PLUGIN_26],
  ['engine 26 + standalone 2.20.0', ENGINE_26, STANDALONE_OLD],
  ['engine 20.10 + plugin 2.26', ENGINE_20, PLUGIN_26],
  ['engine 20.10 + v1 1.29', ENGINE_20, V1],
  ['engine 20.10 + standalone 2.20.0', ENGINE_20, STANDALONE_OLD],
];

test.serial(
  'the committed file is the same bytes on every engine and Compose; start_interval only in the machine file, only where it works',
  async (t) => {
    const texts = new Map<string, string>();
    for (const [label, daemon, flavour] of COMBOS) {
      const { project, env } = scratch(t);
      const fake = new FakeEngine({ daemon, flavour });
      const result = await withEngine(fake, () => initProject(project, { env, flags: fromFlags({ set: ['packages=make'] }) }));
      texts.set(label, readFileSync(project.file, 'utf8'));
      const machine = parse(readFileSync(result.machine.file, 'utf8')) as PlainMap;
      const cli = (machine.services as PlainMap)['claude-cli'] as PlainMap;
      const fast = daemon === ENGINE_26 && flavour !== STANDALONE_OLD;
      t.is((cli.healthcheck as PlainMap | undefined)?.start_interval, fast ? '250ms' : undefined, label);
      t.is(result.machine.file, machineFilePath('app', env));
    }
    const [first, ...rest] = [...texts.values()];
    for (const [label, text] of texts) t.is(text, first!, `${label} renders the same committed file`);
    t.is(rest.length, COMBOS.length - 1);
    // Nothing of the machine in it: no start_interval, no host path, no variable but the project's name.
    t.false(first!.includes('start_interval'));
    t.false(first!.includes('${HOME}'));
    t.false(first!.includes(tmpdir()), 'no host path');
    t.deepEqual([...new Set(first!.match(/\$\{[A-Z_]+/g))], ['${COMPOSE_PROJECT_NAME']);
  },
);

test.serial('a second init on another engine leaves the committed file alone', async (t) => {
  const { project, env } = scratch(t);
  await withEngine(new FakeEngine({ daemon: ENGINE_26, flavour: PLUGIN_26 }), () => initProject(project, { env }));
  const before = readFileSync(project.file, 'utf8');
  const result = await withEngine(new FakeEngine({ daemon: ENGINE_20, flavour: V1 }), () => initProject(again(project), { env }));
  t.false(result.changed);
  t.is(readFileSync(project.file, 'utf8'), before);
});

test.serial('every compose call passes the machine file after the committed one, once cctl has written it', async (t) => {
  const { project, env } = scratch(t);
  t.deepEqual(projectFiles(project, env), [project.file]);
  await withEngine(new FakeEngine(), () => initProject(project, { env }));
  const machine = machineFilePath('app', env);
  t.deepEqual(projectFiles(again(project), env), [project.file, machine]);
  const argv = projectArgv({ flavour: 'plugin', command: ['docker', 'compose'], version: '2.26.1' }, again(project), ['ps'], env);
  t.deepEqual(
    argv.filter((a, i) => argv[i - 1] === '-f'),
    [project.file, machine],
  );
});

test.serial(
  'a file an older cctl wrote with per-machine values is migrated once, as a visible update, even without a baseline',
  async (t) => {
    const { project, env } = scratch(t);
    delete env.CCTL_MONITOR;
    // The build hash of today's cctl, so only the per-machine values differ (a teammate on the same cctl version).
    const probe = scratch(t, 'probe');
    delete probe.env.CCTL_MONITOR;
    const { buildHash } = await withEngine(new FakeEngine(), () => initProject(probe.project, { env: probe.env }));
    for (const startInterval of [false, true]) {
      let legacy = readFileSync(new URL('../fixtures/legacy-compose.yaml', import.meta.url), 'utf8').replaceAll(
        '<hash of .cctl build files and settings>',
        buildHash,
      );
      if (startInterval)
        legacy = legacy
          .replaceAll('      interval: 2s\n', '      interval: 30s\n')
          .replaceAll('      start_period: 60s\n', '      start_period: 60s\n      start_interval: 250ms\n');
      writeFileSync(project.file, legacy);
      const result = await withEngine(new FakeEngine({ daemon: ENGINE_20, flavour: V1 }), () => initProject(again(project), { env }));
      t.true(result.changed, 'the user sees an update');
      t.true(result.touched.some((p) => p.startsWith('services.claude-cli')));
      const text = readFileSync(project.file, 'utf8');
      t.false(
        text.includes('CCTL_UID') || text.includes('CCTL_SSH_AUTH_SOCK') || text.includes('${HOME}') || text.includes('start_interval'),
        text,
      );
      t.is(
        text,
        readFileSync(probe.project.file, 'utf8').replace(
          /^/,
          '# A compose file written by cctl before the per-machine file existed (on engine 20.10).\n',
        ),
      );
      const second = await withEngine(new FakeEngine({ daemon: ENGINE_26, flavour: PLUGIN_26 }), () =>
        initProject(again(project), { env }),
      );
      t.false(second.changed, 'migrated once');
    }
  },
);

test('the machine file carries ids, timing, identity, socket, secrets and binds, all literal', (t) => {
  const facts: MachineFacts = {
    buildHash: 'h1',
    timeZone: 'Europe/Berlin',
    ids: { uid: 1500, gid: 1500 },
    owner: { uid: 1500, user: 'dev', host: 'box' },
    startInterval: true,
    sshSocket: '/tmp/ssh-x/agent.1',
    git: { name: 'Ann $HOME Lee', email: 'ann@example.com' },
    privateDir: '/home/dev/.config/cctl/projects/app',
    binds: [{ source: '/w/app/.git/hooks', target: '/workspace/.git/hooks', readOnly: true }],
  };
  const m = renderMachine({ ...defaults(), auth: 'team-key' }, 'app', facts);
  const cli = (m.services as PlainMap)['claude-cli'] as PlainMap;
  const proxy = (m.services as PlainMap).proxy as PlainMap;
  t.is(cli.image, 'cctl-app-claude-cli:local-u1500-g1500');
  // Built from the private copy of the checked inputs, never from the project's .cctl/docker (ops/build-copy.ts).
  t.deepEqual(cli.build, { context: '/home/dev/.config/cctl/projects/app/docker', args: { CLAUDE_UID: '1500', CLAUDE_GID: '1500' } });
  t.deepEqual(cli.healthcheck, { interval: '30s', start_interval: '250ms' });
  t.like(cli.environment, {
    GIT_AUTHOR_NAME: 'Ann $$HOME Lee',
    GIT_COMMITTER_EMAIL: 'ann@example.com',
    SSH_AUTH_SOCK: '/run/cctl/ssh-agent.sock',
    TZ: 'Europe/Berlin',
  });
  t.deepEqual(cli.volumes, ['/tmp/ssh-x/agent.1:/run/cctl/ssh-agent.sock', '/w/app/.git/hooks:/workspace/.git/hooks:ro']);
  t.deepEqual(cli.env_file, ['/home/dev/.config/cctl/projects/app/client.env']);
  t.deepEqual(proxy.env_file, ['/home/dev/.config/cctl/projects/app/proxy.env']);
  t.deepEqual(proxy.build, {
    context: '/home/dev/.config/cctl/projects/app/proxy',
    args: { BASE_IMAGE: 'node:22-bookworm-slim', CCTL_BUILD_HASH: 'h1' },
  });
  t.like(cli.labels, { 'dev.cctl.owner.uid': '1500', 'dev.cctl.owner.user': 'dev' });
  // Engine 20.10 or Compose v1: no timing keys at all; a fixed tz: no TZ.
  const slow = renderMachine({ ...defaults(), tz: 'UTC' }, 'app', { ...facts, startInterval: false, sshSocket: undefined });
  const slowCli = (slow.services as PlainMap)['claude-cli'] as PlainMap;
  t.false('healthcheck' in slowCli);
  t.false('TZ' in (slowCli.environment as PlainMap));
  t.false('env_file' in slowCli, 'login mode: claude-cli has no client token');
});

test("claude gets the host user's ids; under root, the project folder owner's; a root-owned folder keeps 1001", (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cctl-ids-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  t.deepEqual(claudeIds(dir, { uid: 1600, gid: 1601 }), { uid: 1600, gid: 1601 });
  t.deepEqual(claudeIds(dir, { uid: undefined, gid: undefined }), { uid: 1001, gid: 1001 });
  const owner = { uid: process.getuid!(), gid: process.getgid!() };
  t.deepEqual(claudeIds(dir, { uid: 0, gid: 0 }), owner.uid === 0 ? { uid: 1001, gid: 1001 } : owner);
  t.not(cliImageName('p', { uid: 1500, gid: 1500 }), cliImageName('p', { uid: 1600, gid: 1600 }), 'an image belongs to one UID');
});

test('protected paths: existing ones are bound read-only, the folders on the way pinned, missing ones watched', (t) => {
  const ws = mkdtempSync(join(tmpdir(), 'cctl-protected-'));
  t.teardown(() => rmSync(ws, { recursive: true, force: true }));
  mkdirSync(join(ws, '.git'));
  writeFileSync(join(ws, '.git', 'config'), '[core]\n');
  mkdirSync(join(ws, '.vscode'));
  mkdirSync(join(ws, 'scripts'));
  writeFileSync(join(ws, 'scripts', 'onboard.sh'), '#!/bin/sh\n');
  symlinkSync('/etc/hostname', join(ws, '.envrc'));
  const { binds, states } = protectedBinds(ws, { createHooks: true });
  t.true(existsSync(join(ws, '.git', 'hooks')), 'a missing hooks folder is created, so it can be bound');
  t.deepEqual(
    binds.map((b) => `${b.target}${b.readOnly ? ':ro' : ''}`),
    [
      '/workspace/.git',
      '/workspace/.git/hooks:ro',
      '/workspace/.git/config:ro',
      '/workspace/.vscode:ro',
      '/workspace/scripts',
      '/workspace/scripts/onboard.sh:ro',
    ],
  );
  t.like(Object.fromEntries(states.map((s) => [s.path, s.kind])), {
    '.git/hooks': 'bound',
    '.envrc': 'symlink',
    '.devcontainer': 'absent',
    '.idea': 'absent',
  });
  // A bound path changes only from the host: not flagged. A watched one that changes is.
  const accepted = acceptedFrom(states);
  writeFileSync(join(ws, '.vscode', 'tasks.json'), '{}');
  mkdirSync(join(ws, '.devcontainer'));
  writeFileSync(join(ws, '.devcontainer', 'devcontainer.json'), '{"initializeCommand":"touch /tmp/owned"}');
  const changes = changedSince(accepted, protectedBinds(ws).states);
  t.deepEqual(changes, [{ path: '.devcontainer', was: 'absent', now: 'bound' }]);
  t.deepEqual(changedSince(undefined, states), [], 'nothing recorded yet: nothing flagged');
  // A worktree's .git file is bound read-only as it is.
  const wt = mkdtempSync(join(tmpdir(), 'cctl-protected-wt-'));
  t.teardown(() => rmSync(wt, { recursive: true, force: true }));
  writeFileSync(join(wt, '.git'), 'gitdir: /elsewhere\n');
  t.deepEqual(protectedBinds(wt).binds, [{ source: join(wt, '.git'), target: '/workspace/.git', readOnly: true }]);
});

test("a missing .git/hooks that cctl makes belongs to the owner of .git (root in a user's project)", (t) => {
  const ws = mkdtempSync(join(tmpdir(), 'cctl-protected-hooks-'));
  t.teardown(() => rmSync(ws, { recursive: true, force: true }));
  mkdirSync(join(ws, '.git'));
  // As root (CI), the project is another user's; as anyone else, their own.
  const owner = process.getuid?.() === 0 ? 1500 : process.getuid!();
  chownSync(join(ws, '.git'), owner, owner);
  protectedBinds(ws, { createHooks: true });
  t.is(statSync(join(ws, '.git', 'hooks')).uid, owner);
  t.is(statSync(join(ws, '.git', 'hooks')).gid, owner);
});

test('a bind source swapped for a link after the check stops the start, naming it', async (t) => {
  const ws = mkdtempSync(join(tmpdir(), 'cctl-protected-swap-'));
  t.teardown(() => rmSync(ws, { recursive: true, force: true }));
  mkdirSync(join(ws, '.vscode'));
  mkdirSync(join(ws, '.git', 'hooks'), { recursive: true });
  const { binds } = protectedBinds(ws);
  t.deepEqual(swappedBinds(binds), []);
  t.notThrows(() => assertBindsInPlace(binds));
  // From inside, while up builds: .vscode becomes a link to a folder of the host user's (Docker would mount it).
  rmSync(join(ws, '.vscode'), { recursive: true });
  symlinkSync(join(ws, '..'), join(ws, '.vscode'));
  rmSync(join(ws, '.git', 'hooks'), { recursive: true });
  t.deepEqual(swappedBinds(binds), [join(ws, '.git', 'hooks'), join(ws, '.vscode')]);
  t.throws(() => assertBindsInPlace(binds), { message: new RegExp(`replaced while cctl up was running.*${join(ws, '.vscode')}`) });
});

test.serial(
  "ca-cert from a host path is stored as the project's copy; a flag beats CCTL_CA_CERT, and a stored CA beats it too, said both times",
  async (t) => {
    const { project, env, dir } = scratch(t);
    const hostCa = join(dir, '..', 'lead-only-ca.pem');
    cpSync('/etc/ssl/certs/ca-certificates.crt', hostCa);
    const first = await withEngine(new FakeEngine(), () => initProject(project, { env: { ...env, CCTL_CA_CERT: hostCa } }));
    t.is(first.settings['ca-cert'], CA_IN_PROJECT);
    t.true(readFileSync(project.file, 'utf8').includes(`ca-cert: ${CA_IN_PROJECT}`));
    t.false(readFileSync(project.file, 'utf8').includes(hostCa));
    // A later init --ca-cert with another file, while CCTL_CA_CERT is still exported: the flag wins, and says so.
    const other = join(dir, 'team.pem');
    writeFileSync(
      other,
      readFileSync(join(dir, CA_IN_PROJECT), 'latin1').split('-----END CERTIFICATE-----')[0] + '-----END CERTIFICATE-----\n',
    );
    const second = await withEngine(new FakeEngine(), () =>
      initProject(again(project), { env: { ...env, CCTL_CA_CERT: hostCa }, flags: fromFlags({ caCert: 'team.pem' }) }),
    );
    t.is(second.settings['ca-cert'], 'team.pem');
    t.regex(second.notes.join('\n'), /--ca-cert team\.pem is used, not CCTL_CA_CERT/);
    // The next up with the variable still exported keeps the stored CA, and says why.
    const third = await withEngine(new FakeEngine(), () => initProject(again(project), { env: { ...env, CCTL_CA_CERT: hostCa } }));
    t.is(third.settings['ca-cert'], 'team.pem');
    t.regex(third.notes.join('\n'), /CCTL_CA_CERT=.* is not used: the project already has an extra CA \(team\.pem\)/);
    // A file that names a host path this machine lacks builds with the committed copy.
    writeFileSync(project.file, readFileSync(project.file, 'utf8').replace('ca-cert: team.pem', `ca-cert: /nonexistent/lead-only.pem`));
    const fourth = await withEngine(new FakeEngine(), () => initProject(again(project), { env, acceptChanges: true }));
    t.is(fourth.settings['ca-cert'], CA_IN_PROJECT);
    t.regex(fourth.notes.join('\n'), /not on this machine; the project's copy/);
  },
);

test.serial(
  "flow style: cctl's nodes become block style, the user's service stays, a changed setting and a second init work",
  async (t) => {
    const { project, env } = scratch(t);
    writeFileSync(project.file, '# ours\nservices: {web: {image: nginx:alpine}}\n');
    const fake = () => new FakeEngine();
    await withEngine(fake(), () => initProject(again(project), { env }));
    const once = readFileSync(project.file, 'utf8');
    t.true(once.startsWith('# ours\nservices:\n  web: {image: nginx:alpine}\n  claude-cli:\n'), once);
    await withEngine(fake(), () => initProject(again(project), { env, flags: fromFlags({ plan: 'max5' }) }));
    const changed = readFileSync(project.file, 'utf8');
    const model = parse(changed) as PlainMap;
    t.deepEqual(Object.keys(model), ['services', 'volumes', 'x-cctl'], "nothing of cctl's at the root");
    t.deepEqual((model.services as PlainMap).web, { image: 'nginx:alpine' });
    t.is((((model.services as PlainMap)['claude-cli'] as PlainMap).environment as PlainMap).CLAUDE_PLAN, 'max5');
    const again2 = await withEngine(fake(), () => initProject(again(project), { env }));
    t.false(again2.changed);
    t.is(readFileSync(project.file, 'utf8'), changed);
    // A whole file in flow style too.
    writeFileSync(project.file, '{services: {web: {image: nginx:alpine}}}\n');
    await withEngine(fake(), () => initProject(again(project), { env, force: true, acceptChanges: true }));
    const whole = parse(readFileSync(project.file, 'utf8')) as PlainMap;
    t.deepEqual((whole.services as PlainMap).web, { image: 'nginx:alpine' });
    t.truthy((whole.services as PlainMap)['claude-cli']);
  },
);

test.serial('a stack of the same name that another user started is named, not taken', async (t) => {
  const project: Project = { file: '/x/app/compose.yaml', exists: true, dir: '/x/app', name: 'app', nameSource: 'folder' };
  const me = { uid: 1500, user: 'dev', host: 'box' };
  const psLine = (uid: string, user: string, host: string) => `app-claude-cli-1\tclaude-cli\t${uid}\t${user}\t${host}\n`;
  const ask = (stdout: string) =>
    withEngine(new FakeEngine().on('docker ps -a --filter label=com.docker.compose.project=app', { stdout }), () =>
      foreignStack(project, me),
    );
  t.is(await ask(psLine('1500', 'dev', 'box')), undefined, 'mine');
  t.is(await ask('app-claude-cli-1\tclaude-cli\t\t\t\n'), undefined, "no owner label (plain Compose, older cctl): nobody's");
  t.deepEqual(await ask(psLine('0', 'root', 'box')), { owner: { uid: 0, user: 'root', host: 'box' }, containers: ['app-claude-cli-1'] });
  t.truthy(await ask(psLine('1500', 'dev', 'other-box')), 'same UID on another machine sharing the engine');
});
