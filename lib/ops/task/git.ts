/**
 * The git calls of `cctl task`: plain `git worktree`, run on the host as the
 * user, so what cctl does is what `git worktree list` shows.
 */
import { readFileSync, realpathSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { run, ProcessError } from '../../engine/runner.js';
import { CctlError } from '../../kernel/errors.js';
import { entryKind } from '../../kernel/fs.js';
import { tail } from '../../kernel/text.js';
import { nestedRepos, worktreeConfigCommands } from '../../project/nested-repos.js';

const GIT_TIMEOUT_MS = 30_000;

async function git(cwd: string, args: readonly string[]): Promise<string> {
  try {
    return (await run(['git', ...args], { cwd, timeoutMs: GIT_TIMEOUT_MS })).stdout;
  } catch (error) {
    const said = error instanceof ProcessError ? tail(error.stderr, 4, '\n  ') : String(error);
    throw new CctlError(`git ${args[0]} ${args[1] ?? ''} failed:\n  ${said}`.replace(/ +:/, ':'), {
      hint: 'Nothing of the task was changed by this step; fix what git names and run the command again.',
      cause: error,
    });
  }
}

export interface Repository {
  /** The working tree's top folder. */
  top: string;
  /** The main repository's .git folder (its objects, refs, hooks and config), absolute. */
  commonDir: string;
}

/** The repository holding the project folder; a CctlError that says `git init` when there is none. */
export async function repositoryOf(dir: string): Promise<Repository> {
  let out: string;
  try {
    out = (await run(['git', 'rev-parse', '--show-toplevel', '--git-common-dir'], { cwd: dir, timeoutMs: GIT_TIMEOUT_MS })).stdout;
  } catch (error) {
    throw new CctlError(`The project folder ${dir} is not in a git repository: a task is a git worktree on its own branch.`, {
      hint: 'Make it one first (git init && git add -A && git commit -m start), then run "cctl task new NAME".',
      cause: error,
    });
  }
  const [top, common] = out.trim().split('\n');
  const repo = { top: top!, commonDir: isAbsolute(common!) ? common! : resolve(dir, common!) };
  assertOwnRepository(repo);
  return repo;
}

/*
 * Where git looks for config and hooks is itself written in files, and claude-cli can write them: the
 * project's .git folder is writable in the project's claude-cli (objects, refs, the index), and a task's
 * claude-cli writes the whole common dir and its worktree's .git file. A `commondir` file in a git folder
 * sends git to another folder for config and hooks; a worktree's `.git` file names its git folder. So
 * before cctl runs git on the host (git status runs core.fsmonitor, git worktree add runs post-checkout),
 * these must say what git itself wrote: the repository's own .git, and a task's admin folder under it.
 */

const real = (path: string): string => {
  try {
    return realpathSync(path);
  } catch {
    return resolve(path);
  }
};

function pointedElsewhere(what: string, where: string, hint: string): CctlError {
  return new CctlError(
    `${what}, so git would read its config and hooks (core.fsmonitor, hooks) from ${where}. Anything in claude-cli can write there; cctl ran no git in it.`,
    { hint },
  );
}

/** The repository's git folder is its own .git (git found it there, and it points nowhere else). */
export function assertOwnRepository(repo: Repository): void {
  const dotGit = join(repo.top, '.git');
  const kind = entryKind(dotGit);
  // A .git file: the project itself is a worktree or submodule; its .git file is read-only in claude-cli.
  if (kind !== 'file' && real(repo.commonDir) !== real(dotGit)) {
    throw pointedElsewhere(
      `git takes ${repo.commonDir} as the repository of ${repo.top}, not its own ${dotGit}`,
      repo.commonDir,
      `Look at ${dotGit} (ls -la ${dotGit}, cat ${dotGit}/commondir); a repository's own .git names no other folder.`,
    );
  }
  assertNoWorktreeConfig(repo.commonDir);
  const commondir = join(repo.commonDir, 'commondir');
  if (entryKind(commondir) !== 'absent') {
    throw pointedElsewhere(
      `${commondir} exists (git writes one only in a worktree's admin folder, never in a repository's .git)`,
      'the folder it names',
      `Read it (cat ${commondir}), remove it (rm ${commondir}), and check that folder and .git/hooks before running git in the project.`,
    );
  }
}

/** A `config.worktree` in a git folder with a command in it: git reads it as config when extensions.worktreeConfig is on. */
function assertNoWorktreeConfig(gitDir: string): void {
  const commands = worktreeConfigCommands(gitDir);
  if (commands.length === 0) return;
  const file = join(gitDir, 'config.worktree');
  throw new CctlError(
    `${file} has a command (${commands.join('; ')}); git reads it as config when extensions.worktreeConfig is on. Anything in claude-cli can write there; cctl ran no git in it.`,
    {
      hint: `Read it (cat ${file}) and remove what you did not write (git sparse-checkout writes only core.sparseCheckout keys), then run the command again.`,
    },
  );
}

/** The git folder a worktree's `.git` file names, resolved; undefined when it is not a `gitdir:` file. */
export function worktreeGitDir(worktree: string): string | undefined {
  const file = join(worktree, '.git');
  if (entryKind(file) !== 'file') return undefined;
  const m = /^gitdir: (.+?)\r?\n?$/.exec(readFileSync(file, 'utf8'));
  return m ? resolve(worktree, m[1]!) : undefined;
}

/** A task's worktree points at its admin folder under the repository's .git/worktrees, and that back at the repository. */
export function assertTaskWorktree(repo: Repository, worktree: string): void {
  // A worktree folder that is gone (removed by hand) holds no file to redirect git: git's own error says so.
  if (entryKind(worktree) === 'absent') return;
  const repair = `From the project: git worktree repair ${worktree} (it writes both files again), then run the command again.`;
  const admin = worktreeGitDir(worktree);
  if (!admin || real(dirname(admin)) !== real(join(repo.commonDir, 'worktrees')) || entryKind(admin) !== 'dir') {
    throw pointedElsewhere(
      `${join(worktree, '.git')} does not name a folder in ${join(repo.commonDir, 'worktrees')}${admin ? ` (it names ${admin})` : ''}`,
      admin ?? 'elsewhere',
      repair,
    );
  }
  let common: string | undefined;
  try {
    common = resolve(admin, readFileSync(join(admin, 'commondir'), 'utf8').trim());
  } catch {
    // No commondir: git would take the admin folder as the repository itself.
  }
  if (!common || real(common) !== real(repo.commonDir)) {
    throw pointedElsewhere(`${join(admin, 'commondir')} does not name ${repo.commonDir}`, common ?? admin, repair);
  }
  assertNoWorktreeConfig(admin);
  // A repository inside the worktree that the task's index records as a gitlink: git status (and git worktree
  // remove's own status) runs git in it, with a config and hooks the task's claude-cli wrote (nested-repos.ts).
  const armed = nestedRepos(worktree).repos.filter((r) => r.commands.length > 0);
  if (armed.length > 0) {
    throw new CctlError(
      `The task's worktree ${worktree} holds a repository with its own commands, so cctl ran no git in it:\n` +
        armed.map((r) => `  ${r.path}: ${r.commands.join('; ')}`).join('\n'),
      {
        hint: `Anything in the task's claude-cli could have written them, and git status would run git in that folder on this machine. Read them, remove the folder's .git if it is not yours (rm -rf ${join(worktree, armed[0]!.path)}), then run the command again.`,
      },
    );
  }
}

export interface Worktree {
  path: string;
  /** The branch checked out (refs/heads/ stripped); undefined when detached. */
  branch?: string;
  head?: string;
}

/** `git worktree list --porcelain`, parsed. */
export async function listWorktrees(repoDir: string): Promise<Worktree[]> {
  const out = await git(repoDir, ['worktree', 'list', '--porcelain']);
  const trees: Worktree[] = [];
  for (const block of out.split(/\n\n+/)) {
    const tree: Partial<Worktree> = {};
    for (const line of block.split('\n')) {
      const [key, ...rest] = line.split(' ');
      const value = rest.join(' ');
      if (key === 'worktree') tree.path = value;
      else if (key === 'branch') tree.branch = value.replace(/^refs\/heads\//, '');
      else if (key === 'HEAD') tree.head = value;
    }
    if (tree.path) trees.push(tree as Worktree);
  }
  return trees;
}

export async function addWorktree(repoDir: string, path: string, branch: string, from: string): Promise<void> {
  await git(repoDir, ['worktree', 'add', '-b', branch, path, from]);
}

/** What `git status` counts as uncommitted in a worktree, untracked files included (porcelain lines). */
export async function uncommitted(repo: Repository, worktree: string): Promise<string[]> {
  assertTaskWorktree(repo, worktree);
  const out = await git(worktree, ['status', '--porcelain', '--untracked-files=all']);
  return out.split('\n').filter((l) => l.trim() !== '');
}

/** `git worktree remove`: the folder and its admin entry go; the branch and its commits stay. */
export async function removeWorktree(repo: Repository, path: string, force: boolean): Promise<void> {
  // Without --force, git checks the worktree is clean by running git status in it.
  assertTaskWorktree(repo, path);
  await git(repo.top, ['worktree', 'remove', ...(force ? ['--force', '--force'] : []), path]);
}

/** The committer time of the worktree's HEAD, in ms; undefined when there is none. */
export async function lastCommitTime(repo: Repository, worktree: string): Promise<number | undefined> {
  assertTaskWorktree(repo, worktree);
  const out = await git(worktree, ['log', '-1', '--format=%ct']).catch(() => '');
  const seconds = Number(out.trim());
  return out.trim() && Number.isFinite(seconds) ? seconds * 1000 : undefined;
}
