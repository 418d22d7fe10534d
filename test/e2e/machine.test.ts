/**
 * One committed file, and what differs per machine in the per-machine file
 * (issue 19 items 4 and 7), on the real engine with real containers:
 *   - a teammate's fresh clone of a project the lead initialised with a CA
 *     from a path only the lead has: plain `docker compose config` passes with
 *     an empty HOME, doctor (onboarding's first check) fails nothing, and up works;
 *   - root in a folder dev owns: claude gets dev's UID, files it makes are
 *     dev's, and git hooks and .git/config are read-only inside (a hook or an
 *     fsmonitor written from inside never runs on the host) while git commits;
 *   - two users, one engine, two folders of the same name: neither up takes
 *     the other's containers, and each one's claude has its own UID.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { e2e } from '../helpers/e2e.js';
import { CLI, composeCommand, e2eEnv } from '../helpers/cli.js';
import { removeProjectImages } from '../helpers/project.js';
import { asRegularUser, giveToRegularUser, REGULAR_UID } from '../helpers/regular-user.js';
import { run, runSettled, type RunResult } from '../../lib/engine/runner.js';

const root = mkdtempSync(join(tmpdir(), 'cctl-machine-e2e-'));
// dev must reach its folder and home below it (mkdtemp makes the folder 0700).
chmodSync(root, 0o755);
const name = `cctle2emach${randomBytes(3).toString('hex')}`;
const names = [name, `${name}-dev`, `${name}root`, `${name}mate`];
const homes = { root: join(root, 'home-root'), dev: join(root, 'home-dev'), clone: join(root, 'home-clone') };
for (const h of Object.values(homes)) mkdirSync(h, { recursive: true });

// Each user's compose project takes its name from its folder (nothing exported), as a new user's does.
const base = e2eEnv();
delete base.COMPOSE_PROJECT_NAME;
const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', ['-c', 'safe.directory=*', ...args], {
    cwd,
    stdio: 'pipe',
    env: {
      ...base,
      GIT_AUTHOR_NAME: 'E2E',
      GIT_AUTHOR_EMAIL: 'e2e@example.test',
      GIT_COMMITTER_NAME: 'E2E',
      GIT_COMMITTER_EMAIL: 'e2e@example.test',
    },
  });

function as(user: 'root' | 'dev', cwd: string, argv: string[], extra: NodeJS.ProcessEnv = {}): Promise<RunResult> {
  const env = {
    ...base,
    HOME: homes[user === 'dev' ? 'dev' : 'root'],
    GIT_CONFIG_COUNT: '1',
    GIT_CONFIG_KEY_0: 'safe.directory',
    GIT_CONFIG_VALUE_0: '*',
    ...extra,
  };
  return runSettled([...(user === 'dev' ? asRegularUser : []), ...argv], { cwd, env, timeoutMs: 900_000 });
}
const cctl = (user: 'root' | 'dev', cwd: string, args: string[], extra?: NodeJS.ProcessEnv) => as(user, cwd, ['node', CLI, ...args], extra);

async function containers(project: string): Promise<Map<string, string>> {
  const { stdout } = await run([
    'docker',
    'ps',
    '-a',
    '--filter',
    `label=com.docker.compose.project=${project}`,
    '--format',
    '{{.Names}} {{.ID}} {{.RunningFor}}',
  ]);
  const ids = stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split(' ').slice(0, 2) as [string, string]);
  const out = new Map<string, string>();
  for (const [n, id] of ids) out.set(n, (await run(['docker', 'inspect', '--format', '{{.Id}} {{.State.StartedAt}}', id])).stdout.trim());
  return out;
}

e2e.after.always(async () => {
  for (const project of names) {
    await run(['docker', 'ps', '-aq', '--filter', `label=com.docker.compose.project=${project}`])
      .then(async ({ stdout }) => {
        const ids = stdout.split('\n').filter(Boolean);
        if (ids.length) await runSettled(['docker', 'rm', '-f', ...ids]);
      })
      .catch(() => undefined);
    await runSettled(['docker', 'volume', 'rm', `${project}_claude-home`]);
    await runSettled(['docker', 'network', 'rm', `${project}_default`]);
    await removeProjectImages(project);
  }
  rmSync(root, { recursive: true, force: true });
});

// ---- root in a folder dev owns ------------------------------------------------

const devOwned = join(root, 'by-dev', name);
mkdirSync(devOwned, { recursive: true });

e2e.serial("root runs cctl up in a folder dev owns: claude is dev, and what it makes in /workspace is dev's", async (t) => {
  git(devOwned, 'init', '-q');
  giveToRegularUser(join(root, 'by-dev'));
  const up = await cctl('root', devOwned, ['up', '--timeout', '900']);
  t.is(up.exitCode, 0, up.stderr + up.stdout);
  const touch = await cctl('root', devOwned, ['exec', '--', 'touch', '/workspace/x']);
  t.is(touch.exitCode, 0, touch.stderr);
  t.is(statSync(join(devOwned, 'x')).uid, REGULAR_UID);
  // The real container: its image names the UID it was built for, and its owner label is root.
  const inspect = JSON.parse((await run(['docker', 'inspect', `${name}-claude-cli-1`])).stdout)[0] as {
    Config: { Image: string; Labels: Record<string, string> };
  };
  t.is(inspect.Config.Image, `cctl-${name}-claude-cli:local-u${REGULAR_UID}-g${REGULAR_UID}`);
  t.is(inspect.Config.Labels['dev.cctl.owner.uid'], '0');
  const doctor = await cctl('root', devOwned, ['doctor', '--json']);
  const checks = (JSON.parse(doctor.stdout) as { checks: Array<{ name: string; status: string; detail: string }> }).checks;
  t.like(
    checks.find((c) => c.name === 'workspace'),
    { status: 'pass' },
  );
  t.like(
    checks.find((c) => c.name === 'protected'),
    { status: 'pass' },
  );
});

e2e.serial(
  'a git hook or core.fsmonitor written from inside claude-cli fails there, never runs on the host; git still commits',
  async (t) => {
    const marker = join(root, 'fsmonitor-ran');
    const attack = [
      `printf '#!/bin/sh\\ntouch ${marker}\\n' > /workspace/.git/hooks/pre-commit`,
      `git -C /workspace config core.fsmonitor 'touch ${marker}'`,
      `printf '[core]\\n\\tfsmonitor = touch ${marker}\\n' >> /workspace/.git/config`,
      'mv /workspace/.git /workspace/.git-aside',
    ];
    for (const step of attack) {
      const r = await cctl('root', devOwned, ['exec', '--', 'sh', '-c', step]);
      t.not(r.exitCode, 0, `refused inside: ${step}`);
    }
    const mounts = JSON.parse((await run(['docker', 'inspect', '--format', '{{json .Mounts}}', `${name}-claude-cli-1`])).stdout) as Array<{
      Destination: string;
      RW: boolean;
    }>;
    t.like(Object.fromEntries(mounts.map((m) => [m.Destination, m.RW])), {
      '/workspace/.git/hooks': false,
      '/workspace/.git/config': false,
      '/workspace/.git': true,
    });
    // Inside, git still commits: objects, refs, the index and HEAD stay writable.
    const commit = await cctl('root', devOwned, [
      'exec',
      '--',
      'sh',
      '-c',
      'cd /workspace && git add x && git -c user.name=claude -c user.email=claude@example.test commit -qm from-claude && git log --oneline',
    ]);
    t.is(commit.exitCode, 0, commit.stderr);
    t.regex(commit.stdout, /from-claude/);
    // The host's next git status and commit run nothing the container wrote.
    git(devOwned, 'status', '--short');
    git(devOwned, 'commit', '-q', '--allow-empty', '-m', 'host');
    t.false(existsSync(marker), "no hook or fsmonitor of claude-cli's ran on the host");
    t.false(readFileSync(join(devOwned, '.git', 'config'), 'utf8').includes('fsmonitor'));
  },
);

e2e.serial('a file the host runs that appears from inside (.vscode/) is named by up and doctor, and up refuses it', async (t) => {
  const write = await cctl('root', devOwned, [
    'exec',
    '--',
    'sh',
    '-c',
    'mkdir -p /workspace/.vscode && echo "{}" > /workspace/.vscode/tasks.json',
  ]);
  t.is(write.exitCode, 0, write.stderr);
  const before = await containers(name);
  const up = await cctl('root', devOwned, ['up'], {});
  t.not(up.exitCode, 0);
  t.regex(up.stderr, /\.vscode appeared since the last cctl up/);
  t.deepEqual(await containers(name), before, 'nothing was recreated');
  const doctor = await cctl('root', devOwned, ['doctor', '--json']);
  t.like(
    (JSON.parse(doctor.stdout) as { checks: Array<{ name: string }> }).checks.find((c) => c.name === 'protected'),
    { status: 'warn' },
  );
  const accepted = await cctl('root', devOwned, ['up', '--accept-changes']);
  t.is(accepted.exitCode, 0, accepted.stderr);
  const mounts = JSON.parse((await run(['docker', 'inspect', '--format', '{{json .Mounts}}', `${name}-claude-cli-1`])).stdout) as Array<{
    Destination: string;
    RW: boolean;
  }>;
  t.is(mounts.find((m) => m.Destination === '/workspace/.vscode')?.RW, false, 'now read-only inside');
});

// ---- two users, one engine --------------------------------------------------

const rootOwned = join(root, 'by-root', name);

e2e.serial('two users, one engine, folders of the same name: the second up names the owner and recreates nothing', async (t) => {
  // dev's own folder of the same name: the stack "name" is root's (started above).
  const devDir = join(root, 'dev-side', name);
  mkdirSync(devDir, { recursive: true });
  giveToRegularUser(join(root, 'dev-side'));
  giveToRegularUser(homes.dev);
  const before = await containers(name);
  const refused = await cctl('dev', devDir, ['up', '--timeout', '900']);
  t.not(refused.exitCode, 0);
  t.regex(refused.stderr, new RegExp(`The stack "${name}" on this engine belongs to root \\(UID 0`));
  t.regex(refused.stderr, /COMPOSE_PROJECT_NAME=/);
  t.deepEqual(await containers(name), before, "root's containers are the same ones, not restarted");
  // With a name of its own, dev's stack runs beside root's, each claude with its own UID.
  const own = await cctl('dev', devDir, ['up', '--timeout', '900'], { COMPOSE_PROJECT_NAME: `${name}-dev` });
  t.is(own.exitCode, 0, own.stderr + own.stdout);
  const devId = await cctl('dev', devDir, ['exec', '--', 'id', '-u'], { COMPOSE_PROJECT_NAME: `${name}-dev` });
  t.is(devId.stdout.trim(), String(REGULAR_UID));
  const rootId = await cctl('root', devOwned, ['exec', '--', 'id', '-u']);
  t.is(rootId.stdout.trim(), String(REGULAR_UID), "root's claude in dev's folder is still dev's UID");
  t.deepEqual(await containers(name), before);
  // And root's own folder (root owns it) gets the image's 1001, in an image of its own.
  mkdirSync(rootOwned, { recursive: true });
  const rootUp = await cctl('root', rootOwned, ['up', '--timeout', '900'], { COMPOSE_PROJECT_NAME: `${name}root` });
  t.is(rootUp.exitCode, 0, rootUp.stderr);
  t.is((await cctl('root', rootOwned, ['exec', '--', 'id', '-u'], { COMPOSE_PROJECT_NAME: `${name}root` })).stdout.trim(), '1001');
  const doctor = await cctl('dev', devDir, ['doctor', '--json']);
  t.like(
    (JSON.parse(doctor.stdout) as { checks: Array<{ name: string }> }).checks.find((c) => c.name === 'owner'),
    { status: 'fail' },
  );
});

// ---- a teammate's fresh clone ------------------------------------------------

e2e.serial(
  'a fresh clone of a project initialised with a CA only the lead has: plain compose config passes, doctor fails nothing',
  async (t) => {
    const leadCa = join(root, 'lead-only', 'corp-ca.pem');
    mkdirSync(join(root, 'lead-only'));
    cpSync(process.env.CCTL_TEST_CA_CERT ?? process.env.NODE_EXTRA_CA_CERTS ?? '/etc/ssl/certs/ca-certificates.crt', leadCa);
    const lead = join(root, 'lead', 'team');
    mkdirSync(lead, { recursive: true });
    git(lead, 'init', '-q');
    const init = await cctl('root', lead, ['init'], { CCTL_CA_CERT: leadCa });
    t.is(init.exitCode, 0, init.stderr);
    const committed = readFileSync(join(lead, 'compose.yaml'), 'utf8');
    t.false(committed.includes(leadCa), 'no host path in the committed file');
    t.regex(committed, /ca-cert: \.cctl\/docker\/certs\/extra-ca\.crt/);
    git(lead, 'add', '-A');
    git(lead, 'commit', '-qm', 'cctl');
    rmSync(join(root, 'lead-only'), { recursive: true });
    const clone = join(root, 'mate', 'team');
    mkdirSync(join(root, 'mate'));
    git(join(root, 'mate'), 'clone', '-q', lead, 'team');
    // An empty HOME: cctl never ran here, and the lead's CA file does not exist.
    const mate = { HOME: homes.clone, COMPOSE_PROJECT_NAME: `${name}mate`, CCTL_CA_CERT: undefined };
    const plain = await runSettled([...composeCommand(), '--profile', 'claude', 'config', '-q'], { cwd: clone, env: { ...base, ...mate } });
    t.is(plain.exitCode, 0, plain.stderr);
    const doctor = await cctl('root', clone, ['doctor', '--json'], mate);
    const checks = (JSON.parse(doctor.stdout) as { checks: Array<{ name: string; status: string; detail: string }> }).checks;
    t.deepEqual(
      checks.filter((c) => c.status === 'fail').map((c) => `${c.name}: ${c.detail}`),
      [],
    );
    t.like(
      checks.find((c) => c.name === 'compose-config'),
      { status: 'pass' },
    );
    t.like(
      checks.find((c) => c.name === 'ca-cert'),
      { status: 'pass' },
    );
    // And up works there, with the project's copy of the CA; the committed file stays as the lead wrote it.
    const up = await cctl('root', clone, ['up', '--timeout', '900'], mate);
    t.is(up.exitCode, 0, up.stderr + up.stdout);
    t.is(readFileSync(join(clone, 'compose.yaml'), 'utf8'), committed);
    t.is((await cctl('root', clone, ['exec', '--', 'id', '-u'], mate)).stdout.trim(), '1001');
  },
);
