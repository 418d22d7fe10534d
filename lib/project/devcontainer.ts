/**
 * `.devcontainer/devcontainer.json` for editors that attach to claude-cli
 * (VS Code, Cursor, the Dev Containers CLI): what cctl writes there, how it
 * merges into a file that has keys of the user's, and how two versions of the
 * file differ, worded for what the host would run.
 *
 * The editor must attach to the containers `cctl up` runs, not start a second
 * stack. The Dev Containers CLI names the Compose project the way Compose
 * does (COMPOSE_PROJECT_NAME, `.env`, the files' `name:`, then the compose
 * file's folder), so with the same files it finds the same project: the
 * committed compose file, then this machine's file from the private folder,
 * named through `${localEnv:HOME}` so that no user's home is committed (the
 * CLI expands it in dockerComposeFile; checked with @devcontainers/cli 0.89).
 *
 * The file is in the workspace, where claude-cli can write, and the editor
 * runs some of it on the host (initializeCommand) or in the stack
 * (dockerComposeFile names what Compose starts): cctl keeps the version a
 * human accepted in the private folder and holds the file against it.
 */
import { join, relative, sep } from 'node:path';
import { CLI_SERVICE, WORKSPACE_MOUNT } from './locate.js';
import { gatewayService } from './model.js';
import { MACHINE_FILE } from './private-dir.js';
import type { Settings } from './settings.js';

export const DEVCONTAINER_DIR = '.devcontainer';
export const DEVCONTAINER_FILE = join(DEVCONTAINER_DIR, 'devcontainer.json');
/** The Claude Code extension's id in the VS Code marketplace (and Open VSX). */
export const CLAUDE_CODE_EXTENSION = 'anthropic.claude-code';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonMap = { [key: string]: Json };

/** Keys the editor runs on the host, or that decide what Compose starts there: named first, and louder, in a diff. */
export const HOST_KEYS = [
  'initializeCommand',
  'dockerComposeFile',
  'build',
  'image',
  'dockerFile',
  'runArgs',
  'mounts',
  'features',
  'privileged',
  'capAdd',
  'securityOpt',
];

export function devcontainerPath(projectDir: string): string {
  return join(projectDir, DEVCONTAINER_FILE);
}

/** cctl's keys, for the project's compose file and name and these settings. */
export function renderDevcontainer(input: {
  projectDir: string;
  composeFile: string;
  name: string;
  settings: Pick<Settings, 'proxy' | 'proxy-service'>;
}): JsonMap {
  const folder = join(input.projectDir, DEVCONTAINER_DIR);
  const committed = relative(folder, input.composeFile).split(sep).join('/');
  // The per-machine file is the private folder's, under each user's own home: the same text for everyone.
  const machine = `\${localEnv:HOME}/.config/cctl/projects/${input.name}/${MACHINE_FILE}`;
  const gateway = input.settings.proxy === 'external' ? [] : [gatewayService(input.settings)];
  return {
    name: input.name,
    dockerComposeFile: [committed, machine],
    service: CLI_SERVICE,
    runServices: [...gateway, CLI_SERVICE],
    workspaceFolder: WORKSPACE_MOUNT,
    remoteUser: 'claude',
    // Closing the editor leaves the stack to cctl ("cctl down" stops it).
    shutdownAction: 'none',
    // claude already has the host user's UID (this machine's file builds the image for it): no second image.
    updateRemoteUserUID: false,
    // The container's own command (its health check depends on it), not the CLI's sleep loop.
    overrideCommand: false,
    customizations: { vscode: { extensions: [CLAUDE_CODE_EXTENSION] } },
  };
}

function isMap(value: Json | undefined): value is JsonMap {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** cctl's keys over the user's file: the user's other keys and extensions stay, cctl's take cctl's values. */
export function mergeDevcontainer(existing: JsonMap | undefined, ours: JsonMap): JsonMap {
  const out: JsonMap = { ...(existing ?? {}) };
  for (const [key, value] of Object.entries(ours)) {
    if (key !== 'customizations') out[key] = value;
  }
  const theirs = isMap(out.customizations) ? out.customizations : {};
  const vscode = isMap(theirs.vscode) ? theirs.vscode : {};
  const extensions = Array.isArray(vscode.extensions) ? vscode.extensions : [];
  out.customizations = {
    ...theirs,
    vscode: { ...vscode, extensions: extensions.includes(CLAUDE_CODE_EXTENSION) ? extensions : [...extensions, CLAUDE_CODE_EXTENSION] },
  };
  return out;
}

export function devcontainerText(doc: JsonMap): string {
  return `${JSON.stringify(doc, null, 2)}\n`;
}

/** The file's text as JSON, or why not (cctl writes plain JSON; comments would need a JSONC parser). */
export function parseDevcontainer(text: string): { doc?: JsonMap; problem?: string } {
  try {
    const doc = JSON.parse(text) as Json;
    return isMap(doc) ? { doc } : { problem: 'it is not a JSON object' };
  } catch (error) {
    return { problem: `it is not plain JSON (${(error as Error).message})` };
  }
}

export interface DevcontainerChange {
  key: string;
  was?: Json;
  now?: Json;
  /** The editor runs it on the host, or it decides what Compose starts there. */
  host: boolean;
}

/** The top-level keys whose values differ between the accepted text and the file now; host keys first. */
export function devcontainerChanges(accepted: string | undefined, now: string | undefined): DevcontainerChange[] {
  if (accepted === now) return [];
  const parse = (text: string | undefined): JsonMap =>
    text === undefined ? {} : (parseDevcontainer(text).doc ?? { '(unparsed text)': text });
  const [a, b] = [parse(accepted), parse(now)];
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k]));
  const changes = keys.map((key) => ({ key, was: a[key], now: b[key], host: HOST_KEYS.includes(key) }));
  // Same keys and values, other bytes (spacing, key order): still a change, since the file is not what was accepted.
  if (changes.length === 0) changes.push({ key: '(formatting)', was: undefined, now: undefined, host: false });
  return changes.sort((x, y) => Number(y.host) - Number(x.host));
}

export function describeDevcontainerChanges(file: string, changes: readonly DevcontainerChange[]): string {
  const show = (v: Json | undefined) => (v === undefined ? '(none)' : JSON.stringify(v).slice(0, 200));
  const lines = changes.map((c) => {
    const where =
      c.key === 'initializeCommand'
        ? ' (the editor runs it ON THIS MACHINE when it opens the folder)'
        : c.host
          ? ' (decides what runs on this machine)'
          : '';
    return `  ${c.key}${where}: ${show(c.was)} -> ${show(c.now)}`;
  });
  return `${file} differs from the version accepted last:\n${lines.join('\n')}`;
}
