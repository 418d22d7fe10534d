/**
 * `compose exec` into claude-cli, shared by claude, monitor, usage, shell and
 * exec. The happy path is one spawn and nothing else: no `ps`, no inspect, so
 * `cctl usage daily` costs Node start-up over the raw compose call. Only when
 * the exec fails the way compose fails (exit 1) do we ask the engine why, and
 * turn "no container" into a message that names `cctl up`.
 */
import type { GlobalOptions } from '../kernel/argv.js';
import { compose, forgetCompose, type ComposeCommand } from '../engine/compose.js';
import { daemonDownError, isDaemonDown } from '../engine/docker.js';
import { imageName } from '../project/model.js';
import { CctlError } from '../kernel/errors.js';
import { CLI_SERVICE, containerWorkdir, findProject, locateProject, type Project } from '../project/locate.js';
import { projectArgv, projectEnv } from '../ops/compose.js';
import { ProcessError, run, runInteractive, type RunResult } from '../engine/runner.js';
import { runningContainer } from '../engine/containers.js';
import { imageExists } from '../engine/images.js';

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
export function wantsTty(stdin: { isTTY?: boolean } = process.stdin, stdout: { isTTY?: boolean } = process.stdout): boolean {
  return Boolean(stdin.isTTY && stdout.isTTY);
}

/** The verb args after compose's prefix: `exec [-T] [-w dir] claude-cli cmd…`. */
export function execArgs(spec: ExecSpec): string[] {
  const tty = spec.tty ?? wantsTty();
  return [
    'exec',
    ...(tty ? [] : ['-T']),
    ...(spec.workdir ? ['-w', spec.workdir] : []),
    CLI_SERVICE,
    ...spec.command,
  ];
}

/** A cheap fs check before spawning, so a missing file gets its own message, not compose's. */
export function requireComposeFile(globals: GlobalOptions, cwd = process.cwd()): Project {
  return locateProject(globals, cwd);
}

/** Called after an exit 1 when claude-cli is running, with its labels; may throw a better error. */
export type RunningCheck = (labels: Readonly<Record<string, string>>) => void;

/** Runs the exec with inherited stdio; resolves with the child's status, explained when it is compose's failure. */
export async function execInteractive(globals: GlobalOptions, spec: ExecSpec, whenRunning?: RunningCheck): Promise<number> {
  const project = requireComposeFile(globals);
  const workdir = (spec.followCwd && containerWorkdir(project)) || spec.workdir;
  const status = await withEngine((engine) => runInteractive(projectArgv(engine, project, execArgs({ ...spec, workdir })), { env: projectEnv(project, process.env) }));
  if (status === COMPOSE_FAILED) await explainFailure(project, undefined, whenRunning);
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
    return await withEngine((engine) => run(projectArgv(engine, project, execArgs({ command, tty: false })), { ...options, env: projectEnv(project, process.env) }));
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

/** Why claude-cli could not be exec'd into ('running': it could, and the child's own status was real). */
export type ExecDiagnosis =
  | { state: 'running'; labels: Record<string, string> }
  | { state: 'no-service' }
  | { state: 'daemon-down'; detail: string }
  | { state: 'no-image'; image: string }
  | { state: 'stopped' };

/** Labels the commands read back from the running container (image labels are inherited). */
const WATCHED_LABELS = ['dev.cctl.monitor'];

/** Works out why claude-cli cannot be exec'd into; 'running' means the child's own status was real. */
async function diagnose(project: Project): Promise<ExecDiagnosis> {
  // Loaded only after a failure: the YAML parser is not on the pass-through path.
  const { hasClaudeServices } = await import('../project/compose-file.js');
  if (!hasClaudeServices(project)) return { state: 'no-service' };
  try {
    const running = await runningContainer(project.name, CLI_SERVICE, WATCHED_LABELS);
    if (running) return { state: 'running', labels: running.labels };
  } catch (error) {
    if (isDaemonDown(error)) return { state: 'daemon-down', detail: (error as ProcessError).stderr };
    throw error;
  }
  const image = imageName(project.name, CLI_SERVICE);
  return (await imageExists(image).catch(() => false)) ? { state: 'stopped' } : { state: 'no-image', image };
}

/** The message for each way the stack can be missing. Undefined when claude-cli is running. */
function diagnosisError(state: ExecDiagnosis, project: Project): CctlError | undefined {
  const up = findProjectFlags(project);
  switch (state.state) {
    case 'running':
      return undefined;
    case 'daemon-down':
      return daemonDownError(state.detail || 'no answer');
    case 'no-service':
      return new CctlError(`${project.file} has no ${CLI_SERVICE} service.`, {
        hint: `Run "cctl init${up}" to add the claude services, then "cctl up${up}".`,
      });
    case 'no-image':
      return new CctlError(`The ${CLI_SERVICE} image (${state.image}) has not been built, so nothing is running.`, {
        hint: `Run "cctl up${up}" to build it and start the stack.`,
      });
    case 'stopped':
      return new CctlError(`The ${CLI_SERVICE} container of project "${project.name}" is not running.`, {
        hint: `Start it with "cctl up${up}".`,
      });
  }
}

/** `-f`/`-p` to repeat in the hint, so the suggested command works from where the user is. */
function findProjectFlags(project: Project): string {
  const defaults = findProject({}, project.dir);
  const parts: string[] = [];
  if (defaults.file !== project.file) parts.push(`-f ${project.file}`);
  if (defaults.name !== project.name) parts.push(`-p ${project.name}`);
  return parts.length ? ` ${parts.join(' ')}` : '';
}

/** After a failed exec: throw the specific error when the stack is the cause; return when the child itself failed. */
async function explainFailure(project: Project, cause?: unknown, whenRunning?: RunningCheck): Promise<void> {
  let state: ExecDiagnosis;
  try {
    state = await diagnose(project);
  } catch {
    // The diagnosis is a courtesy: if it cannot run, the exit status still passes through as it was.
    return;
  }
  if (state.state === 'running') {
    whenRunning?.(state.labels);
    return;
  }
  const error = diagnosisError(state, project)!;
  throw new CctlError(error.message, { hint: error.hint, cause: cause ?? error.cause });
}
