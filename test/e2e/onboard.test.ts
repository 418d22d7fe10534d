/**
 * A new team member's path on the real engine: the onboarding script in a
 * fresh project until healthy, then again as a no-op; then the home volume
 * through backup → down --volumes → restore → up, byte for byte; and bad or
 * unwanted restores that must leave the volume exactly as it was.
 */
import { createHash } from 'node:crypto';
import { readFileSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { e2e, missing } from '../helpers/e2e.js';
import { tempProject, removeProjectImages } from '../helpers/project.js';
import { machineImageName } from '../../lib/project/machine-file.js';
import { cctl, CLI, e2eEnv } from '../helpers/cli.js';
import { ProcessError, run, type RunResult } from '../../lib/engine/runner.js';
import { privateDir } from '../../lib/project/private-dir.js';

// Without an engine the e2e gate skips these (under CI=true it fails instead).
const serial = e2e.serial;

const tmp = tempProject('onboard');
const env = e2eEnv({ COMPOSE_PROJECT_NAME: tmp.name, CCTL: `node ${CLI}` });
const volume = `${tmp.name}_claude-home`;
const script = join(tmp.dir, 'scripts', 'onboard.sh');
const backupFile = join(tmp.dir, 'home-backup.tar.gz');

const LOGIN_PATH = '/home/claude/.claude/.claude.json';
const USAGE_PATH = '/home/claude/.claude/projects/-workspace/e2e-session.jsonl';
const login = `${JSON.stringify({ oauthAccount: { emailAddress: 'e2e@example.com' }, hasCompletedOnboarding: true })}\n`;
const usage = readFileSync(new URL('../fixtures/ccusage-20.0.24/usage.jsonl', import.meta.url));

test.after.always(async () => {
  if (missing) return tmp.cleanup();
  await cctl(['down', '--volumes', '--yes'], { cwd: tmp.dir, env });
  await run(['docker', 'volume', 'rm', '-f', volume]).catch(() => undefined);
  // Only the tags go: the layers are shared with every other test project's build.
  await removeProjectImages(tmp.name);
  rmSync(privateDir(tmp.name, env), { recursive: true, force: true });
  tmp.cleanup();
});

async function attempt(command: string[], options: { cwd?: string; input?: string | Buffer } = {}): Promise<RunResult> {
  try {
    return await run(command, { env, ...options });
  } catch (error) {
    if (error instanceof ProcessError) return error;
    throw error;
  }
}

async function cliContainer(): Promise<string> {
  const { stdout } = await run([
    'docker',
    'ps',
    '-q',
    '--filter',
    `label=com.docker.compose.project=${tmp.name}`,
    '--filter',
    'label=com.docker.compose.service=claude-cli',
  ]);
  const id = stdout.trim();
  if (!id) throw new Error('claude-cli is not running');
  return id;
}

/** Runs sh as `claude` in the running claude-cli container. */
async function asClaude(command: string, input?: Buffer | string): Promise<string> {
  return (await run(['docker', 'exec', '-i', '-u', 'claude', await cliContainer(), 'sh', '-c', command], { input })).stdout;
}

/** Every path in the volume with owner, mode and content hash: "unchanged" means this is equal. */
async function volumeListing(): Promise<string> {
  const { stdout } = await run([
    'docker',
    'run',
    '--rm',
    '--network',
    'none',
    '-v',
    `${volume}:/v:ro`,
    '--entrypoint',
    'sh',
    machineImageName(tmp, 'claude-cli'),
    '-c',
    'cd /v && find . -exec stat -c "%n %u:%g %a %s" {} + | sort && find . -type f -exec sha256sum {} + | sort',
  ]);
  return stdout;
}

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

serial('init writes the onboarding script, executable', async (t) => {
  const r = await cctl(['init'], { cwd: tmp.dir, env });
  t.is(r.exitCode, 0, r.stderr);
  t.regex(r.stdout, /scripts\/onboard\.sh/);
  t.is(statSync(script).mode & 0o777, 0o755);
});

serial('the onboarding script, non-interactive, reaches healthy from nothing', async (t) => {
  const r = await attempt([script, '--yes'], { cwd: tmp.dir });
  t.is(r.exitCode, 0, `${r.stdout}\n${r.stderr}`);
  t.regex(r.stdout, /==> Checking Docker, Compose and Node/);
  t.regex(r.stdout, /Done: the Claude environment is up and healthy/);
  t.regex(r.stdout, /cctl claude +start Claude Code; the first time, log in with \/login/);
  const status = await cctl(['status', '--json'], { cwd: tmp.dir, env });
  const doc = JSON.parse(status.stdout) as { services: Array<{ name: string; state: string; health: string }> };
  t.deepEqual(
    doc.services.map((s) => `${s.name} ${s.state} ${s.health}`),
    ['claude-cli running healthy', 'proxy running healthy'],
  );
});

serial('a second run is a no-op and says so', async (t) => {
  const compose = readFileSync(join(tmp.dir, 'compose.yaml'));
  const container = await cliContainer();
  const started = (await run(['docker', 'inspect', '-f', '{{.State.StartedAt}}', container])).stdout;
  // From another folder, as a person might run it: the script finds its project.
  const r = await attempt(['sh', script, '--yes'], { cwd: '/' });
  t.is(r.exitCode, 0, `${r.stdout}\n${r.stderr}`);
  t.regex(r.stdout, /Nothing to do: the environment was already healthy and current, and this run changed nothing/);
  t.deepEqual(readFileSync(join(tmp.dir, 'compose.yaml')), compose);
  t.is(await cliContainer(), container);
  t.is((await run(['docker', 'inspect', '-f', '{{.State.StartedAt}}', container])).stdout, started);
});

serial('backup → down --volumes → restore → up brings the login and usage back byte for byte', async (t) => {
  await asClaude(`mkdir -p "$(dirname ${USAGE_PATH})" && cat > ${LOGIN_PATH} && chmod 600 ${LOGIN_PATH}`, login);
  await asClaude(`cat > ${USAGE_PATH}`, usage);

  const saved = await cctl(['backup', backupFile, '--json'], { cwd: tmp.dir, env });
  t.is(saved.exitCode, 0, saved.stderr);
  const result = JSON.parse(saved.stdout) as { ok: boolean; file: string; volume: string; entries: number };
  t.like(result, { ok: true, file: backupFile, volume });
  t.true(result.entries >= 4);
  t.is(statSync(backupFile).mode & 0o777, 0o600, 'the backup holds tokens');

  // While the stack runs, restore refuses: files would change under Claude.
  const busy = await cctl(['restore', '--force', backupFile], { cwd: tmp.dir, env });
  t.is(busy.exitCode, 1);
  t.regex(busy.stderr, /is in use by .*claude-cli/);

  t.is((await cctl(['down', '--volumes', '--yes'], { cwd: tmp.dir, env })).exitCode, 0);
  t.is((await attempt(['docker', 'volume', 'inspect', volume])).exitCode, 1, 'the volume is gone');

  const restored = await cctl(['restore', backupFile, '--json'], { cwd: tmp.dir, env });
  t.is(restored.exitCode, 0, restored.stderr);
  t.like(JSON.parse(restored.stdout), { ok: true, created: true, entries: result.entries });

  const up = await cctl(['up', '--timeout', '300'], { cwd: tmp.dir, env });
  t.is(up.exitCode, 0, up.stderr);
  t.notRegex(up.stderr, /already exists but was not created by Docker Compose/);
  t.is((await asClaude(`sha256sum < ${LOGIN_PATH}`)).split(' ')[0], sha256(login));
  t.is((await asClaude(`sha256sum < ${USAGE_PATH}`)).split(' ')[0], sha256(usage));
  t.is((await asClaude(`stat -c '%U %a' ${LOGIN_PATH}`)).trim(), 'claude 600');
  // ccusage reads the restored JSONL: the usage data works, not just exists.
  const daily = await cctl(['usage', 'daily', '--json', '--offline'], { cwd: tmp.dir, env });
  t.is(daily.exitCode, 0, daily.stderr);
  t.true((JSON.parse(daily.stdout) as { daily: unknown[] }).daily.length > 0);
});

serial('a truncated archive and an unforced restore over data are refused; the volume is unchanged', async (t) => {
  t.is((await cctl(['down'], { cwd: tmp.dir, env })).exitCode, 0);
  const before = await volumeListing();
  t.regex(before, /\.claude\/\.claude\.json 1001:1001 600|\.claude\/\.claude\.json \d+:\d+ 600/);

  const whole = readFileSync(backupFile);
  const truncated = join(tmp.dir, 'truncated.tar.gz');
  writeFileSync(truncated, whole.subarray(0, Math.floor(whole.length * 0.6)));
  const bad = await cctl(['restore', '--force', truncated], { cwd: tmp.dir, env });
  t.is(bad.exitCode, 1);
  t.regex(bad.stderr, /not a usable backup: it is truncated/);
  t.is(await volumeListing(), before);

  const unforced = await cctl(['restore', backupFile], { cwd: tmp.dir, env });
  t.is(unforced.exitCode, 1);
  t.regex(unforced.stderr, /already holds data; restore will not replace it without --force/);
  t.is(await volumeListing(), before);

  // No helper container is left behind by any of it.
  const helpers = await run(['docker', 'ps', '-aq', '--filter', `label=dev.cctl.helper=${tmp.name}`]);
  t.is(helpers.stdout.trim(), '');
  t.false(existsSync(join(tmp.dir, '.truncated.tar.gz.partial')));
});

serial('a forced restore replaces the data, and backup names itself with the time', async (t) => {
  const before = await volumeListing();
  const forced = await cctl(['restore', '--force', backupFile], { cwd: tmp.dir, env });
  t.is(forced.exitCode, 0, forced.stderr);
  t.regex(forced.stdout, /Restored \d+ entries/);
  // Same content, owners and modes (the restore went through a swap, not in place).
  const strip = (s: string) =>
    s
      .split('\n')
      .filter((l) => !/^\. /.test(l))
      .join('\n');
  t.is(strip(await volumeListing()), strip(before));

  const named = await cctl(['backup'], { cwd: tmp.dir, env });
  t.is(named.exitCode, 0, named.stderr);
  // By default in the private folder, outside the project (git, claude-cli), owner-only.
  const m = /to (\S+)\n/.exec(named.stdout);
  t.truthy(m, named.stdout);
  t.is(m![1], join(privateDir(tmp.name, env), 'backups', m![1]!.split('/').pop()!));
  t.regex(m![1]!, /\/cctl-[a-z0-9]+-home-\d{8}-\d{6}\.tar\.gz$/);
  t.is(statSync(m![1]!).mode & 0o777, 0o600);
});
