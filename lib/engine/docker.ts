/**
 * How the docker CLI fails, translated once: a daemon that is not there gets
 * one clear message wherever it shows up, and any other failed docker call
 * becomes a CctlError that names what was being done.
 */
import { CctlError } from '../kernel/errors.js';
import { firstLine, tail } from '../kernel/text.js';
import { ProcessError } from './runner.js';

const DAEMON_DOWN =
  /Cannot connect to the Docker daemon|Is the docker daemon running|error during connect|connect: (no such file|connection refused)|dial unix/i;

export function daemonDownError(detail: string, cause?: unknown): CctlError {
  const host = process.env.DOCKER_HOST ? ` at ${process.env.DOCKER_HOST}` : '';
  return new CctlError(`The Docker daemon is not reachable${host}: ${firstLine(detail)}`, {
    hint:
      'Start Docker (Docker Desktop, "sudo systemctl start docker", or "dockerd"), or point DOCKER_HOST / ' +
      '"docker context use" at a running engine. Run "cctl doctor" for a full check.',
    cause,
  });
}

export function isDaemonDown(error: unknown): boolean {
  return error instanceof ProcessError && DAEMON_DOWN.test(error.stderr + error.message);
}

/** Turns a daemon-down failure from any docker call into the one clear message. */
export function explainDockerError(error: unknown): unknown {
  if (isDaemonDown(error)) return daemonDownError((error as ProcessError).stderr, error);
  return error;
}

/** Any failed docker call, as a CctlError naming what was being done (the daemon message when that is the cause). */
export function dockerFailure(error: unknown, what: string): unknown {
  const explained = explainDockerError(error);
  if (explained !== error || !(error instanceof ProcessError)) return explained;
  return new CctlError(`${what} failed: ${tail(error.stderr) || `exit code ${error.exitCode}`}`, {
    hint: 'Run again with --debug to see each docker command.',
    cause: error,
  });
}
