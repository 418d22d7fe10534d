/**
 * The compose invocation of a project: its files, name, folder, cctl's
 * profile and the environment every call gets, put together in one place.
 * The verbs themselves are engine/compose-client.ts; every use case gets its
 * invocation here, so `up`, the trust check's `config` and `exec` all name
 * the same files with the same environment.
 */
import { existsSync } from 'node:fs';
import { compose, type ComposeCommand } from '../engine/compose.js';
import { invocationArgv, validate, type ComposeInvocation } from '../engine/compose-client.js';
import { ProcessError } from '../engine/runner.js';
import { CctlError } from '../kernel/errors.js';
import { homeDir } from '../kernel/home.js';
import { tail } from '../kernel/text.js';
import { hostTimeZone, PROFILE, type Project } from '../project/locate.js';
import { machineFilePath } from '../project/private-dir.js';

export type { ComposeInvocation } from '../engine/compose-client.js';

/**
 * The compose files of every call on the project, in order (`-f` each): the committed file, then
 * this machine's file from the private folder (project/machine-file.ts) when cctl has written one.
 * Whatever resolves the project's model (the trust check, the compose client) takes the list from
 * here, so it sees exactly what `up` runs. `env` names the private folder (its HOME).
 */
export function projectFiles(project: Project, env: NodeJS.ProcessEnv = process.env): string[] {
  const machine = machineFilePath(project.name, env);
  return existsSync(machine) ? [project.file, machine] : [project.file];
}

/**
 * The project's invocation with this compose. `env` is the environment before
 * the project's name is added (projectEnv): composeEnv() unless the call needs
 * less (exec); its HOME names the private folder that holds the machine file.
 */
export function invocationFor(engine: ComposeCommand, project: Project, env: NodeJS.ProcessEnv = composeEnv()): ComposeInvocation {
  return {
    engine,
    files: projectFiles(project, env),
    project: project.name,
    dir: project.dir,
    profiles: [PROFILE],
    env: projectEnv(project, env),
  };
}

/** invocationFor() with the detected compose (remembered across runs: compose.ts). */
export async function projectInvocation(project: Project, env?: NodeJS.ProcessEnv): Promise<ComposeInvocation> {
  return invocationFor(await compose(), project, env);
}

/** The argv cctl runs on the project for these verb args: for the benches and e2e tests that time or drive raw Compose. */
export function projectArgv(
  engine: ComposeCommand,
  project: Project,
  args: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): string[] {
  return invocationArgv({ engine, files: projectFiles(project, env), project: project.name, dir: project.dir, profiles: [PROFILE] }, args);
}

/**
 * The environment every compose call gets: the host time zone (the user's
 * ids, agent socket and identity are in the per-machine file, written out
 * literally, so no variable of the user's decides them).
 */
export function composeEnv(env = process.env): NodeJS.ProcessEnv {
  // HOME names the private folder; a shell without it (Windows) gets the one cctl used.
  return { ...env, TZ: hostTimeZone(env), HOME: env.HOME || homeDir() };
}

/**
 * The compose file names the project as ${COMPOSE_PROJECT_NAME} (model.ts says why). Compose v2 fills it
 * in itself; Compose v1 reads it from the environment, so every call on the project exports it.
 */
export function projectEnv(project: Pick<Project, 'name'>, env: NodeJS.ProcessEnv = composeEnv()): NodeJS.ProcessEnv {
  return { ...env, COMPOSE_PROJECT_NAME: project.name };
}

/** Compose's refusal of a compose file's text piped as `-`, said about the user's file. */
export function composeRejects(project: Project, error: unknown): unknown {
  const cause = error instanceof CctlError ? error.cause : undefined;
  if (!(cause instanceof ProcessError)) return error;
  // Compose names the input "-" (it was piped in); the user knows it as their file.
  const said = tail(cause.stderr, 4, '\n  ').replace(/(^|[\s(])-:/g, `$1${project.file}:`);
  return new CctlError(`Compose rejects the compose file:\n  ${said || `exit code ${cause.exitCode}`}`, {
    hint: 'The compose file was not changed. Fix what Compose names (in your own services too, or with "cctl init --force" for cctl\'s), then run the command again.',
    cause,
  });
}

/** Compose's own check of a compose file's text, before it is written over the project's file. */
export async function composeValidate(project: Project, text: string): Promise<void> {
  try {
    await validate(await projectInvocation(project), text);
  } catch (error) {
    throw composeRejects(project, error);
  }
}
