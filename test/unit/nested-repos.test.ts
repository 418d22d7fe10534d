/**
 * Hostile workspace: a repository inside the project (lib/project/nested-repos.ts). claude-cli makes a folder
 * with a `.git` of its own (config with core.fsmonitor, or a hook) and records it in the index as a gitlink;
 * the user's next `git status` in the project runs git in it. Real git, real files; the fsmonitor touches a
 * marker.
 *
 * Attack first, on main 6a56f80: the attack test below runs the marker, `up` and `doctor` said nothing
 * (their path watch covered the top .git only), and `cctl task rm`'s git status in a task worktree with such
 * a gitlink ran it on the host. Now the watch names the repository, and the task's git refuses.
 */
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CctlError } from '../../lib/kernel/errors.js';
import { repositoryOf, uncommitted } from '../../lib/ops/task/git.js';
import { acceptedStates } from '../../lib/ops/protected.js';
import { commandLines, moduleRepos, nestedRepos } from '../../lib/project/nested-repos.js';
import { acceptedFrom, changedSince, describePathChanges, protectedBinds } from '../../lib/project/protected-paths.js';
import { scratchDir } from '../helpers/scratch.js';

const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', ['-c', 'user.name=Dev', '-c', 'user.email=dev@example.com', ...args], { cwd, encoding: 'utf8' });

function project() {
  const root = scratchDir('cctl-nested-');
  const dir = join(root, 'app');
  mkdirSync(dir);
  git(dir, 'init', '-q', '-b', 'main');
  git(dir, 'commit', '-q', '--allow-empty', '-m', 'start');
  return { root, dir, marker: join(root, 'host-ran-it') };
}

/** A repository at `folder` as claude-cli can make one with plain writes, then a gitlink to it in the index. */
function armed(top: string, folder: string, config: string, hooks: Record<string, string> = {}): void {
  const gitDir = join(top, folder, '.git');
  for (const sub of ['objects', 'refs/heads', 'hooks']) mkdirSync(join(gitDir, sub), { recursive: true });
  writeFileSync(join(gitDir, 'HEAD'), 'ref: refs/heads/main\n');
  writeFileSync(join(gitDir, 'config'), `[core]\n\trepositoryformatversion = 0\n${config}`);
  for (const [name, text] of Object.entries(hooks)) writeFileSync(join(gitDir, 'hooks', name), text, { mode: 0o755 });
  git(top, 'update-index', '--add', '--cacheinfo', `160000,${'1'.repeat(40)},${folder}`);
}

test('the attack itself: git status in the project runs the fsmonitor of a gitlinked repository inside it', (t) => {
  const p = project();
  t.teardown(() => rmSync(p.root, { recursive: true, force: true }));
  armed(p.dir, 'vendor/lib', `\tfsmonitor = "touch ${p.marker}; false"\n`);
  git(p.dir, 'status', '--porcelain');
  t.true(existsSync(p.marker), 'plain git on the host runs it: what the watch must name');
});

test('the watch names a repository that appears with a command key, and accepts it once a human did', (t) => {
  const p = project();
  t.teardown(() => rmSync(p.root, { recursive: true, force: true }));
  const accepted = acceptedFrom(protectedBinds(p.dir).states);
  armed(p.dir, 'vendor/lib', `\tfsmonitor = "touch ${p.marker}; false"\n`);
  const now = protectedBinds(p.dir).states;
  const changes = changedSince(accepted, now);
  t.is(changes.length, 1);
  t.is(changes[0]!.path, 'vendor/lib/.git');
  t.regex(describePathChanges(changes), /vendor\/lib\/\.git: a repository inside the project.*fsmonitor = "touch/);
  t.deepEqual(changedSince(acceptedFrom(now), protectedBinds(p.dir).states), [], 'accepted: not asked again');
  writeFileSync(join(p.dir, 'vendor/lib/.git/hooks/post-checkout'), '#!/bin/sh\n');
  t.regex(
    describePathChanges(changedSince(acceptedFrom(now), protectedBinds(p.dir).states)),
    /hooks\/post-checkout/,
    'a change after is named',
  );
  t.false(existsSync(p.marker), 'the watch runs no git');
});

test('a plain clone or submodule inside the project is not named; its .git file is followed into .git/modules', (t) => {
  const p = project();
  t.teardown(() => rmSync(p.root, { recursive: true, force: true }));
  const lib = join(p.root, 'lib');
  mkdirSync(lib);
  git(lib, 'init', '-q', '-b', 'main');
  git(lib, 'commit', '-q', '--allow-empty', '-m', 'lib');
  git(p.dir, '-c', 'protocol.file.allow=always', 'submodule', 'add', '-q', lib, 'deps/lib');
  const found = nestedRepos(p.dir).repos;
  t.deepEqual(
    found.map((r) => [r.path, r.commands]),
    [['deps/lib/.git', []]],
    'git made it: only keys git reads as data, sample hooks',
  );
  const accepted = acceptedFrom(protectedBinds(p.dir).states);
  writeFileSync(join(p.dir, '.git/modules/deps/lib/config'), `[core]\n\tfsmonitor = "touch ${p.marker}; false"\n`, { flag: 'a' });
  t.regex(describePathChanges(changedSince(accepted, protectedBinds(p.dir).states)), /deps\/lib\/\.git: .*fsmonitor/);
});

test('the config reader counts as a command everything it does not know as data', (t) => {
  t.deepEqual(
    commandLines('[core]\n\tbare = false\n# c\n[remote "origin"]\n\turl = x\n\tfetch = +refs/heads/*:refs/remotes/origin/*\n'),
    [],
  );
  for (const text of [
    '[core]\n\tfsmonitor = x\n',
    '[core] bare = false\n',
    '[core]\n\tbare = false \\\n',
    '[core.x]\n\tbare = false\n',
    '[include]\n\tpath = ../evil\n',
    '[filter "a"]\n\tclean = x\n',
    '[remote "o"]\n\tuploadpack = x\n',
    '[submodule "s"]\n\tupdate = !sh\n',
    'bare = false\n',
    '[core\n',
  ])
    t.true(commandLines(text).length > 0, text);
});

test('a .git that is a link, a commondir, and a search that stops are each named', (t) => {
  const p = project();
  t.teardown(() => rmSync(p.root, { recursive: true, force: true }));
  mkdirSync(join(p.dir, 'a'));
  symlinkSync('/tmp', join(p.dir, 'a', '.git'));
  mkdirSync(join(p.dir, 'b', '.git'), { recursive: true });
  writeFileSync(join(p.dir, 'b', '.git', 'commondir'), '../../evil\n');
  t.deepEqual(
    nestedRepos(p.dir).repos.map((r) => [r.path, r.commands[0]]),
    [
      ['a/.git', 'a link to /tmp'],
      ['b/.git', 'commondir (git reads more config from it)'],
    ],
  );
  for (let i = 0; i < 5; i++) mkdirSync(join(p.dir, 'deep', `d${i}`), { recursive: true });
  t.true(nestedRepos(p.dir, 3).truncated);
});

test('a repository that appeared after the check is not accepted by the up that did not show it', (t) => {
  const checked = [{ path: '.envrc', kind: 'absent' as const, digest: 'x' }];
  const written = [...checked, { path: 'late/.git', kind: 'absent' as const, digest: 'y', nested: 'hooks/post-checkout' }];
  t.deepEqual(acceptedStates(checked, written), checked);
  // The machine file's states have none (no walk there): the ones the check saw and a human accepted are kept.
  const seen = [...checked, { path: 'vendor/.git', kind: 'absent' as const, digest: 'z', nested: 'hooks/x' }];
  t.deepEqual(acceptedStates(seen, checked), seen);
});

test("task rm's git refuses a worktree holding a gitlinked repository with a command; nothing runs", async (t) => {
  const p = project();
  t.teardown(() => rmSync(p.root, { recursive: true, force: true }));
  const worktree = join(p.root, 'tasks', 'one');
  git(p.dir, 'worktree', 'add', '-q', '-b', 'cctl/one', worktree);
  const repo = await repositoryOf(p.dir);
  t.deepEqual(await uncommitted(repo, worktree), []);
  armed(worktree, 'x', `\tfsmonitor = "touch ${p.marker}; false"\n`);
  const error = await t.throwsAsync(uncommitted(repo, worktree), { instanceOf: CctlError });
  t.regex(error!.message, /x\/\.git: \[core\] fsmonitor/);
  t.false(existsSync(p.marker), 'no git ran in the worktree');
});

test("a linked worktree's commondir rewritten in the project's .git: the attack runs; the watch names it", (t) => {
  const p = project();
  t.teardown(() => rmSync(p.root, { recursive: true, force: true }));
  const other = join(p.root, 'feature');
  git(p.dir, 'worktree', 'add', '-q', '-b', 'feature', other);
  const accepted = acceptedFrom(protectedBinds(p.dir).states);
  t.deepEqual(changedSince(accepted, protectedBinds(p.dir).states), [], 'what git wrote is not named');
  // claude-cli writes .git (objects, refs, the index): a config of its own, and the worktree's commondir to it.
  const evil = join(p.dir, 'evil');
  mkdirSync(evil);
  writeFileSync(join(evil, 'config'), `[core]\n\trepositoryformatversion = 0\n\tfsmonitor = "touch ${p.marker}; false"\n`);
  symlinkSync(join(p.dir, '.git', 'objects'), join(evil, 'objects'));
  symlinkSync(join(p.dir, '.git', 'refs'), join(evil, 'refs'));
  writeFileSync(join(p.dir, '.git', 'worktrees', 'feature', 'commondir'), '../../../evil\n');
  t.regex(
    describePathChanges(changedSince(accepted, protectedBinds(p.dir).states)),
    /\.git\/worktrees\/feature\/commondir: a linked worktree of yours has a commondir naming \.\.\/\.\.\/\.\.\/evil/,
  );
  t.false(existsSync(p.marker), 'the watch runs no git');
  git(other, 'status', '--porcelain');
  t.true(existsSync(p.marker), "and the attack is real: the user's git status in that worktree runs it");
});

test("a submodule's repository made in .git/modules: git submodule update runs its hook; the watch names it first", (t) => {
  const p = project();
  t.teardown(() => rmSync(p.root, { recursive: true, force: true }));
  const accepted = acceptedFrom(protectedBinds(p.dir).states);
  // claude-cli writes .git (all but config and hooks): a repository of its own in .git/modules, with a hook,
  // and a submodule in .gitmodules and the index. No .git file in the project points at it yet.
  const clone = join(p.root, 'clone');
  git(p.root, 'clone', '-q', '--no-checkout', p.dir, clone);
  mkdirSync(join(p.dir, '.git', 'modules'));
  renameSync(join(clone, '.git'), join(p.dir, '.git', 'modules', 'x'));
  writeFileSync(join(p.dir, '.git/modules/x/hooks/post-checkout'), `#!/bin/sh\ntouch ${p.marker}\n`, { mode: 0o755 });
  writeFileSync(join(p.dir, '.gitmodules'), '[submodule "x"]\n\tpath = x\n\turl = ./\n');
  git(p.dir, 'update-index', '--add', '--cacheinfo', `160000,${git(p.dir, 'rev-parse', 'HEAD').trim()},x`);
  t.deepEqual(
    nestedRepos(p.dir).repos.map((r) => r.path),
    [],
    'no .git below the top: the walk of the tree alone does not see it',
  );
  t.regex(
    describePathChanges(changedSince(accepted, protectedBinds(p.dir).states)),
    /\.git\/modules\/x: a submodule's repository.*hooks\/post-checkout/,
  );
  t.false(existsSync(p.marker), 'the watch runs no git');
  git(p.dir, 'submodule', 'update', '--init', '-q');
  t.true(existsSync(p.marker), "and the attack is real: the user's git submodule update runs the hook");
});

test('.git/modules: a submodule as git makes it is not named; a link there, or a hook in a nested one, is', (t) => {
  const p = project();
  t.teardown(() => rmSync(p.root, { recursive: true, force: true }));
  const lib = join(p.root, 'lib');
  mkdirSync(lib);
  git(lib, 'init', '-q', '-b', 'main');
  git(lib, 'commit', '-q', '--allow-empty', '-m', 'lib');
  git(p.dir, '-c', 'protocol.file.allow=always', 'submodule', 'add', '-q', lib, 'deps/lib');
  t.deepEqual(
    moduleRepos(p.dir).map((r) => [r.path, r.commands]),
    [['.git/modules/deps/lib', []]],
  );
  symlinkSync('/tmp', join(p.dir, '.git', 'modules', 'y'));
  mkdirSync(join(p.dir, '.git/modules/deps/lib/modules/inner/hooks'), { recursive: true });
  writeFileSync(join(p.dir, '.git/modules/deps/lib/modules/inner/HEAD'), 'ref: refs/heads/main\n');
  writeFileSync(join(p.dir, '.git/modules/deps/lib/modules/inner/hooks/pre-commit'), '#!/bin/sh\n', { mode: 0o755 });
  t.deepEqual(
    moduleRepos(p.dir).map((r) => [r.path, r.commands]),
    [
      ['.git/modules/deps/lib', []],
      ['.git/modules/deps/lib/modules/inner', ['hooks/pre-commit']],
      ['.git/modules/y', ['a link to /tmp']],
    ],
  );
});

test("a linked worktree's submodule repository in .git/worktrees/<name>/modules: the attack runs; the watch names it", (t) => {
  const p = project();
  t.teardown(() => rmSync(p.root, { recursive: true, force: true }));
  const other = join(p.root, 'feature');
  git(p.dir, 'worktree', 'add', '-q', '-b', 'feature', other);
  const accepted = acceptedFrom(protectedBinds(p.dir).states);
  // Written from claude-cli, in the project's .git: a repository with a hook where git in that worktree looks.
  const clone = join(p.root, 'clone');
  git(p.root, 'clone', '-q', '--no-checkout', p.dir, clone);
  mkdirSync(join(p.dir, '.git/worktrees/feature/modules'));
  renameSync(join(clone, '.git'), join(p.dir, '.git/worktrees/feature/modules/x'));
  writeFileSync(join(p.dir, '.git/worktrees/feature/modules/x/hooks/post-checkout'), `#!/bin/sh\ntouch ${p.marker}\n`, { mode: 0o755 });
  t.regex(
    describePathChanges(changedSince(accepted, protectedBinds(p.dir).states)),
    /\.git\/worktrees\/feature\/modules\/x: a submodule's repository.*hooks\/post-checkout/,
  );
  // A branch claude-cli committed with the submodule, merged in that worktree: the user's submodule update runs it.
  writeFileSync(join(other, '.gitmodules'), '[submodule "x"]\n\tpath = x\n\turl = ./\n');
  git(other, 'update-index', '--add', '--cacheinfo', `160000,${git(p.dir, 'rev-parse', 'HEAD').trim()},x`);
  t.false(existsSync(p.marker), 'the watch runs no git');
  git(other, 'submodule', 'update', '--init', '-q');
  t.true(existsSync(p.marker), "and the attack is real: the user's git submodule update in that worktree runs the hook");
});
