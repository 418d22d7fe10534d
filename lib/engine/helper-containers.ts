/**
 * Throw-away containers that run one script against a volume (backup,
 * restore, settings import): created locked down, started attached, files
 * copied in and out with `docker cp` (which works against a remote engine,
 * where a bind mount would name the remote machine's folders), then removed.
 * The callers choose the image, mounts, script and capabilities.
 */
import { dockerFailure } from './docker.js';
import { run, runSettled } from './runner.js';

export interface HelperContainer {
  name: string;
  /** One label (key, value) to find it by later. */
  label: readonly [string, string];
  image: string;
  /** `-v` specs: volume:/path[:ro]. */
  mounts: readonly string[];
  env?: Readonly<Record<string, string>>;
  /** Run by `sh -c`. */
  script: string;
  /** The capabilities added back after --cap-drop ALL. */
  caps: readonly string[];
}

/** Creates (does not start) the container: root (to read every file and restore owners), no network, only `caps`. */
export async function createHelperContainer(spec: HelperContainer): Promise<void> {
  try {
    await run([
      'docker',
      'create',
      '--name',
      spec.name,
      '--label',
      `${spec.label[0]}=${spec.label[1]}`,
      '--user',
      '0:0',
      '--network',
      'none',
      '--entrypoint',
      'sh',
      '--cap-drop',
      'ALL',
      ...spec.caps.flatMap((c) => ['--cap-add', c]),
      '--security-opt',
      'no-new-privileges',
      ...spec.mounts.flatMap((m) => ['-v', m]),
      ...Object.entries(spec.env ?? {}).flatMap(([k, v]) => ['-e', `${k}=${v}`]),
      spec.image,
      '-c',
      spec.script,
    ]);
  } catch (error) {
    throw dockerFailure(error, 'Creating the helper container');
  }
}

/** Starts it and waits for its script; resolves with the script's status and output (a non-zero exit is not thrown). */
export async function runAttached(name: string): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  return runSettled(['docker', 'start', '--attach', name]);
}

/** `docker cp` from (container:path) or to a container; `what` names the step in the error. */
export async function copyFiles(from: string, to: string, what: string): Promise<void> {
  try {
    await run(['docker', 'cp', from, to]);
  } catch (error) {
    throw dockerFailure(error, what);
  }
}

/** Names of containers with the label, running only unless `all`. */
export async function containersLabelled(label: readonly [string, string], all: boolean): Promise<string[]> {
  const { stdout } = await run(['docker', 'ps', ...(all ? ['-a'] : []), '-q', '--filter', `label=${label[0]}=${label[1]}`]);
  return stdout.split('\n').filter(Boolean);
}

export async function removeContainers(ids: readonly string[]): Promise<void> {
  if (ids.length) await run(['docker', 'rm', '-f', ...ids]);
}

/**
 * Waits for the script to end, then removes the container; never throws (a
 * cleanup). The wait comes first because a script may be in a step it must
 * finish (a restore's swap), and `rm -f` would kill it.
 */
export async function waitAndRemove(name: string, timeoutMs = 60_000): Promise<void> {
  await run(['docker', 'wait', name], { timeoutMs }).catch(() => undefined);
  await run(['docker', 'rm', '-f', name]).catch(() => undefined);
}
