/**
 * A task's compose file, made from what Compose resolves for the project
 * itself (`config`, with the environment `cctl up` uses): the same images,
 * settings and secrets, so a task starts in seconds and builds nothing. What differs:
 *   - only claude-cli: the task's Claude Code goes through the project's own gateway
 *     (the same key, allow-list and egress log), on the project's networks, which
 *     the task joins by name (external). One gateway per project: a task starts
 *     one container and waits for one health check, not two; the project's own
 *     services (a database, say) stay the project's and are reachable as they are
 *     from the project's claude-cli;
 *   - /workspace is the task's worktree, and binds of other project paths follow it;
 *   - the home volume is the project's (external, by its name): one login for all tasks;
 *   - other volumes lose their pinned names, so the task gets its own;
 *   - the main repository's .git is mounted at its own absolute path (the worktree's
 *     `.git` file points there), with hooks/ and config read-only: git works inside,
 *     and nothing the task's Claude writes runs on the host's next git command;
 *   - no build sections: the images are the project's, built by its last `cctl up`;
 *   - no depends_on: the gateway it would wait for is the project's, which
 *     `task new` finds running and healthy before it starts anything.
 * A pure function of the resolved model: tested without an engine.
 */
import { join, relative, sep } from 'node:path';
import { WORKSPACE_MOUNT } from '../../project/locate.js';
import { HOME_VOLUME } from '../../project/model.js';

type Model = Record<string, unknown>;
type Mount = string | Record<string, unknown>;

export interface TaskModelFacts {
  /** The services the task runs (claude-cli): the only ones kept. */
  services: readonly string[];
  /** The project's Compose name: its networks are <name>_<key> when the model does not say. */
  projectName: string;
  /** The project folder on the host, and the task's folder that stands for it. */
  projectDir: string;
  taskDir: string;
  /** The main repository's .git folder (absolute). */
  commonDir: string;
  /** The project's home volume as the engine names it (<project>_claude-home). */
  homeVolume: string;
  /**
   * The task's worktree and its admin folder (<commonDir>/worktrees/<id>): the files that tell git where the
   * repository is (the worktree's `.git`, the admin folder's `commondir` and `gitdir`) are bound read-only,
   * so the task's Claude cannot send the host's git (cctl task rm runs git status there) to a config of its own.
   */
  worktree?: { path: string; adminDir: string };
  /** Whether a host path exists: a project bind whose counterpart is not in the worktree is left out. */
  exists?: (path: string) => boolean;
}

const inside = (path: string, dir: string) => path === dir || path.startsWith(dir.endsWith(sep) ? dir : dir + sep);

/** The source and target of a mount in either shape (v2's objects, v1's "src:dst[:mode]" strings). */
function parts(m: Mount): { type: string; source: string; target: string } {
  if (typeof m !== 'string') return { type: String(m.type), source: String(m.source ?? ''), target: String(m.target) };
  const [source = '', target = ''] = m.split(':');
  return { type: source.startsWith('/') ? 'bind' : 'volume', source, target };
}

function withSource(m: Mount, source: string): Mount {
  if (typeof m !== 'string') return { ...m, source };
  const [, ...rest] = m.split(':');
  return [source, ...rest].join(':');
}

/** A project bind moved onto the task's folder; undefined drops it (the project's own .git: the task gets the common dir). */
function moveMount(m: Mount, f: TaskModelFacts): Mount | undefined {
  const { type, source } = parts(m);
  if (type !== 'bind' || !inside(source, f.projectDir)) return m;
  const rel = relative(f.projectDir, source);
  if (rel === '.git' || rel.startsWith(`.git${sep}`)) return undefined;
  const moved = rel ? join(f.taskDir, rel) : f.taskDir;
  // A path the project has and the task's branch lacks (an untracked .vscode, say): no bind, or the start fails.
  if (rel && f.exists && !f.exists(moved)) return undefined;
  return withSource(m, moved);
}

// Long syntax: a missing source is an error, never a folder Docker makes as root (and Compose v1 reads it too).
const bind = (source: string, readOnly: boolean) => ({ type: 'bind', source, target: source, read_only: readOnly });

/**
 * The git mounts: the common dir read-write (objects, refs, the worktree's own admin folder), hooks/ and
 * config read-only, and the files that name the repository read-only: the worktree's `.git` (when it is in
 * the task's folder) and its admin folder's `commondir` and `gitdir`.
 */
export function gitMounts(commonDir: string, f?: Pick<TaskModelFacts, 'taskDir' | 'worktree'>): Record<string, unknown>[] {
  const mounts = [bind(commonDir, false), bind(join(commonDir, 'hooks'), true), bind(join(commonDir, 'config'), true)];
  if (!f?.worktree) return mounts;
  const dotGit = join(f.worktree.path, '.git');
  if (inside(dotGit, f.taskDir)) mounts.push({ ...bind(dotGit, true), target: join(WORKSPACE_MOUNT, relative(f.taskDir, dotGit)) });
  mounts.push(bind(join(f.worktree.adminDir, 'commondir'), true), bind(join(f.worktree.adminDir, 'gitdir'), true));
  return mounts;
}

export function taskModel(resolved: Model, f: TaskModelFacts): Model {
  const services = (resolved.services ?? {}) as Record<string, Model>;
  const kept: Record<string, Model> = {};
  for (const name of f.services) {
    const service = services[name];
    if (!service) continue;
    const { build: _build, container_name: _name, depends_on: _after, ...rest } = service;
    const mounts = ((rest.volumes ?? []) as Mount[]).map((m) => moveMount(m, f)).filter((m): m is Mount => m !== undefined);
    if (mounts.some((m) => parts(m).target === WORKSPACE_MOUNT)) mounts.push(...gitMounts(f.commonDir, f));
    // The editor's labels name the project's folder: an editor opening the project must find its claude-cli, not a task's.
    const labels = Object.fromEntries(Object.entries((rest.labels ?? {}) as Model).filter(([k]) => !k.startsWith('devcontainer.')));
    kept[name] = { ...rest, ...(rest.labels ? { labels } : {}), volumes: mounts };
  }
  const volumes: Record<string, Model> = {};
  for (const [key, volume] of Object.entries((resolved.volumes ?? {}) as Record<string, Model>)) {
    const { name: _name, ...rest } = volume ?? {};
    volumes[key] = key === HOME_VOLUME ? { name: f.homeVolume, external: true } : rest.external ? { ...volume } : rest;
  }
  // The networks the kept services are on, as the project named them: the task joins them (external), so
  // "proxy" is the project's gateway, and the project's down leaves them while a task is on them.
  const networks: Record<string, Model> = {};
  const declared = (resolved.networks ?? {}) as Record<string, Model>;
  for (const service of Object.values(kept)) {
    if (service.network_mode) continue;
    const on = service.networks ?? { default: null };
    for (const key of Array.isArray(on) ? (on as string[]) : Object.keys(on as Model)) {
      const network = declared[key] ?? {};
      networks[key] = { name: typeof network.name === 'string' ? network.name : `${f.projectName}_${key}`, external: true };
    }
  }
  const { name: _project, services: _s, volumes: _v, networks: _n, ...top } = resolved;
  return {
    ...top,
    services: kept,
    ...(Object.keys(volumes).length ? { volumes } : {}),
    ...(Object.keys(networks).length ? { networks } : {}),
  };
}
