/**
 * Hostile workspace: files that tell git where a repository's config and hooks are, written from inside a
 * claude-cli (issue 19 item 7, issue 22's tasks). The read-only binds over .git/config and .git/hooks do not
 * cover them:
 *   - `.git/commondir` in the project's own .git (writable in the project's claude-cli, and in every task's,
 *     which mounts the common dir read-write) sends git to another folder for config and hooks;
 *   - a task's worktree `.git` file (not bound in the task) and its admin folder's `commondir` name the git
 *     folder git uses there.
 * Real git, real files; a core.fsmonitor in the attacker's config would touch the marker.
 *
 * Attack first, on main b1e1417 (same repro by hand with its code): `cctl task rm` ran `git status
 * --porcelain` in a worktree whose .git file said `gitdir: evilgit`, and the fsmonitor ran on the host;
 * `.git/commondir` in the project was not named by `up` or `doctor`. Now cctl runs no git there, says why,
 * and the up's path watch names .git/commondir.
 */
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { assertTaskWorktree, listWorktrees, repositoryOf, uncommitted, worktreeGitDir } from '../../lib/ops/task/git.js';
import { taskModel } from '../../lib/ops/task/task-model.js';
import { acceptedFrom, changedSince, protectedBinds } from '../../lib/project/protected-paths.js';
import { CctlError } from '../../lib/kernel/errors.js';
import { scratchDir } from '../helpers/scratch.js';

const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', ['-c', 'user.name=Dev', '-c', 'user.email=dev@example.com', ...args], { cwd, encoding: 'utf8' });

/** A repository with one commit and a task worktree beside it, as `cctl task new` makes them. */
function setUp() {
  const root = scratchDir('cctl-git-redirect-');
  const repo = join(root, 'app');
  mkdirSync(repo);
  git(repo, 'init', '-q', '-b', 'main');
  git(repo, 'commit', '-q', '--allow-empty', '-m', 'start');
  const worktree = join(root, 'tasks', 'one');
  git(repo, 'worktree', 'add', '-q', '-b', 'cctl/one', worktree);
  const marker = join(root, 'host-ran-it');
  return { root, repo, worktree, marker, fsmonitor: `[core]\n\tfsmonitor = "touch ${marker}; false"\n` };
}

/** The attacker's git folder: a config with core.fsmonitor, objects and refs borrowed from the real one. */
function evilGitDir(dir: string, realGit: string, config: string): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'config'), `[core]\n\trepositoryformatversion = 0\n${config.replace('[core]\n', '')}`);
  execFileSync('ln', ['-s', join(realGit, 'objects'), join(dir, 'objects')]);
  execFileSync('ln', ['-s', join(realGit, 'refs'), join(dir, 'refs')]);
  writeFileSync(join(dir, 'HEAD'), readFileSync(join(realGit, 'HEAD')));
}

test('the attack itself: git status in a worktree whose .git file names another folder runs that config', (t) => {
  const s = setUp();
  t.teardown(() => rmSync(s.root, { recursive: true, force: true }));
  git(s.worktree, 'init', '-q', '--bare', 'evilgit');
  writeFileSync(join(s.worktree, 'evilgit', 'config'), `[core]\n\tbare = false\n${s.fsmonitor.replace('[core]\n', '')}`);
  writeFileSync(join(s.worktree, '.git'), 'gitdir: evilgit\n');
  git(s.worktree, 'status', '--porcelain');
  t.true(existsSync(s.marker), 'plain git on the host runs it: what cctl must not do');
});

test("task rm's git status refuses a worktree .git file that names another folder; nothing runs", async (t) => {
  const s = setUp();
  t.teardown(() => rmSync(s.root, { recursive: true, force: true }));
  const repo = await repositoryOf(s.repo);
  t.deepEqual(await uncommitted(repo, s.worktree), [], 'the layout git wrote is accepted, and git runs');
  evilGitDir(join(s.worktree, 'evilgit'), join(s.repo, '.git'), s.fsmonitor);
  writeFileSync(join(s.worktree, '.git'), 'gitdir: evilgit\n');
  const error = await t.throwsAsync(uncommitted(repo, s.worktree), { instanceOf: CctlError });
  t.regex(error!.message, /\.git does not name a folder in .*worktrees \(it names .*evilgit\)/);
  t.regex(error!.hint ?? '', /git worktree repair/);
  t.false(existsSync(s.marker), 'no git ran in the worktree');
});

test("a task's admin folder whose commondir names another folder is refused the same way", async (t) => {
  const s = setUp();
  t.teardown(() => rmSync(s.root, { recursive: true, force: true }));
  const repo = await repositoryOf(s.repo);
  const admin = worktreeGitDir(s.worktree)!;
  evilGitDir(join(s.root, 'evil'), join(s.repo, '.git'), s.fsmonitor);
  writeFileSync(join(admin, 'commondir'), '../../../evil\n');
  t.throws(() => assertTaskWorktree(repo, s.worktree), { message: /commondir does not name/ });
  await t.throwsAsync(uncommitted(repo, s.worktree), { instanceOf: CctlError });
  t.false(existsSync(s.marker));
});

test(".git/commondir in the project's own .git: no task command runs git, and the path watch names it", async (t) => {
  const s = setUp();
  t.teardown(() => rmSync(s.root, { recursive: true, force: true }));
  const accepted = acceptedFrom(protectedBinds(s.repo).states);
  evilGitDir(join(s.repo, 'evil'), join(s.repo, '.git'), s.fsmonitor);
  writeFileSync(join(s.repo, '.git', 'commondir'), '../evil\n');
  // rev-parse itself follows commondir (and runs no fsmonitor): cctl must not take its answer.
  const error = await t.throwsAsync(repositoryOf(s.repo), { instanceOf: CctlError });
  t.regex(error!.message, /takes .*evil as the repository of|commondir exists/);
  t.false(existsSync(s.marker), 'no git that reads config ran');
  t.deepEqual(changedSince(accepted, protectedBinds(s.repo).states), [{ path: '.git/commondir', was: 'absent', now: 'bound' }]);
  // And the attack is real: the user's own git status there would run it.
  git(s.repo, 'status', '--porcelain');
  t.true(existsSync(s.marker));
});

test("a task's stack binds its worktree's .git file and its admin folder's commondir and gitdir read-only", async (t) => {
  const s = setUp();
  t.teardown(() => rmSync(s.root, { recursive: true, force: true }));
  const repo = await repositoryOf(s.repo);
  t.deepEqual(
    (await listWorktrees(repo.top)).map((w) => w.branch),
    ['main', 'cctl/one'],
  );
  const admin = worktreeGitDir(s.worktree)!;
  const model = taskModel(
    { services: { 'claude-cli': { image: 'i', volumes: [{ type: 'bind', source: s.repo, target: '/workspace' }] } } },
    {
      services: ['claude-cli'],
      projectDir: s.repo,
      taskDir: s.worktree,
      commonDir: repo.commonDir,
      worktree: { path: s.worktree, adminDir: admin },
      homeVolume: 'x',
      projectName: 'app',
    },
  ) as { services: Record<string, { volumes: Array<{ source: string; target: string; read_only?: boolean }> }> };
  const ro = model.services['claude-cli']!.volumes.filter((m) => m.read_only).map((m) => [m.source, m.target]);
  t.deepEqual(ro, [
    [join(repo.commonDir, 'hooks'), join(repo.commonDir, 'hooks')],
    [join(repo.commonDir, 'config'), join(repo.commonDir, 'config')],
    [join(s.worktree, '.git'), '/workspace/.git'],
    [join(admin, 'commondir'), join(admin, 'commondir')],
    [join(admin, 'gitdir'), join(admin, 'gitdir')],
  ]);
});
