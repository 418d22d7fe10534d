/**
 * Doctor's checks of what the per-machine file promises, on the real
 * containers: claude can write /workspace (the UID fits the folder's owner),
 * the stack of this name is this user's, and what the host runs without
 * review is read-only inside claude-cli and unchanged since it was accepted.
 */
import { execCapture } from '../engine/compose-client.js';
import { containerMounts } from '../engine/containers.js';
import { CLI_SERVICE, WORKSPACE_MOUNT, type Project } from '../project/locate.js';
import { claudeIds } from '../project/machine-file.js';
import { describePathChanges, protectedBinds } from '../project/protected-paths.js';
import { projectInvocation } from './compose.js';
import { describeOwner, foreignStack } from './owner.js';
import { pathChanges, workspaceDir } from './protected.js';

export interface MachineCheck {
  name: string;
  status: 'pass' | 'warn' | 'fail';
  detail: string;
  fix?: string;
}

/** Writes and removes a file in /workspace as claude (the image's user), and says whose the folder is when it cannot. */
export async function workspaceWriteCheck(project: Project): Promise<MachineCheck> {
  const script = `f=${WORKSPACE_MOUNT}/.cctl-doctor-$$; if touch "$f" 2>/dev/null; then rm -f "$f"; echo ok; else echo no; fi; id -u; stat -c %u ${WORKSPACE_MOUNT}`;
  const { stdout } = await execCapture(await projectInvocation(project), { service: CLI_SERVICE, command: ['sh', '-c', script] });
  const [verdict, uid, owner] = stdout
    .trim()
    .split('\n')
    .map((l) => l.trim());
  if (verdict === 'ok') return { name: 'workspace', status: 'pass', detail: `claude (UID ${uid}) can write ${WORKSPACE_MOUNT}` };
  const want = claudeIds(project.dir);
  // A folder root owns has no user to map claude to (Claude Code refuses to run as root): said, not failed,
  // so root's own projects still come up; only giving the folder to a user fixes it.
  if (owner === '0') {
    return {
      name: 'workspace',
      status: 'warn',
      detail: `claude (UID ${uid}) cannot write ${WORKSPACE_MOUNT}: the project folder belongs to root, and claude never runs as root`,
      fix: `Give the folder to a regular user (chown -R USER ${project.dir}), then run "cctl up" again: claude gets that user's UID.`,
    };
  }
  return {
    name: 'workspace',
    status: 'fail',
    detail: `claude (UID ${uid}) cannot write ${WORKSPACE_MOUNT}, which belongs to UID ${owner}`,
    fix: `Run "cctl up" as the user who owns the project (or as root: claude then gets the folder owner's UID ${want.uid}); it rebuilds claude-cli for that UID.`,
  };
}

export async function ownerCheck(project: Project): Promise<MachineCheck> {
  const stack = await foreignStack(project);
  if (!stack) return { name: 'owner', status: 'pass', detail: `no other user's stack is named "${project.name}" on this engine` };
  return {
    name: 'owner',
    status: 'fail',
    detail: `the stack "${project.name}" on this engine belongs to ${describeOwner(stack.owner)} (${stack.containers.join(', ')}); "cctl up" here would recreate it as yours`,
    fix: `Give this project its own name (COMPOSE_PROJECT_NAME=${project.name}-2 cctl up, or -p NAME), or ask ${stack.owner.user} to run "cctl down".`,
  };
}

/** The protected paths: each one that exists is mounted read-only in the running claude-cli, and none of the rest changed since the last up. */
export async function protectedPathsCheck(project: Project, cliContainer: string | undefined): Promise<MachineCheck> {
  const { changes } = pathChanges(project);
  if (changes.length) {
    return {
      name: 'protected',
      status: 'warn',
      detail: `files the host runs without review changed while claude-cli could write them:\n${describePathChanges(changes)}`,
      fix: 'Read them before running git in the project; "cctl up" refuses until you accept them (--accept-changes).',
    };
  }
  const wanted = protectedBinds(workspaceDir(project), { nested: false }).binds.filter((b) => b.readOnly);
  if (!cliContainer)
    return {
      name: 'protected',
      status: 'pass',
      detail: `unchanged since the last up (${wanted.length} read-only in claude-cli once it runs)`,
    };
  const mounts = await containerMounts(cliContainer);
  const writable = wanted.filter((b) => !mounts.some((m) => m.destination === b.target && !m.rw));
  if (writable.length === 0)
    return {
      name: 'protected',
      status: 'pass',
      detail: `read-only in claude-cli: ${wanted.map((b) => b.target.slice(WORKSPACE_MOUNT.length + 1)).join(', ') || 'none exist'}`,
    };
  return {
    name: 'protected',
    status: 'fail',
    detail: `writable from claude-cli, though the host runs them without review: ${writable.map((b) => b.target).join(', ')}`,
    fix: 'Run "cctl up": it recreates claude-cli with these read-only (plain "docker compose up" without the per-machine file leaves them writable).',
  };
}
