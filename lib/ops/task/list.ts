/**
 * `cctl task list`: the tasks git knows (worktrees under the project's tasks
 * folder), each with its stack's state and health as the engine reports
 * them, and when it was last worked on.
 */
import { statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { serviceStates } from '../../engine/containers.js';
import { CLI_SERVICE, type Project } from '../../project/locate.js';
import { isReady, type ServiceState } from '../stack.js';
import { lastCommitTime, listWorktrees, repositoryOf, type Repository, type Worktree } from './git.js';
import { taskProjectName, tasksRoot } from './names.js';
import { taskDirOf, taskProject } from './stack.js';
import { taskTokens, type TaskTokens } from './tokens.js';

export interface TaskSummary {
  name: string;
  branch?: string;
  worktree: string;
  composeProject: string;
  /** running (all services up), partial, stopped (no container), or the first odd state. */
  state: string;
  /** healthy, unhealthy, starting, or none when nothing runs. */
  health: string;
  /** ISO time of the last commit or git index change in the worktree, whichever is later. */
  lastActivity?: string;
  /** What Claude Code used on the task's branch, by ccusage in its claude-cli (tokens.ts); absent when it is not running. */
  tokens?: TaskTokens;
  services: ServiceState[];
}

export function summarise(states: readonly ServiceState[]): { state: string; health: string } {
  const present = states.filter((s) => s.state !== 'missing');
  if (present.length === 0) return { state: 'stopped', health: 'none' };
  const state = states.every((s) => s.state === 'running')
    ? 'running'
    : present.length < states.length
      ? 'partial'
      : states.find((s) => s.state !== 'running')!.state;
  const health = states.every(isReady) ? 'healthy' : states.some((s) => s.health === 'unhealthy') ? 'unhealthy' : 'starting';
  return { state, health };
}

/** The later of the last commit and the last change to the worktree's index (git add, status refreshes, checkouts). */
async function lastActivity(repo: Repository, tree: Worktree): Promise<string | undefined> {
  const index = join(repo.commonDir, 'worktrees', basename(tree.path), 'index');
  let indexTime: number | undefined;
  try {
    indexTime = statSync(index).mtimeMs;
  } catch {
    // No index yet: only the commit time counts.
  }
  const times = [await lastCommitTime(repo, tree.path), indexTime].filter((t): t is number => t !== undefined);
  return times.length ? new Date(Math.max(...times)).toISOString() : undefined;
}

export async function listTasks(project: Project): Promise<TaskSummary[]> {
  const repo = await repositoryOf(project.dir);
  const root = tasksRoot(project);
  const trees = (await listWorktrees(repo.top)).filter((t) => dirname(t.path) === root);
  // A task runs claude-cli only; its gateway is the project's (task-model.ts).
  const services = [CLI_SERVICE];
  return Promise.all(
    trees.map(async (tree) => {
      const name = basename(tree.path);
      const composeProject = taskProjectName(project, name);
      const states = await serviceStates(composeProject, services);
      const summary = summarise(states);
      const running = states.find((s) => s.name === CLI_SERVICE)?.state === 'running';
      const tokens =
        running && tree.branch
          ? await taskTokens(taskProject(project, name, taskDirOf(project, repo.top, tree.path)), tree.branch)
          : undefined;
      return {
        name,
        branch: tree.branch,
        worktree: tree.path,
        composeProject,
        ...summary,
        lastActivity: await lastActivity(repo, tree),
        tokens,
        services: states,
      };
    }),
  );
}
