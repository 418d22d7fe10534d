/**
 * The running stack: which of cctl's services run, their state (from the
 * engine's containers client, the same on Compose v1 and v2), and the wait
 * until they are healthy.
 */
import type { ListrTask } from 'listr2';
import { CctlError, InterruptedError } from '../kernel/errors.js';
import { tail } from '../kernel/text.js';
import { lastLogLines, refreshStates, serviceStates, watchHealth, type ServiceState } from '../engine/containers.js';
import { checkedEngine, type ComposeCommand } from '../engine/compose.js';
import type { DaemonInfo } from '../engine/daemon.js';
import { CLI_SERVICE, type Project } from '../project/locate.js';
import type { Settings } from '../project/settings.js';
import { gatewayService, HOME_VOLUME } from '../project/model.js';

export type { ServiceState };

export function claudeServices(s: Pick<Settings, 'proxy' | 'proxy-service'>): string[] {
  return s.proxy === 'external' ? [CLI_SERVICE] : [CLI_SERVICE, gatewayService(s)];
}

export function inspectServices(project: Project, services: readonly string[]): Promise<ServiceState[]> {
  return serviceStates(project.name, services);
}

/** Services that stopped on their own or fail their health check; no container at all (after down) is not broken. */
export function brokenServices(states: readonly ServiceState[]): ServiceState[] {
  return states.filter((s) => ['exited', 'dead', 'restarting'].includes(s.state) || s.health === 'unhealthy');
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

/** Waits ms, or less when aborted or woken (`onWake` receives the function that ends the sleep). */
function sleep(ms: number, signal?: AbortSignal, onWake?: (wake: () => void) => void): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
    onWake?.(done);
  });
}

function unhealthyError(bad: ServiceState, why: string, log = ''): CctlError {
  const output = log
    ? `\nIts last log lines:\n  ${tail(log, 5, '\n  ')}`
    : bad.lastHealthOutput
      ? `\nLast health check output:\n  ${tail(bad.lastHealthOutput, 5, '\n  ')}`
      : '';
  return new CctlError(`Service ${bad.name} ${why}.${output}`, {
    hint: `See its logs with "cctl logs ${bad.name}", and run "cctl doctor".`,
  });
}

/** Polls until every service is running and healthy; fails early on exits and unhealthy checks. */
export async function waitHealthy(project: Project, services: readonly string[], options: WaitOptions): Promise<ServiceState[]> {
  const deadline = Date.now() + options.timeoutMs;
  // Health changes arrive as docker events and wake the loop at once: noticing
  // "healthy" costs no polling delay, and the polls can stay far apart.
  const events = new AbortController();
  let changed = false;
  let wake: (() => void) | undefined;
  watchHealth(project.name, () => ((changed = true), wake?.()), events.signal);
  try {
    return await pollHealthy(project, services, options, deadline, async (ms) => {
      if (!changed) await sleep(ms, options.signal, (done) => (wake = done));
      changed = false;
      wake = undefined;
    });
  } finally {
    events.abort();
  }
}

async function pollHealthy(
  project: Project,
  services: readonly string[],
  options: WaitOptions,
  deadline: number,
  pause: (ms: number) => Promise<void>,
): Promise<ServiceState[]> {
  let states: ServiceState[] | undefined;
  for (;;) {
    if (options.signal?.aborted) throw new InterruptedError();
    // After the first poll, the containers are known: inspect them by name, without a ps.
    states = (states && (await refreshStates(states))) || (await inspectServices(project, services));
    options.onProgress?.(states);
    if (states.every(isReady)) return states;
    const exited = states.find((s) => s.state === 'exited' || s.state === 'dead');
    // A service that exits at start (the gateway without a team key: exit 2) says why in its log, not in a health check.
    if (exited)
      throw unhealthyError(
        exited,
        `exited with code ${exited.exitCode ?? '?'}`,
        exited.container ? await lastLogLines(exited.container, 5).catch(() => '') : '',
      );
    const unhealthy = states.find((s) => s.health === 'unhealthy');
    if (unhealthy) throw unhealthyError(unhealthy, 'is unhealthy');
    if (Date.now() >= deadline) {
      const slow = states.find((s) => !isReady(s))!;
      throw unhealthyError(
        slow,
        `did not become healthy within ${Math.round(options.timeoutMs / 1000)} s (state ${slow.state}, health ${slow.health})`,
      );
    }
    // Between events, a poll every 250 ms covers an event missed while the watch started.
    await pause(Math.min(options.intervalMs ?? 250, Math.max(0, deadline - Date.now())));
  }
}

export function homeVolumeName(project: Project): string {
  // Compose names a volume <project>_<key>, under v1 and v2 alike.
  return `${project.name}_${HOME_VOLUME}`;
}

/** The first step of cctl up and cctl gateway up: the daemon and Compose, refused as a pair Compose v1 cannot drive (checkedEngine). */
export function engineCheckTask<Ctx extends { daemon?: DaemonInfo; engine?: ComposeCommand }>(): ListrTask<Ctx> {
  return {
    title: 'Check the Docker engine and Compose',
    task: async (ctx, task) => {
      const { daemon, engine } = await checkedEngine();
      Object.assign(ctx, { daemon, engine });
      task.title = `Docker ${daemon.serverVersion} (API ${daemon.apiVersion}), Compose ${engine.version} (${engine.flavour})`;
    },
  };
}

/** The health wait's progress line: "claude-cli: running/starting, proxy: running/healthy". */
export function progressLine(states: readonly ServiceState[]): string {
  return states.map((s) => `${s.name}: ${s.state}/${s.health}`).join(', ');
}
