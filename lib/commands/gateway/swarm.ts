/**
 * `cctl gateway deploy --swarm [--replicas N] [--front haproxy|mesh]`, and
 * `status`, `logs` and `down` on a folder that was deployed as a Swarm stack
 * (it has stack.yaml): the options parsed and the outcome printed; what is
 * done is ops/gateway-swarm.ts.
 */
import { UsageError } from '../../kernel/errors.js';
import { deployedAsStack, deployGateway, removeStack, stackLogs, stackStatus } from '../../ops/gateway-swarm.js';
import { gatewayProject } from '../../ops/team-gateway.js';
import { FRONTS, type Front } from '../../project/gateway-stack.js';
import { requireGatewayFolder } from '../../project/team-gateway.js';
import { formatTable } from '../../ui/table.js';
import { type Options, out, str } from './options.js';

type StackServices = Awaited<ReturnType<typeof stackStatus>>;

const table = (services: StackServices) =>
  formatTable([
    ['SERVICE', 'REPLICAS', 'IMAGE', 'PORTS', 'UPDATE'],
    ...services.map((s) => [s.name, s.replicas, s.image, s.ports, s.update ?? '']),
  ]);
const allRunning = (services: StackServices) => services.length > 0 && services.every((s) => /^(\d+)\/\1\b/.test(s.replicas));

export async function deploy(dir: string, options: Options): Promise<number> {
  requireGatewayFolder(dir);
  if (options.swarm !== true)
    throw new UsageError(
      'cctl gateway deploy needs --swarm (it runs the folder as a Docker Swarm stack).',
      'On one engine without Swarm, "cctl gateway up" runs it with Compose.',
    );
  const replicas = Number(str(options, 'replicas') ?? 3);
  if (!Number.isInteger(replicas) || replicas < 1 || replicas > 100)
    throw new UsageError(`--replicas must be a whole number from 1 to 100, not "${str(options, 'replicas')}".`);
  const front = (str(options, 'front') ?? 'haproxy') as Front;
  if (!FRONTS.includes(front)) {
    throw new UsageError(
      `--front must be ${FRONTS.join(' or ')}, not "${front}".`,
      "haproxy (the default) works on every kernel; mesh is Swarm's routing mesh, which needs the kernel's IPVS.",
    );
  }
  const timeout = Number(str(options, 'timeout') ?? 300);
  if (!Number.isFinite(timeout) || timeout <= 0)
    throw new UsageError(`--timeout must be a number of seconds, not "${str(options, 'timeout')}".`);
  const project = gatewayProject(dir);
  const services = await deployGateway(project, { replicas, front, build: options.build === true, timeoutMs: timeout * 1000 });
  out(
    options.json
      ? `${JSON.stringify({ ok: true, stack: project.name, front, services }, null, 2)}\n`
      : `${table(services)}Deployed the stack ${project.name}. Deploying again rolls the gateways one at a time.\n`,
  );
  return 0;
}

/** deploy, and status, logs and down when the folder was deployed as a stack. */
export function onStack(action: string, dir: string): boolean {
  return action === 'deploy' || (['status', 'logs', 'down'].includes(action) && deployedAsStack(requireGatewayFolder(dir) && dir));
}

export async function stackAction(action: string, dir: string, options: Options): Promise<number> {
  if (action === 'deploy') return deploy(dir, options);
  const project = gatewayProject(dir);
  if (action === 'status') {
    const services = await stackStatus(project);
    out(options.json ? `${JSON.stringify({ dir, stack: project.name, services }, null, 2)}\n` : table(services));
    return allRunning(services) ? 0 : 1;
  }
  if (action === 'logs') {
    const tail = str(options, 'tail');
    if (tail !== undefined && !/^\d+$/.test(tail)) throw new UsageError(`--tail needs a number of lines, not "${tail}".`);
    return stackLogs(project, { follow: options.follow === true, tail: tail === undefined ? undefined : Number(tail) });
  }
  if (options.volumes === true) {
    throw new UsageError(
      "down --volumes cannot delete volumes that the stack's tasks still use.",
      'Run "cctl gateway down" (removes the stack), then "cctl gateway down --volumes".',
    );
  }
  await removeStack(project);
  out(
    options.json
      ? `${JSON.stringify({ ok: true, removed: project.name })}\n`
      : `Removed the stack ${project.name}. Its volumes stay; "cctl gateway deploy --swarm" starts it again.\n`,
  );
  return 0;
}
