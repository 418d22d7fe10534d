/**
 * `cctl task rm NAME`: the task's stack down and its worktree removed; its
 * branch and commits stay (git worktree remove never deletes a branch). A
 * worktree with uncommitted work, untracked files included, is refused
 * unless forced: that work exists nowhere else.
 */
import { existsSync, rmSync } from 'node:fs';
import { compose } from '../../engine/compose.js';
import { down } from '../../engine/compose-client.js';
import { CctlError } from '../../kernel/errors.js';
import type { Project } from '../../project/locate.js';
import { invocationFor } from '../compose.js';
import { listWorktrees, removeWorktree, repositoryOf, uncommitted } from './git.js';
import { taskPaths } from './names.js';
import { taskDirOf, taskProject } from './stack.js';

export interface RemoveOutcome {
  name: string;
  branch?: string;
  /** Files that were uncommitted and went with --force. */
  discarded: string[];
}

const SHOWN = 10;

export async function removeTask(
  project: Project,
  name: string,
  options: { force: boolean; timeoutSeconds?: number },
): Promise<RemoveOutcome> {
  const repo = await repositoryOf(project.dir);
  const paths = taskPaths(project, name);
  const tree = (await listWorktrees(repo.top)).find((t) => t.path === paths.worktree);
  if (!tree && !existsSync(paths.composeFile)) {
    throw new CctlError(`There is no task "${name}" in project ${project.name}.`, { hint: 'See the tasks with "cctl task list".' });
  }
  const dirty = tree ? await uncommitted(repo, tree.path) : [];
  if (dirty.length && !options.force) {
    const more = dirty.length > SHOWN ? `\n  ... and ${dirty.length - SHOWN} more` : '';
    throw new CctlError(
      `Task "${name}" has uncommitted changes; removing its worktree would lose them:\n  ${dirty.slice(0, SHOWN).join('\n  ')}${more}`,
      {
        hint: `Commit them (cctl task exec ${name} -- git add -A, then git commit), or discard them with "cctl task rm ${name} --force". Nothing was removed.`,
      },
    );
  }
  if (existsSync(paths.composeFile)) {
    const task = taskProject(project, name, tree ? taskDirOf(project, repo.top, tree.path) : paths.worktree);
    await down(invocationFor(await compose(), task), { timeoutSeconds: options.timeoutSeconds ?? 10 });
  }
  if (tree) await removeWorktree(repo, tree.path, options.force);
  // The private folder: outside every workspace, so plain fs (inside.test.ts lists this module).
  rmSync(paths.composeFile, { force: true });
  return { name, branch: tree?.branch, discarded: options.force ? dirty : [] };
}
