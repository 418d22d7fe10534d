/**
 * The hostile-workspace corpus's harness (issue 19, Tests). One project per
 * test file, set up and started once as the regular test user; then each case:
 *   1. makes its edit as `claude` from inside claude-cli (`cctl exec`): the
 *      attacker's real position, with exactly the writes claude-cli allows;
 *   2. runs `cctl up </dev/null` as the regular user on the host (no TTY, so
 *      nothing can be confirmed at a prompt), then the host actions a user
 *      takes next (git status, a commit, plain compose);
 *   3. asserts: refused (non-zero exit, the output names the change) or
 *      neutralised (exit 0), and either way what the engine really runs is as
 *      before, read with `docker inspect` (never cctl's opinion): every
 *      container of the project (by Compose's labels, so v1 and v2 alike),
 *      its HostConfig, mounts, environment (the gateway's upstream and key),
 *      networks and image, the project's volumes and networks, and the images
 *      cctl tags; and no file outside the project changed (a decoy HOME:
 *      ~/.ssh, ~/.bashrc, another project, the private folder's secrets and the
 *      gateway's build folder, compared by digest);
 *   4. puts everything back (git for the tree, saved copies of .git/config,
 *      .git/hooks and HOME, and a `cctl up` when an attack got through).
 */
import type { ExecutionContext, TestFn } from 'ava';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { BASE_IMAGE } from './e2e.js';
import { CLI, composeCommand, e2eEnv } from './cli.js';
import { asRegularUser, giveToRegularUser } from './regular-user.js';
import { EDIT_SCRIPT } from './hostile-edit.js';
import { normalizeProjectName } from '../../lib/project/locate.js';
import { run, runSettled, type RunResult } from '../../lib/engine/runner.js';
import { scratchDir } from './scratch.js';
import { removeProjectImages } from './project.js';

/** Compose v1.29 drives the stack (CI's legacy phase): only the cases whose keys v1 understands run. */
export const COMPOSE_V1 = composeCommand()[0] === 'docker-compose';

/** What the attacker knows or can guess about the host: its home folder, the project's path and name. */
export interface Target {
  home: string;
  dir: string;
  name: string;
  /** A file path on the host that a host-executed command would create (asserted absent). */
  marker: string;
}

/** One edit made from inside claude-cli; paths are relative to /workspace unless absolute. */
export type Edit =
  /**
   * Set a key of a block-style YAML file, whether the file has it or not (parents are made as needed), so
   * the attack holds whatever layout cctl writes. `value` is the YAML after "key:"; with line breaks, its
   * later lines go below the key, one level deeper.
   */
  | { set: string; path: string[]; value: string }
  | { unset: string; path: string[] }
  | { write: string; text: string; mode?: number }
  | { append: string; text: string }
  | { prepend: string; text: string }
  | { symlink: string; target: string }
  | { copy: string; to: string }
  | { remove: string }
  /** git run in /workspace inside claude-cli (`git update-index` records a gitlink in the project's index). */
  | { git: string[] };

export interface HostileCase {
  title: string;
  /** The keys are ones Compose v1.29 understands: the case also runs in the legacy phase. */
  v1?: boolean;
  edits: (t: Target) => Edit[];
  /**
   * Edits made first, from inside claude-cli too, that change nothing that runs: `cctl up` must take them
   * without a question (else the case proves nothing). The attack then changes what they set up, for an up
   * that trusts its record of them (the short path).
   */
  prepare?: (t: Target) => Edit[];
  /** What a refusal (or a flag) must name. */
  names: RegExp;
  /**
   * 'neutralise' (default): a non-zero exit must name the change, exit 0 is fine when nothing changed.
   * 'refuse': only a refusal will do (what it lets through runs unguarded elsewhere, e.g. plain compose).
   * 'flag': the output must name the change whenever the edit was written (refusal or warning).
   */
  expect?: 'neutralise' | 'refuse' | 'flag';
  /** Run cctl up from this folder (relative to the project). */
  cwd?: string;
  /** `cctl up --build`: build keys only act when a build runs (after an update, a changed setting). */
  build?: boolean;
  /** A rebuilt claude-cli image is fine here (its Dockerfile is the project's); check() looks for the loot instead. */
  cliImageMayChange?: boolean;
  /** What the host user runs next, as themselves, in the project (git status, a commit). */
  host?: (t: Target) => string[][];
  /** Case-specific checks after up and the host actions. */
  check?: (t: ExecutionContext, s: Stack, up: RunResult) => Promise<void>;
}

export interface SuiteOptions {
  /** Short, lower case: part of folder and project names. */
  prefix: string;
  /** init with --isolate (claude-cli on an internal network, egress through the gateway). */
  isolate?: boolean;
  /** Start the user's own service `web` with plain compose before cctl up. */
  startWeb?: boolean;
}

const TEAM_KEY = `sk-ant-hostile-${randomBytes(6).toString('hex')}-team-key`;

/** The project's compose file before cctl: a service of the team's own. */
const USER_FILE = `services:
  web:
    image: ${BASE_IMAGE}
    command: ["sleep", "infinity"]
    init: true
`;

/** Files a real project has, which the host executes or an editor reads. */
const SEED: Record<string, string> = {
  'README.md': '# demo\n',
  '.envrc': 'export DEMO=1\n',
  '.vscode/settings.json': '{ "editor.tabSize": 2 }\n',
  '.devcontainer/devcontainer.json': '{ "name": "demo", "dockerComposeFile": "../compose.yaml", "service": "claude-cli" }\n',
};

/** The decoy HOME: what an attacker wants from the host. */
function seedHome(home: string): void {
  mkdirSync(join(home, '.ssh'), { mode: 0o700 });
  writeFileSync(join(home, '.ssh', 'authorized_keys'), 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHostileCorpusDecoyKeyOnly user@laptop\n', {
    mode: 0o600,
  });
  writeFileSync(join(home, '.bashrc'), '# decoy shell profile\nexport PATH="$HOME/bin:$PATH"\n');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'decoy', '-f', join(home, '.ssh', 'id_ed25519')]);
  writeFileSync(join(home, '.gitconfig'), '[user]\n\tname = Dev\n\temail = dev@example.com\n');
  mkdirSync(join(home, 'other-project'));
  writeFileSync(join(home, 'other-project', 'compose.yaml'), 'services:\n  db:\n    image: postgres:16\n');
  writeFileSync(join(home, 'other-project', 'notes.txt'), 'private notes\n');
}

const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The HostConfig fields that decide what a container can reach on the host. */
const HOST_CONFIG_KEYS = [
  'Privileged',
  'PidMode',
  'IpcMode',
  'UsernsMode',
  'NetworkMode',
  'CapAdd',
  'CapDrop',
  'Devices',
  'DeviceCgroupRules',
  'SecurityOpt',
  'Binds',
  'CgroupParent',
  'Cgroup',
  'Runtime',
  'Sysctls',
  'ExtraHosts',
  'ReadonlyRootfs',
  'GroupAdd',
  'VolumesFrom',
  'Tmpfs',
  'Links',
  'UTSMode',
  'Init',
  'PortBindings',
] as const;

interface Inspected {
  Id: string;
  Image: string;
  Config: { Env?: string[]; User?: string; Entrypoint?: string[] | null; Cmd?: string[] | null; Labels?: Record<string, string> };
  HostConfig: Record<string, unknown>;
  Mounts?: Array<{ Type: string; Source: string; Destination: string; RW: boolean; Name?: string }>;
  NetworkSettings: { Networks?: Record<string, unknown> };
}

export class Stack {
  readonly root: string;
  readonly home: string;
  readonly dir: string;
  readonly name: string;
  readonly env: NodeJS.ProcessEnv;
  readonly snap: string;
  readonly marker: string;
  readonly teamKey = TEAM_KEY;
  baseline?: Record<string, unknown>;
  /** The commit the tree goes back to (a case's host commit moves HEAD). */
  head = '';
  decoys?: Record<string, string>;
  /** The image each tag named at setUp: restore() tags them again. */
  readonly imageIds: Record<string, string> = {};

  constructor(readonly options: SuiteOptions) {
    this.root = scratchDir(`cctl-hx-${options.prefix}-`);
    this.home = join(this.root, 'home');
    this.snap = join(this.root, 'snap');
    this.marker = join(this.root, 'host-ran-it');
    // The folder's name is the project's name, as for most users (no COMPOSE_PROJECT_NAME exported).
    const folder = `hx${options.prefix}${randomBytes(3).toString('hex')}`;
    this.dir = join(this.home, 'src', folder);
    this.name = normalizeProjectName(folder);
    const env = e2eEnv({ HOME: this.home });
    for (const key of [
      'COMPOSE_PROJECT_NAME',
      'COMPOSE_FILE',
      'SSH_AUTH_SOCK',
      'ANTHROPIC_API_KEY',
      'ANTHROPIC_AUTH_TOKEN',
      'CCTL_SSH_AUTH_SOCK',
      'CCTL_CACHE_DIR',
      'XDG_CONFIG_HOME',
    ])
      delete env[key];
    this.env = env;
  }

  get target(): Target {
    return { home: this.home, dir: this.dir, name: this.name, marker: this.marker };
  }

  /** Never rejects. As the regular user. */
  asUser(argv: string[], options: { cwd?: string; input?: string; timeoutMs?: number } = {}): Promise<RunResult> {
    return runSettled([...asRegularUser, ...argv], {
      cwd: options.cwd ?? this.dir,
      env: this.env,
      input: options.input,
      timeoutMs: options.timeoutMs ?? 900_000,
    });
  }

  cctl(args: string[], options: { cwd?: string } = {}): Promise<RunResult> {
    // </dev/null: no TTY, so nothing can be confirmed at a prompt.
    return this.asUser(['node', CLI, ...args], { cwd: options.cwd, input: '' });
  }

  git(...args: string[]): Promise<RunResult> {
    return this.asUser(['git', '-c', 'user.name=Dev', '-c', 'user.email=dev@example.com', ...args]);
  }

  compose(...args: string[]): Promise<RunResult> {
    return this.asUser([
      'env',
      `COMPOSE_PROJECT_NAME=${this.name}`,
      ...composeCommand(this.env),
      '--project-directory',
      this.dir,
      '-f',
      join(this.dir, 'compose.yaml'),
      '-p',
      this.name,
      '--profile',
      'claude',
      ...args,
    ]);
  }

  async setUp(): Promise<void> {
    mkdirSync(this.home);
    seedHome(this.home);
    mkdirSync(this.dir, { recursive: true });
    writeFileSync(join(this.dir, 'compose.yaml'), USER_FILE);
    for (const [file, text] of Object.entries(SEED)) {
      mkdirSync(join(this.dir, file, '..'), { recursive: true });
      writeFileSync(join(this.dir, file), text);
    }
    giveToRegularUser(this.root);
    chmodSync(this.root, 0o755);
    const must = async (what: string, r: Promise<RunResult>) => {
      const done = await r;
      if (done.exitCode !== 0) throw new Error(`${what} failed (${done.exitCode}):\n${done.stdout}\n${done.stderr}`);
      return done;
    };
    await must('git init', this.git('init', '-q', '-b', 'main'));
    const init = ['init', '--auth', 'team-key', ...(this.options.isolate ? ['--isolate'] : [])];
    await must('cctl init', this.cctl(init));
    const proxyEnv = join(this.home, '.config', 'cctl', 'projects', this.name, 'proxy.env');
    await must('key', this.asUser(['sed', '-i', `s/^ANTHROPIC_API_KEY=.*$/ANTHROPIC_API_KEY=${TEAM_KEY}/`, proxyEnv]));
    if (this.options.startWeb) await must('compose up web', this.compose('up', '-d', 'web'));
    await must('cctl up', this.cctl(['up', '--timeout', '600']));
    await must('git add', this.git('add', '-A'));
    await must('git commit', this.git('commit', '-q', '-m', 'the project as cctl set it up'));
    this.head = (await must('git rev-parse', this.git('rev-parse', 'HEAD'))).stdout.trim();
    // Saved copies: .git's command keys and hooks, and HOME (secrets, trust, up record, the decoys).
    await must(
      'snapshot',
      this.asUser([
        'sh',
        '-c',
        `mkdir -p '${this.snap}' && cp -a .git/config '${this.snap}/git-config' && cp -a .git/hooks '${this.snap}/git-hooks' && cp -a '${this.home}' '${this.snap}/home'`,
      ]),
    );
    this.baseline = await this.fingerprint();
    this.decoys = this.decoyDigests();
  }

  /** Everything outside the project that an attack could change, by digest (cctl's own state left out). */
  decoyDigests(): Record<string, string> {
    const out: Record<string, string> = {};
    const privateDir = join('.config', 'cctl', 'projects', this.name);
    // cctl's own state churns at every up; of the private folder, the secrets and the gateway's build folder count.
    const watched = (rel: string) =>
      !rel.startsWith('.config/cctl/') ||
      [join(privateDir, 'proxy.env'), join(privateDir, 'client.env')].includes(rel) ||
      rel.startsWith(join(privateDir, 'proxy') + '/');
    const skip = (rel: string) => rel === relative(this.home, this.dir) || rel === '.cache' || rel === '.docker';
    const walk = (abs: string) => {
      for (const entry of readdirSync(abs)) {
        const path = join(abs, entry);
        const rel = relative(this.home, path);
        if (skip(rel)) continue;
        const st = lstatSync(path);
        const record = watched(rel);
        if (st.isSymbolicLink()) {
          if (record) out[rel] = `link -> ${readlinkSync(path)}`;
        } else if (st.isDirectory()) {
          if (record) out[rel] = `dir ${(st.mode & 0o7777).toString(8)}`;
          walk(path);
        } else if (record) out[rel] = `${(st.mode & 0o7777).toString(8)} ${createHash('sha256').update(readFileSync(path)).digest('hex')}`;
      }
    };
    walk(this.home);
    return out;
  }

  /** What the engine really runs for this project (and any other project started from its folder). */
  async fingerprint(options: { cliImageMayChange?: boolean } = {}): Promise<Record<string, unknown>> {
    const ps = await run([
      'docker',
      'ps',
      '-a',
      '--format',
      '{{.ID}}\t{{.Label "com.docker.compose.project"}}\t{{.Label "com.docker.compose.project.working_dir"}}',
    ]);
    const projects = new Set([this.name]);
    const ids: string[] = [];
    for (const line of ps.stdout.split('\n').filter(Boolean)) {
      const [id, project, workingDir] = line.split('\t');
      if (project === this.name || (workingDir && (workingDir === this.dir || workingDir.startsWith(this.dir + '/')))) {
        ids.push(id!);
        projects.add(project!);
      }
    }
    const containers: Record<string, unknown> = {};
    if (ids.length > 0) {
      for (const c of JSON.parse((await run(['docker', 'inspect', ...ids])).stdout) as Inspected[]) {
        const labels = c.Config.Labels ?? {};
        const key = `${labels['com.docker.compose.project']}/${labels['com.docker.compose.service']}#${labels['com.docker.compose.container-number'] ?? '1'}`;
        const isCli = labels['com.docker.compose.service'] === 'claude-cli' && labels['com.docker.compose.project'] === this.name;
        containers[key] = {
          image: isCli && options.cliImageMayChange ? '(may change)' : await imageContent(c.Image),
          hostConfig: Object.fromEntries(HOST_CONFIG_KEYS.map((k) => [k, unordered(c.HostConfig[k] ?? null)])),
          mounts: (c.Mounts ?? []).map((m) => `${m.Type} ${m.Name ?? m.Source} -> ${m.Destination} ${m.RW ? 'rw' : 'ro'}`).sort(),
          env: [...(c.Config.Env ?? [])].sort(),
          user: c.Config.User ?? '',
          entrypoint: c.Config.Entrypoint ?? null,
          cmd: c.Config.Cmd ?? null,
          networks: Object.keys(c.NetworkSettings.Networks ?? {}).sort(),
        };
      }
    }
    const volumes: Record<string, unknown> = {};
    const networks: Record<string, unknown> = {};
    const images: Record<string, string> = {};
    const list = async (kind: 'volume' | 'network', project: string) =>
      (await run(['docker', kind, 'ls', '-q', '--filter', `label=com.docker.compose.project=${project}`])).stdout
        .split('\n')
        .filter(Boolean);
    await Promise.all([
      ...[...projects].map(async (project) => {
        const [vols, nets] = await Promise.all([list('volume', project), list('network', project)]);
        if (vols.length > 0) {
          for (const v of JSON.parse((await run(['docker', 'volume', 'inspect', ...vols])).stdout) as Array<{
            Name: string;
            Driver: string;
            Options: unknown;
          }>) {
            volumes[v.Name] = { driver: v.Driver, options: v.Options ?? null };
          }
        }
        if (nets.length > 0) {
          type Net = { Name: string; Internal: boolean; Driver: string; Containers?: Record<string, { Name: string }> };
          for (const n of JSON.parse((await run(['docker', 'network', 'inspect', ...nets])).stdout) as Net[]) {
            networks[n.Name] = {
              internal: n.Internal,
              driver: n.Driver,
              members: Object.values(n.Containers ?? {})
                .map((m) => m.Name.replace(/[-_]\d+$/, ''))
                .sort(),
            };
          }
        }
      }),
      ...['claude-cli', 'proxy'].map(async (service) => {
        const tag = `cctl-${this.name}-${service}:local`;
        const id = (await runSettled(['docker', 'image', 'inspect', '--format', '{{.Id}}', tag])).stdout.trim();
        if (id) this.imageIds[tag] ??= id;
        images[tag] = service === 'claude-cli' && options.cliImageMayChange ? '(may change)' : await imageContent(id);
      }),
    ]);
    const sorted = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).sort(([a], [b]) => a.localeCompare(b)));
    return { containers: sorted(containers), volumes: sorted(volumes), networks: sorted(networks), images: sorted(images) };
  }

  /** Runs the edits as claude inside claude-cli; a failed write (a read-only bind) stops there and is reported. */
  async attack(edits: Edit[]): Promise<RunResult> {
    const code = `const edits = ${JSON.stringify(edits)};\n${EDIT_SCRIPT}`;
    return this.cctl(['exec', '--', 'sh', '-c', 'exec node -e "$1"', 'attack', code]);
  }

  /** Back to the committed tree, the saved .git and HOME, and the stack as it was. */
  async restore(): Promise<void> {
    // No baseline: setUp failed, every case failed with its reason, and there is nothing to put back.
    if (!this.baseline) return;
    const sh = (script: string) => this.asUser(['sh', '-c', script]);
    // A symlinked folder in the tree is removed as a link, never followed.
    await sh(
      `rm -f .git/commondir .git/config.worktree && rm -rf .git/modules && git reset -q --hard ${this.head} && git clean -ffdxq && rm -rf .git/hooks && cp -a '${this.snap}/git-hooks' .git/hooks && cp -a '${this.snap}/git-config' .git/config` +
        ` && find '${this.home}' -mindepth 1 -maxdepth 1 ! -name src -exec rm -rf {} + && cd '${this.snap}/home' && find . -mindepth 1 -maxdepth 1 ! -name src -exec cp -a {} '${this.home}/' \\;`,
    );
    rmSync(this.marker, { force: true });
    let now = await this.fingerprint();
    if (JSON.stringify(now) === JSON.stringify(this.baseline)) return;
    // An attack got through: remove what it started under other names, put the images back, and up again.
    for (const [tag, id] of Object.entries(this.imageIds)) await runSettled(['docker', 'tag', id, tag]);
    for (const key of Object.keys(now.containers as object)) {
      const project = key.split('/')[0]!;
      if (project !== this.name) await downProject(project, this.dir);
    }
    for (const name of Object.keys(now.volumes as object)) {
      if (!(name in (this.baseline!.volumes as object))) await runSettled(['docker', 'volume', 'rm', '-f', name]);
    }
    await this.cctl(['up', '--timeout', '300']);
    now = await this.fingerprint();
    if (JSON.stringify(now) !== JSON.stringify(this.baseline)) {
      // Compose keeps a container it sees no reason to recreate: start both afresh, with cctl's environment.
      await this.cctl(['down']);
      await this.cctl(['up', '--timeout', '300']);
    }
  }

  async tearDown(): Promise<void> {
    const now = await this.fingerprint().catch(() => ({ containers: {} }));
    const projects = new Set([this.name, ...Object.keys(now.containers as object).map((k) => k.split('/')[0]!)]);
    for (const project of projects) await downProject(project, this.dir);
    await removeProjectImages(this.name);
    await runSettled(['rm', '-rf', this.root]);
  }
}

/**
 * An image by what it holds: its file system layers. A rebuild from the same files (cctl's one build hash
 * covers both images, so a change to the team's Dockerfile.local rebuilds the gateway too) gives a new
 * id with the same layers; anything else put in it (build.tags, another Dockerfile, BASE_IMAGE) does not.
 * The container's config (env, entrypoint, user) is compared on its own.
 */
async function imageContent(id: string): Promise<string> {
  if (!id) return '';
  const layers = await runSettled(['docker', 'image', 'inspect', '--format', '{{json .RootFS.Layers}}', id]);
  return layers.exitCode === 0 ? `layers ${createHash('sha256').update(layers.stdout.trim()).digest('hex')}` : `missing ${id}`;
}

/** Lists of strings (Binds, CapAdd, SecurityOpt...) compared as sets: the engine does not keep their order. */
function unordered(value: unknown): unknown {
  return Array.isArray(value) && value.every((x) => typeof x === 'string') ? [...value].sort() : value;
}

/** Removes a compose project's containers, networks and volumes by its labels (v1 and v2 alike). */
async function downProject(project: string, dir: string): Promise<void> {
  const label = `label=com.docker.compose.project=${project}`;
  const ids = (await runSettled(['docker', 'ps', '-aq', '--filter', label])).stdout.split('\n').filter(Boolean);
  if (ids.length > 0) await runSettled(['docker', 'rm', '-f', '-v', ...ids]);
  const nets = (await runSettled(['docker', 'network', 'ls', '-q', '--filter', label])).stdout.split('\n').filter(Boolean);
  if (nets.length > 0) await runSettled(['docker', 'network', 'rm', ...nets]);
  const vols = (await runSettled(['docker', 'volume', 'ls', '-q', '--filter', label])).stdout.split('\n').filter(Boolean);
  if (vols.length > 0) await runSettled(['docker', 'volume', 'rm', '-f', ...vols]);
  void dir;
}

/** Registers the suite: one stack for the file, one serial test per case. */
export function hostileSuite(test: TestFn, options: SuiteOptions, cases: HostileCase[]): void {
  const stack = new Stack(options);
  let ready: Error | undefined;
  test.before(async () => {
    try {
      await stack.setUp();
    } catch (error) {
      ready = error as Error;
    }
  });
  test.after.always(() => stack.tearDown());
  test.afterEach.always(() => stack.restore());
  for (const c of cases) {
    if (COMPOSE_V1 && !c.v1) continue;
    test.serial(c.title, async (t) => {
      if (ready) return t.fail(`the project could not be set up: ${ready.message}`);
      if (c.prepare) {
        const prepared = await stack.attack(c.prepare(stack.target));
        if (prepared.exitCode !== 0)
          return t.fail(`the prepared edits could not be made (exit ${prepared.exitCode}): ${prepared.stderr.trim()}`);
        const first = await stack.cctl(['up', '--timeout', '300']);
        if (first.exitCode !== 0)
          return t.fail(
            `cctl up did not take the prepared edits without a question, so the case proves nothing: ${first.stdout}\n${first.stderr}`,
          );
        t.deepEqual(await stack.fingerprint(), stack.baseline, 'the prepared edits change nothing that runs');
      }
      const edit = await stack.attack(c.edits(stack.target));
      if (edit.exitCode !== 0 && edit.exitCode !== 3)
        return t.fail(`the attack could not be made (exit ${edit.exitCode}), so it proves nothing: ${edit.stderr.trim()}`);
      const wrote = edit.exitCode === 0;
      t.log(wrote ? 'edit written inside claude-cli' : `edit stopped inside claude-cli: ${edit.stderr.trim()}`);
      const up = await stack.cctl(['up', '--timeout', '300', ...(c.build ? ['--build'] : [])], {
        cwd: c.cwd ? join(stack.dir, c.cwd) : undefined,
      });
      const said = `${up.stdout}\n${up.stderr}`;
      t.log(`cctl up exit ${up.exitCode}: ${said.trim().split('\n').slice(-6).join(' | ')}`);
      for (const argv of c.host?.(stack.target) ?? []) await stack.asUser(argv);
      const expect = c.expect ?? 'neutralise';
      if (up.exitCode !== 0) t.regex(said, c.names, 'a refusal names the change');
      else if (wrote && expect === 'refuse') t.fail('the edit was written and cctl up went on: only a refusal stops this one');
      if (wrote && expect === 'flag') t.regex(said, c.names, 'the change to a file the host runs is named');
      const unchanged = async (when: string) => {
        t.deepEqual(
          await stack.fingerprint({ cliImageMayChange: c.cliImageMayChange }),
          strip(stack.baseline!, c.cliImageMayChange),
          `what the engine runs is as before (${when})`,
        );
        t.deepEqual(stack.decoyDigests(), stack.decoys, `no file outside the project changed (${when})`);
        t.false(existsSync(stack.marker), `nothing the attacker wrote ran on the host (${when})`);
      };
      await unchanged('after cctl up');
      await c.check?.(t, stack, up);
      if (up.exitCode === 0 && wrote) {
        // Neutralised must mean gone, not latent: a key Compose leaves out of its recreate decision acts at
        // the next start of the containers (tomorrow's cctl up after a down, a reboot).
        await stack.cctl(['down']);
        const again = await stack.cctl(['up', '--timeout', '300']);
        if (again.exitCode !== 0) t.regex(`${again.stdout}\n${again.stderr}`, c.names, 'a refusal at the next start names the change');
        await unchanged('after cctl down and up');
      }
    });
  }
}

/** The baseline with claude-cli's image left out, for cases where a rebuild of the project's Dockerfile is fine. */
function strip(baseline: Record<string, unknown>, cliImageMayChange?: boolean): Record<string, unknown> {
  if (!cliImageMayChange) return baseline;
  const copy = JSON.parse(JSON.stringify(baseline)) as { containers: Record<string, { image: string }>; images: Record<string, string> };
  for (const [key, c] of Object.entries(copy.containers)) if (key.endsWith('/claude-cli#1')) c.image = '(may change)';
  for (const tag of Object.keys(copy.images)) if (tag.endsWith('-claude-cli:local')) copy.images[tag] = '(may change)';
  return copy;
}

export { isMap };
