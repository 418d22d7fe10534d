/**
 * Two tasks at once, on the real engine: each runs the real `claude -p`
 * through the project's gateway against the fake Messages API at the same
 * time, and both answer; `git worktree list` and `docker compose ls` show the
 * same tasks; each commits inside its container, and the commits land
 * on the task's branch with the host's identity; `task list --json` shows
 * both with the tokens each used (by ccusage, attributed by branch), which
 * add up to what the shared home holds; the project's own stack is
 * untouched; `task rm` of a clean task removes it and keeps its branch. Engine 26 with Compose v2 (tasks need v2). Runs as a regular user.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { e2e, BASE_IMAGE } from '../helpers/e2e.js';
import { CLI, composeCommand, e2eEnv } from '../helpers/cli.js';
import { scratchDir } from '../helpers/scratch.js';
import { asRegularUser, giveToRegularUser } from '../helpers/regular-user.js';
import { startFakeUpstream } from '../helpers/fake-upstream.js';
import { FAKE_MESSAGES_API, REPLY } from '../helpers/fake-messages.js';
import { proxyEnvFile } from '../../lib/project/secrets.js';
import { run, runSettled, type RunResult } from '../../lib/engine/runner.js';

const root = scratchDir('cctl-taskpar-');
const name = `cctle2etaskpar${randomBytes(3).toString('hex')}`;
const dir = join(root, name);
const home = join(root, 'home');
const fakeName = `${name}-fake`;
const IDENTITY = 'Task Tester <task-tester@example.test>';
mkdirSync(dir);
mkdirSync(join(root, 'fake'));
mkdirSync(home);
writeFileSync(join(root, 'fake', 'fake.mjs'), FAKE_MESSAGES_API);
writeFileSync(
  join(home, '.gitconfig'),
  '[user]\n\tname = Task Tester\n\temail = task-tester@example.test\n[init]\n\tdefaultBranch = main\n',
);
giveToRegularUser(root);
const env = e2eEnv({ HOME: home });
for (const key of [
  'COMPOSE_PROJECT_NAME',
  'ANTHROPIC_API_KEY',
  'ANTHROPIC_AUTH_TOKEN',
  'GIT_AUTHOR_NAME',
  'GIT_AUTHOR_EMAIL',
  'GIT_COMMITTER_NAME',
  'GIT_COMMITTER_EMAIL',
])
  delete env[key];

const cctl = (args: string[], timeoutMs = 600_000): Promise<RunResult> =>
  runSettled([...asRegularUser, 'node', CLI, ...args], { cwd: dir, env, timeoutMs });
const git = (...args: string[]) =>
  execFileSync(asRegularUser[0] ?? 'git', [...asRegularUser.slice(1), ...(asRegularUser.length ? ['git'] : []), ...args], {
    cwd: dir,
    env,
    encoding: 'utf8',
  });
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
const TASKS = ['one', 'two'];

e2e.after.always(async () => {
  for (const task of TASKS)
    await run([...composeCommand(), '-p', `${name}-task-${task}`, 'down', '--timeout', '1'], { env }).catch(() => undefined);
  await run([...composeCommand(), '-f', join(dir, 'compose.yaml'), '-p', name, '--profile', 'claude', 'down', '-v', '--timeout', '1'], {
    cwd: dir,
    env,
  }).catch(() => undefined);
  await run(['docker', 'rm', '-f', fakeName]).catch(() => undefined);
  const images = (await run(['docker', 'images', '--format', '{{.Repository}}:{{.Tag}}'])).stdout
    .split('\n')
    .filter((i) => i.includes(name));
  if (images.length) await run(['docker', 'image', 'rm', ...images]).catch(() => undefined);
  rmSync(root, { recursive: true, force: true });
});

e2e.serial('two tasks run claude -p at once and both answer; commits land on each branch as the host; tokens per task', async (t) => {
  // The fake Messages API on a host port, reached through the bridge's gateway address from every task's own network.
  const { port: fakePort, hostIp } = await startFakeUpstream(fakeName, join(root, 'fake'));

  git('init', '-q');
  const init = await cctl(['init', '--auth', 'team-key', '--upstream', `http://${hostIp}:${fakePort}`]);
  t.is(init.exitCode, 0, init.stderr + init.stdout);
  const proxyEnv = proxyEnvFile(name, env);
  writeFileSync(proxyEnv, readFileSync(proxyEnv, 'utf8').replace(/^ANTHROPIC_API_KEY=$/m, 'ANTHROPIC_API_KEY=sk-task-test-key'));
  writeFileSync(join(dir, 'README.md'), 'app\n');
  giveToRegularUser(dir);
  git('add', '-A');
  git('commit', '-qm', 'app with its claude profile');
  const up = await cctl(['up', '--timeout', '900']);
  t.is(up.exitCode, 0, up.stderr + up.stdout);
  const mainCli = await containerOf(name, 'claude-cli');

  for (const task of TASKS) {
    const made = await cctl(['task', 'new', task]);
    t.is(made.exitCode, 0, made.stderr + made.stdout);
  }
  // Plain git and Compose show the same tasks.
  const tasksHome = join(home, '.config', 'cctl', 'projects', name, 'tasks');
  const gitTasks = () =>
    git('worktree', 'list', '--porcelain')
      .split('\n')
      .filter((l) => l.startsWith(`worktree ${tasksHome}/`))
      .map((l) => l.slice(`worktree ${tasksHome}/`.length))
      .sort();
  const composeTasks = async () =>
    (JSON.parse((await run(['docker', 'compose', 'ls', '-a', '--format', 'json'])).stdout) as Array<{ Name: string }>)
      .map((p) => p.Name)
      .filter((p) => p.startsWith(`${name}-task-`))
      .map((p) => p.slice(`${name}-task-`.length))
      .sort();
  t.deepEqual(gitTasks(), TASKS);
  t.deepEqual(await composeTasks(), TASKS);

  // At the same time, on one shared home: both answer.
  const started = Date.now();
  const answers = await Promise.all(TASKS.map((task) => cctl(['task', 'claude', task, '--', '-p', `say hello from ${task}`], 240_000)));
  t.log(`two claude -p at once: ${Date.now() - started} ms`);
  for (const [i, answer] of answers.entries()) {
    t.is(answer.exitCode, 0, `${TASKS[i]}: ${answer.stdout}${answer.stderr.slice(-2000)}`);
    t.true(answer.stdout.includes(REPLY), `${TASKS[i]}: ${answer.stdout}`);
  }

  // Each commits inside its own container, at the same time; each commit is on its own branch, as the host's identity.
  const commits = await Promise.all(
    TASKS.map((task) =>
      cctl(['task', 'exec', task, '--', 'sh', '-c', `echo ${task} > ${task}.txt && git add ${task}.txt && git commit -qm "from ${task}"`]),
    ),
  );
  for (const [i, commit] of commits.entries()) t.is(commit.exitCode, 0, `${TASKS[i]}: ${commit.stderr}`);
  for (const task of TASKS) {
    t.is(git('log', '-1', '--format=%s|%an <%ae>|%cn <%ce>', `cctl/${task}`).trim(), `from ${task}|${IDENTITY}|${IDENTITY}`);
    t.is(git('show', '--name-only', '--format=', `cctl/${task}`).trim(), `${task}.txt`, 'only its own file');
  }
  t.is(git('log', '-1', '--format=%s', 'main').trim(), 'app with its claude profile', 'the project branch did not move');

  // task list --json: both, running and healthy, each with the tokens of its own branch.
  const listed = await cctl(['task', 'list', '--json']);
  t.is(listed.exitCode, 0, listed.stderr);
  const tasks = JSON.parse(listed.stdout) as Array<{ name: string; state: string; health: string; tokens?: { total: number } }>;
  t.deepEqual(tasks.map((x) => x.name).sort(), TASKS);
  for (const x of tasks) {
    t.like(x, { state: 'running', health: 'healthy' }, x.name);
    t.true((x.tokens?.total ?? 0) > 0, `${x.name}: ${JSON.stringify(x.tokens)}`);
  }
  // The shared home holds both tasks' transcripts and nothing else: the two add up to ccusage's total over all of it.
  const usage = await cctl(['usage', 'daily', '--json', '--offline']);
  t.is(usage.exitCode, 0, usage.stderr);
  const whole = (JSON.parse(usage.stdout) as { totals: { totalTokens: number } }).totals.totalTokens;
  t.is(
    tasks.reduce((sum, x) => sum + x.tokens!.total, 0),
    whole,
  );
  const text = await cctl(['task', 'list']);
  t.regex(text.stdout, /TOKENS/);

  // The project's own stack was untouched throughout.
  t.is(await containerOf(name, 'claude-cli'), mainCli);
  // Clean tasks (their work committed): task rm takes them without --force, and their branches stay.
  for (const task of TASKS) {
    const removed = await cctl(['task', 'rm', task]);
    t.is(removed.exitCode, 0, removed.stderr);
    t.is(git('log', '-1', '--format=%s', `cctl/${task}`).trim(), `from ${task}`);
  }
  t.deepEqual(gitTasks(), []);
  t.deepEqual(await composeTasks(), []);
  t.is(await containerOf(name, 'claude-cli'), mainCli);
});
