/**
 * `cctl gateway deploy --swarm [--replicas N] [--front haproxy|mesh]`: the
 * gateway folder's project as a Swarm stack (project/gateway-stack.ts), and
 * status, logs and down on that stack. The images are built here first (the
 * same steps as `gateway up`, then the HAProxy front's); a Compose-run
 * gateway of the same folder is stopped first, since the stack takes its
 * port. The stack keeps the folder's project name, so its volumes are the
 * ones Compose used (<project>_postgres, <project>_ledger).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CctlError } from '../kernel/errors.js';
import { removeInside, writeInside } from '../kernel/fs.js';
import type { Project } from '../project/locate.js';
import { CA_FILE_NAME, frontAssets } from '../project/assets.js';
import { checkStackable, deployedAsStack, type Front, frontImage, STACK_FILE, stackText } from '../project/gateway-stack.js';
import { GATEWAY_SERVICE } from '../project/team-gateway.js';
import {
  buildImage,
  kernelHasIpvs,
  serviceLogs,
  stackDeploy,
  stackRemove,
  stackServices,
  swarmState,
  type StackService,
} from '../engine/swarm.js';
import { presentation, taskList } from '../ui/tasks.js';
import { gatewayDown } from './gateway-ledger.js';
import { gatewayUpTasks } from './team-gateway.js';

export { deployedAsStack };

/** Refuses unless this engine manages a swarm, and says how to make one. Returns this node's hostname. */
export async function requireManager(): Promise<string> {
  const swarm = await swarmState();
  if (swarm.state !== 'active' || !swarm.manager) {
    throw new CctlError(
      swarm.state === 'active'
        ? 'This engine is a swarm worker, not a manager: stacks are deployed from a manager.'
        : `This engine is not part of a swarm (Swarm: ${swarm.state}).`,
      {
        hint:
          swarm.state === 'active'
            ? 'Run the command on a manager ("docker node ls" there lists them), or promote this node from one: docker node promote NODE.'
            : 'Make it a single-node swarm: docker swarm init --advertise-addr ADDRESS (this machine\'s address), or join one: docker swarm join --token TOKEN MANAGER:2377. "docker swarm leave --force" undoes it.',
      },
    );
  }
  return swarm.hostname;
}

/** The routing mesh only where the kernel has IPVS; the refusal names the front that works without. */
async function requireMesh(image: string): Promise<void> {
  if (await kernelHasIpvs(image)) return;
  throw new CctlError(
    "This engine's kernel has no IPVS (no /sys/module/ip_vs), and Swarm's routing mesh balances with IPVS: published ports would not answer.",
    {
      hint: 'Deploy with the HAProxy front instead (the default, "--front haproxy"): it finds the replicas by DNS and needs no IPVS. Or load it: modprobe ip_vs, on a kernel built with CONFIG_IP_VS.',
    },
  );
}

/** The Debian base the folder's images build on (compose.yaml's BASE_IMAGE build argument). */
function baseImage(project: Project): string {
  return /^\s+BASE_IMAGE: (\S+)$/m.exec(readFileSync(join(project.dir, 'compose.yaml'), 'utf8'))?.[1] ?? 'node:22-bookworm-slim';
}

/** Lays out .cctl/front (Debian's HAProxy on the gateway's base) and builds it, with the gateway's extra CA. */
async function buildFront(project: Project, signal: AbortSignal): Promise<string> {
  const ca = join(project.dir, '.cctl', 'proxy', 'certs', CA_FILE_NAME);
  for (const [rel, data] of frontAssets(existsSync(ca) ? readFileSync(ca) : undefined))
    writeInside(project.dir, join(project.dir, '.cctl', rel), data);
  const image = frontImage(project.name);
  await buildImage(join(project.dir, '.cctl', 'front'), image, { BASE_IMAGE: baseImage(project) }, { signal });
  return image;
}

export interface DeployOptions {
  replicas: number;
  front: Front;
  build: boolean;
  timeoutMs: number;
}

/** Builds, writes stack.yaml and deploys it; deploying again is a rolling update of the gateways. */
export async function deployGateway(project: Project, options: DeployOptions): Promise<StackService[]> {
  const hostname = await requireManager();
  // What a stack cannot keep is refused before anything is built or stopped.
  checkStackable(project.dir, options.replicas);
  if (options.front === 'mesh') await requireMesh(baseImage(project));
  const abort = new AbortController();
  // The checks and images first, as up builds them.
  await taskList(
    gatewayUpTasks({ build: options.build, live: false, timeoutMs: 0, signal: abort.signal }).slice(0, 3),
    presentation(true),
  ).run({ project, built: false });
  const image = options.front === 'haproxy' ? await buildFront(project, abort.signal) : undefined;
  // A Compose-run gateway of this folder gives up its port (its volumes stay, the stack uses them).
  if (!deployedAsStack(project.dir)) await gatewayDown(project);
  const text = stackText(project.dir, project.name, {
    replicas: options.replicas,
    nodeHostname: hostname,
    front: options.front,
    deployId: new Date().toISOString(),
    ...(image ? { frontImage: image } : {}),
  });
  writeInside(project.dir, join(project.dir, STACK_FILE), text);
  await stackDeploy(STACK_FILE, project.name, { cwd: project.dir, signal: abort.signal });
  return waitStack(project, options.timeoutMs, abort.signal);
}

/** Waits until every service of the stack runs all its replicas, and no update is still rolling. */
export async function waitStack(project: Project, timeoutMs: number, signal?: AbortSignal): Promise<StackService[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const services = await stackServices(project.name);
    const failed = services.find((s) => s.update === 'rollback_completed' || s.update === 'paused');
    if (failed) {
      throw new CctlError(`The update of ${failed.name} failed (${failed.update}): the tasks run the previous version.`, {
        hint: `See "cctl gateway logs" and "docker service ps ${failed.name} --no-trunc" for why the new tasks did not become healthy.`,
      });
    }
    const done =
      services.length > 0 && services.every((s) => /^(\d+)\/\1\b/.test(s.replicas) && (s.update === undefined || s.update === 'completed'));
    if (done) return services;
    if (Date.now() > deadline) {
      throw new CctlError(
        `The stack did not reach its replicas within ${Math.round(timeoutMs / 1000)} s: ${services.map((s) => `${s.name} ${s.replicas}${s.update ? ` (${s.update})` : ''}`).join(', ')}.`,
        {
          hint: `See "cctl gateway logs" and "docker service ps ${project.name}_${GATEWAY_SERVICE} --no-trunc".`,
        },
      );
    }
    if (signal?.aborted) throw new CctlError('Interrupted while waiting for the stack.');
    await new Promise((r) => setTimeout(r, 2000));
  }
}

export const stackStatus = (project: Project): Promise<StackService[]> => stackServices(project.name);
export const stackLogs = (project: Project, options: { follow?: boolean; tail?: number }): Promise<number> =>
  serviceLogs(`${project.name}_${GATEWAY_SERVICE}`, options);

/** `down` on a stack: removes it and stack.yaml; the volumes stay. */
export async function removeStack(project: Project): Promise<void> {
  await stackRemove(project.name);
  removeInside(project.dir, join(project.dir, STACK_FILE));
}
