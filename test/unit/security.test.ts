/**
 * Issue 11 on init, without an engine: secrets live outside the project tree,
 * the change guard refuses widening edits made in the file, a user's own
 * service is never taken over, settings that reach Compose or a shell are
 * checked, and file writes behave (symlinks, umask, UTF-8, anchors).
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, parseDocument, type YAMLSeq } from 'yaml';
import { initProject } from '../../lib/ops/init.js';
import { setRunner } from '../../lib/engine/runner.js';
import { FakeEngine } from '../helpers/fake-engine.js';
import { backupsInProject, machineFilePath, privateDir } from '../../lib/project/private-dir.js';
import { fromFlags, resolveSettings } from '../../lib/project/setting-layers.js';
import { interpolatedVariables } from '../../lib/ops/trust-check.js';
import { writeFileAtomic, readUtf8 } from '../../lib/kernel/fs.js';
import type { Project } from '../../lib/project/locate.js';
import { readCaCert } from '../../lib/project/assets.js';
import { rollingHash, scanForSecret } from '../../lib/ops/secret-scan.js';
import { assertFileUnchanged } from '../../lib/ops/guard.js';
import { createHash } from 'node:crypto';
import { ownHome } from '../helpers/project.js';

ownHome(test, 'security');

// No engine, but a Compose to resolve the files (the fake's stand-in for `config`, fake-compose-config.ts):
// the trust check compares what Compose would run. Init writes the form every engine accepts.
setRunner(new FakeEngine({ daemon: 'down' }));
process.env.CCTL_COMPOSE_CACHE = '0';

function scratch(t: { teardown(fn: () => void): void }): { dir: string; env: NodeJS.ProcessEnv; project: Project } {
  const root = mkdtempSync(join(tmpdir(), 'cctl-security-unit-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const home = join(root, 'home');
  const dir = join(root, 'work', 'app');
  mkdirSync(home, { recursive: true });
  mkdirSync(dir, { recursive: true });
  const env = { ...process.env, HOME: home, CCTL_MONITOR: '0' } as NodeJS.ProcessEnv;
  delete env.ANTHROPIC_API_KEY;
  delete env.ANTHROPIC_AUTH_TOKEN;
  for (const k of Object.keys(env)) if (k.startsWith('CCTL_') && k !== 'CCTL_MONITOR') delete env[k];
  // ensure* helpers read HOME from the process when no env is passed.
  process.env.HOME = home;
  const file = join(dir, 'compose.yaml');
  return { dir, env, project: { file, exists: false, dir, name: 'app', nameSource: 'folder' } as Project };
}

const again = (p: Project): Project => ({ ...p, exists: existsSync(p.file) });
const init = (p: Project, env: NodeJS.ProcessEnv, flags: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) =>
  initProject(again(p), { flags: fromFlags(flags), env, ...extra });

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true }).map(String);
}

test.serial('team-key secrets are written outside the project tree, 0600, and only the per-machine file names them', async (t) => {
  const { dir, env, project } = scratch(t);
  env.ANTHROPIC_API_KEY = 'sk-ant-unit-secret-123';
  await init(project, env, { auth: 'team-key' });
  const priv = privateDir('app', env);
  t.is(statSync(priv).mode & 0o777, 0o700);
  for (const f of ['proxy.env', 'client.env']) t.is(statSync(join(priv, f)).mode & 0o777, 0o600, f);
  t.true(readFileSync(join(priv, 'proxy.env'), 'utf8').includes('sk-ant-unit-secret-123'));
  // Nothing under the project (what claude-cli mounts) holds the key or any .env file.
  for (const f of filesUnder(dir)) {
    t.false(f.endsWith('.env'), f);
    const full = join(dir, f);
    if (lstatSync(full).isFile()) t.false(readFileSync(full, 'utf8').includes('sk-ant-unit-secret-123'), f);
  }
  const compose = parse(readFileSync(project.file, 'utf8'));
  // The committed file holds no path of this user's: a fresh clone validates without them.
  t.is(compose.services.proxy.env_file, undefined);
  t.is(compose.services['claude-cli'].env_file, undefined);
  const machine = parse(readFileSync(machineFilePath('app', env), 'utf8'));
  t.deepEqual(machine.services.proxy.env_file, [join(priv, 'proxy.env')]);
  t.deepEqual(machine.services['claude-cli'].env_file, [join(priv, 'client.env')]);
  t.is(statSync(machineFilePath('app', env)).mode & 0o777, 0o600);
  t.false(existsSync(join(dir, '.cctl', 'state.json')), 'the baseline is not in the tree');
  t.true(existsSync(join(priv, 'state.json')));
});

test.serial('every init tightens both secret files again, and moves secrets an older cctl left in .cctl/', async (t) => {
  const { dir, env, project } = scratch(t);
  mkdirSync(join(dir, '.cctl'));
  writeFileSync(join(dir, '.cctl', 'proxy.env'), 'CCTL_CLIENT_TOKEN=old-token\nANTHROPIC_API_KEY=sk-legacy\n', { mode: 0o644 });
  const first = await init(project, env, { auth: 'team-key' });
  t.false(existsSync(join(dir, '.cctl', 'proxy.env')), 'the in-tree copy is gone');
  t.is(first.moved.length, 1);
  const priv = privateDir('app', env);
  t.regex(readFileSync(join(priv, 'proxy.env'), 'utf8'), /ANTHROPIC_API_KEY=sk-legacy/);
  t.regex(readFileSync(join(priv, 'client.env'), 'utf8'), /ANTHROPIC_AUTH_TOKEN=old-token/);
  chmodSync(join(priv, 'proxy.env'), 0o644);
  chmodSync(join(priv, 'client.env'), 0o666);
  await init(project, env);
  t.is(statSync(join(priv, 'proxy.env')).mode & 0o777, 0o600);
  t.is(statSync(join(priv, 'client.env')).mode & 0o777, 0o600);
});

test.serial('a workspace that contains the private folder is refused', async (t) => {
  const { env, project } = scratch(t);
  // The project's grandparent holds home/ (the HOME of this test): workspace ../.. mounts it.
  const error = await t.throwsAsync(init(project, env, { workspace: '../..' }));
  t.regex(error!.message, /contains cctl's private folder/);
});

test.serial('the guard refuses privileged: true on claude-cli and a changed upstream, unless accepted', async (t) => {
  const { env, project } = scratch(t);
  await init(project, env, { auth: 'team-key' });
  const original = readFileSync(project.file, 'utf8');
  const edited = original
    .replace('    cap_drop: [ALL]\n', '    cap_drop: [ALL]\n    privileged: true\n')
    .replace('upstream: https://api.anthropic.com', 'upstream: https://evil.example.com');
  t.not(edited, original);
  writeFileSync(project.file, edited);
  const refused = await t.throwsAsync(init(project, env));
  t.regex(refused!.message, /\+ services\.claude-cli\.privileged: true/);
  t.regex(refused!.message, /~ x-cctl\.upstream: "https:\/\/api\.anthropic\.com" -> "https:\/\/evil\.example\.com"/);
  t.regex((refused as { hint?: string }).hint ?? '', /--accept-changes/);
  t.is(readFileSync(project.file, 'utf8'), edited, 'nothing was written');
  // A prompt that says no refuses too; one that says yes accepts.
  await t.throwsAsync(init(project, env, {}, { confirm: async () => false }));
  let asked = '';
  await init(project, env, {}, { confirm: async (changes: string) => ((asked = changes), true) });
  t.regex(asked, /privileged/);
  // Accepted once, the new state is the baseline: no question the next time.
  await init(project, env);
});

test.serial('the guard refuses a Docker socket mount and pid: host added to claude-cli; --accept-changes accepts', async (t) => {
  const { env, project } = scratch(t);
  await init(project, env);
  const edited = readFileSync(project.file, 'utf8').replace(
    '    cap_drop: [ALL]\n',
    '    cap_drop: [ALL]\n    pid: host\n    cap_add: [ALL]\n',
  );
  writeFileSync(project.file, edited);
  const refused = await t.throwsAsync(init(project, env));
  t.regex(refused!.message, /\+ services\.claude-cli\.pid: "host"/);
  t.regex(refused!.message, /services\.claude-cli\.cap_add/);
  const accepted = await init(project, env, {}, { acceptChanges: true });
  t.false(accepted.changed, 'accepted as it is');
  // The socket in cctl's own volumes list: the merge refuses the edit of a key cctl manages, naming it.
  const doc = parseDocument(readFileSync(project.file, 'utf8'));
  (doc.getIn(['services', 'claude-cli', 'volumes']) as YAMLSeq).add('/var/run/docker.sock:/var/run/docker.sock');
  writeFileSync(project.file, doc.toString());
  const socket = await t.throwsAsync(init(project, env));
  t.regex(socket!.message, /services\.claude-cli\.volumes: .*docker\.sock/);
});

test.serial('a host variable added to the env setting in the file (the host ANTHROPIC_API_KEY, say) is refused too', async (t) => {
  const { env, project } = scratch(t);
  await init(project, env);
  const doc = parseDocument(readFileSync(project.file, 'utf8'));
  doc.setIn(['x-cctl', 'env'], doc.createNode(['ANTHROPIC_API_KEY']));
  writeFileSync(project.file, doc.toString());
  const refused = await t.throwsAsync(init(project, env));
  t.regex(refused!.message, /\+ x-cctl\.env: "ANTHROPIC_API_KEY"/);
});

test.serial(
  'the old name-keyed baseline is read once as input: a setting that differs from it is asked about, then the trust store takes over',
  async (t) => {
    const { env, project } = scratch(t);
    await init(project, env);
    // As an older cctl left things: state.json with the guard's settings, and no trust store.
    rmSync(join(env.HOME!, '.config', 'cctl', 'trust'), { recursive: true });
    const priv = privateDir('app', env);
    const state = JSON.parse(readFileSync(join(priv, 'state.json'), 'utf8'));
    writeFileSync(
      join(priv, 'state.json'),
      JSON.stringify({ ...state, guard: { services: {}, settings: { upstream: 'https://api.anthropic.com', isolate: false } } }),
    );
    writeFileSync(
      project.file,
      readFileSync(project.file, 'utf8').replace('upstream: https://api.anthropic.com', 'upstream: https://evil.example.com'),
    );
    const refused = await t.throwsAsync(init(project, env));
    t.regex(refused!.message, /~ x-cctl\.upstream: "https:\/\/api\.anthropic\.com" -> "https:\/\/evil\.example\.com"/);
    await init(project, env, {}, { acceptChanges: true });
    t.false('guard' in JSON.parse(readFileSync(join(priv, 'state.json'), 'utf8')), 'migrated once: the old snapshot is gone');
    await t.notThrowsAsync(init(project, env), 'the trust store holds the accepted upstream now');
  },
);

test.serial(
  'trust is kept by the real path: a renamed project, or a compose file nearer the working folder, is a change to confirm',
  async (t) => {
    const { dir, env, project } = scratch(t);
    await init(project, env);
    // Another name for the same folder (as -p or name: would give): the accepted record is found by the folder.
    const renamed = await t.throwsAsync(init({ ...project, name: 'other' }, env));
    t.regex(renamed!.message, /~ project name: "app" -> "other"/);
    // A new compose file in a subfolder: the trusted project above is the comparison, not a fresh start.
    mkdirSync(join(dir, 'sub'));
    const sub = { ...project, dir: join(dir, 'sub'), file: join(dir, 'sub', 'compose.yaml') };
    writeFileSync(sub.file, readFileSync(project.file, 'utf8'));
    const nearer = await t.throwsAsync(init(sub, env));
    t.regex(nearer!.message, /~ project folder: ".*app\/compose\.yaml" -> ".*app\/sub\/compose\.yaml"/);
    // The same folder through a symlink is the same project.
    symlinkSync(dir, join(dir, '..', 'link'));
    await t.notThrowsAsync(init({ ...project, dir: join(dir, '..', 'link'), file: join(dir, '..', 'link', 'compose.yaml') }, env));
  },
);

test.serial("a project .env that sets one of cctl's variables, or a COMPOSE_* input, is refused by name; nothing is written", async (t) => {
  const { dir, env, project } = scratch(t);
  await init(project, env);
  const before = readFileSync(project.file, 'utf8');
  for (const [line, name] of [
    ['COMPOSE_PROFILES=claude,evil', 'COMPOSE_PROFILES'],
    ['export COMPOSE_FILE=other.yaml', 'COMPOSE_FILE'],
  ]) {
    writeFileSync(join(dir, '.env'), `FOO=1\n${line}\n`);
    const refused = await t.throwsAsync(init(project, env));
    t.regex(refused!.message, new RegExp(`\\.env sets ${name}:`));
    t.notRegex(refused!.message, /FOO/);
    t.is(readFileSync(project.file, 'utf8'), before);
  }
  writeFileSync(join(dir, '.env'), 'FOO=1\nCOMPOSE_HTTP_TIMEOUT=120\n');
  await t.notThrowsAsync(init(project, env), "variables of the user's own are theirs");
  // The project's name from .env is Compose's documented way to name it; a changed name is asked about (identity), not refused here.
  writeFileSync(join(dir, '.env'), `COMPOSE_PROJECT_NAME=${project.name}\n`);
  await t.notThrowsAsync(init(project, env), "variables of the user's own are theirs");
});

test.serial(
  "cctl's renderings read no variable but the project's name: the ones an older cctl read change nothing from .env",
  async (t) => {
    const { dir, env, project } = scratch(t);
    const flags = { auth: 'team-key', isolate: true, allow: ['github'], 'git-name': 'A', 'ssh-agent': 'on', env: ['GH_TOKEN'] };
    env.ANTHROPIC_API_KEY = 'sk-ant-unit-secret-123';
    t.deepEqual(interpolatedVariables(resolveSettings({ flags: fromFlags(flags) })), ['COMPOSE_PROJECT_NAME']);
    await init(project, env, { auth: 'team-key' });
    const [committed, machine] = [readFileSync(project.file, 'utf8'), readFileSync(machineFilePath('app', env), 'utf8')];
    // Every value the machine file holds is literal: no `$` that Compose would read as a variable.
    t.notRegex(machine.replace(/\$\$/g, ''), /\$/);
    writeFileSync(join(dir, '.env'), `CCTL_SSH_AUTH_SOCK=${join(privateDir('app', env), 'proxy.env')}\nCCTL_UID=0\nTZ=Evil/Zone\nHOME=/\n`);
    await t.notThrowsAsync(init(project, env), 'nothing of cctl reads them now');
    t.is(readFileSync(project.file, 'utf8'), committed);
    t.is(readFileSync(machineFilePath('app', env), 'utf8'), machine);
  },
);

test.serial('a narrowing is worded as one: an allow-list entry removed, a capability added back to cap_drop', async (t) => {
  const { env, project } = scratch(t);
  await init(project, env, { isolate: true, allow: ['github'] });
  const doc = parseDocument(readFileSync(project.file, 'utf8'));
  doc.setIn(['x-cctl', 'allow'], doc.createNode(['anthropic']));
  writeFileSync(project.file, doc.toString());
  const refused = await t.throwsAsync(init(project, env));
  t.regex(refused!.message, /- x-cctl\.allow: "github" \(narrower\)/);
  t.regex(refused!.message, /gives less than before/);
  t.notRegex(refused!.message, /more power/);
  const edited = parseDocument(readFileSync(project.file, 'utf8'));
  edited.setIn(['services', 'claude-cli', 'cap_add'], edited.createNode(['NET_ADMIN']));
  writeFileSync(project.file, edited.toString());
  const wider = await t.throwsAsync(init(project, env));
  t.regex(wider!.message, /\+ services\.claude-cli\.cap_add: \["NET_ADMIN"\]$/m, 'a widening carries no narrower tag');
});

test.serial('isolate turned off in the file is asked about as a widening, not hidden behind a Compose error', async (t) => {
  const { env, project } = scratch(t);
  await init(project, env, { isolate: true });
  const before = readFileSync(project.file, 'utf8');
  const doc = parseDocument(before);
  doc.setIn(['x-cctl', 'isolate'], false);
  writeFileSync(project.file, doc.toString());
  const refused = await t.throwsAsync(init(project, env));
  t.regex(refused!.message, /~ x-cctl\.isolate: true -> false$/m, 'named, and not worded as narrower');
  t.notRegex(refused!.message, /Compose rejects|gives less/);
  // Accepted, the file merges into one Compose takes: no empty "networks:" left behind.
  await t.notThrowsAsync(init(project, env, {}, { acceptChanges: true }));
  t.notRegex(readFileSync(project.file, 'utf8'), /claude-internal/);
});

test.serial('a compose file replaced by a link to a file outside the project is refused as a link, before any diff', async (t) => {
  const { dir, env, project } = scratch(t);
  await init(project, env);
  const elsewhere = join(dir, '..', 'other-compose.yaml');
  writeFileSync(elsewhere, 'services:\n  db:\n    image: postgres:16\n');
  rmSync(project.file);
  symlinkSync(elsewhere, project.file);
  const refused = await t.throwsAsync(init(project, env));
  t.regex(refused!.message, /compose\.yaml is a symbolic link \(to .*other-compose\.yaml\)/);
  t.notRegex(refused!.message, /differs from what you accepted/);
  t.is(readFileSync(elsewhere, 'utf8'), 'services:\n  db:\n    image: postgres:16\n');
});

test.serial("a setting changed by a flag on cctl's own command line needs no confirmation", async (t) => {
  const { env, project } = scratch(t);
  await init(project, env);
  const r = await init(project, env, { upstream: 'https://gateway.example.com', isolate: true });
  t.is(r.settings.upstream, 'https://gateway.example.com');
});

test.serial('a fresh clone (no baseline) with privileged: true in claude-cli is refused too', async (t) => {
  const { env, project } = scratch(t);
  await init(project, env);
  writeFileSync(
    project.file,
    readFileSync(project.file, 'utf8').replace('    cap_drop: [ALL]\n', '    cap_drop: [ALL]\n    privileged: true\n'),
  );
  // Nothing of cctl's on this machine: no private folder, no trust store.
  rmSync(join(env.HOME!, '.config', 'cctl'), { recursive: true });
  const refused = await t.throwsAsync(init(project, env));
  t.regex(refused!.message, /\+ services\.claude-cli\.privileged: true/);
});

const NGINX = `services:
  proxy:
    image: nginx:1.27
    ports: ["8080:80"]
`;

test.serial('a user service named proxy is never taken over, not even with --force, and the message says so', async (t) => {
  const { env, project } = scratch(t);
  writeFileSync(project.file, NGINX);
  for (const force of [false, true]) {
    const error = await t.throwsAsync(init(project, env, {}, { force }));
    t.regex(error!.message, /already has a service named "proxy" that cctl did not create/);
    t.notRegex(error!.message, /edits to keys that cctl manages/);
    t.notRegex(error!.message, /--force/);
    t.notRegex((error as { hint?: string }).hint ?? '', /--force/);
    t.regex((error as { hint?: string }).hint ?? '', /proxy-service=/);
  }
  t.is(readFileSync(project.file, 'utf8'), NGINX);
});

test.serial('with proxy-service set, the gateway gets that name and everything follows it', async (t) => {
  const { env, project } = scratch(t);
  writeFileSync(project.file, NGINX);
  await init(project, env, { set: ['proxy-service=cctl-proxy'] });
  const text = readFileSync(project.file, 'utf8');
  t.true(text.startsWith(NGINX), 'the user service is untouched, byte for byte');
  const compose = parse(text);
  t.is(compose.services.proxy.image, 'nginx:1.27');
  t.truthy(compose.services['cctl-proxy']);
  const cli = compose.services['claude-cli'];
  t.is(cli.environment.ANTHROPIC_BASE_URL, 'http://cctl-proxy:3000');
  t.deepEqual(Object.keys(cli.depends_on), ['cctl-proxy']);
  t.is(compose['x-cctl']['proxy-service'], 'cctl-proxy');
});

test.serial("a user service named proxy with its own command, variables and volumes is not held to the gateway's keys", async (t) => {
  const { env, project } = scratch(t);
  const mine = `services:\n  proxy:\n    image: nginx:1.27\n    command: [nginx, -g, daemon off;]\n    environment: { A: b }\n    volumes: [./site:/usr/share/nginx/html:ro]\n`;
  writeFileSync(project.file, mine);
  await init(project, env, { set: ['proxy-service=cctl-proxy'] });
  t.true(readFileSync(project.file, 'utf8').startsWith(mine));
  await t.notThrowsAsync(init(project, env));
});

const badSettings: Array<[string, RegExp]> = [
  ['workspace=./$HOME', /free of "\$"/],
  ['proxy-health=/health;touch /tmp/x', /a URL path/],
  ["proxy-health=/h' || reboot '", /a URL path/],
  ['tz=Not/AZone', /IANA time zone/],
  ['memory=lots', /a size such as 4g/],
  ['cpus=-1', /a number of CPUs/],
  ['proxy-service=Proxy Server', /a service name/],
  ['cctl-source=cctl', /an unscoped name is not accepted/],
  ['upstream=https://x.example.com/${KEY}', /free of "\$"/],
];

for (const [pair, message] of badSettings) {
  test(`--set ${pair} is refused before it reaches Compose or a shell`, (t) => {
    const error = t.throws(() => fromFlags({ set: [pair] }));
    t.regex(error!.message, message);
  });
}

test('good values of the checked settings pass', (t) => {
  t.notThrows(() =>
    fromFlags({
      set: [
        'tz=Europe/Berlin',
        'memory=4g',
        'cpus=1.5',
        'proxy-health=/v1/health?deep=1',
        'cctl-source=@team/cctl',
        'proxy-service=cctl-proxy',
      ],
    }),
  );
  t.notThrows(() => fromFlags({ set: ['cctl-source=git+https://git.example.com/team/cctl.git'] }));
});

test.serial('a compose file of 120 services that merge one anchor is accepted', async (t) => {
  const { env, project } = scratch(t);
  const services = Array.from({ length: 120 }, (_, i) => `  s${i}:\n    <<: *base\n    command: ["${i}"]\n`).join('');
  writeFileSync(project.file, `x-base: &base\n  image: busybox\n  restart: "no"\nservices:\n${services}`);
  const r = await init(project, env);
  t.true(r.changed);
  t.is(Object.keys(parse(readFileSync(project.file, 'utf8'), { maxAliasCount: -1 }).services).length, 122);
});

test.serial('a compose file that is not UTF-8 is refused, and left as it was', async (t) => {
  const { env, project } = scratch(t);
  const bytes = Buffer.concat([Buffer.from('# caf'), Buffer.from([0xe9]), Buffer.from('\nservices: {}\n')]);
  writeFileSync(project.file, bytes);
  const error = await t.throwsAsync(init(project, env));
  t.regex(error!.message, /is not UTF-8: byte 0xE9 on line 1/);
  t.deepEqual(readFileSync(project.file), bytes);
});

test('atomic writes go through a symlink to its target, and a new file respects the umask', (t) => {
  const root = mkdtempSync(join(tmpdir(), 'cctl-fs-unit-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  writeFileSync(join(root, 'real.yaml'), 'a: 1\n');
  symlinkSync('real.yaml', join(root, 'compose.yaml'));
  writeFileAtomic(join(root, 'compose.yaml'), 'a: 2\n');
  t.true(lstatSync(join(root, 'compose.yaml')).isSymbolicLink());
  t.is(readlinkSync(join(root, 'compose.yaml')), 'real.yaml');
  t.is(readFileSync(join(root, 'real.yaml'), 'utf8'), 'a: 2\n');
  const old = process.umask(0o027);
  try {
    writeFileAtomic(join(root, 'new.txt'), 'x');
  } finally {
    process.umask(old);
  }
  t.is(statSync(join(root, 'new.txt')).mode & 0o777, 0o640);
  t.is(readUtf8(join(root, 'new.txt')), 'x');
});

test.serial('cctl init | head -0: a closed stdout ends the command quietly with exit 0, no stack trace', (t) => {
  const { dir, env } = scratch(t);
  const cli = new URL('../../bin/cctl.js', import.meta.url).pathname;
  const r = spawnSync('bash', ['-c', `node '${cli}' init | head -0; echo "cctl exit \${PIPESTATUS[0]}" >&2`], {
    cwd: dir,
    env,
    encoding: 'utf8',
  });
  t.regex(r.stderr, /cctl exit 0/);
  t.notRegex(r.stderr, /EPIPE|Error|at .*\.js:\d+/);
  t.true(existsSync(join(dir, 'compose.yaml')), 'init did its work before it wrote to stdout');
});

test('an extra CA bundle that also holds a private key: only the certificates are copied into the project', (t) => {
  const root = mkdtempSync(join(tmpdir(), 'cctl-ca-unit-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const cert = '-----BEGIN CERTIFICATE-----\nMIIBcert\n-----END CERTIFICATE-----';
  const key = '-----BEGIN PRIVATE KEY-----\nMIIEsecretkey\n-----END PRIVATE KEY-----';
  writeFileSync(join(root, 'combined.pem'), `${key}\n${cert}\n# a comment\n${cert}\n`);
  const copied = readCaCert(root, 'combined.pem')!.toString();
  t.false(copied.includes('PRIVATE KEY'));
  t.is(copied, `${cert}\n${cert}\n`);
});

test.serial('on a terminal, init asks about guarded changes: no refuses, yes accepts', (t) => {
  if (spawnSync('sh', ['-c', 'command -v script'], { encoding: 'utf8' }).status !== 0) {
    if (process.env.CI === 'true') t.fail('script (util-linux) is missing');
    else t.log('SKIPPED: script (util-linux) gives the terminal and is missing');
    return;
  }
  const { dir, env } = scratch(t);
  const cli = new URL('../../bin/cctl.js', import.meta.url).pathname;
  const runCli = (input: string) =>
    spawnSync('script', ['-qec', `node '${cli}' init`, '/dev/null'], { cwd: dir, env, input, encoding: 'utf8' });
  t.is(spawnSync('node', [cli, 'init'], { cwd: dir, env }).status, 0);
  const file = join(dir, 'compose.yaml');
  writeFileSync(file, readFileSync(file, 'utf8').replace('    cap_drop: [ALL]\n', '    cap_drop: [ALL]\n    privileged: true\n'));
  const no = runCli('n\n');
  t.is(no.status, 1, no.stdout);
  t.regex(no.stdout, /\+ services\.claude-cli\.privileged: true/);
  t.regex(no.stdout, /accept them\? \[y\/N\]/);
  const yes = runCli('y\n');
  t.is(yes.status, 0, yes.stdout);
  t.is(spawnSync('node', [cli, 'init'], { cwd: dir, env }).status, 0, 'accepted once, not asked again');
});

test.serial('a compose file over 4 MiB is refused, and left as it was', async (t) => {
  const { env, project } = scratch(t);
  const big = `services: {}\n# ${'x'.repeat(4 * 1024 * 1024)}\n`;
  writeFileSync(project.file, big);
  const error = await t.throwsAsync(init(project, env));
  t.regex(error!.message, /(larger than 4 MiB|at most \d+ bytes)/);
  t.is(readFileSync(project.file, 'utf8').length, big.length);
});

test.serial("doctor's secret scan never hands the key to the container: only a rolling hash, a SHA-256 and a length", async (t) => {
  const key = 'sk-ant-unit-never-in-argv-0123456789';
  const seen: string[][] = [];
  const previous = setRunner({
    capture: async (command) => {
      seen.push([...command]);
      const text = command.join(' ');
      if (text.includes('version')) return { exitCode: 0, stdout: 'Docker Compose version v2.26.1', stderr: '' };
      return { exitCode: 0, stdout: JSON.stringify({ found: [], files: 3, bytes: 10, skipped: 0 }), stderr: '' };
    },
    interactive: async () => 0,
  });
  t.teardown(() => setRunner(previous));
  const { project } = scratch(t);
  const result = await scanForSecret({ ...project, exists: true }, key);
  t.deepEqual(result.found, []);
  const exec = seen.find((argv) => argv.includes('exec'));
  t.truthy(exec, JSON.stringify(seen));
  t.false(seen.some((argv) => argv.some((a) => a.includes(key) || a.includes('0123456789'))));
  const [hash, sha, len] = exec!.slice(-3);
  t.is(Number(hash), rollingHash(Buffer.from(key)));
  t.is(sha, createHash('sha256').update(key).digest('hex'));
  t.is(len, String(key.length));
});

test('backups an older cctl left in the project folder are found (doctor warns about them)', (t) => {
  const root = mkdtempSync(join(tmpdir(), 'cctl-stray-unit-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  writeFileSync(join(root, 'cctl-app-home-20250102-030405.tar.gz'), '');
  writeFileSync(join(root, 'notes.tar.gz'), '');
  t.deepEqual(backupsInProject(root), ['cctl-app-home-20250102-030405.tar.gz']);
});

test.serial('an edit made while up runs (after init checked the file, during a build) stops up before Compose reads it', async (t) => {
  const { env, project } = scratch(t);
  const result = await init(project, env);
  t.notThrows(() => assertFileUnchanged(again(project), result.fileDigest));
  writeFileSync(
    project.file,
    readFileSync(project.file, 'utf8').replace('    cap_drop: [ALL]\n', '    cap_drop: [ALL]\n    privileged: true\n'),
  );
  const error = t.throws(() => assertFileUnchanged(again(project), result.fileDigest));
  t.regex(error!.message, /changed while cctl up was running/);
});

test.serial("the gateway's build folder (its image holds the key) is in the private folder, not in the project", async (t) => {
  const { dir, env, project } = scratch(t);
  mkdirSync(join(dir, '.cctl', 'proxy', 'gateway'), { recursive: true });
  writeFileSync(join(dir, '.cctl', 'proxy', 'gateway', 'main.js'), '// an older copy, or one edited from claude-cli\n');
  await init(project, env, { auth: 'team-key' });
  t.is(parse(readFileSync(project.file, 'utf8')).services.proxy.build, undefined, 'the committed file names no build folder for it');
  t.is(parse(readFileSync(machineFilePath('app', env), 'utf8')).services.proxy.build.context, join(privateDir('app', env), 'proxy'));
  t.true(existsSync(join(privateDir('app', env), 'proxy', 'Dockerfile')));
  t.true(existsSync(join(privateDir('app', env), 'proxy', 'gateway', 'main.js')));
  t.false(existsSync(join(dir, '.cctl', 'proxy')), 'the in-project copy is gone');
  t.true(existsSync(join(dir, '.cctl', 'docker', 'Dockerfile')), "claude-cli's build folder stays in the project");
});

test.serial(
  "a service of the user's own put on cctl's internal network, or into claude-cli's network, is refused unless accepted",
  async (t) => {
    const { env, project } = scratch(t);
    await init(project, env, { auth: 'team-key', isolate: true });
    const edit = (fn: (doc: ReturnType<typeof parseDocument>) => void) => {
      const doc = parseDocument(readFileSync(project.file, 'utf8'));
      fn(doc);
      writeFileSync(project.file, doc.toString());
    };
    // A forwarder that claude-cli could reach directly: a second way out that the allow-list never sees.
    edit((doc) => doc.setIn(['services', 'relay'], doc.createNode({ image: 'nginx:1.27', networks: ['claude-internal', 'default'] })));
    const refused = await t.throwsAsync(init(project, env));
    t.regex(refused!.message, /\+ services\.relay: .*claude-internal/);
    await init(project, env, {}, { acceptChanges: true });
    await init(project, env);
    // Sharing claude-cli's network namespace, or joining the same network under another key (by its Docker name).
    edit((doc) => {
      doc.setIn(['services', 'sidecar'], doc.createNode({ image: 'alpine', network_mode: 'service:claude-cli' }));
      doc.setIn(['networks', 'sneaky'], doc.createNode({ name: '${COMPOSE_PROJECT_NAME}_claude-internal', external: true }));
      doc.setIn(['services', 'other'], doc.createNode({ image: 'alpine', networks: { sneaky: { aliases: ['x'] } } }));
    });
    const again = await t.throwsAsync(init(project, env));
    t.regex(again!.message, /\+ services\.sidecar: .*"network_mode":"service:claude-cli"/);
    t.regex(again!.message, /\+ services\.other: .*sneaky/);
    t.notRegex(again!.message, /relay/, 'what was accepted is not asked again');
    await init(project, env, {}, { acceptChanges: true });
    // Leaving the network narrows nothing: not asked.
    edit((doc) => doc.setIn(['services', 'relay', 'networks'], doc.createNode(['default'])));
    await t.notThrowsAsync(init(project, env));
  },
);

test.serial(
  "extra variables in the gateway's environment, its command, and a variable added to claude-cli's environment are refused",
  async (t) => {
    const { env, project } = scratch(t);
    await init(project, env, { auth: 'team-key', isolate: true });
    const doc = parseDocument(readFileSync(project.file, 'utf8'));
    doc.setIn(['services', 'proxy', 'environment', 'CCTL_EGRESS_SOURCES'], '0.0.0.0/0');
    doc.setIn(['services', 'proxy', 'command'], doc.createNode(['node', '/workspace/evil.js']));
    // Hands the host's key to claude-cli without going through the (guarded) env setting.
    doc.setIn(['services', 'claude-cli', 'environment', 'ANTHROPIC_API_KEY'], null);
    writeFileSync(project.file, doc.toString());
    const refused = await t.throwsAsync(init(project, env));
    t.regex(refused!.message, /\+ services\.proxy\.environment\.CCTL_EGRESS_SOURCES: "0\.0\.0\.0\/0"/);
    t.regex(refused!.message, /\+ services\.proxy\.command: \["node","\/workspace\/evil\.js"\]/);
    t.regex(refused!.message, /\+ services\.claude-cli\.environment\.ANTHROPIC_API_KEY: null/);
    t.notRegex(refused!.message, /CCTL_UPSTREAM_URL|ANTHROPIC_BASE_URL|HTTPS_PROXY/, 'variables as cctl renders them are not shown');
    await init(project, env, {}, { acceptChanges: true });
    await t.notThrowsAsync(init(project, env), 'accepted once, not asked again');
    // A setting changed on cctl's own command line re-renders the gateway's variables: no question.
    await t.notThrowsAsync(init(project, env, { allow: ['github'] }));
    await t.notThrowsAsync(init(project, env));
  },
);

test('the CA bundle in the project is read without following a link, and the refusal names the link', (t) => {
  const root = mkdtempSync(join(tmpdir(), 'cctl-ca-link-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const [dir, outside] = [join(root, 'app'), join(root, 'outside')];
  mkdirSync(join(outside, 'certs'), { recursive: true });
  writeFileSync(join(outside, 'certs', 'extra-ca.crt'), '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
  mkdirSync(join(dir, '.cctl'), { recursive: true });
  symlinkSync(outside, join(dir, '.cctl', 'docker'));
  t.throws(() => readCaCert(dir, '.cctl/docker/certs/extra-ca.crt'), { message: /\.cctl\/docker is a symbolic link \(to .*outside\)/ });
  t.throws(() => readCaCert(dir, '.cctl/missing.crt'), { message: /cannot be read: no such file/ });
});
