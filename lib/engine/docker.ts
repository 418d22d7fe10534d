/** The Docker daemon: is it there, and what does it speak. */
import { CctlError } from '../kernel/errors.js';
import { ProcessError, run } from './runner.js';

export interface DaemonInfo {
  serverVersion: string;
  apiVersion: string;
}

const DAEMON_DOWN = /Cannot connect to the Docker daemon|Is the docker daemon running|error during connect|connect: (no such file|connection refused)|dial unix/i;

export function daemonDownError(detail: string, cause?: unknown): CctlError {
  const host = process.env.DOCKER_HOST ? ` at ${process.env.DOCKER_HOST}` : '';
  return new CctlError(`The Docker daemon is not reachable${host}: ${detail.trim().split('\n')[0]}`, {
    hint:
      'Start Docker (Docker Desktop, "sudo systemctl start docker", or "dockerd"), or point DOCKER_HOST / ' +
      '"docker context use" at a running engine. Run "cctl doctor" for a full check.',
    cause,
  });
}

export function isDaemonDown(error: unknown): boolean {
  return error instanceof ProcessError && DAEMON_DOWN.test(error.stderr + error.message);
}

export async function daemonInfo(): Promise<DaemonInfo> {
  try {
    const { stdout } = await run(['docker', 'version', '--format', '{{.Server.Version}} {{.Server.APIVersion}}'], {
      timeoutMs: 15_000,
    });
    const [serverVersion = '', apiVersion = ''] = stdout.trim().split(' ');
    return { serverVersion, apiVersion };
  } catch (error) {
    if (error instanceof ProcessError) {
      if (error.exitCode === 127 || /ENOENT/.test(error.message)) {
        throw new CctlError('The docker command was not found on PATH.', {
          hint: 'Install Docker Engine or Docker Desktop: https://docs.docker.com/get-docker/',
          cause: error,
        });
      }
      throw daemonDownError(error.stderr || error.message, error);
    }
    throw error;
  }
}

/** Turns a daemon-down failure from any docker call into the one clear message. */
export function explainDockerError(error: unknown): unknown {
  if (isDaemonDown(error)) return daemonDownError((error as ProcessError).stderr, error);
  return error;
}
