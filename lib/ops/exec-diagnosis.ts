/**
 * Why `compose exec` into claude-cli failed, worked out only after it exited
 * 1 (ops/exec.ts loads this module then, so the pass-through path pays for
 * none of it): no claude service in the file, no daemon, no image, or a
 * stopped container, each with the command that fixes it.
 */
import { daemonDownError, isDaemonDown } from '../engine/docker.js';
import { machineImageName } from '../project/machine-file.js';
import { CctlError } from '../kernel/errors.js';
import { CLI_SERVICE, findProject, type Project } from '../project/locate.js';
import { ProcessError } from '../engine/runner.js';
import { runningContainer, serviceStates } from '../engine/containers.js';
import { imageExists } from '../engine/images.js';

/** Why claude-cli could not be exec'd into ('running': it could, and the child's own status was real). */
export type ExecDiagnosis =
  | { state: 'running' }
  | { state: 'no-service' }
  | { state: 'daemon-down'; detail: string }
  | { state: 'no-image'; image: string }
  | { state: 'stopped'; exitCode?: number; container?: string };

/** Works out why claude-cli cannot be exec'd into; 'running' means the child's own status was real. */
async function diagnose(project: Project): Promise<ExecDiagnosis> {
  // Loaded only after a failure: the YAML parser is not on the pass-through path.
  const { hasClaudeServices } = await import('../project/compose-file.js');
  if (!hasClaudeServices(project)) return { state: 'no-service' };
  try {
    if (await runningContainer(project.name, CLI_SERVICE)) return { state: 'running' };
  } catch (error) {
    if (isDaemonDown(error)) return { state: 'daemon-down', detail: (error as ProcessError).stderr };
    throw error;
  }
  const image = machineImageName(project, CLI_SERVICE);
  if (!(await imageExists(image).catch(() => false))) return { state: 'no-image', image };
  // Compose has already said "not running" on the inherited stderr: what cctl adds is how it stopped.
  const [cli] = await serviceStates(project.name, [CLI_SERVICE]).catch(() => []);
  return { state: 'stopped', exitCode: cli?.exitCode, container: cli?.container };
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
      if (state.container === undefined) {
        return new CctlError(`Project "${project.name}" has no ${CLI_SERVICE} container ("cctl down" removed it, or it never started).`, {
          hint: `Start it with "cctl up${up}".`,
        });
      }
      return new CctlError(
        `${CLI_SERVICE}'s container ${state.container} has exited${state.exitCode === undefined ? '' : ` with code ${state.exitCode}`}.`,
        {
          hint: `Why: "cctl logs ${CLI_SERVICE}${up}". Start it again with "cctl up${up}".`,
        },
      );
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
export async function explainFailure(project: Project, cause?: unknown): Promise<void> {
  let state: ExecDiagnosis;
  try {
    state = await diagnose(project);
  } catch {
    // The diagnosis is a courtesy: if it cannot run, the exit status still passes through as it was.
    return;
  }
  if (state.state === 'running') return;
  const error = diagnosisError(state, project)!;
  throw new CctlError(error.message, { hint: error.hint, cause: cause ?? error.cause });
}
