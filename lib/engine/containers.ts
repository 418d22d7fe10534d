/**
 * Containers of a Compose project, found by the labels Compose v1 and v2 both
 * set, with state, health and ports from `docker inspect`: the same answer on
 * either flavour, and no `compose ps` (whose output differs between them).
 */
import { explainDockerError } from './docker.js';
import { run } from './runner.js';

export const PROJECT_LABEL = 'com.docker.compose.project';
export const SERVICE_LABEL = 'com.docker.compose.service';

/** One service of the project, as the engine sees it. */
export interface ServiceState {
  name: string;
  container?: string;
  /** created | running | exited | ... | missing */
  state: string;
  /** healthy | unhealthy | starting | none */
  health: string;
  ports: string[];
  image?: string;
  /** The last health-check output, for failures. */
  lastHealthOutput?: string;
  exitCode?: number;
}

interface Inspect {
  Id: string;
  Name: string;
  Config: { Labels: Record<string, string>; Image: string };
  State: { Status: string; ExitCode: number; Health?: { Status: string; Log?: Array<{ Output: string; ExitCode: number }> } };
  NetworkSettings: { Ports?: Record<string, Array<{ HostIp: string; HostPort: string }> | null> };
}

function describePorts(ports: Inspect['NetworkSettings']['Ports']): string[] {
  return Object.entries(ports ?? {}).flatMap(([inside, bindings]) =>
    (bindings ?? []).map((b) => `${b.HostIp || '0.0.0.0'}:${b.HostPort}->${inside}`),
  );
}

function toState(name: string, c: Inspect | undefined): ServiceState {
  if (!c) return { name, state: 'missing', health: 'none', ports: [] };
  const log = c.State.Health?.Log ?? [];
  return {
    name,
    container: c.Name.replace(/^\//, ''),
    state: c.State.Status,
    health: c.State.Health?.Status ?? 'none',
    ports: describePorts(c.NetworkSettings.Ports),
    image: c.Config.Image,
    lastHealthOutput: log.length ? log[log.length - 1]!.Output.trim() : undefined,
    exitCode: c.State.Status === 'exited' ? c.State.ExitCode : undefined,
  };
}

/** The state of each named service of the project ('missing' when it has no container). */
export async function serviceStates(project: string, services: readonly string[]): Promise<ServiceState[]> {
  let details: Inspect[] = [];
  try {
    const ps = await run(['docker', 'ps', '-aq', '--no-trunc', '--filter', `label=${PROJECT_LABEL}=${project}`]);
    const ids = ps.stdout.split('\n').filter(Boolean);
    if (ids.length) details = JSON.parse((await run(['docker', 'inspect', ...ids])).stdout) as Inspect[];
  } catch (error) {
    throw explainDockerError(error);
  }
  return services.map((name) => {
    // One container per service here; if Compose left several, the running one speaks.
    const mine = details
      .filter((d) => d.Config.Labels[SERVICE_LABEL] === name)
      .sort((a, b) => Number(b.State.Status === 'running') - Number(a.State.Status === 'running'));
    return toState(name, mine[0]);
  });
}

/**
 * The running container of one service, with the values of the labels asked
 * for (image labels are inherited), in one `docker ps`; undefined when none runs.
 */
export async function runningContainer(
  project: string,
  service: string,
  labels: readonly string[] = [],
): Promise<{ id: string; labels: Record<string, string> } | undefined> {
  const format = ['{{.ID}}', ...labels.map((l) => `{{.Label "${l}"}}`)].join('\t');
  const { stdout } = await run([
    'docker', 'ps', '--filter', 'status=running',
    '--filter', `label=${PROJECT_LABEL}=${project}`, '--filter', `label=${SERVICE_LABEL}=${service}`,
    '--format', format,
  ]);
  const line = stdout.split('\n').find((l) => l.trim());
  if (!line) return undefined;
  const [id = '', ...values] = line.split('\t');
  return { id, labels: Object.fromEntries(labels.map((l, i) => [l, values[i] ?? ''])) };
}
