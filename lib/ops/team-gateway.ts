/**
 * The team gateway's use cases: bring it up (the same steps and task list as
 * `cctl up`: engine, files, image, start, health), its state, its logs, stop
 * it, and run the member commands inside it. Its ledger's volumes (down,
 * backup, restore) are in gateway-ledger.ts; the team's usage from its admin
 * API in team-usage.ts.
 */
import type { ListrTask } from 'listr2';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { ComposeCommand } from '../engine/compose.js';
import type { DaemonInfo } from '../engine/daemon.js';
import { explainDockerError } from '../engine/docker.js';
import { inspectImage } from '../engine/images.js';
import { ProcessError } from '../engine/runner.js';
import { CctlError, InterruptedError } from '../kernel/errors.js';
import { assetsHash, CA_FILE_NAME, postgresAssets, syncAssets, wantedAssets } from '../project/assets.js';
import { findProject, type Project } from '../project/locate.js';
import {
  GATEWAY_SERVICE,
  gatewayImage,
  gatewayKeyMissing,
  KEY_FILE,
  readGatewayMarker,
  setGatewayBuildHash,
  upgradeGatewayFolder,
} from '../project/team-gateway.js';
import { POSTGRES_SERVICE } from '../project/gateway-postgres.js';
import { BUILD_HASH_LABEL, buildImages } from './build.js';
import { deployedAsStack } from '../project/gateway-stack.js';
import { execInService } from '../engine/swarm.js';
import * as composeClient from '../engine/compose-client.js';
import { projectInvocation } from './compose.js';
import { engineCheckTask, inspectServices, progressLine, waitHealthy, type ServiceState } from './stack.js';

/** The folder's services: the gateway, and the ledger's Postgres when `--ledger postgres` added it. */
export function gatewayServices(dir: string): string[] {
  return readGatewayMarker(dir)?.postgres ? [GATEWAY_SERVICE, POSTGRES_SERVICE] : [GATEWAY_SERVICE];
}

/** The image the folder's compose.yaml names (its own, with the project's name), as `up` builds and checks it. */
export function gatewayImageOf(project: Project): string {
  return readGatewayMarker(project.dir)?.image ?? gatewayImage(project.name);
}

/** The images cctl builds for the folder, by service: the gateway's, and the Postgres one unless the team named its own. */
function builtImages(project: Project): [string, string][] {
  const postgres = readGatewayMarker(project.dir)?.postgres;
  return [[GATEWAY_SERVICE, gatewayImageOf(project)], ...(postgres?.build ? [[POSTGRES_SERVICE, postgres.image] as [string, string]] : [])];
}

export function gatewayProject(dir: string): Project {
  return findProject({ file: join(dir, 'compose.yaml') }, dir);
}

/**
 * The image's build context: the proxy image's files only (the gateway
 * package and its Dockerfile), with certs/ always present (the Dockerfile
 * copies it). A CA given to init is kept for later runs of up.
 */
export function gatewayAssets(
  dir: string,
  caPem?: Buffer,
  withPostgres = readGatewayMarker(dir)?.postgres?.build === true,
): Map<string, Buffer> {
  const kept = join(dir, '.cctl', 'proxy', 'certs', CA_FILE_NAME);
  const ca = caPem ?? (existsSync(kept) ? readFileSync(kept) : undefined);
  const wanted = wantedAssets(ca);
  const assets = new Map([...wanted].filter(([rel]) => rel.startsWith('proxy/')));
  const readme = wanted.get(join('docker', 'certs', 'README'));
  if (readme) assets.set(join('proxy', 'certs', 'README'), readme);
  for (const [rel, data] of postgresDriverFiles()) assets.set(join('proxy', 'gateway', 'node_modules', 'postgres', rel), data);
  if (withPostgres) for (const [rel, data] of postgresAssets(ca)) assets.set(rel, data);
  return assets;
}

/**
 * The Postgres driver (`postgres`, no dependencies of its own), taken from
 * cctl's own install: its package.json and ES module sources. Only the team
 * gateway's image carries it (as gateway/node_modules/postgres, where Node
 * finds it from gateway/team/postgres.js); the local gateway's has none.
 */
export function postgresDriverFiles(): Map<string, Buffer> {
  // The package's main entry (cjs/src/index.js) locates its folder, wherever npm put it.
  const root = dirname(dirname(dirname(createRequire(import.meta.url).resolve('postgres'))));
  const files = new Map<string, Buffer>([['package.json', readFileSync(join(root, 'package.json'))]]);
  for (const f of readdirSync(join(root, 'src'))) if (f.endsWith('.js')) files.set(join('src', f), readFileSync(join(root, 'src', f)));
  return files;
}

export interface GatewayContext {
  project: Project;
  daemon?: DaemonInfo;
  engine?: ComposeCommand;
  built: boolean;
  services?: ServiceState[];
}

export interface GatewayUpOptions {
  build: boolean;
  live: boolean;
  timeoutMs: number;
  signal: AbortSignal;
}

export function gatewayUpTasks(options: GatewayUpOptions): ListrTask<GatewayContext>[] {
  return [
    // The same refusal as cctl up: Compose v1 on engine 25+ would end in a KeyError traceback.
    engineCheckTask<GatewayContext>(),
    {
      title: 'Check the gateway files',
      task: async (ctx, task) => {
        if (gatewayKeyMissing(ctx.project.dir)) {
          throw new CctlError(`The team's Anthropic key is missing: ${join(ctx.project.dir, KEY_FILE)} is empty.`, {
            hint: `Write the key into that file (it never goes on a command line), or run "cctl gateway init --key-file FILE".`,
          });
        }
        const assets = gatewayAssets(ctx.project.dir);
        const changes = syncAssets(ctx.project.dir, assets);
        setGatewayBuildHash(ctx.project.dir, assetsHash(assets));
        const upgraded = upgradeGatewayFolder(ctx.project.dir, gatewayImage(ctx.project.name));
        task.title = upgraded.length
          ? `Updated compose.yaml to this cctl's rules: ${upgraded.join(', ')}`
          : changes.length
            ? `Updated the build files (${changes.length})`
            : 'Gateway files are current';
      },
    },
    {
      title: 'Build the gateway image',
      task: async (ctx, task) => {
        const hash = assetsHash(gatewayAssets(ctx.project.dir));
        const due: [string, string, string][] = [];
        for (const [service, name] of builtImages(ctx.project)) {
          const image = await inspectImage(name);
          const reason = options.build
            ? 'forced'
            : !image.present
              ? 'missing'
              : image.labels[BUILD_HASH_LABEL] !== hash
                ? 'stale'
                : undefined;
          if (reason) due.push([service, name, reason]);
        }
        if (!due.length) {
          task.title = 'Gateway image is current';
          return;
        }
        task.title = `Building ${due.map(([, name, reason]) => `${name} (${reason})`).join(', ')}`;
        await buildImages(
          ctx.project,
          due.map(([service]) => service),
          { onLine: options.live ? (line) => (task.output = line) : undefined },
        );
        ctx.built = true;
        task.title = `Built ${due.map(([, name]) => name).join(', ')}`;
      },
    },
    {
      title: 'Start the gateway',
      task: async (ctx) => {
        try {
          await composeClient.up(
            await projectInvocation(ctx.project),
            { services: gatewayServices(ctx.project.dir) },
            { signal: options.signal },
          );
        } catch (error) {
          if (options.signal.aborted) throw new InterruptedError();
          throw startFailure(error);
        }
      },
    },
    {
      title: 'Wait until the gateway is healthy',
      task: async (ctx, task) => {
        const services = gatewayServices(ctx.project.dir);
        ctx.services = await waitHealthy(ctx.project, services, {
          timeoutMs: options.timeoutMs,
          signal: options.signal,
          onProgress: (states) => {
            if (options.live) task.output = progressLine(states);
          },
        });
        task.title = `Healthy: ${services.join(', ')}`;
      },
    },
  ];
}

function startFailure(error: unknown): unknown {
  const explained = explainDockerError(error);
  if (explained !== error || !(error instanceof ProcessError)) return explained;
  const text = (error.stderr + error.stdout).trim();
  const port = /(?:Bind for [^:]*:(\d+) failed|listen tcp[^:]*:(\d+): bind)/.exec(text);
  return new CctlError(
    port
      ? `Port ${port[1] ?? port[2]} on this machine is already in use.`
      : `Starting the gateway failed: ${text.split('\n').slice(-3).join(' ')}`,
    { hint: port ? 'Choose another with "cctl gateway init --port N".' : 'See "cctl gateway logs".', cause: error },
  );
}

export function gatewayStatus(project: Project): Promise<ServiceState[]> {
  return inspectServices(project, gatewayServices(project.dir));
}

export async function gatewayLogs(project: Project, options: { follow?: boolean; tail?: number }): Promise<number> {
  return composeClient.logs(await projectInvocation(project), { ...options, services: gatewayServices(project.dir) });
}

/** Runs the member CLI (gateway/team/cli.js) in the running gateway; resolves with its stdout. */
export async function memberCommand(project: Project, args: readonly string[]): Promise<string> {
  try {
    if (deployedAsStack(project.dir)) {
      // On a stack: in one replica's task on this node (the member CLI writes the shared Postgres ledger).
      const ran = await execInService(`${project.name}_${GATEWAY_SERVICE}`, ['node', '/app/gateway/team/cli.js', ...args]);
      if (!ran)
        throw new CctlError('No gateway replica of the stack runs on this node.', {
          hint: `Run the command on a node where "docker ps --filter label=com.docker.swarm.service.name=${project.name}_${GATEWAY_SERVICE}" lists one, or see "cctl gateway status".`,
        });
      return ran.stdout;
    }
    const { stdout } = await composeClient.execCapture(await projectInvocation(project), {
      service: GATEWAY_SERVICE,
      command: ['node', '/app/gateway/team/cli.js', ...args],
    });
    return stdout;
  } catch (error) {
    const explained = explainDockerError(error);
    if (explained !== error || !(error instanceof ProcessError)) throw explained;
    const message = error.stderr.trim().split('\n').pop() ?? '';
    if (/is not running|no container found|not running/i.test(error.stderr)) {
      throw new CctlError('The team gateway is not running.', { hint: 'Start it with "cctl gateway up".', cause: error });
    }
    throw new CctlError(message || `The member command failed (exit ${error.exitCode}).`, { cause: error });
  }
}
