/**
 * What `cctl doctor` says about the workbench: whether commits in claude-cli
 * get an identity, and whether the SSH agent is reachable from inside (the
 * socket must be usable by claude's UID, which is the host user's unless cctl
 * runs as root).
 */
import { CctlError } from '../kernel/errors.js';
import { ProcessError } from '../engine/runner.js';
import { CLI_SERVICE, type Project } from '../project/locate.js';
import type { Settings } from '../project/settings.js';
import { execCapture } from '../engine/compose-client.js';
import { projectInvocation } from './compose.js';
import { inspectServices } from './stack.js';
import { gitIdentity, sshAgentSource } from './workbench.js';

export interface WorkbenchCheck {
  name: string;
  status: 'pass' | 'warn' | 'fail';
  detail: string;
  fix?: string;
}

export async function identityCheck(project: Project, s: Settings, env = process.env): Promise<WorkbenchCheck> {
  const id = await gitIdentity(s, project.dir, env);
  const from = s['git-name'] && s['git-email'] ? 'settings' : 'the host';
  if (id.name && id.email) return { name: 'git-identity', status: 'pass', detail: `${id.name} <${id.email}> (from ${from})` };
  return {
    name: 'git-identity',
    status: 'warn',
    detail: `no git ${id.name ? 'user.email' : id.email ? 'user.name' : 'user.name or user.email'} on this machine: commits in claude-cli will be refused`,
    fix: 'git config --global user.name "Your Name"; git config --global user.email you@example.com (then cctl up), or fix one for the team: cctl init --set git-name=... --set git-email=...',
  };
}

export async function agentCheck(project: Project, s: Settings, env = process.env): Promise<WorkbenchCheck> {
  const name = 'ssh-agent';
  let source;
  try {
    source = sshAgentSource(s['ssh-agent'], env);
  } catch (error) {
    return { name, status: 'fail', detail: (error as CctlError).message, fix: (error as CctlError).hint };
  }
  if (!('via' in source)) return { name, status: s['ssh-agent'] === 'off' ? 'pass' : 'warn', detail: `not forwarded: ${source.reason}` };
  const [cli] = await inspectServices(project, [CLI_SERVICE]);
  if (cli?.state !== 'running')
    return {
      name,
      status: 'warn',
      detail: `${source.socket} will be forwarded; not checked from inside (claude-cli is not running)`,
      fix: 'Run "cctl up".',
    };
  try {
    const { stdout } = await execCapture(await projectInvocation(project), { service: CLI_SERVICE, command: ['ssh-add', '-l'] });
    return { name, status: 'pass', detail: `reachable from claude-cli (${stdout.split('\n').filter(Boolean).length} key(s))` };
  } catch (error) {
    if (!(error instanceof ProcessError)) throw error;
    // ssh-add -l: 1 = an agent answered with no keys, 2 = no agent could be reached.
    if (error.exitCode === 1)
      return { name, status: 'warn', detail: 'reachable from claude-cli, but the agent holds no keys', fix: 'ssh-add (on this machine)' };
    const root = process.getuid?.() === 0;
    return {
      name,
      status: 'fail',
      detail: `not reachable from claude-cli: ${(error.stderr || error.stdout).trim().split('\n').pop() ?? ''}`,
      fix: root
        ? "cctl runs as root, so claude has UID 1001 and cannot open your agent's socket: run cctl as your own user (in the docker group), or set ssh-agent=off."
        : 'Run "cctl up" again after starting the agent (the socket is mounted when the container is created), or set ssh-agent=off.',
    };
  }
}

export async function workbenchChecks(project: Project, s: Settings, env = process.env): Promise<WorkbenchCheck[]> {
  return Promise.all([identityCheck(project, s, env), agentCheck(project, s, env)]);
}
