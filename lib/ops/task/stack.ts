/**
 * A task as Compose sees it: a Project whose compose file is the task's
 * (names.ts says where), whose folder is the worktree and whose name is
 * derived from the project's. Every compose call on a task takes its
 * invocation from ops/compose.ts through this Project, as the project's do.
 */
import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { CctlError } from '../../kernel/errors.js';
import type { Project } from '../../project/locate.js';
import { readUpRecord, type UpRecord } from '../../project/up-record.js';
import { taskPaths, taskProjectName } from './names.js';

/** The task's folder for the project folder: the same place in the worktree when the project is a subfolder of the repository. */
export function taskDirOf(project: Project, top: string, worktree: string): string {
  return join(worktree, relative(top, project.dir));
}

export function taskProject(project: Project, name: string, dir: string): Project {
  const file = taskPaths(project, name).composeFile;
  return { file, exists: existsSync(file), dir, name: taskProjectName(project, name), nameSource: 'flag' };
}

/** The project's last up record: a task runs what that up accepted and built, so there must be one. */
export function requireUpRecord(project: Project): UpRecord {
  const record = readUpRecord(project);
  if (!record) {
    throw new CctlError(
      `The project ${project.name} has not been started with cctl up on this machine: a task runs its images and settings.`,
      {
        hint: 'Run "cctl up" in the project, then "cctl task new NAME".',
      },
    );
  }
  return record;
}
