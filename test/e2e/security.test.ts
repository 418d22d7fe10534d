/**
 * Issue 11 end to end, as a regular user (under root, dev: UID 1500, in the docker group; else the invoking user)
 * in team-key mode, the way most people run cctl:
 * - the team key is nowhere claude-cli can read (a recursive grep of the
 *   workspace, the home and /proc environments), and doctor says so, and
 *   fails once the key is planted in the workspace;
 * - files made in /workspace belong to the host user;
 * - the file already has a service of the user's own named proxy: init leaves
 *   it alone and suggests no --force, and a gateway renamed with proxy-service
 *   carries requests to the (fake) upstream with the key; plain Compose works
 *   on the same file;
 * - an edit that makes claude-cli privileged and re-points upstream, or adds a
 *   variable to the gateway or puts the user's service into claude-cli's
 *   network, is refused by up without --accept-changes; so are a YAML merge
 *   key and a .env that sets cctl's SSH socket variable (issue 19), and
 *   claude-cli's HostConfig stays as it was;
 * - `cctl doctor | head -1` ends quietly with exit 0;
 * - a default backup lands in the private folder, mode 0600.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { e2e, BASE_IMAGE } from '../helpers/e2e.js';
import { tempProject, removeProjectImages } from '../helpers/project.js';
import { CLI, e2eEnv, composeCommand } from '../helpers/cli.js';
import { FAKE_MESSAGES_API, REPLY } from '../helpers/fake-messages.js';
import { asRegularUser, giveToRegularUser, REGULAR_UID } from '../helpers/regular-user.js';
import { run, runSettled, type RunResult } from '../../lib/engine/runner.js';
import { scratchDir } from '../helpers/scratch.js';

const DEV_UID = REGULAR_UID;
const TEAM_KEY = `sk-ant-e2e-${Date.now().toString(36)}-team-key-never-in-claude-cli`;
const tmp = tempProject('sec');
const home = scratchDir('cctl-sec-home-');
const privateDir = join(home, '.config', 'cctl', 'projects', tmp.name);
const asDev = asRegularUser;
const env = e2eEnv({ COMPOSE_PROJECT_NAME: tmp.name, HOME: home });
delete env.ANTHROPIC_API_KEY;
delete env.ANTHROPIC_AUTH_TOKEN;
const file = join(tmp.dir, 'compose.yaml');

// The team's file before cctl: its own front service called proxy, and a fake Anthropic API.
const USER_PROXY = `services:
  proxy:
    image: ${BASE_IMAGE}
    command: ["node", "-e", "require('http').createServer((q, s) => s.end('the team front')).listen(8081)"]
    init: true
  fake-upstream:
    image: ${BASE_IMAGE}
    command: ["node", "/srv/fake.mjs"]
    init: true
    volumes:
      - ./fake:/srv:ro
`;
mkdirSync(join(tmp.dir, 'fake'));
writeFileSync(join(tmp.dir, 'fake', 'fake.mjs'), FAKE_MESSAGES_API);
writeFileSync(file, USER_PROXY);
for (const dir of [home, tmp.dir]) giveToRegularUser(dir);

/** Never rejects. */
async function asUser(argv: string[], timeoutMs = 900_000): Promise<RunResult> {
  return runSettled([...asDev, ...argv], { cwd: tmp.dir, env, timeoutMs });
}
const cctl = (...args: string[]) => asUser(['node', CLI, ...args]);
const compose = (...args: string[]) => asUser([...composeCommand(env), '-f', file, '-p', tmp.name, '--profile', 'claude', ...args]);
const inCli = (script: string) => compose('exec', '-T', 'claude-cli', 'sh', '-c', script);

e2e.after.always(async () => {
  await run([...composeCommand(env), '-f', file, '-p', tmp.name, '--profile', 'claude', 'down', '-v', '--timeout', '1'], {
    cwd: tmp.dir,
    env,
  }).catch(() => undefined);
  await run(['docker', 'image', 'rm', `cctl-${tmp.name}-claude-cli:local`, `cctl-${tmp.name}-cctl-proxy:local`]).catch(() => undefined);
  await removeProjectImages(tmp.name);
  rmSync(home, { recursive: true, force: true });
  tmp.cleanup();
});

e2e.serial('a user service named proxy is not taken over: init names the clash, not --force', async (t) => {
  const r = await cctl('init', '--auth', 'team-key', '--upstream', 'http://fake-upstream:8080');
  t.is(r.exitCode, 1, r.stdout);
  t.regex(r.stderr, /already has a service named "proxy" that cctl did not create/);
  t.notRegex(r.stderr, /--force/);
  t.regex(r.stderr, /proxy-service=/);
  t.is(readFileSync(file, 'utf8'), USER_PROXY);
});

e2e.serial('init with a renamed gateway keeps the user service byte for byte; the key goes to the private folder', async (t) => {
  const r = await cctl('init', '--auth', 'team-key', '--upstream', 'http://fake-upstream:8080', '--set', 'proxy-service=cctl-proxy');
  t.is(r.exitCode, 0, r.stderr);
  t.true(readFileSync(file, 'utf8').startsWith(USER_PROXY));
  const proxyEnv = join(privateDir, 'proxy.env');
  t.is(statSync(privateDir).mode & 0o777, 0o700);
  t.is(statSync(proxyEnv).mode & 0o777, 0o600);
  t.is(statSync(proxyEnv).uid, DEV_UID);
  writeFileSync(proxyEnv, readFileSync(proxyEnv, 'utf8').replace(/^ANTHROPIC_API_KEY=$/m, `ANTHROPIC_API_KEY=${TEAM_KEY}`));
  const inTree = spawnSync('grep', ['-rl', '--', TEAM_KEY, tmp.dir], { encoding: 'utf8' });
  t.is(inTree.status, 1, `the key is in no file under the project: ${inTree.stdout}`);
});

e2e.serial('up as dev starts the stack; the renamed gateway carries a request with the key', async (t) => {
  t.is((await compose('up', '-d', 'fake-upstream', 'proxy')).exitCode, 0);
  const up = await cctl('up', '--timeout', '900');
  t.is(up.exitCode, 0, up.stderr + up.stdout);
  const script =
    "fetch(process.env.ANTHROPIC_BASE_URL+'/v1/messages',{method:'POST',headers:{authorization:'Bearer '+process.env.ANTHROPIC_AUTH_TOKEN,'content-type':'application/json'}," +
    "body:JSON.stringify({model:'claude-x',max_tokens:5,messages:[{role:'user',content:'hi'}]})}).then(async r=>{console.log(r.status,process.env.ANTHROPIC_BASE_URL,await r.text())})";
  const r = await compose('exec', '-T', 'claude-cli', 'node', '-e', script);
  t.is(r.exitCode, 0, r.stderr);
  t.regex(r.stdout, /^200 http:\/\/cctl-proxy:3000 /);
  t.true(r.stdout.includes(REPLY));
  // status follows the renamed gateway; the user's proxy is not cctl's to report.
  const status = await cctl('status', '--json');
  const names = (JSON.parse(status.stdout) as { services: Array<{ name: string; health: string }> }).services.map(
    (x) => `${x.name}:${x.health}`,
  );
  t.deepEqual(names.sort(), ['cctl-proxy:healthy', 'claude-cli:healthy']);
  const logs = await cctl('logs', 'cctl-proxy', '--tail', '5');
  t.is(logs.exitCode, 0, logs.stderr);
  // The team's own proxy still answers as before.
  const front = await compose('exec', '-T', 'proxy', 'node', '-e', "fetch('http://127.0.0.1:8081').then(r=>r.text()).then(console.log)");
  t.is(front.stdout.trim(), 'the team front');
});

e2e.serial('no path inside claude-cli holds the team key: workspace, home, /tmp, /proc environments', async (t) => {
  // (Not /proc/self/cmdline: that is grep's own, which holds the key as its pattern.)
  const grep = await inCli(
    `grep -rlF -- '${TEAM_KEY}' /workspace /home/claude /tmp /proc/self/environ /proc/1/environ /proc/1/cmdline 2>/dev/null; echo "grep exit $?"`,
  );
  t.is(grep.exitCode, 0, grep.stderr);
  t.is(grep.stdout.trim(), 'grep exit 1', 'grep found nothing');
  const envDump = await compose('exec', '-T', 'claude-cli', 'env');
  t.false(envDump.stdout.includes(TEAM_KEY));
  t.regex(envDump.stdout, /^ANTHROPIC_AUTH_TOKEN=/m);
});

e2e.serial('a file made in /workspace belongs to the host user', async (t) => {
  const r = await inCli('touch /workspace/made-inside && id -u');
  t.is(r.exitCode, 0, r.stderr);
  t.is(r.stdout.trim(), String(DEV_UID));
  t.is(statSync(join(tmp.dir, 'made-inside')).uid, DEV_UID);
});

e2e.serial('doctor passes the secrets check, and fails once the key is planted in the workspace', async (t) => {
  const ok = await cctl('doctor', '--json');
  const secrets = (JSON.parse(ok.stdout) as { checks: Array<{ name: string; status: string; detail: string }> }).checks.find(
    (c) => c.name === 'secrets',
  );
  t.is(secrets?.status, 'pass', JSON.stringify(secrets));
  writeFileSync(join(tmp.dir, 'notes.txt'), `oops: ${TEAM_KEY}\n`);
  const bad = await cctl('doctor', '--json');
  t.is(bad.exitCode, 1);
  const failed = (JSON.parse(bad.stdout) as { checks: Array<{ name: string; status: string; detail: string }> }).checks.find(
    (c) => c.name === 'secrets',
  );
  t.is(failed?.status, 'fail');
  t.regex(failed!.detail, /\/workspace\/notes\.txt/);
  rmSync(join(tmp.dir, 'notes.txt'));
});

e2e.serial(
  'plain docker compose works on the same files (the committed one, then the per-machine one that names the secrets)',
  async (t) => {
    // Compose v1 offers no COMPOSE_PROJECT_NAME for interpolation: its users export it, as the guide says.
    const v1 = composeCommand(env)[0] === 'docker-compose';
    const machine = join(privateDir, 'compose.machine.yaml');
    const both = [...composeCommand(env), '-f', file, '-f', machine, '-p', tmp.name, '--profile', 'claude', 'up', '-d'];
    const r = v1 ? await asUser(['env', `COMPOSE_PROJECT_NAME=${tmp.name}`, ...both]) : await asUser(both);
    t.is(r.exitCode, 0, r.stderr);
    // docker ps, not compose ps: v1's ps has no --format.
    const ps = await run([
      'docker',
      'ps',
      '--filter',
      `label=com.docker.compose.project=${tmp.name}`,
      '--filter',
      'label=com.docker.compose.service=cctl-proxy',
      '--format',
      '{{.Status}}',
    ]);
    t.regex(ps.stdout, /^Up/m);
  },
);

e2e.serial('cctl doctor | head -1 prints no stack trace and cctl exits 0', async (t) => {
  const r = await asUser(['bash', '-c', `node ${CLI} doctor | head -1; echo "cctl exit \${PIPESTATUS[0]}" >&2`]);
  t.regex(r.stderr, /cctl exit 0/);
  t.notRegex(r.stderr, /EPIPE|at .*\.js:\d+/);
  t.is(r.stdout.split('\n').filter(Boolean).length, 1);
});

e2e.serial('a reader that is gone before cctl writes (| true) ends doctor quietly with exit 0 too', async (t) => {
  const r = await asUser(['bash', '-c', `node ${CLI} doctor | true; echo "cctl exit \${PIPESTATUS[0]}" >&2`]);
  t.regex(r.stderr, /cctl exit 0/);
  t.notRegex(r.stderr, /EPIPE|at .*\.js:\d+/);
});

e2e.serial('an edit from inside (privileged, another upstream) is refused by up without --accept-changes', async (t) => {
  const before = readFileSync(file, 'utf8');
  const edit = await inCli(
    "sed -i -e 's|^    cap_drop: \\[ALL\\]$|    cap_drop: [ALL]\\n    privileged: true|' -e 's|upstream: http://fake-upstream:8080|upstream: https://attacker.example|' /workspace/compose.yaml",
  );
  t.is(edit.exitCode, 0, edit.stderr);
  t.not(readFileSync(file, 'utf8'), before, 'claude-cli could edit the file (that is why the guard exists)');
  const r = await cctl('up');
  t.is(r.exitCode, 1);
  t.regex(r.stderr, /\+ services\.claude-cli\.privileged: true/);
  t.regex(r.stderr, /~ x-cctl\.upstream: "http:\/\/fake-upstream:8080" -> "https:\/\/attacker\.example"/);
  t.regex(r.stderr, /--accept-changes/);
  const doctor = await cctl('doctor', '--json');
  const guard = (JSON.parse(doctor.stdout) as { checks: Array<{ name: string; status: string; detail: string }> }).checks.find(
    (c) => c.name === 'trust',
  );
  t.is(guard?.status, 'warn');
  t.regex(guard!.detail, /privileged/);
  const inspect = await run(['docker', 'inspect', '--format', '{{.HostConfig.Privileged}}', await cliContainer()]);
  t.is(inspect.stdout.trim(), 'false', 'the refused edit did not reach the running container');
  writeFileSync(file, before);
});

e2e.serial(
  "an edit from inside that adds a gateway variable or puts the user's service in claude-cli's network is refused by up",
  async (t) => {
    const before = readFileSync(file, 'utf8');
    const edit = await inCli(
      "sed -i -e 's|^      CCTL_AUTH_MODE: team-key$|&\\n      CCTL_EGRESS_SOURCES: 0.0.0.0/0|' -e 's|^  proxy:$|&\\n    network_mode: service:claude-cli|' /workspace/compose.yaml",
    );
    t.is(edit.exitCode, 0, edit.stderr);
    t.not(readFileSync(file, 'utf8'), before);
    const r = await cctl('up');
    t.is(r.exitCode, 1, r.stdout);
    t.regex(r.stderr, /\+ services\.cctl-proxy\.environment\.CCTL_EGRESS_SOURCES: "0\.0\.0\.0\/0"/);
    t.regex(r.stderr, /\+ services\.proxy: .*"network_mode":"service:claude-cli"/);
    writeFileSync(file, before);
  },
);

/** claude-cli's one container, found by Compose's own labels: v2 names it <project>-claude-cli-1, v1 <project>_claude-cli_1. */
async function cliContainer(): Promise<string> {
  const ids = (
    await run([
      'docker',
      'ps',
      '-aq',
      '--filter',
      `label=com.docker.compose.project=${tmp.name}`,
      '--filter',
      'label=com.docker.compose.service=claude-cli',
    ])
  ).stdout
    .split('\n')
    .filter(Boolean);
  if (ids.length !== 1) throw new Error(`expected one claude-cli container of ${tmp.name} by its Compose labels, found ${ids.length}`);
  return ids[0]!;
}

/** What a change to claude-cli would show in `docker inspect`: the HostConfig fields that give it more of the host. */
async function hostConfig(): Promise<string> {
  const fields = ['Privileged', 'PidMode', 'IpcMode', 'UsernsMode', 'NetworkMode', 'CapAdd', 'Devices', 'SecurityOpt', 'Binds', 'Mounts'];
  const r = await run(['docker', 'inspect', '--format', `{{json .HostConfig}}`, await cliContainer()]);
  const all = JSON.parse(r.stdout) as Record<string, unknown>;
  return JSON.stringify(fields.map((f) => [f, all[f]]));
}

e2e.serial(
  'a merge key written from inside (<<: {privileged, pid: host}) is refused by up </dev/null; claude-cli stays as it was',
  async (t) => {
    const before = readFileSync(file, 'utf8');
    const config = await hostConfig();
    // The attack of issue 19: YAML merge keys the old deny-list never saw.
    const edit = await inCli("sed -i 's|^  claude-cli:$|&\\n    <<: {privileged: true, pid: host}|' /workspace/compose.yaml");
    t.is(edit.exitCode, 0, edit.stderr);
    t.regex(readFileSync(file, 'utf8'), /<<: \{privileged: true, pid: host\}/);
    const r = await asUser(['bash', '-c', `node ${CLI} up </dev/null`]);
    t.is(r.exitCode, 1, r.stdout);
    t.regex(r.stderr, /\+ services\.claude-cli\.pid: "host"/);
    t.regex(r.stderr, /\+ services\.claude-cli\.privileged: true/);
    t.regex(r.stderr, /nothing was started/);
    t.is(await hostConfig(), config, 'HostConfig unchanged');
    writeFileSync(file, before);
  },
);

e2e.serial(
  'a .env written from inside that points the SSH socket variable an older cctl read at the team key changes nothing',
  async (t) => {
    const config = await hostConfig();
    const edit = await inCli(`printf 'CCTL_SSH_AUTH_SOCK=${join(privateDir, 'proxy.env')}\\n' > /workspace/.env`);
    t.is(edit.exitCode, 0, edit.stderr);
    // The socket is a literal in the per-machine file now: no file of cctl's reads the variable, so up goes on.
    const r = await asUser(['bash', '-c', `node ${CLI} up </dev/null`]);
    t.is(r.exitCode, 0, r.stderr);
    t.is(await hostConfig(), config, 'HostConfig unchanged: no bind of proxy.env');
    const inspect = await run(['docker', 'inspect', '--format', '{{json .Mounts}}', await cliContainer()]);
    t.false(inspect.stdout.includes('proxy.env'));
    rmSync(join(tmp.dir, '.env'));
  },
);

e2e.serial('a default backup goes to the private folder, owner-only from the start', async (t) => {
  const r = await cctl('backup');
  t.is(r.exitCode, 0, r.stderr);
  const backups = join(privateDir, 'backups');
  const files = readdirSync(backups);
  t.is(files.length, 1);
  t.is(statSync(join(backups, files[0]!)).mode & 0o777, 0o600);
  t.is(statSync(backups).mode & 0o777, 0o700);
  t.false(readdirSync(tmp.dir).some((f) => f.endsWith('.tar.gz')));
  chmodSync(backups, 0o700);
});
