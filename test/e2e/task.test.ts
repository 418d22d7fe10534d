/**
 * `cctl task` on the real engine: a task is a git worktree on its own branch
 * with a stack of its own, sharing the project's images and login. git works
 * inside as claude with the host's identity, the main repository's hooks and
 * config cannot be written from inside, and `task rm` keeps the branch and
 * refuses to lose uncommitted work. Runs as a regular user (git inside writes
 * the host's .git with the host user's UID).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { e2e } from '../helpers/e2e.js';
import { CLI, composeCommand, e2eEnv } from '../helpers/cli.js';
import { asRegularUser, giveToRegularUser } from '../helpers/regular-user.js';
import { run, runSettled, type RunResult } from '../../lib/engine/runner.js';
import { removeProjectImages } from '../helpers/project.js';

const root = mkdtempSync(join(tmpdir(), 'cctl-task-'));
const name = `cctle2etask${randomBytes(3).toString('hex')}`;
const dir = join(root, name);
const home = join(root, 'home');
const taskProject = `${name}-task-one`;
const worktree = join(home, '.config', 'cctl', 'projects', name, 'tasks', 'one');
const IDENTITY = 'Task Tester <task-tester@example.test>';
mkdirSync(dir);
mkdirSync(home);
writeFileSync(
  join(home, '.gitconfig'),
  '[user]\n\tname = Task Tester\n\temail = task-tester@example.test\n[init]\n\tdefaultBranch = main\n',
);
giveToRegularUser(root);
const env = e2eEnv({ HOME: home });
for (const key of ['COMPOSE_PROJECT_NAME', 'GIT_AUTHOR_NAME', 'GIT_AUTHOR_EMAIL', 'GIT_COMMITTER_NAME', 'GIT_COMMITTER_EMAIL'])
  delete env[key];

const cctl = (args: string[]): Promise<RunResult> => runSettled([...asRegularUser, 'node', CLI, ...args], { cwd: dir, env });
const git = (...args: string[]) =>
  execFileSync(asRegularUser[0] ?? 'git', [...asRegularUser.slice(1), ...(asRegularUser.length ? ['git'] : []), ...args], {
    cwd: dir,
    env,
    encoding: 'utf8',
  });
const asUserWrite = (file: string, text: string) =>
  execFileSync(
    asRegularUser[0] ?? 'sh',
    [...asRegularUser.slice(1), ...(asRegularUser.length ? ['sh'] : []), '-c', 'cat > "$1"', 'w', file],
    {
      input: text,
    },
  );
const inTask = (script: string) => cctl(['task', 'exec', 'one', '--', 'sh', '-c', script]);
const inspect = async (container: string) => JSON.parse((await run(['docker', 'inspect', container])).stdout)[0];
const containerOf = async (project: string, service: string) =>
  (
    await run([
      'docker',
      'ps',
      '-q',
      '--filter',
      `label=com.docker.compose.project=${project}`,
      '--filter',
      `label=com.docker.compose.service=${service}`,
    ])
  ).stdout.trim();
const composeProjects = async () =>
  (JSON.parse((await run(['docker', 'compose', 'ls', '-a', '--format', 'json'])).stdout) as Array<{ Name: string }>).map((p) => p.Name);

e2e.after.always(async () => {
  await run([...composeCommand(), '-p', taskProject, 'down', '--timeout', '1'], { env }).catch(() => undefined);
  await run([...composeCommand(), '-f', join(dir, 'compose.yaml'), '-p', name, '--profile', 'claude', 'down', '-v', '--timeout', '1'], {
    cwd: dir,
    env,
  }).catch(() => undefined);
  await removeProjectImages(name);
  rmSync(root, { recursive: true, force: true });
});

e2e.serial('task new, git inside as the host identity, list, rm refusing dirty work, rm --force keeping the branch', async (t) => {
  git('init', '-q');
  t.is((await cctl(['init'])).exitCode, 0);
  writeFileSync(join(dir, 'README.md'), 'app\n');
  giveToRegularUser(dir);
  git('add', '-A');
  git('commit', '-qm', 'app with its claude profile');
  const upStart = Date.now();
  const up = await cctl(['up', '--json', '--timeout', '900']);
  t.is(up.exitCode, 0, up.stderr + up.stdout);
  const upMs = Date.now() - upStart;
  const mainCli = await containerOf(name, 'claude-cli');
  const mainProxy = await containerOf(name, 'proxy');

  // A task goes through the project's gateway: with it stopped, task new refuses before making anything.
  await run(['docker', 'stop', '-t', '1', mainProxy]);
  const noGateway = await cctl(['task', 'new', 'one']);
  t.is(noGateway.exitCode, 1, noGateway.stderr + noGateway.stdout);
  t.regex(noGateway.stderr, /gateway \(proxy\) is exited[\s\S]*cctl up/);
  t.false(existsSync(worktree));
  t.notRegex(git('branch', '--list'), /cctl\/one/);
  const again = await cctl(['up', '--timeout', '300']);
  t.is(again.exitCode, 0, again.stderr + again.stdout);
  t.is(await containerOf(name, 'claude-cli'), mainCli, "up started the project's gateway again and left claude-cli as it was");

  const newStart = Date.now();
  const made = await cctl(['task', 'new', 'one', '--json']);
  t.is(made.exitCode, 0, made.stderr + made.stdout);
  // A figure for the log (the bench goal is issue 22's): the task reuses the project's images.
  t.log(`project cctl up (cold, builds): ${upMs} ms; cctl task new to healthy: ${Date.now() - newStart} ms`);
  t.like(JSON.parse(made.stdout), { name: 'one', branch: 'cctl/one', worktree, composeProject: taskProject });
  // Plain git and Compose show the task.
  t.regex(git('worktree', 'list'), new RegExp(`${worktree}\\s+\\w+ \\[cctl/one\\]`));
  t.true((await composeProjects()).includes(taskProject));

  // The container, as the engine reports it: the project's home volume, the main .git at its own path, hooks and config read-only.
  const cli = await inspect(await containerOf(taskProject, 'claude-cli'));
  const mount = (target: string) => cli.Mounts.find((m: { Destination: string }) => m.Destination === target);
  t.is(mount('/home/claude')?.Name, `${name}_claude-home`);
  t.is(mount('/workspace')?.Source, worktree);
  const gitDir = join(dir, '.git');
  t.is(mount(gitDir)?.RW, true);
  t.is(mount(join(gitDir, 'hooks'))?.RW, false);
  t.is(mount(join(gitDir, 'config'))?.RW, false);
  // claude-cli only, on the project's network, through the project's gateway.
  t.deepEqual(Object.keys(cli.NetworkSettings.Networks), [`${name}_default`]);
  t.is(await containerOf(taskProject, 'proxy'), '');
  t.regex(cli.Config.Env.join('\n'), /^ANTHROPIC_BASE_URL=http:\/\/proxy:3000$/m);

  // One login: what the project's claude-cli writes in its home, the task's sees.
  t.is((await cctl(['exec', '--', 'sh', '-c', 'echo shared > /home/claude/.task-e2e-mark'])).exitCode, 0);
  t.is((await inTask('cat /home/claude/.task-e2e-mark')).stdout.trim(), 'shared');

  // git inside, as claude, with the host's identity; the commit lands on the task's branch.
  const commit = await inTask(
    'whoami && git status --porcelain && echo app >> README.md && git diff --stat && git commit -qam "from the task" && git log -1 --format="%an <%ae>|%cn <%ce>"',
  );
  t.is(commit.exitCode, 0, commit.stderr + commit.stdout);
  t.deepEqual(commit.stdout.trim().split('\n'), [
    'claude',
    ' README.md | 1 +',
    ' 1 file changed, 1 insertion(+)',
    `${IDENTITY}|${IDENTITY}`,
  ]);
  t.is(git('log', '-1', '--format=%s|%an <%ae>', 'cctl/one').trim(), `from the task|${IDENTITY}`);
  t.is(git('log', '-1', '--format=%s', 'main').trim(), 'app with its claude profile', 'the project branch did not move');

  // The main repository's hooks and config cannot be written from inside.
  const hook = await inTask(`echo 'touch /tmp/pwned' > ${gitDir}/hooks/post-checkout && chmod +x ${gitDir}/hooks/post-checkout`);
  t.not(hook.exitCode, 0);
  t.regex(hook.stderr, /Read-only file system/);
  t.false(existsSync(join(gitDir, 'hooks', 'post-checkout')));
  const config = await inTask('git config core.hooksPath /workspace/hooks');
  t.not(config.exitCode, 0);
  t.is(git('config', '--default', 'unset', '--get', 'core.hooksPath').trim(), 'unset');

  // Nor the files that tell git where the repository is: a worktree .git file saying `gitdir: evil` (with a
  // core.fsmonitor in evil/config) made `cctl task rm`'s git status run it on the host (main b1e1417).
  const marker = join(root, 'host-ran-it');
  const admin = join(gitDir, 'worktrees', 'one');
  const evil = `git init -q --bare evil && printf '[core]\\n\\tbare = false\\n\\tfsmonitor = "touch ${marker}; false"\\n' > evil/config`;
  for (const [file, text] of [
    ['/workspace/.git', 'gitdir: evil'],
    [join(admin, 'commondir'), '../../../../workspace-evil'],
    [join(admin, 'gitdir'), '/workspace/evil'],
  ]) {
    const redirect = await inTask(`${evil}; echo '${text}' > ${file}`);
    t.not(redirect.exitCode, 0, `${file} is read-only in the task`);
    t.regex(redirect.stderr, /Read-only file system/);
  }
  t.regex(readFileSync(join(worktree, '.git'), 'utf8'), /^gitdir: .*worktrees\/one\n$/);
  // Written on the host's side (a task made before these binds), cctl still runs no git there.
  const dotGit = readFileSync(join(worktree, '.git'), 'utf8');
  asUserWrite(join(worktree, '.git'), 'gitdir: evil\n');
  const guarded = await cctl(['task', 'rm', 'one']);
  t.is(guarded.exitCode, 1);
  t.regex(guarded.stderr, /does not name a folder in .*worktrees[\s\S]*git worktree repair/);
  t.false(existsSync(marker), 'no git ran in the redirected worktree');
  asUserWrite(join(worktree, '.git'), dotGit);
  t.is((await inTask('rm -rf evil')).exitCode, 0);

  const listed = await cctl(['task', 'list', '--json']);
  t.is(listed.exitCode, 0, listed.stderr);
  const tasks = JSON.parse(listed.stdout) as Array<Record<string, unknown>>;
  t.is(tasks.length, 1);
  t.like(tasks[0], { name: 'one', branch: 'cctl/one', worktree, composeProject: taskProject, state: 'running', health: 'healthy' });
  t.regex(String(tasks[0]!.lastActivity), /^\d{4}-\d\d-\d\dT/);

  // Uncommitted work (an untracked file) is refused, and nothing is removed.
  t.is((await inTask('echo draft > untracked.txt')).exitCode, 0);
  const refused = await cctl(['task', 'rm', 'one']);
  t.is(refused.exitCode, 1);
  t.regex(refused.stderr, /uncommitted changes[\s\S]*untracked\.txt[\s\S]*--force/);
  t.true(existsSync(join(worktree, 'untracked.txt')));
  t.true((await composeProjects()).includes(taskProject));

  const removed = await cctl(['task', 'rm', 'one', '--force']);
  t.is(removed.exitCode, 0, removed.stderr);
  t.false(existsSync(worktree));
  t.false((await composeProjects()).includes(taskProject));
  t.notRegex(git('worktree', 'list'), /cctl\/one/);
  t.is(git('log', '-1', '--format=%s', 'cctl/one').trim(), 'from the task', 'the branch and its commit stay');
  // The project's own stack was untouched throughout.
  t.is(await containerOf(name, 'claude-cli'), mainCli);
  t.is((await inspect(mainCli)).State.Health.Status, 'healthy');
});
