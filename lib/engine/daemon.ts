/**
 * The Docker daemon: is it there, and what does it speak. Asked once per run
 * and remembered: `up` needs the answer for its title, for start_interval and
 * for the Compose v1 check, and each of those used to ask again.
 */
import { CctlError } from '../kernel/errors.js';
import { firstLine } from '../kernel/text.js';
import { daemonDownError } from './docker.js';
import { engineVersion } from './engine-api.js';
import { ProcessError, run } from './runner.js';
import { once } from '../kernel/once.js';

export interface DaemonInfo {
  serverVersion: string;
  apiVersion: string;
}

async function ask(): Promise<DaemonInfo> {
  try {
    // The engine's own answer on its socket when there is one (engine-api.ts); else the CLI's.
    const asked = await engineVersion();
    if (asked) return asked;
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

const info = once(ask);

/** The daemon's versions, asked at most once per process (a failure is not remembered). */
export const daemonInfo = (): Promise<DaemonInfo> => info.get();

/** Forget the answer (tests, and a long-lived process that restarted its engine). */
export const resetDaemonInfo = (): void => info.reset();

/** The engine's major version (26 for "26.1.5+dfsg1"), or undefined when it does not read as one. */
export function engineMajor(info: DaemonInfo): number | undefined {
  const m = /^(\d+)\./.exec(info.serverVersion);
  return m ? Number(m[1]) : undefined;
}

/** The API version as numbers ([1, 45]); [0, 0] when unreadable. */
export function apiVersion(info: DaemonInfo): number[] {
  const m = /^(\d+)\.(\d+)/.exec(info.apiVersion);
  return m ? [Number(m[1]), Number(m[2])] : [0, 0];
}

/** buildx's version line, or undefined when the plugin is missing (images then build with the classic builder). */
export async function buildxVersion(): Promise<string | undefined> {
  try {
    return firstLine((await run(['docker', 'buildx', 'version'])).stdout);
  } catch (error) {
    if (error instanceof ProcessError) return undefined;
    throw error;
  }
}

/** Where the engine keeps its data (for the free-space check). */
export async function dataRoot(): Promise<string> {
  return (await run(['docker', 'info', '--format', '{{.DockerRootDir}}'])).stdout.trim();
}
