/**
 * Which compose file and project cctl works on, found the way Compose finds
 * them, and the argv of every compose call made on that project.
 */
import { existsSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import type { GlobalOptions } from './argv.js';
import { compose, type ComposeCommand } from './engine/compose.js';
import { run, runInteractive, type RunOptions, type RunResult } from './runner.js';

export const COMPOSE_FILE_NAMES = ['compose.yaml', 'compose.yml', 'docker-compose.yaml', 'docker-compose.yml'];
export const PROFILE = 'claude';
export const CLI_SERVICE = 'claude-cli';
export const PROXY_SERVICE = 'proxy';

export interface Project {
  /** Absolute path of the compose file (it may not exist yet). */
  file: string;
  exists: boolean;
  dir: string;
  name: string;
}

/** Compose's own rule for project names: lower case, [a-z0-9_-], starting with a letter or digit. */
export function normalizeProjectName(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9_-]/g, '').replace(/^[-_]+/, '');
}

export function findProject(options: GlobalOptions, cwd = process.cwd(), env = process.env): Project {
  let file: string;
  if (options.file) {
    file = resolve(cwd, options.file);
  } else {
    const found = COMPOSE_FILE_NAMES.map((n) => resolve(cwd, n)).find((f) => existsSync(f));
    file = found ?? resolve(cwd, 'compose.yaml');
  }
  const dir = dirname(file);
  const name = normalizeProjectName(options.projectName ?? env.COMPOSE_PROJECT_NAME ?? basename(dir)) || 'default';
  return { file, exists: existsSync(file), dir, name };
}

/** command + prefix args + verb args, the same on v1 and v2. */
export function composeArgv(engine: ComposeCommand, project: Project, args: readonly string[]): string[] {
  return [...engine.command, '--project-directory', project.dir, '-f', project.file, '-p', project.name, '--profile', PROFILE, ...args];
}

export async function composeCall(project: Project, args: readonly string[]): Promise<string[]> {
  return composeArgv(await compose(), project, args);
}

export function hostTimeZone(env = process.env): string {
  return env.TZ || Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

/**
 * The environment every compose call gets: the host user's ids (files made in
 * /workspace are theirs; root keeps the image's 1001) and the host time zone,
 * which the compose file reads as ${CCTL_UID:-1001}, ${TZ:-UTC}.
 */
export function composeEnv(env = process.env): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = { ...env, TZ: hostTimeZone(env) };
  const uid = process.getuid?.();
  const gid = process.getgid?.();
  if (uid && gid && env.CCTL_UID === undefined) {
    out.CCTL_UID = String(uid);
    out.CCTL_GID = String(gid);
  }
  return out;
}

export async function composeRun(project: Project, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  return run(await composeCall(project, args), { env: composeEnv(), cwd: project.dir, ...options });
}

export async function composeInteractive(project: Project, args: readonly string[]): Promise<number> {
  return runInteractive(await composeCall(project, args), { env: composeEnv(), cwd: project.dir });
}
