/**
 * The watch over files the host runs without review (project/protected-paths.ts):
 * their state at each accepted `cctl up` is kept in the private folder, where
 * claude-cli cannot write, and the next `up` and `doctor` name every change
 * to one that was not read-only in claude-cli meanwhile. `up` refuses it
 * until a human accepts (a yes at a terminal, or --accept-changes).
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { containerMounts, runningContainer } from '../engine/containers.js';
import { CctlError } from '../kernel/errors.js';
import { writeFileAtomic } from '../kernel/fs.js';
import { CLI_SERVICE, scanComposeText, type Project } from '../project/locate.js';
import { composeText } from '../project/compose-text.js';
import { ensurePrivateDir, privateDir } from '../project/private-dir.js';
import {
  acceptedFrom,
  changedSince,
  describePathChanges,
  protectedBinds,
  swappedBinds,
  type AcceptedPaths,
  type Bind,
  type PathChange,
  type PathState,
  BUILD_PATHS,
} from '../project/protected-paths.js';

const RECORD = 'accepted-paths.json';

/** The workspace folder on the host, read the way the pass-through verbs read it (no YAML). */
export function workspaceDir(project: Project): string {
  let setting = '.';
  try {
    setting = scanComposeText(composeText(project.file)).workspace ?? '.';
  } catch {
    // No file yet: the project folder.
  }
  return resolve(project.dir, setting.includes('$') ? '.' : setting);
}

export function readAccepted(project: Project, env: NodeJS.ProcessEnv = process.env): AcceptedPaths | undefined {
  try {
    return JSON.parse(readFileSync(join(privateDir(project.name, env), RECORD), 'utf8')) as AcceptedPaths;
  } catch {
    return undefined;
  }
}

export function writeAccepted(project: Project, states: readonly PathState[], env: NodeJS.ProcessEnv = process.env): void {
  writeFileAtomic(join(ensurePrivateDir(project.name, env), RECORD), `${JSON.stringify(acceptedFrom(states), null, 2)}\n`, 0o600);
}

/** The protected paths now (nothing is written), and the changes since the last accepted up. */
export function pathChanges(project: Project, env: NodeJS.ProcessEnv = process.env): { states: PathState[]; changes: PathChange[] } {
  const { states } = protectedBinds(workspaceDir(project));
  return { states, changes: changedSince(readAccepted(project, env), states) };
}

export function refusePathChanges(changes: readonly PathChange[]): CctlError {
  return new CctlError(
    `Files that the host runs without review changed while they were writable from claude-cli:\n${describePathChanges(changes)}`,
    {
      hint:
        'Anything in claude-cli could have written them; git, your editor or direnv would run them on this machine. ' +
        'Read them before running git in the project (a hook or core.fsmonitor would run): cat .git/config, ls -la .git .git/hooks (a .git/commondir sends git to another config: remove it), cat .envrc; ' +
        'a repository inside the project: its .git/config and .git/hooks (remove its .git, and git rm --cached the folder, if it is not yours); ' +
        "a submodule's repository in .git/modules/NAME: its config and hooks (remove that folder if it is not yours, before any git submodule update). " +
        'If you made the change, accept it: cctl up --accept-changes. Nothing was started.',
    },
  );
}

/**
 * Before `cctl build` or `cctl update` builds claude-cli: the team's build additions (BUILD_PATHS) as the
 * last accepted up left them (one claude-cli created meanwhile is not built). Only `up` asks; these refuse.
 */
export function assertBuildFilesAccepted(project: Project, env: NodeJS.ProcessEnv = process.env): void {
  const changes = pathChanges(project, env).changes.filter((c) => (BUILD_PATHS as readonly string[]).includes(c.path));
  if (changes.length === 0) return;
  throw new CctlError(`The team's build files changed since the last cctl up, so nothing was built:\n${describePathChanges(changes)}`, {
    hint: 'Anything in claude-cli could have written them, and a build runs them on this machine\'s engine (with its network). Read them (cat .cctl/Dockerfile.local; ls -la .cctl/docker/local), then run "cctl up", which asks.',
  });
}

/**
 * Paths cctl itself writes during up: `.git/hooks` (created empty so it can be bound), the onboarding script
 * and the editor's devcontainer.json (init rewrites them; up checked both against their accepted versions first).
 */
const WRITTEN_BY_CCTL = new Set(['.git/hooks', 'scripts/onboard.sh', '.devcontainer']);

/**
 * A protected path cctl just wrote on the host (init's devcontainer.json): its new digest becomes the accepted
 * one, with the kind it had at the last up, since claude-cli still runs with the binds of then. The caller
 * calls it only when the path had no change pending before it wrote: a change from inside stays named.
 */
export function acceptCctlWrite(project: Project, path: string, env: NodeJS.ProcessEnv = process.env): void {
  const accepted = readAccepted(project, env);
  const before = accepted?.[path];
  if (!accepted || !before) return;
  const now = pathChanges(project, env).states.find((s) => s.path === path);
  if (!now) return;
  accepted[path] = { kind: before.kind, digest: now.digest };
  writeFileAtomic(join(ensurePrivateDir(project.name, env), RECORD), `${JSON.stringify(accepted, null, 2)}\n`, 0o600);
}

/**
 * What becomes accepted after an up: the states the machine file was made from, except a path that
 * changed between the check and then (other than by cctl itself), which keeps its state from the
 * check, so the next up names the change. A repository inside the project is accepted only as the check saw it.
 */
export function acceptedStates(checked: readonly PathState[], written: readonly PathState[]): PathState[] {
  const kept = written.flatMap((w) => {
    const pre = checked.find((c) => c.path === w.path);
    // A repository inside the project that appeared after the check was never shown to anyone: not accepted.
    if (!pre) return w.nested ? [] : [w];
    return [pre.digest !== w.digest && !WRITTEN_BY_CCTL.has(w.path) ? pre : w];
  });
  // One the check saw (and a human accepted) that went away meanwhile keeps its state: the next up compares with it.
  return [...kept, ...checked.filter((c) => c.nested && !written.some((w) => w.path === c.path))];
}

/** Refuses to start when a bind source was swapped for a link (or removed) since the machine file was made. */
export function assertBindsInPlace(binds: readonly Bind[]): void {
  const swapped = swappedBinds(binds);
  if (swapped.length === 0) return;
  throw new CctlError(
    `Files the host runs without review were replaced while cctl up was running, so nothing was started: ${swapped.join(', ')} (now a link, or gone).`,
    {
      hint: 'Anything in claude-cli can do that, and Docker would follow a link to mount what it points at. Look at them (ls -la), put them back, then run "cctl up" again.',
    },
  );
}

/**
 * Docker resolves a bind's source when it starts the container, following links, and on the full path the
 * old claude-cli runs on between the check above and Compose stopping it. A source it has a mount over cannot
 * be renamed or replaced from inside (a mount point); one it has not (a .vscode made since it started, the
 * .git/hooks cctl just created) can be swapped for a link to ~/.ssh right after the check. So when the running
 * claude-cli lacks a mount at one of the targets, it is stopped first (`stop`): then nothing inside can act
 * between the check and the start. It would be recreated anyway: its binds changed. Returns those targets.
 */
export async function stopIfBindsExposed(project: Project, binds: readonly Bind[], stop: () => Promise<void>): Promise<string[]> {
  if (binds.length === 0) return [];
  const running = await runningContainer(project.name, CLI_SERVICE);
  if (!running) return [];
  const mounted = new Set((await containerMounts(running.id)).map((m) => m.destination));
  const exposed = binds.filter((b) => !mounted.has(b.target)).map((b) => b.target);
  if (exposed.length > 0) await stop();
  return exposed;
}
