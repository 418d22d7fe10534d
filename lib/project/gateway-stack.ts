/**
 * The gateway folder's compose.yaml as a Swarm stack (`cctl gateway deploy
 * --swarm`): the same services, images, environment and health checks, with
 * what Swarm needs instead of what only Compose reads.
 *
 * - The gateway runs as N replicas. In front of them, on the folder's port:
 *   - `haproxy` (the default): one HAProxy task per node (global), published
 *     in host mode, that finds the replicas through Docker's DNS
 *     (endpoint_mode dnsrr: "gateway" answers with every task's address).
 *     Nothing needs the kernel's IPVS, which Swarm's VIPs and routing mesh do.
 *   - `mesh`: Swarm's routing mesh (ingress mode), on kernels with IPVS.
 * - Updates start the new task first and stop the old one after, one at a
 *   time, and roll back when the new one fails its health check; the stop
 *   grace lets a task finish the requests it admitted (the gateway drains on
 *   SIGTERM). Each deploy labels the tasks anew, so deploying again rolls
 *   every replica onto the image just built.
 * - Secrets are Swarm secrets made from the same files. A Swarm secret cannot
 *   change, so each is named after a hash of its content: a changed key or
 *   token is a new secret, and the update moves the tasks to it.
 * - Postgres, when the folder has its own, runs once, pinned to this node,
 *   where its volume is (the same <project>_postgres volume Compose used),
 *   reached by DNS (dnsrr) too.
 * - build, restart, depends_on, security_opt and container_name are Compose
 *   only: they are dropped (the images are built before, on this node).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { CctlError } from '../kernel/errors.js';
import { POSTGRES_SERVICE } from './gateway-postgres.js';
import { GATEWAY_SERVICE, readGatewayMarker } from './team-gateway.js';

const COMPOSE_ONLY = ['build', 'restart', 'depends_on', 'security_opt', 'container_name'];
export const FRONT_SERVICE = 'front';
export const FRONTS = ['haproxy', 'mesh'] as const;
export type Front = (typeof FRONTS)[number];

export interface StackOptions {
  replicas: number;
  /** The node Postgres is pinned to (this one: `docker info`'s node hostname). */
  nodeHostname: string;
  front: Front;
  /** The HAProxy front's image (front haproxy). */
  frontImage?: string;
  /** Marks this deploy on the gateway's tasks, so that deploying again rolls them. */
  deployId: string;
}

type Doc = Record<string, any>;

export const STACK_FILE = 'stack.yaml';

/** True when the folder was deployed as a stack (deploy writes stack.yaml; down removes it). */
export function deployedAsStack(dir: string): boolean {
  return existsSync(join(dir, STACK_FILE));
}

/** The tag cctl builds the folder's HAProxy front under, beside the gateway's. */
export function frontImage(projectName: string): string {
  return `cctl-${projectName}-front:local`;
}

/** Refuses what a stack cannot keep: one address only, or several replicas each with its own SQLite file. */
export function checkStackable(dir: string, replicas: number): void {
  const marker = readGatewayMarker(dir);
  const listen = marker?.listen ?? '0.0.0.0';
  if (listen !== '0.0.0.0' && listen !== '::') {
    throw new CctlError(`This gateway is published on ${listen} only, and a Swarm stack publishes its port on every address of the node.`, {
      hint: marker?.tls
        ? 'Run "cctl gateway init --listen 0.0.0.0", then deploy again.'
        : 'Give it TLS first ("cctl gateway init --tls-cert FILE --tls-key FILE"), or widen it knowingly ("cctl gateway init --listen 0.0.0.0"), then deploy again.',
    });
  }
  const text = readFileSync(join(dir, 'compose.yaml'), 'utf8');
  if (replicas > 1 && !/CCTL_LEDGER_URL_FILE/.test(text)) {
    throw new CctlError(`${replicas} replicas cannot share this gateway's ledger: it is a SQLite file in one container's volume.`, {
      hint: 'Give it a Postgres ledger first: "cctl gateway init --ledger postgres" (its own service) or "--ledger postgres://…", then "cctl gateway migrate --from sqlite" to keep the old rows.',
    });
  }
}

/** The secret's Swarm name: the project, the key and a hash of the file's bytes. */
function secretName(project: string, key: string, file: string): string {
  return `${project}_${key}_${createHash('sha256').update(readFileSync(file)).digest('hex').slice(0, 12)}`;
}

function frontService(image: string, port: number, tls: boolean): Doc {
  return {
    image,
    ...(tls ? { environment: { CCTL_FRONT_TLS: '1' } } : {}),
    // Host mode: this node's port, no routing mesh; global: one front on every node, as the mesh would answer.
    ports: [{ target: 3000, published: port, protocol: 'tcp', mode: 'host' }],
    read_only: true,
    cap_drop: ['ALL'],
    stop_signal: 'SIGUSR1',
    stop_grace_period: '60s',
    deploy: {
      mode: 'global',
      // Two fronts cannot hold one host port: the old one stops first.
      update_config: { order: 'stop-first', failure_action: 'rollback' },
      restart_policy: { condition: 'any', delay: '2s' },
    },
  };
}

export function stackText(dir: string, project: string, options: StackOptions): string {
  const doc = parse(readFileSync(join(dir, 'compose.yaml'), 'utf8')) as Doc;
  const services = doc.services as Record<string, Doc>;
  for (const service of Object.values(services)) for (const key of COMPOSE_ONLY) delete service[key];
  const gateway = services[GATEWAY_SERVICE]!;
  const marker = readGatewayMarker(dir);
  const port = marker?.port ?? 3000;
  const mesh = options.front === 'mesh';
  if (mesh) gateway.ports = [{ target: 3000, published: port, protocol: 'tcp', mode: 'ingress' }];
  else delete gateway.ports;
  gateway.stop_grace_period = '30s';
  gateway.labels = { 'dev.cctl.deploy': options.deployId };
  gateway.deploy = {
    replicas: options.replicas,
    ...(mesh ? {} : { endpoint_mode: 'dnsrr' }),
    update_config: { parallelism: 1, order: 'start-first', failure_action: 'rollback', monitor: '10s' },
    rollback_config: { parallelism: 1, order: 'start-first' },
    restart_policy: { condition: 'any', delay: '2s' },
  };
  const postgres = services[POSTGRES_SERVICE];
  if (postgres) {
    postgres.deploy = {
      replicas: 1,
      // dnsrr: the gateways reach the one task by name, without a VIP (IPVS).
      endpoint_mode: 'dnsrr',
      placement: { constraints: [`node.hostname == ${options.nodeHostname}`] },
      // Never two servers on one data folder: the old task stops before a new one starts.
      update_config: { order: 'stop-first' },
      restart_policy: { condition: 'any', delay: '2s' },
    };
  }
  if (!mesh) services[FRONT_SERVICE] = frontService(options.frontImage ?? frontImage(project), port, marker?.tls === true);
  const secrets = doc.secrets as Record<string, { file: string; name?: string }>;
  for (const [key, secret] of Object.entries(secrets)) secret.name = secretName(project, key, join(dir, secret.file));
  return `# Written by "cctl gateway deploy --swarm" from compose.yaml; deployed with "docker stack deploy".\n${stringify({ version: '3.8', ...doc, 'x-cctl-gateway': undefined })}`;
}
