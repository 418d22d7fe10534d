/**
 * Containers of a Compose project, found by the labels Compose v1 and v2 both
 * set, with state, health and ports from `docker inspect`: the same answer on
 * either flavour, and no `compose ps` (whose output differs between them).
 */
import { explainDockerError } from './docker.js';
import { inspectObjects, listProject, startContainer } from './engine-api.js';
import { ProcessError, run } from './runner.js';

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
  /** The image's id (sha256:…), which moves away from the tag when the image is rebuilt. */
  Image: string;
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

/** One container per service here; if Compose left several, the running one speaks. */
function containerOf(details: readonly Inspect[], name: string): Inspect | undefined {
  return details
    .filter((d) => d.Config.Labels[SERVICE_LABEL] === name)
    .sort((a, b) => Number(b.State.Status === 'running') - Number(a.State.Status === 'running'))[0];
}

async function projectContainerIds(project: string): Promise<string[]> {
  const listed = await listProject(project);
  if (listed) return listed.map((c) => c.Id);
  const ps = await run(['docker', 'ps', '-aq', '--no-trunc', '--filter', `label=${PROJECT_LABEL}=${project}`]);
  return ps.stdout.split('\n').filter(Boolean);
}

/** The state of each named service of the project ('missing' when it has no container). */
export async function serviceStates(project: string, services: readonly string[]): Promise<ServiceState[]> {
  let details: Inspect[] = [];
  try {
    const ids = await projectContainerIds(project);
    if (ids.length) details = ((await inspectObjects(ids)) ?? JSON.parse((await run(['docker', 'inspect', ...ids])).stdout)) as Inspect[];
  } catch (error) {
    throw explainDockerError(error);
  }
  return services.map((name) => toState(name, containerOf(details, name)));
}

/**
 * The same services again, by the containers an earlier serviceStates() found:
 * one `docker inspect` and no `ps`, which halves the cost of each poll of the
 * health wait. Undefined when a service had no container or one is gone (the
 * caller asks serviceStates() afresh).
 */
export async function refreshStates(previous: readonly ServiceState[]): Promise<ServiceState[] | undefined> {
  const names = previous.map((s) => s.container);
  if (names.some((n) => !n)) return undefined;
  let details: Inspect[];
  try {
    const asked = (await inspectObjects(names as string[])) as Inspect[] | undefined;
    // A container that is gone: the caller asks afresh, as after the CLI's failure below.
    if (asked) return asked.length === names.length ? previous.map((s) => toState(s.name, containerOf(asked, s.name))) : undefined;
    details = JSON.parse((await run(['docker', 'inspect', ...(names as string[])])).stdout) as Inspect[];
  } catch (error) {
    const explained = explainDockerError(error);
    if (explained !== error) throw explained;
    return undefined;
  }
  return previous.map((s) => toState(s.name, containerOf(details, s.name)));
}

/**
 * Calls `onChange` whenever a container of the project reports its health or
 * dies, from one `docker events` process that runs until `signal` aborts: a
 * health wait wakes at once instead of at its next poll. Its failure is
 * ignored; the wait still polls.
 */
export function watchHealth(project: string, onChange: () => void, signal: AbortSignal): void {
  const events = ['docker', 'events', '--filter', `label=${PROJECT_LABEL}=${project}`, '--filter', 'type=container'];
  const filters = ['--filter', 'event=health_status', '--filter', 'event=die', '--format', '{{.Status}}'];
  run([...events, ...filters], { signal, onOutput: () => onChange() }).catch(() => undefined);
}

/** A service with what decides whether `compose up` would touch its container. */
export interface ServiceFacts extends ServiceState {
  /** The id of the image the container runs. */
  imageId?: string;
  /** Compose's hash of the service's configuration (the label Compose v1 and v2 both set). */
  configHash?: string;
}

export interface ImageFacts {
  id: string;
  labels: Record<string, string>;
}

export const CONFIG_HASH_LABEL = 'com.docker.compose.config-hash';

/** A container of the project by name, with its service and all its labels. */
export interface LabelledContainer {
  name: string;
  service: string;
  labels: Record<string, string>;
}

/**
 * The project's services and the named images, in two docker calls: `ps` for
 * the container ids, then one `inspect` of the containers and images together
 * (it takes both kinds). A missing image is undefined. `containers`: every
 * container of the project with its labels (whose stack it is, ops/owner.ts).
 */
export async function snapshot(
  project: string,
  services: readonly string[],
  images: readonly string[],
): Promise<{ services: ServiceFacts[]; images: Record<string, ImageFacts | undefined>; containers: LabelledContainer[] }> {
  let found: Array<Inspect & { RepoTags?: string[]; Config: { Labels: Record<string, string> | null } }> = [];
  try {
    const ids = await projectContainerIds(project);
    const asked = ids.length || images.length ? await inspectObjects(ids, images) : [];
    if (asked) found = asked as typeof found;
    else {
      // A name that matches nothing makes inspect exit 1 after printing all the others.
      const result = await run(['docker', 'inspect', ...ids, ...images]).catch((error: unknown) => {
        if (error instanceof ProcessError && error.stdout.trim().startsWith('[') && /No such object/i.test(error.stderr)) return error;
        throw error;
      });
      found = JSON.parse(result.stdout) as typeof found;
    }
  } catch (error) {
    throw explainDockerError(error);
  }
  const containers = found.filter((f) => f.State !== undefined) as Inspect[];
  return {
    containers: containers.map((c) => ({
      name: c.Name.replace(/^\//, ''),
      service: c.Config.Labels[SERVICE_LABEL] ?? '',
      labels: c.Config.Labels,
    })),
    services: services.map((name) => {
      const c = containerOf(containers, name);
      return { ...toState(name, c), imageId: c?.Image, configHash: c?.Config.Labels[CONFIG_HASH_LABEL] };
    }),
    images: Object.fromEntries(
      images.map((name) => {
        const image = found.find((f) => f.State === undefined && f.RepoTags?.includes(name));
        return [name, image ? { id: image.Id, labels: image.Config.Labels ?? {} } : undefined];
      }),
    ),
  };
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
  const listed = await listProject(project, { running: true });
  if (listed) {
    const c = listed.find((l) => l.Labels?.[SERVICE_LABEL] === service);
    return c && { id: c.Id, labels: Object.fromEntries(labels.map((l) => [l, c.Labels?.[l] ?? ''])) };
  }
  const format = ['{{.ID}}', ...labels.map((l) => `{{.Label "${l}"}}`)].join('\t');
  const { stdout } = await run([
    'docker',
    'ps',
    '--filter',
    'status=running',
    '--filter',
    `label=${PROJECT_LABEL}=${project}`,
    '--filter',
    `label=${SERVICE_LABEL}=${service}`,
    '--format',
    format,
  ]);
  const line = stdout.split('\n').find((l) => l.trim());
  if (!line) return undefined;
  const [id = '', ...values] = line.split('\t');
  return { id, labels: Object.fromEntries(labels.map((l, i) => [l, values[i] ?? ''])) };
}

/** Every container of the project (running or not), with its name, service and the values of the labels asked for: one `docker ps`. */
export async function projectContainers(
  project: string,
  labels: readonly string[],
): Promise<Array<{ name: string; service: string; labels: Record<string, string> }>> {
  // Tab-separated: label values (user and host names) hold no tabs, and the columns stay apart.
  const format = ['{{.Names}}', `{{.Label "${SERVICE_LABEL}"}}`, ...labels.map((l) => `{{.Label "${l}"}}`)].join('\t');
  try {
    const { stdout } = await run(['docker', 'ps', '-a', '--filter', `label=${PROJECT_LABEL}=${project}`, '--format', format]);
    return stdout
      .split('\n')
      .filter((l) => l.trim())
      .map((line) => {
        const [name = '', service = '', ...values] = line.split('\t');
        return { name, service, labels: Object.fromEntries(labels.map((l, i) => [l, values[i] ?? ''])) };
      });
  } catch (error) {
    throw explainDockerError(error);
  }
}

/** A container's mounts as the engine set them up: where each is inside, and whether it is writable. */
export async function containerMounts(container: string): Promise<Array<{ source: string; destination: string; rw: boolean }>> {
  try {
    const { stdout } = await run(['docker', 'inspect', '--format', '{{json .Mounts}}', container]);
    const mounts = JSON.parse(stdout) as Array<{ Source: string; Destination: string; RW: boolean }> | null;
    return (mounts ?? []).map((m) => ({ source: m.Source, destination: m.Destination, rw: m.RW }));
  } catch (error) {
    throw explainDockerError(error);
  }
}

/**
 * The last lines a container wrote (stdout and stderr together, as `docker
 * logs` gives them): why a service exited is usually there, and a failed wait
 * should say it rather than only the exit code.
 */
export async function lastLogLines(container: string, lines: number): Promise<string> {
  const { stdout, stderr } = await run(['docker', 'logs', '--tail', String(lines), container]);
  return `${stdout}${stderr}`.trim();
}
