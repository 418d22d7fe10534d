/**
 * The one process fake: a table of rules at the runner seam (setRunner), as
 * np's stub-execa does. Each rule matches an argv (a prefix of the joined
 * command line, a RegExp, or a predicate) and answers it; the last rule added
 * wins, so a test states only what differs from a healthy engine. Every call
 * is recorded, and a call no rule answers fails loudly instead of passing.
 */
import { resetComposeDetection } from '../../lib/engine/compose.js';
import { resetDaemonInfo, type DaemonInfo } from '../../lib/engine/daemon.js';
import { fakeComposeConfig } from './fake-compose-config.js';
import { serviceConfigHashes } from '../../lib/engine/compose-hash.js';
import { resetResolvedConfig } from '../../lib/engine/compose-config.js';
import { ProcessError, setRunner, type RunOptions, type RunResult, type Runner } from '../../lib/engine/runner.js';

export interface Reply {
  stdout?: string;
  stderr?: string;
  exitCode?: number;
}
export type Answer = Reply | ((argv: string[], options: RunOptions) => Reply | Promise<Reply>);
export type Match = string | RegExp | ((line: string, argv: string[]) => boolean);

export interface Call {
  argv: string[];
  line: string;
  mode: 'capture' | 'interactive';
  options: RunOptions;
}

export interface Flavour {
  /** What CCTL_COMPOSE is set to while the fake runs. */
  env: string;
  prefix: string[];
  version: string;
}
export const V2: Flavour = { env: 'docker compose', prefix: ['docker', 'compose'], version: 'v2.29.1' };
export const V1: Flavour = { env: 'docker-compose', prefix: ['docker-compose'], version: '1.29.2' };

export interface EngineModel {
  /** The compose the fake answers for (both, with detection, when `detect` is set). */
  flavour?: Flavour;
  /** Leave CCTL_COMPOSE unset, so detection probes; `installed` lists what answers. */
  detect?: { installed: Flavour[] };
  /** `docker version` answers; 'down' makes every docker call fail as a stopped daemon does. */
  daemon?: DaemonInfo | 'down';
}

export const ENGINE_26: DaemonInfo = { serverVersion: '26.1.5', apiVersion: '1.45' };
export const ENGINE_20: DaemonInfo = { serverVersion: '20.10.24', apiVersion: '1.41' };
const DAEMON_DOWN = 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?';

const matches = (m: Match, line: string, argv: string[]) =>
  typeof m === 'string' ? line === m || line.startsWith(`${m} `) : m instanceof RegExp ? m.test(line) : m(line, argv);

export class FakeEngine implements Runner {
  readonly calls: Call[] = [];
  private readonly rules: Array<[Match, Answer]> = [];
  readonly model: Required<Pick<EngineModel, 'flavour'>> & EngineModel;

  constructor(model: EngineModel = {}) {
    this.model = { flavour: V2, ...model };
    const daemon = model.daemon ?? ENGINE_26;
    const installed = model.detect?.installed ?? [this.model.flavour];
    // Defaults first: rules added later (by tests) take precedence.
    this.on(/^docker\b/, daemon === 'down' ? { exitCode: 1, stderr: DAEMON_DOWN } : { stdout: '' });
    this.on(/^docker(-compose| compose)\b/, { stdout: '' });
    // The resolved model (the trust check): a small stand-in for Compose's resolution (fake-compose-config.ts).
    this.on(/^docker(-compose| compose)\b.* config( --format json)?$/, (argv, options) => fakeComposeConfig(argv, options));
    // `up --no-start` creates each service's container labelled with the config hash of the files as they
    // read now (Compose's own behaviour: what the check compared and what runs are tied by that label).
    const created = new Map<string, string>();
    this.on(/^docker(-compose| compose)\b.* up --no-start\b/, (argv, options) => {
      const at = argv.indexOf('up');
      const services = argv.slice(at + 1).filter((a) => !a.startsWith('-'));
      const printed =
        fakeComposeConfig([...argv.slice(0, at), 'config', '--format', 'json'], { ...options, input: undefined }).stdout ?? '{}';
      const hashes = serviceConfigHashes(printed, services);
      for (const service of services) created.set(service, hashes[service]?.[0] ?? '');
      return { stdout: '' };
    });
    this.on(/^docker ps -a --no-trunc --filter label=com\.docker\.compose\.project=\S+ --format /, () => ({
      stdout: [...created].map(([service, hash]) => `id-${service}\t${service}\t${hash}\tcreated\n`).join(''),
    }));
    this.on(/ version --short$/, { exitCode: 1, stderr: 'not found' });
    for (const f of installed) this.on(`${f.prefix.join(' ')} version --short`, { stdout: `${f.version}\n` });
    if (daemon !== 'down') {
      this.on('docker version --format', { stdout: `${daemon.serverVersion} ${daemon.apiVersion}\n` });
      this.on('docker image inspect', { exitCode: 1, stderr: 'Error: No such image' });
      this.on('docker volume inspect', { exitCode: 1, stderr: 'Error: No such volume' });
      this.on('docker buildx version', { stdout: 'github.com/docker/buildx v0.13.1 deadbeef\n' });
      this.on('docker info --format {{.DockerRootDir}}', { stdout: '/var/lib/docker\n' });
    }
  }

  /** Adds a rule; it wins over every rule added before it. */
  on(match: Match, answer: Answer): this {
    this.rules.unshift([match, answer]);
    return this;
  }

  /** Answers `docker ps`/`docker inspect` as a project whose services are in these states. */
  withContainers(containers: ContainerSpec[]): this {
    const running = containers.filter((c) => (c.state ?? 'running') === 'running');
    this.on('docker ps -aq', { stdout: containers.map((c) => `id-${c.service}\n`).join('') });
    this.on('docker inspect', { stdout: JSON.stringify(containers.map(inspectJson)) });
    this.on(/^docker ps --filter status=running/, (argv) => {
      const service = argv.find((a) => a.startsWith('label=com.docker.compose.service='))?.split('=')[2];
      const c = running.find((r) => r.service === service);
      if (!c) return { stdout: '' };
      const labels = argv[argv.length - 1]!.split('\t')
        .slice(1)
        .map((f) => c.labels?.[/"(.*)"/.exec(f)?.[1] ?? ''] ?? '');
      return { stdout: `${[`id-${c.service}`, ...labels].join('\t')}\n` };
    });
    return this;
  }

  private async answer(argv: readonly string[], mode: Call['mode'], options: RunOptions = {}): Promise<RunResult> {
    const line = argv.join(' ');
    this.calls.push({ argv: [...argv], line, mode, options });
    const rule = this.rules.find(([m]) => matches(m, line, [...argv]));
    if (!rule) throw new ProcessError(argv, { exitCode: 1, stdout: '', stderr: `fake engine: no rule answers "${line}"` });
    const a = rule[1];
    const reply = typeof a === 'function' ? await a([...argv], options) : a;
    const result = { exitCode: reply.exitCode ?? 0, stdout: reply.stdout ?? '', stderr: reply.stderr ?? '' };
    if (result.stdout) options.onOutput?.(result.stdout);
    if (result.stderr) options.onOutput?.(result.stderr);
    return result;
  }

  async capture(argv: readonly string[], options?: RunOptions): Promise<RunResult> {
    const result = await this.answer(argv, 'capture', options);
    if (result.exitCode !== 0) throw new ProcessError(argv, result);
    return result;
  }

  async interactive(argv: readonly string[], options?: RunOptions): Promise<number> {
    return (await this.answer(argv, 'interactive', options)).exitCode;
  }

  /** Joined command lines, optionally only those starting with a prefix. */
  lines(prefix = ''): string[] {
    return this.calls.map((c) => c.line).filter((l) => l.startsWith(prefix));
  }

  /** The compose calls of the fake's flavour, without detection. */
  composeCalls(mode?: Call['mode']): string[][] {
    const p = this.model.flavour.prefix;
    return this.calls
      .filter((c) => (!mode || c.mode === mode) && p.every((w, i) => c.argv[i] === w) && !c.line.endsWith('version --short'))
      .map((c) => c.argv);
  }
}

export interface ContainerSpec {
  service: string;
  state?: string;
  health?: string;
  healthOutput?: string;
  exitCode?: number;
  ports?: Record<string, Array<{ HostIp: string; HostPort: string }>>;
  labels?: Record<string, string>;
}

/** What `docker inspect` says about one service's container. */
export function inspectJson(c: ContainerSpec) {
  return {
    Id: `id-${c.service}`,
    Name: `/p-${c.service}-1`,
    Config: { Labels: { 'com.docker.compose.service': c.service, ...c.labels }, Image: `img-${c.service}` },
    State: {
      Status: c.state ?? 'running',
      ExitCode: c.exitCode ?? 0,
      ...(c.health === 'none' ? {} : { Health: { Status: c.health ?? 'healthy', Log: [{ Output: c.healthOutput ?? 'ok', ExitCode: 0 }] } }),
    },
    NetworkSettings: { Ports: c.ports ?? {} },
  };
}

/**
 * Runs fn with the fake at the seam: CCTL_COMPOSE names the fake's flavour
 * (unless it models detection), the compose cache is off so nothing real
 * leaks in or out, and the per-run memos start empty.
 */
export async function withEngine<T>(fake: FakeEngine, fn: (fake: FakeEngine) => Promise<T>): Promise<T> {
  const previous = setRunner(fake);
  const saved = { compose: process.env.CCTL_COMPOSE, cache: process.env.CCTL_COMPOSE_CACHE };
  if (fake.model.detect) delete process.env.CCTL_COMPOSE;
  else process.env.CCTL_COMPOSE = fake.model.flavour.env;
  process.env.CCTL_COMPOSE_CACHE = '0';
  resetComposeDetection();
  resetDaemonInfo();
  resetResolvedConfig();
  try {
    return await fn(fake);
  } finally {
    setRunner(previous);
    for (const [key, value] of [
      ['CCTL_COMPOSE', saved.compose],
      ['CCTL_COMPOSE_CACHE', saved.cache],
    ] as const) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
    resetComposeDetection();
    resetDaemonInfo();
  }
}

/** Resolves with what fn threw (undefined when it did not). */
export async function failureOf(fn: () => Promise<unknown>): Promise<(Error & { hint?: string; exitCode?: number }) | undefined> {
  try {
    await fn();
    return undefined;
  } catch (error) {
    return error as Error;
  }
}
