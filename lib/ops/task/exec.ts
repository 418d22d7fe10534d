/** `cctl task exec` and `cctl task claude`: the project's exec path, pointed at a task's stack. */
import { existsSync } from 'node:fs';
import { CctlError } from '../../kernel/errors.js';
import type { Project } from '../../project/locate.js';
import { execInProject, type ExecSpec } from '../exec.js';
import { repositoryOf } from './git.js';
import { taskPaths } from './names.js';
import { taskDirOf, taskProject } from './stack.js';

export async function execInTask(project: Project, name: string, spec: ExecSpec): Promise<number> {
  const paths = taskPaths(project, name);
  if (!existsSync(paths.composeFile)) {
    throw new CctlError(`There is no task "${name}" in project ${project.name}.`, {
      hint: `See the tasks with "cctl task list"; make one with "cctl task new ${name}".`,
    });
  }
  const repo = await repositoryOf(project.dir);
  return execInProject(taskProject(project, name, taskDirOf(project, repo.top, paths.worktree)), spec);
}
