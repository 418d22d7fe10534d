/**
 * Where a task lives and what it is called: one place that says so. A task
 * is a git worktree on its own branch plus a Compose project of its own, both
 * named after the task, so plain `git worktree list` and `docker compose ls`
 * show it without cctl.
 *
 * The worktree sits in the project's private folder (~/.config/cctl/projects/
 * <project>/tasks/<name>), outside the project folder: the project's own
 * claude-cli mounts the project folder and so cannot write a task's files.
 * Its compose file sits beside the worktrees (task-stacks/<name>.json), not
 * in the worktree, so the task's claude-cli cannot write what Compose runs.
 */
import { join } from 'node:path';
import { UsageError } from '../../kernel/errors.js';
import { privateDir } from '../../project/private-dir.js';
import type { Project } from '../../project/locate.js';

/** Safe as a git branch part, a folder name and a Compose project name suffix. */
const TASK_NAME = /^[a-z0-9][a-z0-9_-]{0,39}$/;

export function checkTaskName(name: string | undefined, verb: string): string {
  if (!name) throw new UsageError(`cctl task ${verb} needs a task name.`, `Example: cctl task ${verb} fix-login`);
  if (!TASK_NAME.test(name)) {
    throw new UsageError(
      `"${name}" is not a task name.`,
      'Use 1-40 characters: lower-case letters, digits, "-" and "_", starting with a letter or digit (it names a folder, a branch and a Compose project).',
    );
  }
  return name;
}

export const defaultBranch = (name: string) => `cctl/${name}`;

/** The Compose project of a task: the project's name, "-task-", the task's (docker compose ls lists it so). */
export const taskProjectName = (project: Pick<Project, 'name'>, name: string) => `${project.name}-task-${name}`;

export function tasksRoot(project: Pick<Project, 'name'>, env: NodeJS.ProcessEnv = process.env): string {
  return join(privateDir(project.name, env), 'tasks');
}

export interface TaskPaths {
  /** The worktree (git names its admin folder .git/worktrees/<name> after it). */
  worktree: string;
  /** The task's compose file, outside every folder a claude-cli mounts. */
  composeFile: string;
}

export function taskPaths(project: Pick<Project, 'name'>, name: string, env: NodeJS.ProcessEnv = process.env): TaskPaths {
  return { worktree: join(tasksRoot(project, env), name), composeFile: join(privateDir(project.name, env), 'task-stacks', `${name}.json`) };
}
