/**
 * The host side of the workbench: the developer's git identity and SSH agent,
 * written into the per-machine compose file in the private folder
 * (ops/machine-file.ts), never into the committed one. A change shows at the
 * next `cctl up` (Compose recreates the container when a value differs).
 *
 * Why variables rather than a gitconfig in the home volume: the identity is
 * the host's, read fresh at every `up`; a file in the volume would go stale,
 * outlive a change of machine or user, and need a helper container to write.
 * GIT_AUTHOR_* / GIT_COMMITTER_* are what git reads first, so they also win
 * over any config Claude might write inside the container.
 */
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { CctlError } from '../kernel/errors.js';
import { run } from '../engine/runner.js';
import type { Settings } from '../project/settings.js';

/** Docker Desktop's own agent relay inside its VM (macOS, Windows, Desktop for Linux). */
export const DESKTOP_AGENT_SOCKET = '/run/host-services/ssh-auth.sock';

export interface GitIdentity {
  name?: string;
  email?: string;
}

/** `git config user.name/user.email` as git itself resolves them in the project (repo, global, system). */
export async function hostGitIdentity(cwd: string, env = process.env): Promise<GitIdentity> {
  // Both keys from one git (every up's short path asks): "key value" lines, from every scope in git's
  // order, so the last of each wins, as `git config --get` would say.
  let stdout = '';
  try {
    stdout = (await run(['git', 'config', '--get-regexp', '^user\\.(name|email)$'], { cwd, env, timeoutMs: 5_000 })).stdout;
  } catch {
    // No git, no repository, or neither key set (exit 1): all mean "no identity here".
  }
  const found: GitIdentity = {};
  for (const line of stdout.split('\n')) {
    const m = /^user\.(name|email) (.*)$/.exec(line);
    if (m) found[m[1] as 'name' | 'email'] = m[2]!.trim() || undefined;
  }
  return found;
}

/** The identity claude-cli gets: settings first, then the host's environment, then its git config. */
export async function gitIdentity(s: Pick<Settings, 'git-name' | 'git-email'>, cwd: string, env = process.env): Promise<GitIdentity> {
  const host = s['git-name'] && s['git-email'] ? {} : await hostGitIdentity(cwd, env);
  return { name: s['git-name'] || env.GIT_AUTHOR_NAME || host.name, email: s['git-email'] || env.GIT_AUTHOR_EMAIL || host.email };
}

export type AgentSource = { socket: string; via: 'host' | 'docker-desktop' } | { socket?: undefined; reason: string };

function isSocket(path: string): boolean {
  try {
    return existsSync(path) && statSync(path).isSocket();
  } catch {
    return false;
  }
}

/**
 * Which agent socket to mount, if any. A bind mount names a path on the
 * engine's machine, so forwarding works only when the engine is local (or is
 * Docker Desktop, which relays the host agent itself). A docker context that
 * points elsewhere without DOCKER_HOST cannot be seen from here: use off there.
 */
export function sshAgentSource(setting: Settings['ssh-agent'], env = process.env, platform = process.platform): AgentSource {
  if (setting === 'off') return { reason: 'ssh-agent is off' };
  const host = env.DOCKER_HOST ?? '';
  if (platform === 'darwin' || platform === 'win32' || /docker[/\\]desktop/.test(host))
    return { socket: DESKTOP_AGENT_SOCKET, via: 'docker-desktop' };
  const sock = env.SSH_AUTH_SOCK ? resolve(env.SSH_AUTH_SOCK) : '';
  const problem =
    host !== '' && !host.startsWith('unix://')
      ? `the engine is remote (DOCKER_HOST=${host}), and a socket on this machine cannot be mounted there`
      : !sock
        ? 'SSH_AUTH_SOCK is not set (no agent runs for this shell)'
        : !isSocket(sock)
          ? `SSH_AUTH_SOCK (${sock}) is not a socket`
          : undefined;
  if (!problem) return { socket: sock, via: 'host' };
  if (setting === 'on') {
    throw new CctlError(`ssh-agent is on, but ${problem}.`, {
      hint: 'Start an agent and add a key (eval "$(ssh-agent)"; ssh-add), or let cctl skip it when there is none: cctl init --set ssh-agent=auto',
    });
  }
  return { reason: problem };
}
