/**
 * The workbench in claude-cli: the project's toolchain (the `packages`
 * setting and the team's Dockerfile fragment), the developer's git identity,
 * SSH agent and tokens. This file holds what is decided from settings and
 * files alone; what needs the host (git config, the agent's socket) is in
 * ops/workbench.ts.
 *
 * Nothing personal or secret is written into the committed compose file: the
 * tokens are *names* there, filled from the environment of the compose
 * process that creates the container; the identity and the agent socket go
 * to the per-machine file in the private folder (machine-file.ts).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../kernel/errors.js';
import { listFiles, writeInside } from '../kernel/fs.js';

/** The team's own Dockerfile fragment and its example; cctl never writes the fragment. */
export const FRAGMENT_FILE = '.cctl/Dockerfile.local';
export const FRAGMENT_EXAMPLE = '.cctl/Dockerfile.local.example';
/** Files the fragment may COPY: kept in the build context, never removed by cctl. */
export const FRAGMENT_FILES_DIR = 'local';
/** The line in docker/Dockerfile where the fragment goes. */
export const FRAGMENT_MARKER = '# cctl:team-fragment';
/** Where the host's SSH agent socket appears in claude-cli. */
export const SSH_SOCKET_IN_CONTAINER = '/run/cctl/ssh-agent.sock';

/** OS package names for apt or apk (`name`, `name=version`); no options, no shell. */
export function packageList(value: unknown, where: string): string[] {
  return list(value, where, /^[A-Za-z0-9][A-Za-z0-9+._:~=-]*$/, 'package names such as python3 or make (letters, digits and +._:~=-)');
}

/** Variables whose values cctl or the image set: passing them from the host would break the stack. */
const RESERVED =
  /^(ANTHROPIC_BASE_URL|CLAUDE_CONFIG_DIR|CLAUDE_HOME|HOME|PATH|TZ|CLAUDE_PLAN|SSH_AUTH_SOCK|GIT_(AUTHOR|COMMITTER)_(NAME|EMAIL)|CCTL_.*)$/;

/** Names of host variables passed to claude-cli (GH_TOKEN, NPM_TOKEN): names only, never values. */
export function envNameList(value: unknown, where: string): string[] {
  const names = list(
    value,
    where,
    /^[A-Za-z_][A-Za-z0-9_]*$/,
    'variable names such as GH_TOKEN (a name, not NAME=value: values come from the environment)',
  );
  const reserved = names.filter((n) => RESERVED.test(n));
  if (reserved.length) {
    throw new UsageError(
      `${where} lists ${reserved.join(', ')}, which cctl sets itself.`,
      'Remove it from the env setting; git identity and the SSH agent have settings of their own (git-name, git-email, ssh-agent).',
    );
  }
  return names;
}

function list(value: unknown, where: string, pattern: RegExp, want: string): string[] {
  if (value === null || value === undefined || value === '') return [];
  const items = Array.isArray(value) ? value : String(value).split(/[\s,]+/);
  const out: string[] = [];
  for (const item of items) {
    const text = typeof item === 'string' || typeof item === 'number' ? String(item).trim() : undefined;
    if (text === undefined || (text && !pattern.test(text))) {
      throw new UsageError(`${where} must list ${want}, not ${JSON.stringify(item)}.`);
    }
    if (text && !out.includes(text)) out.push(text);
  }
  return out;
}

export function checkGitEmail(value: string): string | undefined {
  return value === '' || /^[^\s<>]+@[^\s<>]+$/.test(value) ? undefined : "an e-mail address (or empty: the host's git config user.email)";
}

export function checkGitName(value: string): string | undefined {
  return /[<>\n]/.test(value) ? "a name without < > (or empty: the host's git config user.name)" : undefined;
}

export interface WorkbenchSettings {
  packages: string[];
  env: string[];
  'git-name': string;
  'git-email': string;
  'ssh-agent': 'auto' | 'on' | 'off';
  proxy: string;
  upstream: string;
}

/**
 * Claude Code turns MCP tool search off when ANTHROPIC_BASE_URL is not
 * Anthropic's own host, unless ENABLE_TOOL_SEARCH=true says the gateway passes
 * tool_reference blocks through. The built-in gateway forwards bodies as they
 * are, so in front of Anthropic's API it does.
 */
export function keepsToolSearch(s: Pick<WorkbenchSettings, 'proxy' | 'upstream'>): boolean {
  try {
    return s.proxy === 'builtin' && new URL(s.upstream).hostname === 'api.anthropic.com';
  } catch {
    return false;
  }
}

type PlainMap = { [key: string]: PlainValue };
type PlainValue = string | number | boolean | null | PlainValue[] | PlainMap;

/**
 * What the workbench adds to claude-cli's service in the committed file: the
 * packages build arg and the names of the host variables passed in (null:
 * Compose takes the value from its own environment, and leaves the variable
 * unset when there is none). The git identity and the agent socket differ per
 * developer, so the per-machine file carries them (machine-file.ts).
 */
export function applyWorkbench(service: PlainMap, s: WorkbenchSettings): void {
  const build = service.build as PlainMap;
  (build.args as PlainMap).PACKAGES = s.packages.join(' ');
  const environment = service.environment as PlainMap;
  if (keepsToolSearch(s)) environment.ENABLE_TOOL_SEARCH = 'true';
  for (const name of s.env) environment[name] = null;
}

/** The fragment's instructions, checked: no FROM (it is one stage, placed by cctl before the final label). */
export function readFragment(projectDir: string): string | undefined {
  const file = join(projectDir, FRAGMENT_FILE);
  if (!existsSync(file)) return undefined;
  const text = readFileSync(file, 'utf8');
  const from = text.split('\n').findIndex((l) => /^\s*FROM\s/i.test(l));
  if (from >= 0) {
    throw new UsageError(
      `${FRAGMENT_FILE} line ${from + 1} starts a new stage (FROM).`,
      "The fragment already runs as a stage over cctl's image: remove the FROM line and keep the instructions.",
    );
  }
  return text;
}

/** docker/Dockerfile with the fragment spliced in at the marker, ending as claude in /workspace again. */
export function spliceFragment(dockerfile: string, fragment: string | undefined): string {
  if (fragment === undefined) return dockerfile;
  if (!dockerfile.includes(FRAGMENT_MARKER)) throw new UsageError(`cctl's Dockerfile has no ${FRAGMENT_MARKER} line; reinstall cctl.`);
  const block = [
    `# --- ${FRAGMENT_FILE} (the team's; cctl never edits it) ---`,
    fragment.trimEnd(),
    '# --- end of the fragment: the image always ends as claude in /workspace ---',
    'USER claude',
    'WORKDIR /workspace',
  ].join('\n');
  return dockerfile.replace(FRAGMENT_MARKER, block);
}

/**
 * The claude-cli build context with the team's parts: the fragment spliced
 * into the Dockerfile, and `.cctl/docker/local/` kept as it is (it is in
 * `wanted`, so the sync never removes it, and it counts in the build hash).
 */
export function withTeamParts(wanted: Map<string, Buffer>, projectDir: string): Map<string, Buffer> {
  const key = join('docker', 'Dockerfile');
  const dockerfile = wanted.get(key);
  if (dockerfile) wanted.set(key, Buffer.from(spliceFragment(dockerfile.toString('utf8'), readFragment(projectDir))));
  const local = join(projectDir, '.cctl', 'docker', FRAGMENT_FILES_DIR);
  for (const f of listFiles(local)) wanted.set(join('docker', FRAGMENT_FILES_DIR, f), readFileSync(join(local, f)));
  return wanted;
}

const EXAMPLE = `# The team's additions to the claude-cli image. To use them, copy this file to
# .cctl/Dockerfile.local (cctl writes this example once and never touches that file).
#
# cctl builds its own image, then runs these instructions as the last stage over
# it, and ends with USER claude and WORKDIR /workspace again. Changing the file
# makes the next "cctl up" rebuild; Claude Code, ccusage and the monitor come
# from the layer cache. No FROM: this is one stage. The build context is
# .cctl/docker, so COPY takes files from .cctl/docker/local/ (cctl keeps that
# folder as it is).
#
# Plain OS packages are simpler as a setting: cctl init --set packages="python3 make"
#
# USER root
# RUN apt-get update && apt-get install -y --no-install-recommends postgresql-client \\
#  && rm -rf /var/lib/apt/lists/*
# COPY local/team-ca.pem /usr/local/share/ca-certificates/team-ca.crt
# ENV PIP_INDEX_URL=https://pypi.example.com/simple
`;

/** Writes the commented example once: only when neither it nor the fragment exists. */
export function writeFragmentExample(projectDir: string): string | undefined {
  if (existsSync(join(projectDir, FRAGMENT_FILE)) || existsSync(join(projectDir, FRAGMENT_EXAMPLE))) return undefined;
  writeInside(projectDir, join(projectDir, FRAGMENT_EXAMPLE), EXAMPLE);
  return FRAGMENT_EXAMPLE;
}
