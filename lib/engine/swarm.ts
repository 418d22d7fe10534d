/**
 * Docker Swarm, as the team gateway's `deploy --swarm` uses it: is this engine
 * a manager, and the stack verbs (deploy, services, logs, rm). A stack's
 * images must already be on the node (`--resolve-image never`: there may be
 * no registry to ask).
 */
import { CctlError } from '../kernel/errors.js';
import { dockerFailure } from './docker.js';
import { run, runInteractive, runSettled } from './runner.js';

export interface SwarmState {
  /** inactive | pending | active | error | locked */
  state: string;
  manager: boolean;
  /** This node's hostname, as placement constraints name it. */
  hostname: string;
}

export async function swarmState(): Promise<SwarmState> {
  const { stdout } = await run(['docker', 'info', '--format', '{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}} {{.Name}}'], {
    timeoutMs: 15_000,
  });
  const [state = 'inactive', manager = 'false', hostname = ''] = stdout.trim().split(' ');
  return { state, manager: manager === 'true', hostname };
}

/**
 * Whether the engine's kernel has IPVS, which Swarm's service VIPs and routing
 * mesh need: /sys/module/ip_vs, read in a throw-away container of `image`
 * (sysfs is the host's), so a remote engine is asked about its own kernel.
 * After `docker swarm init` the engine has loaded the module where it exists.
 */
export async function kernelHasIpvs(image: string): Promise<boolean> {
  const r = await runSettled(
    [
      'docker',
      'run',
      '--rm',
      '--network',
      'none',
      '--cap-drop',
      'ALL',
      '--user',
      '65534:65534',
      '--entrypoint',
      'sh',
      image,
      '-c',
      'test -d /sys/module/ip_vs',
    ],
    { timeoutMs: 60_000 },
  );
  if (r.exitCode !== 0 && r.exitCode !== 1)
    throw new CctlError(`Checking the kernel for IPVS failed: ${r.stderr.trim() || `exit code ${r.exitCode}`}`, {
      hint: 'Run again with --debug to see each docker command.',
    });
  return r.exitCode === 0;
}

/** `docker build` of one image from a folder (the stack's own images that Compose does not build). */
export async function buildImage(
  context: string,
  image: string,
  args: Readonly<Record<string, string>>,
  options: { signal?: AbortSignal } = {},
): Promise<void> {
  try {
    await run(['docker', 'build', '-q', '-t', image, ...Object.entries(args).flatMap(([k, v]) => ['--build-arg', `${k}=${v}`]), context], {
      timeoutMs: 900_000,
      ...(options.signal ? { signal: options.signal } : {}),
    });
  } catch (error) {
    throw dockerFailure(error, `Building ${image}`);
  }
}

export async function stackDeploy(file: string, stack: string, options: { cwd: string; signal?: AbortSignal }): Promise<void> {
  await run(['docker', 'stack', 'deploy', '--compose-file', file, '--prune', '--resolve-image', 'never', stack], {
    cwd: options.cwd,
    timeoutMs: 300_000,
    ...(options.signal ? { signal: options.signal } : {}),
  });
}

export interface StackService {
  name: string;
  replicas: string;
  image: string;
  ports: string;
  /** The last update's state (updating, completed, rollback_started, rollback_completed, paused), when there was one. */
  update?: string;
}

export async function stackServices(stack: string): Promise<StackService[]> {
  const { stdout } = await run(['docker', 'stack', 'services', '--format', '{{json .}}', stack], { timeoutMs: 30_000 });
  const services = stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const s = JSON.parse(line) as { Name: string; Replicas: string; Image: string; Ports: string };
      return { name: s.Name, replicas: s.Replicas, image: s.Image, ports: s.Ports } as StackService;
    });
  if (!services.length) return services;
  const updates = await run(
    [
      'docker',
      'service',
      'inspect',
      '--format',
      '{{.Spec.Name}} {{if .UpdateStatus}}{{.UpdateStatus.State}}{{end}}',
      ...services.map((s) => s.name),
    ],
    { timeoutMs: 30_000 },
  );
  for (const line of updates.stdout.split('\n')) {
    const [name, state] = line.trim().split(' ');
    const service = services.find((s) => s.name === name);
    if (service && state) service.update = state;
  }
  return services;
}

export function serviceLogs(service: string, options: { follow?: boolean; tail?: number }): Promise<number> {
  return runInteractive([
    'docker',
    'service',
    'logs',
    ...(options.follow ? ['--follow'] : []),
    ...(options.tail !== undefined ? ['--tail', String(options.tail)] : []),
    service,
  ]);
}

export async function stackRemove(stack: string): Promise<void> {
  await run(['docker', 'stack', 'rm', stack], { timeoutMs: 120_000 });
}

/**
 * Runs a command in one running task of the service on this node (any
 * replica: they share the ledger); undefined when this node runs none.
 */
export async function execInService(service: string, command: readonly string[]): Promise<{ stdout: string } | undefined> {
  const { stdout } = await run([
    'docker',
    'ps',
    '-q',
    '--filter',
    `label=com.docker.swarm.service.name=${service}`,
    '--filter',
    'status=running',
  ]);
  const id = stdout.split('\n').find(Boolean);
  if (!id) return undefined;
  return run(['docker', 'exec', id, ...command], { timeoutMs: 120_000 });
}
