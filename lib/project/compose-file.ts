/**
 * Reading what cctl keeps in the project's compose file: the settings under
 * `x-cctl` and whether the claude services are there. Commands that only
 * read (status, down, logs, doctor, the live view) use this, not init.ts.
 */
import { readFileSync } from 'node:fs';
import type { Document } from 'yaml';
import { parseCompose } from './merge.js';
import { CLI_SERVICE, type Project } from './locate.js';
import { fromStored, resolveSettings, type Settings } from './settings.js';

export const SETTINGS_KEY = 'x-cctl';

function parse(project: Project): Document.Parsed | undefined {
  return project.exists ? parseCompose(readFileSync(project.file, 'utf8'), project.file) : undefined;
}

/** The stored settings only, checked (an unknown key is named with the nearest valid one). */
export function readStoredSettings(project: Project): Partial<Settings> {
  const doc = parse(project);
  return doc ? fromStored(doc.toJS()?.[SETTINGS_KEY], `${project.file} (${SETTINGS_KEY})`) : {};
}

/** The settings the file was written with: stored values over the defaults. */
export function storedSettings(project: Project): Settings {
  return resolveSettings({ stored: readStoredSettings(project) });
}

/** Does the compose file hold cctl's claude-cli service yet? */
export function hasClaudeServices(project: Project): boolean {
  return parse(project)?.hasIn(['services', CLI_SERVICE]) ?? false;
}

/** The build hash the file asks for (claude-cli's CCTL_BUILD_HASH build arg), without writing anything. */
export function buildHashInFile(project: Project): string {
  const value = parse(project)?.getIn(['services', CLI_SERVICE, 'build', 'args', 'CCTL_BUILD_HASH']);
  return typeof value === 'string' ? value : '';
}
