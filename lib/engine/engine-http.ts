/**
 * The engine's own API over its local unix socket, for the read-mostly calls on `up`'s hot path (list,
 * inspect, start). A `docker` CLI run costs a process start and its config load, 0.1–0.3 s each on a
 * loaded machine; a request on the socket costs a few milliseconds. Reached only through the runner's seam
 * (runner.ts `engineRequest`), so `--debug` shows each request and tests can answer them.
 *
 * Only where the CLI would talk to the same socket: DOCKER_HOST unset (the default socket) or unix://,
 * and no docker context chosen (DOCKER_CONTEXT, or `currentContext` in the CLI's config.json). A remote
 * engine (tcp://, ssh://, a context) keeps the CLI, which knows its TLS and SSH settings. So does a socket
 * that cannot be reached: the CLI's own failure then says why, as before.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { homeDir } from '../kernel/home.js';

export interface EngineRequest {
  method: 'GET' | 'POST';
  /** The API path with its query, unversioned: the engine answers in its own API version. */
  path: string;
}

export interface EngineReply {
  status: number;
  body: string;
}

const DEFAULT_SOCKET = '/var/run/docker.sock';

/** The unix socket the docker CLI would use with this environment, or undefined when it would go elsewhere. */
export function localSocket(env: NodeJS.ProcessEnv = process.env, readConfig = readCliConfig): string | undefined {
  if (env.DOCKER_CONTEXT && env.DOCKER_CONTEXT !== 'default') return undefined;
  const host = env.DOCKER_HOST ?? '';
  if (host !== '') return host.startsWith('unix://') && host.length > 'unix://'.length ? host.slice('unix://'.length) : undefined;
  // DOCKER_HOST wins over a context; without it, a context named in the CLI's config decides.
  if (!env.DOCKER_CONTEXT) {
    const context = readConfig(env)?.currentContext;
    if (context && context !== 'default') return undefined;
  }
  return DEFAULT_SOCKET;
}

function readCliConfig(env: NodeJS.ProcessEnv): { currentContext?: string } | undefined {
  const dir = env.DOCKER_CONFIG ?? join(env.HOME || homeDir(), '.docker');
  try {
    return JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as { currentContext?: string };
  } catch {
    // None, or unreadable: the CLI then uses the default context too (an unreadable one makes it fail).
    return undefined;
  }
}

/** Failures before anything reached the engine: the socket is missing, refused or not ours to open. */
const NOT_CONNECTED = new Set(['ENOENT', 'ECONNREFUSED', 'EACCES', 'EPERM', 'ENOTSOCK']);

let unreachable = false;

/** The socket requests go to now: none once it proved unreachable in this process. */
export function engineSocket(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return unreachable ? undefined : localSocket(env);
}

/**
 * One request on the local socket: its status and body; undefined when there is no local socket or it
 * cannot be connected (the caller uses the CLI then, and so does every later call of this process).
 * A failure after the request went out rejects.
 */
export function httpEngine(req: EngineRequest, env: NodeJS.ProcessEnv = process.env): Promise<EngineReply | undefined> {
  const socketPath = engineSocket(env);
  if (!socketPath) return Promise.resolve(undefined);
  return new Promise((resolve, reject) => {
    // No keep-alive agent: one connection per request, closed after it, so nothing holds the process open.
    // node:http only now: this module is loaded on the pass-through verbs' hot path (the runner imports it),
    // which makes no request, and loading the HTTP client there is start-up time over the raw compose exec.
    const { request } = process.getBuiltinModule('node:http');
    const r = request({ socketPath, method: req.method, path: req.path, agent: false, headers: { host: 'docker' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    r.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code && NOT_CONNECTED.has(error.code) && !r.reusedSocket) {
        unreachable = true;
        resolve(undefined);
      } else reject(error);
    });
    r.end();
  });
}

/** Forget that the socket was unreachable (tests). */
export function resetEngineHttp(): void {
  unreachable = false;
}
