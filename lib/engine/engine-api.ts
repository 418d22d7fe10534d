/**
 * The engine API calls `up` makes on its hot path, typed: a project's containers, inspect, start, the
 * daemon's version. Each answers undefined when there is no local socket to ask (engine-http.ts), and the
 * caller runs the docker CLI instead; the answers have the CLI's shapes (`docker inspect` prints what
 * GET /containers/{id}/json returns), so both ways feed the same code. An engine error becomes the
 * ProcessError the CLI would have caused ("Error response from daemon: ..."), so docker.ts explains it alike.
 */
import { engineRequest, ProcessError } from './runner.js';
import type { EngineReply } from './engine-http.js';

const PROJECT_LABEL = 'com.docker.compose.project';

/** What GET /containers/json lists of each container (the fields cctl reads). */
export interface ListedContainer {
  Id: string;
  Labels: Record<string, string> | null;
  State: string;
}

function failed(cli: readonly string[], reply: EngineReply): ProcessError {
  let message = reply.body.trim();
  try {
    message = (JSON.parse(reply.body) as { message?: string }).message ?? message;
  } catch {
    // Not JSON: the body as it came.
  }
  return new ProcessError(cli, { exitCode: 1, stdout: '', stderr: `Error response from daemon: ${message}` });
}

/**
 * The containers of a Compose project (`docker ps -a --filter label=...`), newest first as the engine
 * lists them; `running` lists only the running ones.
 */
export async function listProject(project: string, options: { running?: boolean } = {}): Promise<ListedContainer[] | undefined> {
  const filters: Record<string, string[]> = { label: [`${PROJECT_LABEL}=${project}`] };
  if (options.running) filters.status = ['running'];
  const path = `/containers/json?all=1&filters=${encodeURIComponent(JSON.stringify(filters))}`;
  const reply = await engineRequest({ method: 'GET', path });
  if (!reply) return undefined;
  if (reply.status !== 200) throw failed(['docker', 'ps', '-a', '--filter', `label=${PROJECT_LABEL}=${project}`], reply);
  return JSON.parse(reply.body) as ListedContainer[];
}

/**
 * `docker inspect` of containers (by id or name) and images (by name), as one array in that order; one the
 * engine does not know (404) is left out. Undefined when there is no socket to ask.
 */
export async function inspectObjects(containers: readonly string[], images: readonly string[] = []): Promise<unknown[] | undefined> {
  const ask = async (kind: 'containers' | 'images', ref: string) => {
    const reply = await engineRequest({ method: 'GET', path: `/${kind}/${encodeURI(ref)}/json` });
    if (!reply) return undefined;
    if (reply.status === 404) return null;
    if (reply.status !== 200) throw failed(['docker', 'inspect', ref], reply);
    return JSON.parse(reply.body) as unknown;
  };
  const found = await Promise.all([...containers.map((c) => ask('containers', c)), ...images.map((i) => ask('images', i))]);
  if (found.some((f) => f === undefined)) return undefined;
  return found.filter((f) => f !== null);
}

/** `docker start` of one container; true when the engine did it (or it already ran), false: use the CLI. */
export async function startContainer(id: string): Promise<boolean> {
  const reply = await engineRequest({ method: 'POST', path: `/containers/${encodeURI(id)}/start` });
  if (!reply) return false;
  // 204: started; 304: it was running already (the CLI says nothing either).
  if (reply.status !== 204 && reply.status !== 304) throw failed(['docker', 'start', id], reply);
  return true;
}

/** The daemon's version and API version (`docker version`'s server part), or undefined: use the CLI. */
export async function engineVersion(): Promise<{ serverVersion: string; apiVersion: string } | undefined> {
  const reply = await engineRequest({ method: 'GET', path: '/version' });
  if (!reply) return undefined;
  if (reply.status !== 200) throw failed(['docker', 'version'], reply);
  const v = JSON.parse(reply.body) as { Version?: string; ApiVersion?: string };
  return { serverVersion: v.Version ?? '', apiVersion: v.ApiVersion ?? '' };
}
