/**
 * Reading what cctl keeps in the project's compose file: the settings under
 * `x-cctl`, whether the claude services are there, the build hash. The text
 * comes from compose-text.ts (read once per run) and is parsed once per
 * version of the file; every question here is answered from that one parse.
 */
import type { Document } from 'yaml';
import { MAX_ALIASES, parseCompose } from './merge.js';
import { composeText } from './compose-text.js';
import { CLI_SERVICE, type Project } from './locate.js';
import { type Settings } from './settings.js';
import { fromStored, resolveSettings } from './setting-layers.js';

export { MAX_COMPOSE_BYTES } from './compose-text.js';

export const SETTINGS_KEY = 'x-cctl';

let parsed: { file: string; text: string; doc: Document.Parsed } | undefined;

/**
 * The parsed file, shared: callers read it and never edit it (init's merge
 * edits its own copy). Undefined when the file does not exist.
 */
export function composeDocument(project: Project): Document.Parsed | undefined {
  if (!project.exists) return undefined;
  const text = composeText(project.file);
  if (parsed?.file !== project.file || parsed.text !== text) {
    const doc = parseCompose(text, project.file);
    parsed = { file: project.file, text, doc };
  }
  return parsed.doc;
}

/** The stored settings only, checked (an unknown key is named with the nearest valid one). */
export function readStoredSettings(project: Project): Partial<Settings> {
  const doc = composeDocument(project);
  return doc ? fromStored(doc.toJS({ maxAliasCount: MAX_ALIASES })?.[SETTINGS_KEY], `${project.file} (${SETTINGS_KEY})`) : {};
}

/** The settings the file was written with: stored values over the defaults. */
export function storedSettings(project: Project): Settings {
  return resolveSettings({ stored: readStoredSettings(project) });
}

/** Does the compose file hold cctl's claude-cli service yet? */
export function hasClaudeServices(project: Project): boolean {
  return composeDocument(project)?.hasIn(['services', CLI_SERVICE]) ?? false;
}

/** The build hash the file asks for (claude-cli's CCTL_BUILD_HASH build arg), without writing anything. */
export function buildHashInFile(project: Project): string {
  const value = composeDocument(project)?.getIn(['services', CLI_SERVICE, 'build', 'args', 'CCTL_BUILD_HASH']);
  return typeof value === 'string' ? value : '';
}
