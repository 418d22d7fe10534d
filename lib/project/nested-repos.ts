/**
 * Repositories inside the project. claude-cli can make a folder with a `.git` of its own anywhere under
 * /workspace, with a config and hooks it wrote, and record it in the project's index as a gitlink
 * (`git update-index --cacheinfo 160000,...`): the user's next `git status` in the project then runs git
 * in that folder, with that config (core.fsmonitor runs at once). An editor that scans subfolders for
 * repositories, or a shell prompt after `cd`, does the same without any gitlink. The read-only binds over
 * the project's own `.git/config` and `.git/hooks` (protected-paths.ts) do not reach these, and a folder
 * that does not exist yet cannot be bound.
 *
 * So every `.git` below the top is looked at, and what in it would run commands is summed up: config
 * lines outside a short allow-list of keys git never runs (read line by line: anything this reader does
 * not understand counts as a command), hooks that are not `*.sample`, a `commondir` or `config.worktree`
 * (they send git to more config), a `.git` that is a link. A repository with nothing of that (a plain
 * clone, a submodule as git makes it) is not named at all. The summary's digest is watched like the
 * other paths: `up` refuses and `doctor` warns when one appears or changes since the last accepted up.
 */
import { createHash } from 'node:crypto';
import { lstatSync, readFileSync, readdirSync, readlinkSync, realpathSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { entryKind } from '../kernel/fs.js';

/** Config keys git only reads as data, by section (lower case). Everything else counts as a command. */
const DATA_KEYS: Record<string, readonly string[]> = {
  core: [
    'repositoryformatversion',
    'filemode',
    'bare',
    'logallrefupdates',
    'ignorecase',
    'precomposeunicode',
    'symlinks',
    'worktree',
    'sparsecheckout',
    'sparsecheckoutcone',
  ],
  remote: ['url', 'fetch', 'pushurl', 'tagopt', 'prune', 'mirror'],
  branch: ['remote', 'merge', 'rebase', 'pushremote'],
  submodule: ['url', 'active', 'branch', 'ignore'],
  extensions: ['objectformat'],
  user: ['name', 'email'],
};

/** Folders looked through at most: beyond them, a state of its own says the search stopped. */
export const FOLDER_BUDGET = 100_000;

export interface NestedRepo {
  /** The `.git` found, relative to the workspace (`vendor/lib/.git`). */
  path: string;
  /** What in it would run commands: config lines, hooks, redirects. Empty: nothing. */
  commands: string[];
  digest: string;
}

/** The config lines git could run something from: every line that is not a comment, a header or an allow-listed key. */
export function commandLines(text: string): string[] {
  const out: string[] = [];
  let section: string | undefined;
  for (const raw of text.replace(/^\uFEFF/, '').split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[([A-Za-z0-9-]+)(?:\s+"([^"\\]*)")?\]\s*(?:[#;].*)?$/.exec(line);
    if (header) {
      section = header[1]!.toLowerCase();
      continue;
    }
    const key = /^([A-Za-z][A-Za-z0-9-]*)\s*(?:=(.*))?$/.exec(line);
    const safe = key && section && DATA_KEYS[section]?.includes(key[1]!.toLowerCase()) && !(key[2] ?? '').trimEnd().endsWith('\\');
    if (!safe) out.push(section ? `[${section}] ${line}` : line);
  }
  return out;
}

/**
 * The command lines of a git folder's `config.worktree` (git reads it as config when extensions.worktreeConfig
 * is on; git sparse-checkout writes only data keys there). None when there is no such file.
 */
export function worktreeConfigCommands(gitDir: string): string[] {
  const text = readOr(join(gitDir, 'config.worktree'));
  return text === undefined ? [] : commandLines(text.toString('utf8'));
}

function readOr(path: string): Buffer | undefined {
  try {
    return statSync(path).isFile() ? readFileSync(path) : undefined;
  } catch {
    return undefined;
  }
}

/** What in one `.git` (a folder, a gitdir file, or a link) would run commands, with the bytes that decide it. */
function inspect(dotGit: string): { commands: string[]; bytes: Buffer[] } {
  const kind = entryKind(dotGit);
  if (kind === 'symlink') return { commands: [`a link to ${readlinkSync(dotGit)}`], bytes: [] };
  let gitDir = dotGit;
  if (kind === 'file') {
    const named = /^gitdir:\s*(.+?)\s*$/m.exec(readOr(dotGit)?.toString('utf8') ?? '');
    // Not a gitdir file: git stops with "invalid gitfile format", nothing runs.
    if (!named) return { commands: [], bytes: [] };
    gitDir = resolve(dirname(dotGit), named[1]!);
  }
  return inspectGitDir(gitDir);
}

/** What in a repository folder (its config, hooks, redirects) would run commands, with the bytes that decide it. */
function inspectGitDir(gitDir: string): { commands: string[]; bytes: Buffer[] } {
  const commands: string[] = [];
  const bytes: Buffer[] = [];
  for (const redirect of ['commondir', 'config.worktree']) {
    const text = readOr(join(gitDir, redirect));
    if (text !== undefined) {
      commands.push(`${redirect} (git reads more config from it)`);
      bytes.push(text);
    }
  }
  const config = readOr(join(gitDir, 'config'));
  if (config !== undefined) commands.push(...commandLines(config.toString('utf8')));
  let hooks: string[] = [];
  try {
    hooks = readdirSync(join(gitDir, 'hooks')).filter((name) => !name.endsWith('.sample'));
  } catch {
    // No hooks folder: none run.
  }
  for (const hook of hooks.sort()) {
    commands.push(`hooks/${hook}`);
    bytes.push(readOr(join(gitDir, 'hooks', hook)) ?? Buffer.from(entryKind(join(gitDir, 'hooks', hook))));
  }
  return { commands, bytes };
}

function summed(path: string, found: { commands: string[]; bytes: Buffer[] }): NestedRepo {
  const h = createHash('sha256');
  for (const c of found.commands) h.update(c).update('\0');
  for (const b of found.bytes) h.update(b).update('\0');
  return { path, commands: found.commands, digest: h.digest('hex') };
}

/**
 * Every `.git` below the top of `workspace` (never inside the project's own `.git`, never through a link),
 * with what in it would run commands. `budget` folders are looked through at most; `truncated` says the
 * search stopped there.
 */
export function nestedRepos(workspace: string, budget = FOLDER_BUDGET): { repos: NestedRepo[]; truncated: boolean } {
  const repos: NestedRepo[] = [];
  const queue: string[] = [workspace];
  let folders = 0;
  while (queue.length > 0) {
    if (++folders > budget) return { repos, truncated: true };
    const dir = queue.pop()!;
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      continue;
    }
    for (const entry of entries) {
      const path = join(dir, entry.name);
      if (entry.name === '.git') {
        if (dir === workspace) continue;
        repos.push(summed(relative(workspace, path).split('\\').join('/'), inspect(path)));
      } else if (entry.isDirectory()) queue.push(path);
    }
  }
  return { repos: repos.sort((a, b) => a.path.localeCompare(b.path)), truncated: false };
}

/**
 * The project's own linked worktrees (`git worktree add` elsewhere on the host): each has an admin folder in
 * `.git/worktrees/<name>/`, writable from claude-cli with the rest of `.git`, whose `commondir` tells git in
 * that worktree where the repository's config and hooks are. git writes `../..`; one that names another
 * folder sends the user's next git status there to a config claude-cli wrote. Returned: each that does not
 * name this `.git`, as a `.git/worktrees/<name>/commondir` entry.
 */
export function worktreeRedirects(workspace: string): NestedRepo[] {
  const admin = join(workspace, '.git', 'worktrees');
  let names: string[] = [];
  try {
    if (!lstatSync(join(workspace, '.git')).isDirectory()) return [];
    names = readdirSync(admin);
  } catch {
    return [];
  }
  const own = realpathSync(join(workspace, '.git'));
  const out: NestedRepo[] = [];
  for (const name of names.sort()) {
    const config = worktreeConfigCommands(join(admin, name));
    if (config.length > 0) {
      const commands = [`a config.worktree (git in that worktree reads it) with ${config.join('; ')}`];
      out.push({
        path: `.git/worktrees/${name}/config.worktree`,
        commands,
        digest: createHash('sha256').update(commands[0]!).digest('hex'),
      });
    }
    const file = join(admin, name, 'commondir');
    const text = readOr(file)?.toString('utf8').trim();
    let target: string | undefined;
    try {
      target = text === undefined ? undefined : realpathSync(resolve(join(admin, name), text));
    } catch {
      target = undefined;
    }
    if (target === own) continue;
    const commands = [
      text === undefined
        ? 'no commondir naming this repository (git would take the admin folder as one)'
        : `a commondir naming ${text} (git in that worktree reads config and hooks there)`,
    ];
    out.push({
      path: `.git/worktrees/${name}/commondir`,
      commands,
      digest: createHash('sha256').update(commands[0]!).digest('hex'),
    });
  }
  return out;
}

/**
 * The submodules' repositories in the project's own `.git/modules/<name>/` (a name may hold slashes, and a
 * submodule's own submodules are in its `modules/`), and in `.git/worktrees/<worktree>/modules/` for the
 * user's linked worktrees. The rest of `.git` is writable from claude-cli, and
 * git uses such a folder without a `.git` file in the project pointing at it: `git submodule update --init`
 * takes an existing `.git/modules/<name>` as the submodule's repository, checks it out with its config and
 * runs its post-checkout hook, on the host. So each is looked at like a `.git` below the top; a link in the
 * way is named, never followed. At most `budget` folders are looked through (past that: named as such).
 */
export function moduleRepos(workspace: string, budget = FOLDER_BUDGET): NestedRepo[] {
  const top = join(workspace, '.git');
  if (entryKind(top) !== 'dir') return [];
  const out: NestedRepo[] = [];
  const queue = [join(top, 'modules')];
  // A linked worktree of the user's keeps its submodules' repositories in its admin folder's modules/.
  let admins: string[] = [];
  try {
    if (entryKind(join(top, 'worktrees')) === 'dir') admins = readdirSync(join(top, 'worktrees'));
  } catch {
    // No linked worktrees.
  }
  for (const name of admins) {
    const admin = join(top, 'worktrees', name);
    if (entryKind(admin) === 'dir') queue.push(join(admin, 'modules'));
    else if (entryKind(admin) === 'symlink')
      out.push(summed(`.git/worktrees/${name}`, { commands: [`a link to ${readlinkSync(admin)}`], bytes: [] }));
  }
  let folders = 0;
  while (queue.length > 0) {
    const dir = queue.pop()!;
    const rel = relative(workspace, dir).split('\\').join('/');
    const kind = entryKind(dir);
    if (kind === 'symlink') out.push(summed(rel, { commands: [`a link to ${readlinkSync(dir)}`], bytes: [] }));
    if (kind !== 'dir') continue;
    if (++folders > budget) {
      out.push(summed(rel, { commands: [`not searched (more than ${budget} folders)`], bytes: [] }));
      break;
    }
    // git takes a folder with a HEAD as a repository (a HEAD that is a link too).
    if (entryKind(join(dir, 'HEAD')) !== 'absent') {
      out.push(summed(rel, inspectGitDir(dir)));
      queue.push(join(dir, 'modules'));
      continue;
    }
    let names: string[] = [];
    try {
      names = readdirSync(dir);
    } catch {
      continue;
    }
    for (const name of names) queue.push(join(dir, name));
  }
  return out.sort((a, b) => a.path.localeCompare(b.path));
}
