/**
 * Hostile workspace: `config.worktree`, the per-worktree config git reads when `extensions.worktreeConfig`
 * is on (`git sparse-checkout init` turns it on and writes the file). The read-only bind covered
 * `.git/config` only, so claude-cli could add `core.fsmonitor` to `.git/config.worktree`, and a task's
 * claude-cli to its admin folder's one; the host's git status (the user's, or `cctl task rm`'s) then ran it.
 * Real git, real files; the fsmonitor touches a marker.
 *
 * Attack first, on main f1795cb: the first test's attack ran, and up's path watch named nothing; cctl task's
 * git ran a task admin folder's config.worktree. Now .git/config.worktree is a protected path (read-only
 * where it exists, named when it appears), and cctl runs no git past a config.worktree with a command.
 */
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { CctlError } from '../../lib/kernel/errors.js';
import { repositoryOf, uncommitted, worktreeGitDir } from '../../lib/ops/task/git.js';
import { acceptedFrom, changedSince, describePathChanges, protectedBinds } from '../../lib/project/protected-paths.js';
import { scratchDir } from '../helpers/scratch.js';

const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', ['-c', 'user.name=Dev', '-c', 'user.email=dev@example.com', ...args], { cwd, encoding: 'utf8' });

/** A sparse checkout (worktreeConfig on, as git sparse-checkout leaves it) with a task worktree beside it. */
function setUp() {
  const root = scratchDir('cctl-wt-config-');
  const repo = join(root, 'app');
  mkdirSync(repo);
  git(repo, 'init', '-q', '-b', 'main');
  git(repo, 'commit', '-q', '--allow-empty', '-m', 'start');
  git(repo, 'sparse-checkout', 'init', '--cone');
  const worktree = join(root, 'tasks', 'one');
  git(repo, 'worktree', 'add', '-q', '-b', 'cctl/one', worktree);
  const marker = join(root, 'host-ran-it');
  return { root, repo, worktree, marker, fsmonitor: `[core]\n\tfsmonitor = "touch ${marker}; false"\n` };
}

test('.git/config.worktree given core.fsmonitor: the host runs it; bound read-only where it exists, named when it appears', (t) => {
  const s = setUp();
  t.teardown(() => rmSync(s.root, { recursive: true, force: true }));
  const file = join(s.repo, '.git', 'config.worktree');
  t.true(
    protectedBinds(s.repo).binds.some((b) => b.source === file && b.readOnly),
    'read-only in claude-cli where it exists',
  );
  // Where it is absent (worktreeConfig on, no per-worktree key set yet), one that appears is named.
  rmSync(file);
  const accepted = acceptedFrom(protectedBinds(s.repo).states);
  appendFileSync(file, s.fsmonitor);
  t.deepEqual(changedSince(accepted, protectedBinds(s.repo).states), [{ path: '.git/config.worktree', was: 'absent', now: 'bound' }]);
  t.regex(describePathChanges(changedSince(accepted, protectedBinds(s.repo).states)), /\.git\/config\.worktree/);
  t.false(existsSync(s.marker), 'the watch runs no git');
  git(s.repo, 'status', '--porcelain');
  t.true(existsSync(s.marker), "and the attack is real: the user's git status runs it");
});

test("a task admin folder's config.worktree with a command: cctl task's git refuses; nothing runs", async (t) => {
  const s = setUp();
  t.teardown(() => rmSync(s.root, { recursive: true, force: true }));
  const repo = await repositoryOf(s.repo);
  t.deepEqual(await uncommitted(repo, s.worktree), [], 'what git sparse-checkout wrote (sparseCheckout keys) is accepted');
  appendFileSync(join(worktreeGitDir(s.worktree)!, 'config.worktree'), s.fsmonitor);
  const error = await t.throwsAsync(uncommitted(repo, s.worktree), { instanceOf: CctlError });
  t.regex(error!.message, /config\.worktree.*fsmonitor/s);
  t.false(existsSync(s.marker), 'no git ran in the worktree');
});

test("the common dir's config.worktree with a command: cctl task runs no git in the repository", async (t) => {
  const s = setUp();
  t.teardown(() => rmSync(s.root, { recursive: true, force: true }));
  appendFileSync(join(s.repo, '.git', 'config.worktree'), s.fsmonitor);
  const error = await t.throwsAsync(repositoryOf(s.repo), { instanceOf: CctlError });
  t.regex(error!.message, /config\.worktree.*fsmonitor/s);
  t.false(existsSync(s.marker), 'no git that reads config ran');
});

test("a linked worktree of the user's: its admin folder's config.worktree with a command is named by the watch", (t) => {
  const s = setUp();
  t.teardown(() => rmSync(s.root, { recursive: true, force: true }));
  const accepted = acceptedFrom(protectedBinds(s.repo).states);
  t.deepEqual(changedSince(accepted, protectedBinds(s.repo).states), [], 'what git wrote is not named');
  appendFileSync(join(worktreeGitDir(s.worktree)!, 'config.worktree'), s.fsmonitor);
  t.regex(describePathChanges(changedSince(accepted, protectedBinds(s.repo).states)), /\.git\/worktrees\/one\/config\.worktree.*fsmonitor/);
  git(s.worktree, 'status', '--porcelain');
  t.true(existsSync(s.marker), "and the attack is real: the user's git status in that worktree runs it");
});
