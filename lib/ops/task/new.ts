/**
 * `cctl task new NAME`: a worktree on a new branch, and a stack for it with
 * the project's settings, started and healthy.
 *
 * The stack is what the project's last `cctl up` ran: the task refuses
 * unless that up still holds (the short path's checks: the compose file,
 * settings, image files and images are the ones it accepted and built), so
 * nothing a claude-cli wrote since reaches the task unchecked. Compose
 * resolves the project's model with the environment `up` uses, and
 * task-model.ts turns it into the task's.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { compose } from '../../engine/compose.js';
import { config, up } from '../../engine/compose-client.js';
import { CctlError } from '../../kernel/errors.js';
import { mkdirInside } from '../../kernel/inside.js';
import type { Project } from '../../project/locate.js';
import { invocationFor } from '../compose.js';
import { claudeServices, homeVolumeName, waitHealthy, type ServiceState } from '../stack.js';
import { shortPath } from '../up/short-path.js';
import { addWorktree, listWorktrees, repositoryOf } from './git.js';
import { defaultBranch, taskPaths } from './names.js';
import { requireUpRecord, taskDirOf, taskProject } from './stack.js';
import { taskModel } from './task-model.js';

export interface NewTaskRequest {
  name: string;
  /** The commit the branch starts from (default HEAD). */
  from?: string;
  /** The branch to create (default cctl/NAME). */
  branch?: string;
  timeoutMs: number;
  signal?: AbortSignal;
}

export interface NewTaskOutcome {
  name: string;
  branch: string;
  worktree: string;
  composeProject: string;
  services: ServiceState[];
}

export async function newTask(project: Project, request: NewTaskRequest): Promise<NewTaskOutcome> {
  const { name } = request;
  const branch = request.branch ?? defaultBranch(name);
  const paths = taskPaths(project, name);
  const repo = await repositoryOf(project.dir);
  const trees = await listWorktrees(repo.top);
  if (existsSync(paths.worktree) || trees.some((t) => t.path === paths.worktree)) {
    throw new CctlError(`There is already a task "${name}" (${paths.worktree}).`, {
      hint: `Pick another name, or remove it first with "cctl task rm ${name}".`,
    });
  }
  const record = requireUpRecord(project);
  // Files and images as the last up accepted and built them; the project's own containers may be in any state.
  const current = await shortPath(project, { containers: false });
  if (!current) {
    throw new CctlError(
      `The project ${project.name} changed since its last cctl up (compose file, settings or images): a task runs only what an up accepted.`,
      {
        hint: 'Run "cctl up" in the project (it checks and asks about the change), then "cctl task new" again.',
      },
    );
  }
  // The environment up gives Compose (this machine's file written alongside: identity, agent socket, read-only binds).
  const env = current.machine.env;
  const engine = await compose();
  const resolved = await config(invocationFor(engine, project, env));
  await addWorktree(repo.top, paths.worktree, branch, request.from ?? 'HEAD');
  const dir = taskDirOf(project, repo.top, paths.worktree);
  const services = claudeServices(record.settings);
  const model = taskModel(resolved, {
    services,
    projectDir: project.dir,
    taskDir: dir,
    commonDir: repo.commonDir,
    homeVolume: homeVolumeName(project),
    exists: existsSync,
  });
  // The private folder: outside every workspace, so plain fs (inside.test.ts lists this module).
  mkdirSync(dirname(paths.composeFile), { recursive: true, mode: 0o700 });
  writeFileSync(paths.composeFile, `${JSON.stringify(model, null, 2)}\n`, { mode: 0o600 });
  // The read-only bind needs its source: a repository made without hooks/ gets an empty one (never through a link).
  mkdirInside(repo.commonDir, join(repo.commonDir, 'hooks'));
  const task = taskProject(project, name, dir);
  try {
    await up(invocationFor(engine, task, env), { services }, { signal: request.signal, timeoutMs: request.timeoutMs });
    const states = await waitHealthy(task, services, { timeoutMs: request.timeoutMs, signal: request.signal });
    return { name, branch, worktree: paths.worktree, composeProject: task.name, services: states };
  } catch (error) {
    throw error instanceof CctlError
      ? error
      : new CctlError(
          `The task's worktree is made (${paths.worktree}, branch ${branch}) but its stack did not start: ${(error as Error).message}`,
          {
            hint: `See "cctl task list"; "cctl task rm ${name}" removes it (the branch stays).`,
            cause: error,
          },
        );
  }
}
