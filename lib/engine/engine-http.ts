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
 *
 * HTTP/1.0 by hand on a plain socket, not node:http: its client costs ~50 ms of CPU to set up on the
 * first request, more than the rest of the call. With a 1.0 request the engine (Go's server) sends the
 * body whole and closes the connection, so reading to the end is the whole parse.
 */
export function httpEngine(req: EngineRequest, env: NodeJS.ProcessEnv = process.env): Promise<EngineReply | undefined> {
  const socketPath = engineSocket(env);
  if (!socketPath) return Promise.resolve(undefined);
  return new Promise((resolve, reject) => {
    let connected = false;
    const chunks: Buffer[] = [];
    // node:net only now: the runner imports this module on the pass-through verbs' hot path, which makes no request.
    const { createConnection } = process.getBuiltinModule('node:net');
    const socket = createConnection(socketPath, () => {
      connected = true;
      // write, not end: the engine reads a half-closed connection as a caller gone, and cancels (a start says
      // "context canceled"). It closes the connection itself after a 1.0 reply.
      socket.write(`${req.method} ${req.path} HTTP/1.0\r\nHost: docker\r\nContent-Length: 0\r\n\r\n`);
    });
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('end', () => {
      try {
        resolve(parseReply(Buffer.concat(chunks)));
      } catch (error) {
        reject(error);
      }
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (!connected && error.code && NOT_CONNECTED.has(error.code)) {
        unreachable = true;
        resolve(undefined);
      } else reject(error);
    });
  });
}

/** Status and body of an HTTP/1.x reply read to its end (a chunked body, which a 1.0 request should not get, is joined). */
export function parseReply(raw: Buffer): EngineReply {
  const split = raw.indexOf('\r\n\r\n');
  const head = raw.subarray(0, Math.max(split, 0)).toString('latin1');
  const status = /^HTTP\/1\.[01] (\d{3})/.exec(head);
  if (split < 0 || !status) throw new Error(`The engine's reply is not HTTP: ${raw.subarray(0, 80).toString('latin1')}`);
  let body = raw.subarray(split + 4);
  if (/^transfer-encoding:\s*chunked\s*$/im.test(head)) {
    const parts: Buffer[] = [];
    for (let at = 0; ;) {
      const eol = body.indexOf('\r\n', at);
      const size = eol < 0 ? 0 : parseInt(body.subarray(at, eol).toString('latin1'), 16);
      if (!(size > 0)) break;
      parts.push(body.subarray(eol + 2, eol + 2 + size));
      at = eol + 2 + size + 2;
    }
    body = Buffer.concat(parts);
  }
  return { status: Number(status[1]), body: body.toString('utf8') };
}

/** Forget that the socket was unreachable (tests). */
export function resetEngineHttp(): void {
  unreachable = false;
}
