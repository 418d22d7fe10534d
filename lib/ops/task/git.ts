/**
 * The git calls of `cctl task`: plain `git worktree`, run on the host as the
 * user, so what cctl does is what `git worktree list` shows.
 */
import { isAbsolute, resolve } from 'node:path';
import { run, ProcessError } from '../../engine/runner.js';
import { CctlError } from '../../kernel/errors.js';
import { tail } from '../../kernel/text.js';

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
  return { top: top!, commonDir: isAbsolute(common!) ? common! : resolve(dir, common!) };
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
export async function uncommitted(worktree: string): Promise<string[]> {
  const out = await git(worktree, ['status', '--porcelain', '--untracked-files=all']);
  return out.split('\n').filter((l) => l.trim() !== '');
}

/** `git worktree remove`: the folder and its admin entry go; the branch and its commits stay. */
export async function removeWorktree(repoDir: string, path: string, force: boolean): Promise<void> {
  await git(repoDir, ['worktree', 'remove', ...(force ? ['--force', '--force'] : []), path]);
}

/** The committer time of the worktree's HEAD, in ms; undefined when there is none. */
export async function lastCommitTime(worktree: string): Promise<number | undefined> {
  const out = await git(worktree, ['log', '-1', '--format=%ct']).catch(() => '');
  const seconds = Number(out.trim());
  return out.trim() && Number.isFinite(seconds) ? seconds * 1000 : undefined;
}
