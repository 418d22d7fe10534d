/**
 * `cctl task new NAME`: a worktree on a new branch, and a stack for it with
 * the project's settings, started and healthy: its own claude-cli, on the
 * project's networks and through the project's gateway (task-model.ts).
 *
 * The stack is what the project's last `cctl up` ran: the task refuses
 * unless that up still holds (the short path's checks: the compose file,
 * settings, image files and images are the ones it accepted and built), so
 * nothing a claude-cli wrote since reaches the task unchecked. Compose
 * resolves the project's model with the environment `up` uses (once per
 * accepted state: resolved.ts keeps it), and task-model.ts turns it into the
 * task's. The steps' times come back in the outcome (bench/task.ts prints them).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { compose } from '../../engine/compose.js';
import { config, up } from '../../engine/compose-client.js';
import { CctlError } from '../../kernel/errors.js';
import { mkdirInside } from '../../kernel/inside.js';
import { composeText } from '../../project/compose-text.js';
import { CLI_SERVICE, type Project } from '../../project/locate.js';
import { gatewayService } from '../../project/model.js';
import { invocationFor } from '../compose.js';
import { homeVolumeName, inspectServices, isReady, waitHealthy, type ServiceState } from '../stack.js';
import { fingerprintNow } from '../up/record.js';
import { shortPath } from '../up/short-path.js';
import { addWorktree, assertTaskWorktree, listWorktrees, repositoryOf, worktreeGitDir } from './git.js';
import { defaultBranch, taskPaths } from './names.js';
import { resolvedKey, resolvedModel } from './resolved.js';
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
  /** Where the time went, step by step, in ms (bench/task.ts prints it). */
  stepsMs: Record<string, number>;
}

/** Times each step of newTask: `lap(name)` ends the step that started at the previous lap. */
function stepTimer(): { lap: (step: string) => void; steps: Record<string, number> } {
  const steps: Record<string, number> = {};
  let last = performance.now();
  return {
    steps,
    lap(step) {
      const now = performance.now();
      steps[step] = Math.round(now - last);
      last = now;
    },
  };
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

function changedSince(project: Project): CctlError {
  return new CctlError(
    `The project ${project.name} changed since its last cctl up (compose file, settings or images): a task runs only what an up accepted.`,
    { hint: 'Run "cctl up" in the project (it checks and asks about the change), then "cctl task new" again.' },
  );
}

/**
 * The project's last up record and this machine's file, when the files and images are still the ones that up
 * accepted, and the project's gateway (which the task's Claude Code goes through) running and healthy.
 */
async function acceptedState(project: Project) {
  const { settings } = requireUpRecord(project);
  const gateway = settings.proxy === 'external' ? [] : [gatewayService(settings)];
  // Files and images as the last up accepted and built them; of the project's containers, only the gateway matters.
  const [current, states] = await Promise.all([shortPath(project, { containers: false }), inspectServices(project, gateway)]);
  if (!current) throw changedSince(project);
  const down = states.find((s) => !isReady(s));
  if (down) {
    throw new CctlError(
      `The project's gateway (${down.name}) is ${down.state === 'running' ? down.health : down.state === 'missing' ? 'not running' : down.state}: a task's Claude Code goes through it.`,
      { hint: 'Run "cctl up" in the project (it starts and checks the gateway), then "cctl task new" again.' },
    );
  }
  return current;
}

export async function newTask(project: Project, request: NewTaskRequest): Promise<NewTaskOutcome> {
  const { name } = request;
  const { lap, steps } = stepTimer();
  const branch = request.branch ?? defaultBranch(name);
  const paths = taskPaths(project, name);
  // git's view and the project's accepted state are independent questions: asked side by side, answered in
  // this order (a name already taken is said first, whatever the project's state).
  const [trees, accepted] = await Promise.allSettled([
    repositoryOf(project.dir).then(async (repo) => ({ repo, list: await listWorktrees(repo.top) })),
    acceptedState(project),
  ]);
  if (trees.status === 'rejected') throw trees.reason;
  const repo = trees.value.repo;
  if (existsSync(paths.worktree) || trees.value.list.some((t) => t.path === paths.worktree)) {
    throw new CctlError(`There is already a task "${name}" (${paths.worktree}).`, {
      hint: `Pick another name, or remove it first with "cctl task rm ${name}".`,
    });
  }
  if (accepted.status === 'rejected') throw accepted.reason;
  const current = accepted.value;
  const { record } = current;
  // The environment up gives Compose (this machine's file written alongside: identity, agent socket, read-only binds).
  const env = current.machine.env;
  lap('checks');
  const engine = await compose();
  const resolved = await resolvedModel(
    project,
    resolvedKey(record.fingerprint, readText(current.machine.file)),
    // The compose file's text as the fingerprint hashed it, piped: the project's claude-cli may rewrite the file meanwhile.
    () => config(invocationFor(engine, project, env), { input: composeText(project.file) }),
    () => fingerprintNow(project, record, engine) === record.fingerprint,
  );
  if (!resolved) throw changedSince(project);
  lap(resolved.kept ? 'resolved-model (kept)' : 'compose-config');
  await addWorktree(repo.top, paths.worktree, branch, request.from ?? 'HEAD');
  lap('worktree-add');
  const dir = taskDirOf(project, repo.top, paths.worktree);
  const services = [CLI_SERVICE];
  // What git itself wrote for the new worktree: its .git file and admin folder, bound read-only in the task.
  assertTaskWorktree(repo, paths.worktree);
  const adminDir = worktreeGitDir(paths.worktree)!;
  const model = taskModel(resolved.model, {
    services,
    projectDir: project.dir,
    taskDir: dir,
    commonDir: repo.commonDir,
    worktree: { path: paths.worktree, adminDir },
    homeVolume: homeVolumeName(project),
    projectName: project.name,
    exists: existsSync,
  });
  // The private folder: outside every workspace, so plain fs (inside.test.ts lists this module).
  mkdirSync(dirname(paths.composeFile), { recursive: true, mode: 0o700 });
  writeFileSync(paths.composeFile, `${JSON.stringify(model, null, 2)}\n`, { mode: 0o600 });
  // The read-only bind needs its source: a repository made without hooks/ gets an empty one (never through a link).
  mkdirInside(repo.commonDir, join(repo.commonDir, 'hooks'));
  const task = taskProject(project, name, dir);
  lap('compose-file');
  try {
    await up(invocationFor(engine, task, env), { services }, { signal: request.signal, timeoutMs: request.timeoutMs });
    lap('compose-up');
    const states = await waitHealthy(task, services, { timeoutMs: request.timeoutMs, signal: request.signal });
    lap('health-wait');
    return { name, branch, worktree: paths.worktree, composeProject: task.name, services: states, stepsMs: steps };
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
