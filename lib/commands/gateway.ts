/**
 * `cctl gateway init|up|status|logs|down|backup|restore|member …`: the team gateway on a
 * server. The folder is --dir, else this one when it is a gateway folder, else
 * ./team-gateway. Task lists, JSON and exit codes as the workspace verbs.
 */
import { failureJson, InterruptedError, UsageError } from '../kernel/errors.js';
import { gatewayDir, localGatewayAccess, readGatewayMarker, requireGatewayFolder } from '../project/team-gateway.js';
import { gatewayLogs, gatewayProject, gatewayStatus, gatewayUpTasks, type GatewayContext } from '../ops/team-gateway.js';
import { presentation, taskList } from '../ui/tasks.js';
import { servicesTable } from '../ui/table.js';
import { bindText, init } from './gateway/init.js';
import { backup, down, migrate, restore } from './gateway/ledger.js';
import { member } from './gateway/members.js';
import { type Options, out, str } from './gateway/options.js';
import { onStack, stackAction } from './gateway/swarm.js';

const ACTIONS = ['init', 'up', 'deploy', 'status', 'logs', 'down', 'backup', 'restore', 'member', 'migrate'] as const;

async function up(dir: string, options: Options): Promise<number> {
  requireGatewayFolder(dir);
  const timeout = Number(str(options, 'timeout') ?? 120);
  if (!Number.isFinite(timeout) || timeout <= 0)
    throw new UsageError(`--timeout must be a number of seconds, not "${str(options, 'timeout')}".`);
  const json = options.json === true;
  const abort = new AbortController();
  const onSigint = () => abort.abort();
  process.on('SIGINT', onSigint);
  const ctx: GatewayContext = { project: gatewayProject(dir), built: false };
  try {
    const mode = presentation(json);
    await taskList(
      gatewayUpTasks({ build: options.build === true, live: mode === 'live', timeoutMs: timeout * 1000, signal: abort.signal }),
      mode,
    ).run(ctx);
  } catch (error) {
    const failure = abort.signal.aborted ? new InterruptedError() : error;
    if (json) out(failureJson(failure));
    throw failure;
  } finally {
    process.off('SIGINT', onSigint);
  }
  if (json) out(`${JSON.stringify({ ok: true, dir, built: ctx.built, services: ctx.services }, null, 2)}\n`);
  else out(servicesTable(ctx.services ?? []));
  return 0;
}

export default async function gateway(args: string[], options: Options): Promise<number> {
  const [action, ...rest] = args;
  if (!action || !(ACTIONS as readonly string[]).includes(action)) {
    throw new UsageError(
      `cctl gateway needs one of ${ACTIONS.join(', ')}${action ? `, not "${action}"` : ''}.`,
      'Start with: cctl gateway init --key-file FILE',
    );
  }
  const dir = gatewayDir(str(options, 'dir'));
  if (onStack(action, dir)) return stackAction(action, dir, options);
  switch (action) {
    case 'init':
      return init(dir, options);
    case 'up':
      return up(dir, options);
    case 'status': {
      requireGatewayFolder(dir);
      const services = await gatewayStatus(gatewayProject(dir));
      const marker = readGatewayMarker(dir);
      const listen = marker?.listen ?? '0.0.0.0';
      if (options.json)
        out(
          `${JSON.stringify({ dir, listen, port: marker?.port, tls: marker?.tls === true, url: localGatewayAccess(dir)?.url, services }, null, 2)}\n`,
        );
      else out(`${servicesTable(services)}Listens on ${bindText(listen, marker?.port ?? 3000, marker?.tls === true)}\n`);
      return 0;
    }
    case 'logs': {
      requireGatewayFolder(dir);
      const tail = str(options, 'tail');
      if (tail !== undefined && !/^\d+$/.test(tail)) throw new UsageError(`--tail needs a number of lines, not "${tail}".`);
      return gatewayLogs(gatewayProject(dir), { follow: options.follow === true, tail: tail === undefined ? undefined : Number(tail) });
    }
    case 'down':
      return down(dir, options);
    case 'backup':
      return backup(dir, rest[0], options);
    case 'restore':
      return restore(dir, rest[0], options);
    case 'migrate':
      return migrate(dir, options);
    default:
      return member(dir, rest, options);
  }
}
