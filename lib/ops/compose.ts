/**
 * Compose calls on the project: cctl's profile, the host user's ids and time
 * zone, and the detected compose command, put together in one place.
 */
import { homedir } from 'node:os';
import { compose, composeArgv } from '../engine/compose.js';
import { buildServices, validateConfig } from '../engine/compose-lib.js';
import { ProcessError, run, runInteractive, type RunOptions, type RunResult } from '../engine/runner.js';
import { CctlError } from '../kernel/errors.js';
import { tail } from '../kernel/text.js';
import type { ComposeCommand } from '../engine/compose.js';
import { hostTimeZone, PROFILE, type Project } from '../project/locate.js';

/** The argv of one compose call on the project, under cctl's profile. */
export function projectArgv(engine: ComposeCommand, project: Project, args: readonly string[]): string[] {
  return composeArgv(engine, project, args, [PROFILE]);
}

async function composeCall(project: Project, args: readonly string[]): Promise<string[]> {
  return projectArgv(await compose(), project, args);
}

/**
 * The environment every compose call gets: the host user's ids (files made in
 * /workspace are theirs; root keeps the image's 1001) and the host time zone,
 * which the compose file reads as ${CCTL_UID:-1001}, ${TZ:-UTC}.
 */
export function composeEnv(env = process.env): NodeJS.ProcessEnv {
  // HOME names the private folder in the file (${HOME}/.config/cctl/...); a shell without it (Windows) gets the one cctl used.
  const out: NodeJS.ProcessEnv = { ...env, TZ: hostTimeZone(env), HOME: env.HOME || homedir() };
  const uid = process.getuid?.();
  const gid = process.getgid?.();
  if (uid && gid && env.CCTL_UID === undefined) {
    out.CCTL_UID = String(uid);
    out.CCTL_GID = String(gid);
  }
  return out;
}

/**
 * The compose file names the project as ${COMPOSE_PROJECT_NAME} (model.ts says why). Compose v2 fills it
 * in itself; Compose v1 reads it from the environment, so every call on the project exports it.
 */
export function projectEnv(project: Project, env: NodeJS.ProcessEnv = composeEnv()): NodeJS.ProcessEnv {
  return { ...env, COMPOSE_PROJECT_NAME: project.name };
}

export async function composeRun(project: Project, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  return run(await composeCall(project, args), { cwd: project.dir, ...options, env: projectEnv(project, options.env) });
}

export async function composeInteractive(project: Project, args: readonly string[]): Promise<number> {
  return runInteractive(await composeCall(project, args), { env: projectEnv(project), cwd: project.dir });
}

/** `compose build` of the project's services (through the docker-compose package; see engine/compose-lib.ts). */
export async function composeBuild(project: Project, services: readonly string[], options: { noCache?: boolean; onOutput?: (chunk: string) => void } = {}): Promise<RunResult> {
  return buildServices(await compose(), project, [PROFILE], { services, noCache: options.noCache, onOutput: options.onOutput, cwd: project.dir, env: projectEnv(project) });
}

/** Compose's own check of a compose file's text, before it is written over the project's file. */
export async function composeValidate(project: Project, text: string): Promise<void> {
  try {
    await validateConfig(await compose(), project, [PROFILE], text, projectEnv(project));
  } catch (error) {
    const cause = error instanceof CctlError ? error.cause : undefined;
    if (!(cause instanceof ProcessError)) throw error;
    // Compose names the input "-" (it was piped in); the user knows it as their file.
    const said = tail(cause.stderr, 4, '\n  ').replace(/(^|[\s(])-:/g, `$1${project.file}:`);
    throw new CctlError(`Compose rejects the compose file:\n  ${said || `exit code ${cause.exitCode}`}`, {
      hint: 'The compose file was not changed. Fix what Compose names (in your own services too, or with "cctl init --force" for cctl\'s), then run the command again.',
      cause,
    });
  }
}
