/**
 * Files the host runs without review. claude-cli can write all of
 * /workspace; some of what it could write there the host executes later with
 * nobody looking: git runs `.git/hooks/*` and the command keys of
 * `.git/config` (core.fsmonitor, core.hooksPath, core.sshCommand, filter and
 * diff drivers) at the next `git status` or `git commit`; editors run
 * `.vscode/` tasks and `.devcontainer/` initializeCommand; direnv runs
 * `.envrc`; a new teammate runs `scripts/onboard.sh`.
 *
 * The paths follow Anthropic's sandbox-runtime, which refuses writes to
 * `.git/hooks`, `.git/config`, `.vscode` and `.idea` inside an otherwise
 * writable project, and keeps `.git` itself writable so git still commits.
 *
 * Here they become read-only binds in the per-machine compose file: the same
 * folder bound again over itself, read-only, at its place under /workspace.
 * A folder on the way to a protected path (`.git`, `scripts`) is bound too,
 * read-write: a mount point cannot be renamed or removed, so claude-cli
 * cannot move `.git` aside and put a folder of its own in its place.
 * Objects, refs, the index and HEAD stay writable, so git inside still
 * commits (only `git config` writes fail there).
 *
 * A path that does not exist cannot be bound without creating it in the
 * user's project. Those, and any path that is a symlink, are watched
 * instead: their state at each accepted `cctl up` is recorded in the private
 * folder, and `up` and `doctor` name any change since (`changedSince`).
 */
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { entryKind, mkdirInside } from '../kernel/fs.js';
import { WORKSPACE_MOUNT } from './locate.js';
import { FOLDER_BUDGET, moduleRepos, nestedRepos, worktreeRedirects } from './nested-repos.js';

export interface Bind {
  source: string;
  target: string;
  readOnly: boolean;
}

/**
 * Paths under the workspace the host runs or reads as commands; each is read-only in claude-cli where it exists.
 * `.git/commondir` never exists in a repository's own .git (git writes one only in a worktree's admin folder),
 * and one written from inside sends the host's git to another folder for its config and hooks, past the two
 * binds above: watched, so the next `up` and `doctor` name it (the host's git before that reads it: see the guide).
 */
export const PROTECTED_PATHS = [
  '.git/hooks',
  '.git/config',
  // Read by git as config too once extensions.worktreeConfig is on (git sparse-checkout turns it on).
  '.git/config.worktree',
  '.git/commondir',
  '.vscode',
  '.devcontainer',
  '.idea',
  '.envrc',
  'scripts/onboard.sh',
  '.cctl/Dockerfile.local',
  '.cctl/docker/local',
] as const;

/**
 * The team's build additions to claude-cli's image (in PROTECTED_PATHS), built at the next `up`, `cctl build`
 * or `cctl update` on the host's engine: a build's RUN has the engine's network (past the egress allow-list),
 * an ADD of a URL is fetched by the engine from the host's own network (127.0.0.1, a cloud's metadata
 * address), a COPY --from reads any image on the engine. Read-only in claude-cli where they exist; one that
 * appears is named, and nothing builds it until a human accepts.
 */
export const BUILD_PATHS = ['.cctl/Dockerfile.local', '.cctl/docker/local'] as const;

/** What one protected path is on the host now. */
export interface PathState {
  path: string;
  /** absent, a symlink (never bound: docker would follow it), or bound read-only. */
  kind: 'absent' | 'symlink' | 'bound';
  /** SHA-256 over names, modes and contents (a folder recursively; a link by its target). */
  digest: string;
  /**
   * A repository inside the project (nested-repos.ts) and what in it would run commands: such a path is
   * named when it appears, not only when an accepted one changes (any folder can become one).
   */
  nested?: string;
}

/** A digest of a path as it is: a folder by its entries, a file by its bytes and exec bit, a link by its target. */
export function digestPath(path: string, budget = { files: 2000 }): string {
  const h = createHash('sha256');
  const walk = (p: string, rel: string) => {
    const kind = entryKind(p);
    h.update(`${kind}\0${rel}\0`);
    if (kind === 'symlink') h.update(readlinkSync(p));
    else if (kind === 'file') {
      if (--budget.files < 0) return;
      h.update(String(lstatSync(p).mode & 0o111))
        .update('\0')
        .update(readFileSync(p));
    } else if (kind === 'dir') for (const name of readdirSync(p).sort()) walk(join(p, name), `${rel}/${name}`);
    h.update('\0');
  };
  walk(path, '.');
  return h.digest('hex');
}

/**
 * The protected paths under `workspace` (a host folder mounted at /workspace), the binds that make
 * them read-only there, and their state. With `.git` a folder, `.git/hooks` is created when missing
 * (git makes it on init anyway), so a hook cannot be added where no folder was bound.
 */
export function protectedBinds(
  workspace: string,
  options: { createHooks?: boolean; nested?: boolean } = {},
): { binds: Bind[]; states: PathState[] } {
  const binds: Bind[] = [];
  const states: PathState[] = [];
  const pinned = new Set<string>();
  const gitKind = entryKind(join(workspace, '.git'));
  if (gitKind === 'file') {
    // A worktree's or submodule's .git file names the real git folder: bound read-only, it cannot be pointed elsewhere.
    binds.push({ source: join(workspace, '.git'), target: `${WORKSPACE_MOUNT}/.git`, readOnly: true });
  } else if (gitKind === 'dir' && options.createHooks && !existsSync(join(workspace, '.git', 'hooks'))) {
    // In the project: never through a link (claude-cli may have swapped .git for one meanwhile). Made by root
    // in a user's project, it is that user's, like the .git around it (their hook installers write there).
    const git = lstatSync(join(workspace, '.git'));
    mkdirInside(workspace, join(workspace, '.git', 'hooks'), process.getuid?.() === 0 ? { owner: { uid: git.uid, gid: git.gid } } : {});
  }
  for (const path of PROTECTED_PATHS) {
    const host = join(workspace, path);
    const parts = path.split('/');
    // Every folder on the way must be a real folder (not a link): docker follows links in a bind's target.
    const parents = parts.slice(0, -1).map((_, i) => parts.slice(0, i + 1).join('/'));
    const parentKinds = parents.map((p) => entryKind(join(workspace, p)));
    const kind = entryKind(host);
    const state: PathState['kind'] =
      parentKinds.some((k) => k === 'absent' || k === 'file') || kind === 'absent'
        ? 'absent'
        : parentKinds.includes('symlink') || kind === 'symlink'
          ? 'symlink'
          : 'bound';
    states.push({ path, kind: state, digest: digestPath(host) });
    if (state !== 'bound') continue;
    for (const parent of parents) {
      if (pinned.has(parent)) continue;
      pinned.add(parent);
      binds.push({ source: join(workspace, parent), target: `${WORKSPACE_MOUNT}/${parent}`, readOnly: false });
    }
    binds.push({ source: host, target: `${WORKSPACE_MOUNT}/${path}`, readOnly: true });
  }
  // The repositories inside the project bind nothing: a caller that wants only the binds skips the folder walk.
  return { binds, states: options.nested === false ? states : [...states, ...nestedStates(workspace)] };
}

/** The repositories inside the project with something that would run commands, as watched states. */
export function nestedStates(workspace: string): PathState[] {
  const { repos, truncated } = nestedRepos(workspace);
  const states: PathState[] = repos
    .filter((r) => r.commands.length > 0)
    .map((r) => ({
      path: r.path,
      kind: 'absent',
      digest: r.digest,
      nested: `a repository inside the project; git run in the project (git status) runs git in it, and it has ${r.commands.join('; ')}`,
    }));
  for (const r of moduleRepos(workspace).filter((m) => m.commands.length > 0))
    states.push({
      path: r.path,
      kind: 'absent',
      digest: r.digest,
      nested: `a submodule's repository; git submodule update (and git status, once it is checked out) runs git with it, and it has ${r.commands.join('; ')}`,
    });
  for (const r of worktreeRedirects(workspace))
    states.push({ path: r.path, kind: 'absent', digest: r.digest, nested: `a linked worktree of yours has ${r.commands.join('; ')}` });
  // The search stopped: a repository past it is not seen. Named when that first happens, then accepted like the rest.
  if (truncated)
    states.push({
      path: `(folders past the first ${FOLDER_BUDGET})`,
      kind: 'absent',
      digest: 'truncated',
      nested: 'not searched for repositories inside the project',
    });
  return states;
}

/**
 * The bind sources that are no longer what they were when the binds were made: gone, or now a
 * symlink. Docker follows a link in a bind's source, so a folder swapped for a link to ~/.ssh
 * between the check and the start would be mounted (read-only) into claude-cli. Checked again just
 * before Compose starts the container; every folder on the way is a bind of its own, so each is checked.
 */
export function swappedBinds(binds: readonly Bind[]): string[] {
  return binds
    .filter((b) => {
      const kind = entryKind(b.source);
      return kind === 'absent' || kind === 'symlink';
    })
    .map((b) => b.source);
}

/** The record of the accepted states, kept in the private folder. */
export type AcceptedPaths = { [path: string]: Pick<PathState, 'kind' | 'digest'> };

/** A change to a path that was not read-only in claude-cli since it was accepted. */
export interface PathChange {
  path: string;
  was: PathState['kind'];
  now: PathState['kind'];
  /** A repository inside the project: what in it would run commands. */
  nested?: string;
}

/**
 * Paths whose state differs from the accepted one and that claude-cli could have written: those
 * that were not bound read-only at the last accepted up (absent, or symlinks). A bound path can
 * only change from the host, so a teammate's `git config` or an edited `.vscode/settings.json` is
 * never flagged. With no record (a first up), nothing is flagged.
 */
export function changedSince(accepted: AcceptedPaths | undefined, now: readonly PathState[]): PathChange[] {
  if (!accepted) return [];
  const out: PathChange[] = [];
  for (const state of now) {
    const before = accepted[state.path];
    if (!before && state.nested) out.push({ path: state.path, was: 'absent', now: state.kind, nested: state.nested });
    if (!before || before.kind === 'bound') continue;
    // The digest tells absent from present; a kind of its own matters only for a link on the way (a linked
    // .git can show the same hooks). A path cctl wrote while it was not bound is recorded with its new digest
    // and the kind it had in the running claude-cli (ops/protected.ts, acceptCctlWrite).
    const linked = before.kind !== state.kind && (before.kind === 'symlink' || state.kind === 'symlink');
    if (before.digest !== state.digest || linked)
      out.push({ path: state.path, was: before.kind, now: state.kind, ...(state.nested ? { nested: state.nested } : {}) });
  }
  return out;
}

export function acceptedFrom(states: readonly PathState[]): AcceptedPaths {
  return Object.fromEntries(states.map((s) => [s.path, { kind: s.kind, digest: s.digest }]));
}

export function describePathChanges(changes: readonly PathChange[]): string {
  const what = (c: PathChange) => (c.was === 'absent' ? 'appeared' : c.now === 'absent' ? 'was removed' : 'changed');
  return changes
    .map((c) =>
      c.nested
        ? `  ${c.path}: ${c.nested}`
        : `  ${c.path} ${what(c)} since the last cctl up (it was not read-only in claude-cli)${(BUILD_PATHS as readonly string[]).includes(c.path) ? `; a build runs it on this machine's engine` : ''}`,
    )
    .join('\n');
}
