/**
 * The running stack, read from the engine itself: containers are found by the
 * labels Compose v1 and v2 both set, and their state and health come from
 * `docker inspect`, so everything here behaves the same on either flavour.
 */
import { CctlError, InterruptedError } from '../kernel/errors.js';
import { explainDockerError } from '../engine/docker.js';
import { run } from '../engine/runner.js';
import { CLI_SERVICE, PROXY_SERVICE, type Project } from '../project/locate.js';
import type { Settings } from '../project/settings.js';
import { HOME_VOLUME } from '../project/model.js';

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

export function claudeServices(s: Pick<Settings, 'proxy'>): string[] {
  return s.proxy === 'external' ? [CLI_SERVICE] : [CLI_SERVICE, PROXY_SERVICE];
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

export async function inspectServices(project: Project, services: readonly string[]): Promise<ServiceState[]> {
  let ids: string[];
  let details: Inspect[] = [];
  try {
    const ps = await run(['docker', 'ps', '-aq', '--no-trunc', '--filter', `label=com.docker.compose.project=${project.name}`]);
    ids = ps.stdout.split('\n').filter(Boolean);
    if (ids.length) details = JSON.parse((await run(['docker', 'inspect', ...ids])).stdout) as Inspect[];
  } catch (error) {
    throw explainDockerError(error);
  }
  return services.map((name) => {
    // One container per service here; if Compose left several, the running one speaks.
    const mine = details
      .filter((d) => d.Config.Labels['com.docker.compose.service'] === name)
      .sort((a, b) => Number(b.State.Status === 'running') - Number(a.State.Status === 'running'));
    const c = mine[0];
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
  });
}

export function isReady(s: ServiceState): boolean {
  return s.state === 'running' && (s.health === 'healthy' || s.health === 'none');
}

export interface WaitOptions {
  timeoutMs: number;
  intervalMs?: number;
  signal?: AbortSignal;
  onProgress?: (states: ServiceState[]) => void;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

function unhealthyError(bad: ServiceState, why: string): CctlError {
  const output = bad.lastHealthOutput ? `\nLast health check output:\n  ${bad.lastHealthOutput.split('\n').slice(-5).join('\n  ')}` : '';
  return new CctlError(`Service ${bad.name} ${why}.${output}`, {
    hint: `See its logs with "cctl logs ${bad.name}", and run "cctl doctor".`,
  });
}

/** Polls until every service is running and healthy; fails early on exits and unhealthy checks. */
export async function waitHealthy(project: Project, services: readonly string[], options: WaitOptions): Promise<ServiceState[]> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    if (options.signal?.aborted) throw new InterruptedError();
    const states = await inspectServices(project, services);
    options.onProgress?.(states);
    if (states.every(isReady)) return states;
    const exited = states.find((s) => s.state === 'exited' || s.state === 'dead');
    if (exited) throw unhealthyError(exited, `exited with code ${exited.exitCode ?? '?'}`);
    const unhealthy = states.find((s) => s.health === 'unhealthy');
    if (unhealthy) throw unhealthyError(unhealthy, 'is unhealthy');
    if (Date.now() >= deadline) {
      const slow = states.find((s) => !isReady(s))!;
      throw unhealthyError(slow, `did not become healthy within ${Math.round(options.timeoutMs / 1000)} s (state ${slow.state}, health ${slow.health})`);
    }
    await sleep(Math.min(options.intervalMs ?? 250, Math.max(0, deadline - Date.now())), options.signal);
  }
}

export interface ImageInfo {
  present: boolean;
  labels: Record<string, string>;
}

export async function imageInfo(name: string): Promise<ImageInfo> {
  try {
    const { stdout } = await run(['docker', 'image', 'inspect', '--format', '{{json .Config.Labels}}', name]);
    return { present: true, labels: (JSON.parse(stdout) as Record<string, string> | null) ?? {} };
  } catch (error) {
    const explained = explainDockerError(error);
    if (explained !== error) throw explained;
    return { present: false, labels: {} };
  }
}

export function homeVolumeName(project: Project): string {
  // Compose names a volume <project>_<key>, under v1 and v2 alike.
  return `${project.name}_${HOME_VOLUME}`;
}
