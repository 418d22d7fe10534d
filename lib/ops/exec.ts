/**
 * `compose exec` into claude-cli, shared by claude, monitor, usage, shell and
 * exec. The happy path is one spawn and nothing else: no `ps`, no inspect, so
 * `cctl usage daily` costs Node start-up over the raw compose call. Only when
 * the exec fails the way compose fails (exit 1) do we ask the engine why, and
 * turn "no container" into a message that names `cctl up`.
 */
import { isatty } from 'node:tty';
import type { GlobalOptions } from '../kernel/argv.js';
import { compose, forgetCompose, type ComposeCommand } from '../engine/compose.js';
import { CLI_SERVICE, containerWorkdir, locateProject, type Project } from '../project/locate.js';
import { invocationFor } from '../ops/compose.js';
import * as composeClient from '../engine/compose-client.js';
import { ProcessError, type RunResult } from '../engine/runner.js';

export { WORKSPACE_MOUNT as WORKSPACE } from '../project/locate.js';

export interface ExecSpec {
  /** The command inside the container. */
  command: readonly string[];
  /** `-w`; omitted means the image's WORKDIR. */
  workdir?: string;
  /** Start in the folder under /workspace that matches the caller's folder, when it is inside the workspace. */
  followCwd?: boolean;
  /** Allocate a TTY. Defaults to "stdin and stdout are both terminals". */
  tty?: boolean;
}

/**
 * Compose allocates a TTY by default, and a TTY on a pipe fails ("the input
 * device is not a TTY") or mangles output with \r\n. So -T unless both ends
 * are terminals; stderr does not matter (`cctl claude 2>log` stays interactive).
 */
export function wantsTty(stdin: { isTTY?: boolean } = { isTTY: isatty(0) }, stdout: { isTTY?: boolean } = { isTTY: isatty(1) }): boolean {
  return Boolean(stdin.isTTY && stdout.isTTY);
}

/** The client's request for an exec into claude-cli (`exec [-T] [-w dir] claude-cli cmd…`). */
export function execRequest(spec: ExecSpec): composeClient.ExecRequest {
  return { service: CLI_SERVICE, command: spec.command, tty: spec.tty ?? wantsTty(), workdir: spec.workdir };
}

/** The exec's invocation: the caller's own environment (no composeEnv: nothing is created here), the project's name added. */
const execInvocation = (engine: ComposeCommand, project: Project) => invocationFor(engine, project, process.env);

/** A cheap fs check before spawning, so a missing file gets its own message, not compose's. */
export function requireComposeFile(globals: GlobalOptions, cwd = process.cwd()): Project {
  return locateProject(globals, cwd);
}

/** Runs the exec with inherited stdio; resolves with the child's status, explained when it is compose's failure. */
export async function execInteractive(globals: GlobalOptions, spec: ExecSpec): Promise<number> {
  return execInProject(requireComposeFile(globals), spec);
}

/** execInteractive() on a given project (a task's, ops/task/exec.ts). */
export async function execInProject(project: Project, spec: ExecSpec): Promise<number> {
  const workdir = (spec.followCwd && containerWorkdir(project)) || spec.workdir;
  const status = await withEngine((engine) => composeClient.exec(execInvocation(engine, project), execRequest({ ...spec, workdir })));
  if (status === COMPOSE_FAILED) await explainFailure(project);
  return status;
}

/** Capture mode (the live view's polls): stdout as a string, failures explained. Always -T. */
export async function execCapture(
  globals: GlobalOptions,
  command: readonly string[],
  options: { timeoutMs?: number; signal?: AbortSignal } = {},
): Promise<RunResult> {
  const project = requireComposeFile(globals);
  try {
    return await withEngine((engine) =>
      composeClient.execCapture(execInvocation(engine, project), execRequest({ command, tty: false }), options),
    );
  } catch (error) {
    if (error instanceof ProcessError && error.exitCode === COMPOSE_FAILED) await explainFailure(project, error);
    throw error;
  }
}

/** The spawn itself failed (ENOENT, EACCES): the remembered compose command is gone, not the child's status. */
function isSpawnFailure(error: unknown): boolean {
  return error instanceof ProcessError && error.exitCode === 127 && error.stderr === '' && /\b(ENOENT|EACCES)\b/.test(error.message);
}

/** Runs fn with the remembered compose command; if that no longer starts, detects afresh and tries once more. */
async function withEngine<T>(fn: (engine: ComposeCommand) => Promise<T>): Promise<T> {
  try {
    return await fn(await compose());
  } catch (error) {
    if (!isSpawnFailure(error)) throw error;
    forgetCompose();
    return fn(await compose());
  }
}

/**
 * Compose reports its own failures (no container, no daemon, no such
 * service) as exit 1, and so does many a child command. Telling them apart
 * costs docker calls, which is why it only happens after an exit 1.
 */
const COMPOSE_FAILED = 1;

/** After an exit 1: the diagnosis is loaded only now, so the happy path loads none of it (and no YAML parser). */
async function explainFailure(project: Project, cause?: unknown): Promise<void> {
  const diagnosis = await import('./exec-diagnosis.js');
  await diagnosis.explainFailure(project, cause);
}
