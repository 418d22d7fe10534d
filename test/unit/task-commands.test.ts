/** `cctl task` with the fake at the process seam: git and Compose as the argv cctl would run, answered by rules. */
import test from 'ava';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import task from '../../lib/commands/task.js';
import { taskPaths } from '../../lib/ops/task/names.js';
import { captureStdout } from '../helpers/output.js';
import { failureOf, FakeEngine, withEngine } from '../helpers/fake-engine.js';
import { ownHome } from '../helpers/project.js';
import { scratchDir } from '../helpers/scratch.js';

ownHome(test, 'task-commands');

function setUp() {
  const dir = scratchDir('cctl-task-unit-');
  const file = join(dir, 'compose.yaml');
  writeFileSync(file, 'services:\n  claude-cli:\n    image: x\n');
  const name = `app${Math.random().toString(36).slice(2, 8)}`;
  const paths = taskPaths({ name }, 'one');
  // What git worktree add writes: the worktree's .git file and its admin folder (git.ts checks them before git runs there).
  const admin = join(dir, '.git', 'worktrees', 'one');
  mkdirSync(admin, { recursive: true });
  writeFileSync(join(admin, 'commondir'), '../..\n');
  writeFileSync(join(admin, 'gitdir'), `${join(paths.worktree, '.git')}\n`);
  mkdirSync(paths.worktree, { recursive: true });
  writeFileSync(join(paths.worktree, '.git'), `gitdir: ${admin}\n`);
  const fake = new FakeEngine();
  fake.on('git rev-parse --show-toplevel --git-common-dir', { stdout: `${dir}\n.git\n` });
  fake.on('git worktree list --porcelain', {
    stdout: `worktree ${dir}\nHEAD aaa\nbranch refs/heads/main\n\nworktree ${paths.worktree}\nHEAD bbb\nbranch refs/heads/cctl/one\n\nworktree /elsewhere/other\nHEAD ccc\nbranch refs/heads/other\n`,
  });
  fake.on('git status --porcelain --untracked-files=all', { stdout: '' });
  fake.on('git log -1 --format=%ct', { stdout: '1764928800\n' });
  fake.on('git worktree remove', { stdout: '' });
  return { dir, globals: { file, projectName: name }, name, paths, fake };
}

const writeTaskFile = (file: string) => {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, '{"services":{}}\n');
};

test.serial('rm refuses a task with untracked files, says which and how, and removes nothing', async (t) => {
  const s = setUp();
  writeTaskFile(s.paths.composeFile);
  s.fake.on('git status --porcelain --untracked-files=all', { stdout: '?? notes.txt\n M src/app.ts\n' });
  const error = await withEngine(s.fake, () => failureOf(() => task(['rm', 'one'], s.globals)));
  t.regex(error?.message ?? '', /uncommitted changes[\s\S]*\?\? notes\.txt[\s\S]*M src\/app\.ts/);
  t.regex(error?.hint ?? '', /--force/);
  t.deepEqual(s.fake.composeCalls(), [], 'no compose call');
  t.deepEqual(s.fake.lines('git worktree remove'), []);
  t.true(existsSync(s.paths.composeFile));
});

test.serial('rm --force takes the stack down by its own file and name, removes the worktree, keeps the branch', async (t) => {
  const s = setUp();
  writeTaskFile(s.paths.composeFile);
  s.fake.on('git status --porcelain --untracked-files=all', { stdout: '?? notes.txt\n' });
  const { result, out } = await withEngine(s.fake, () =>
    captureStdout(() => task(['rm', 'one', '--', 'ignored'], { ...s.globals, force: true })),
  );
  t.is(result, 0);
  const down = s.fake.composeCalls().find((argv) => argv.includes('down'))!;
  t.deepEqual(down.slice(down.indexOf('-f'), down.indexOf('-f') + 4), ['-f', s.paths.composeFile, '-p', `${s.name}-task-one`]);
  t.deepEqual(s.fake.lines('git worktree remove'), [`git worktree remove --force --force ${s.paths.worktree}`]);
  t.false(s.fake.lines('git branch').length > 0, 'no branch is deleted');
  t.false(existsSync(s.paths.composeFile));
  t.regex(out, /1 uncommitted change\(s\) discarded\. Branch cctl\/one and its commits are kept/);
});

test.serial('rm of a task that does not exist names the list', async (t) => {
  const s = setUp();
  s.fake.on('git worktree list --porcelain', { stdout: `worktree ${s.dir}\nHEAD aaa\nbranch refs/heads/main\n` });
  const error = await withEngine(s.fake, () => failureOf(() => task(['rm', 'one'], s.globals)));
  t.regex(error?.message ?? '', /no task "one"/);
  t.regex(error?.hint ?? '', /cctl task list/);
});

test.serial('a bad name or action is a usage error (exit 2) before any git or docker call', async (t) => {
  const s = setUp();
  for (const args of [['new', 'Fix/Login'], ['new', '-x'], ['new'], ['frobnicate', 'one'], []]) {
    const error = await withEngine(s.fake, () => failureOf(() => task(args, s.globals)));
    t.is(error?.exitCode, 2, args.join(' '));
  }
  t.deepEqual(s.fake.calls, []);
});

test.serial('list --json: only the worktrees under the tasks folder, with branch, state and health from the engine', async (t) => {
  const s = setUp();
  // A task runs claude-cli only (its gateway is the project's): its health is the task's.
  s.fake.withContainers([{ service: 'claude-cli', health: 'starting' }]);
  const { out } = await withEngine(s.fake, () => captureStdout(() => task(['list'], { ...s.globals, json: true })));
  const tasks = JSON.parse(out) as Array<Record<string, unknown>>;
  t.is(tasks.length, 1);
  t.like(tasks[0], {
    name: 'one',
    branch: 'cctl/one',
    worktree: s.paths.worktree,
    composeProject: `${s.name}-task-one`,
    state: 'running',
    health: 'starting',
    lastActivity: '2025-12-05T10:00:00.000Z',
  });
  t.true(s.fake.lines('docker ps -aq').some((l) => l.includes(`com.docker.compose.project=${s.name}-task-one`)));
});

test.serial('exec runs the command in the task stack, argv untouched, status passed through', async (t) => {
  const s = setUp();
  writeTaskFile(s.paths.composeFile);
  s.fake.on(/ exec /, { exitCode: 7 });
  const status = await withEngine(s.fake, () => task(['exec', 'one', '--', 'git', 'log', '-1', '--format=%an'], s.globals));
  t.is(status, 7);
  const [argv] = s.fake.composeCalls('interactive');
  t.deepEqual(argv!.slice(argv!.indexOf('exec')), ['exec', '-T', '-w', '/workspace', 'claude-cli', 'git', 'log', '-1', '--format=%an']);
  t.true(argv!.includes(`${s.name}-task-one`));
});

test.serial('exec without a command, or into a task that is not there, says what to do', async (t) => {
  const s = setUp();
  writeTaskFile(s.paths.composeFile);
  const none = await withEngine(s.fake, () => failureOf(() => task(['exec', 'one'], s.globals)));
  t.is(none?.exitCode, 2);
  const other = await withEngine(s.fake, () => failureOf(() => task(['claude', 'two'], s.globals)));
  t.regex(other?.message ?? '', /no task "two"/);
});

test.serial('new refuses before touching git when the project was never started with cctl up', async (t) => {
  const s = setUp();
  const error = await withEngine(s.fake, () => failureOf(() => task(['new', 'two'], s.globals)));
  t.regex(error?.message ?? '', /has not been started with cctl up/);
  t.regex(error?.hint ?? '', /Run "cctl up"/);
  t.deepEqual(s.fake.lines('git worktree add'), []);
});

test.serial('new refuses a name that is already a task', async (t) => {
  const s = setUp();
  const error = await withEngine(s.fake, () => failureOf(() => task(['new', 'one'], s.globals)));
  t.regex(error?.message ?? '', /already a task "one"/);
});
