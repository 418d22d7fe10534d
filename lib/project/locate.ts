/**
 * Which compose file and project cctl works on, found the way Compose finds
 * them, and the argv of every compose call made on that project.
 */
import { existsSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import type { GlobalOptions } from '../kernel/argv.js';

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

export function hostTimeZone(env = process.env): string {
  return env.TZ || Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}
