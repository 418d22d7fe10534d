/**
 * The per-machine compose file, made from this machine's facts: the ids claude
 * gets, the engine's health-check support, the SSH agent, the git identity,
 * the owner, and the read-only binds over what the host runs
 * (project/machine-file.ts says what goes in and why).
 *
 * It is written before any Compose call of `init` and `up` (the full path and
 * the short one), and only when its text changes. Other verbs pass it as it
 * is (ops/compose.ts, projectFiles). The text is JSON under a comment header:
 * JSON is YAML, so Compose v1 and v2 read it, and the short path of `up`
 * writes it without loading a YAML library.
 */
import { readFileSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { relative, resolve } from 'node:path';
import { compareVersions, compose, parseVersion } from '../engine/compose.js';
import { apiVersion, daemonInfo } from '../engine/daemon.js';
import { writeFileAtomic } from '../kernel/fs.js';
import { CLI_SERVICE, hostTimeZone, type Project } from '../project/locate.js';
import { devcontainerPath } from '../project/devcontainer.js';
import { claudeIds, machineFileHeader, renderMachine, type MachineFacts, type Owner } from '../project/machine-file.js';
import { ensurePrivateDir, machineFilePath } from '../project/private-dir.js';
import { protectedBinds, type PathState } from '../project/protected-paths.js';
import type { Settings } from '../project/settings.js';
import { composeEnv } from './compose.js';
import { gitIdentity, sshAgentSource } from './workbench.js';

/** Engine 25 (API 1.44) runs start_interval; Compose v1 rejects the key, v2 knows it from 2.20.2. */
export async function supportsStartInterval(): Promise<boolean> {
  try {
    const [engine, daemon] = await Promise.all([compose(), daemonInfo()]);
    const composeOk = engine.flavour !== 'v1' && compareVersions(parseVersion(engine.version)!, [2, 20, 2]) >= 0;
    return composeOk && compareVersions(apiVersion(daemon), [1, 44]) >= 0;
  } catch {
    // No daemon or no compose: the committed timing, which every engine accepts.
    return false;
  }
}

/** Who runs cctl: the owner labels of the stack (a shared engine tells users apart by them). */
export function hostOwner(): Owner {
  const uid = process.getuid?.() ?? -1;
  let user = String(uid);
  try {
    user = userInfo().username;
  } catch {
    // No passwd entry (a container's arbitrary UID): the number names the user.
  }
  return { uid, user, host: hostname() };
}

export interface MachineFile {
  file: string;
  /** The text changed (or the file was new) in this call. */
  changed: boolean;
  facts: MachineFacts;
  /** The protected paths as they are now (for the record of accepted states). */
  paths: PathState[];
  /** The environment of Compose calls on the project (composeEnv). */
  env: NodeJS.ProcessEnv;
}

export interface MachineOptions {
  /** ssh-agent=on without an agent fails (up); otherwise the file just has no socket (init and build start nothing). */
  strictAgent?: boolean;
  /** The engine's start_interval support when the caller knows it (the short path of up, from its record). */
  startInterval?: boolean;
}

/** This machine's facts for the project under `s`. Throws when ssh-agent=on finds no agent. */
export async function machineFacts(
  project: Project,
  s: Settings,
  buildHash: string,
  env: NodeJS.ProcessEnv = process.env,
  options: MachineOptions = {},
): Promise<{ facts: MachineFacts; paths: PathState[] }> {
  const agent = options.strictAgent === false ? agentOrNone(s, env) : sshAgentSource(s['ssh-agent'], env);
  const [git, startInterval] = await Promise.all([gitIdentity(s, project.dir, env), options.startInterval ?? supportsStartInterval()]);
  // No walk for repositories inside the project: up records the ones its check saw (protected.ts acceptedStates).
  const { binds, states } = protectedBinds(resolve(project.dir, s.workspace), { createHooks: true, nested: false });
  const facts: MachineFacts = {
    buildHash,
    timeZone: hostTimeZone(env),
    ids: claudeIds(project.dir),
    owner: hostOwner(),
    startInterval,
    sshSocket: agent.socket,
    git,
    privateDir: ensurePrivateDir(project.name, env),
    binds,
    ...(s.devcontainer ? { devcontainer: { localFolder: project.dir, configFile: devcontainerPath(project.dir) } } : {}),
  };
  return { facts, paths: states };
}

/** The agent when one can be forwarded; none (instead of ssh-agent=on's error) for init and build, which start nothing. */
function agentOrNone(s: Settings, env: NodeJS.ProcessEnv): { socket?: string } {
  try {
    return sshAgentSource(s['ssh-agent'], env);
  } catch {
    return {};
  }
}

/** The file's text for these facts. */
export function machineFileText(project: Project, s: Settings, facts: MachineFacts): string {
  const shown = relative(project.dir, project.file) || project.file;
  return `${machineFileHeader(shown)}${JSON.stringify(renderMachine(s, project.name, facts), null, 2)}\n`;
}

/** Writes the per-machine file when its text differs from what is there (owner-only, in the private folder). */
export async function writeMachineFile(
  project: Project,
  s: Settings,
  buildHash: string,
  env: NodeJS.ProcessEnv = process.env,
  options: MachineOptions = {},
): Promise<MachineFile> {
  const { facts, paths } = await machineFacts(project, s, buildHash, env, options);
  const file = machineFilePath(project.name, env);
  const text = machineFileText(project, s, facts);
  let before: string | undefined;
  try {
    before = readFileSync(file, 'utf8');
  } catch {
    before = undefined;
  }
  if (before !== text) writeFileAtomic(file, text, 0o600);
  return { file, changed: before !== text, facts, paths, env: composeEnv(env) };
}

/** The gateway's build hash as this machine's file holds it (doctor compares the image with it); '' when none. */
export function gatewayBuildHashInMachineFile(project: Project, env: NodeJS.ProcessEnv = process.env): string {
  try {
    const text = readFileSync(machineFilePath(project.name, env), 'utf8');
    // The header is comment lines; the rest is the JSON cctl wrote.
    const model = JSON.parse(text.slice(text.indexOf('{'))) as {
      services?: Record<string, { build?: { args?: Record<string, unknown> } }>;
    };
    for (const [name, service] of Object.entries(model.services ?? {})) {
      const hash = service.build?.args?.CCTL_BUILD_HASH;
      if (name !== CLI_SERVICE && typeof hash === 'string') return hash;
    }
  } catch {
    // No file yet, or not one cctl wrote: nothing to compare with.
  }
  return '';
}
