/**
 * The throw-away helper containers that backup and restore run tar in, and
 * the volume facts they need. The helper image is the project's own
 * claude-cli image: it is already on the engine, has tar and gzip (GNU on
 * Debian, busybox on Alpine), and knows the `claude` user, so tar maps owners
 * by name. No registry is needed. A helper runs as root (tar must read every
 * file and restore owners) but with no network and every capability dropped
 * except the few its job needs.
 */
import { randomBytes } from 'node:crypto';
import { CctlError } from '../../kernel/errors.js';
import { dockerFailure } from '../../engine/docker.js';
import { containersLabelled, createHelperContainer, removeContainers, runAttached, waitAndRemove } from '../../engine/helper-containers.js';
import { inspectImage as imageInfo } from '../../engine/images.js';

/** Label on every helper container, with the project name, so stale ones can be found. */
export const HELPER_LABEL = 'dev.cctl.helper';
/** Names used inside the volume while a restore swaps data in; never part of a backup. */
export const STAGING_PREFIX = '.cctl-restore';
/** Where the archive sits inside a helper. */
export const ARCHIVE_IN_CONTAINER = '/tmp/cctl-home.tar.gz';

/**
 * The capabilities each job needs as root, and no more. Reading files of
 * another owner needs DAC_READ_SEARCH; writing into the claude user's folders,
 * restoring owners, modes and times needs DAC_OVERRIDE, CHOWN and FOWNER.
 * Nothing can make a device node (no MKNOD) or keep a setuid bit (no FSETID).
 */
export const HELPER_CAPS = {
  read: ['DAC_READ_SEARCH'],
  write: ['CHOWN', 'DAC_OVERRIDE', 'FOWNER'],
} as const;

/** Fails with the fix when the helper image is not on the engine (nothing is pulled). */
export async function requireImage(image: string): Promise<void> {
  if (!(await imageInfo(image)).present) {
    throw new CctlError(`The image ${image} is missing; backup and restore run tar in it.`, {
      hint: 'Build it first with "cctl build" (no registry is needed).',
    });
  }
}

/**
 * Removes helper containers an earlier, killed cctl left behind, and refuses
 * to run beside one that is still working on the same project.
 */
export async function clearStaleHelpers(owner: string): Promise<void> {
  const label = [HELPER_LABEL, owner] as const;
  try {
    if ((await containersLabelled(label, false)).length > 0) {
      throw new CctlError(`Another cctl backup or restore is running for ${owner}.`, { hint: 'Wait for it to finish, then try again.' });
    }
    await removeContainers(await containersLabelled(label, true));
  } catch (error) {
    if (error instanceof CctlError) throw error;
    throw dockerFailure(error, 'Listing helper containers');
  }
}

export interface HelperSpec {
  owner: string;
  image: string;
  mounts: string[];
  env?: Record<string, string>;
  script: string;
  /** The capabilities added back after --cap-drop ALL. */
  caps: readonly string[];
}

/** Creates (does not start) a root helper container with no network and only `caps`. */
export async function createHelper(spec: HelperSpec): Promise<string> {
  const name = `cctl-helper-${spec.owner}-${randomBytes(4).toString('hex')}`.slice(0, 63);
  await createHelperContainer({
    name,
    label: [HELPER_LABEL, spec.owner],
    image: spec.image,
    mounts: spec.mounts,
    env: spec.env,
    script: spec.script,
    caps: spec.caps,
  });
  return name;
}

/**
 * Runs the created helper to its end. The terminal's Ctrl-C reaches the docker
 * client too, which passes it to the container, whose script decides what an
 * interruption may cut short; cctl itself stays alive to clean up.
 */
export async function startHelper(name: string): Promise<{ exitCode: number; stderr: string; stdout: string; interrupted: boolean }> {
  let interrupted = false;
  const onSignal = () => {
    interrupted = true;
  };
  process.on('SIGINT', onSignal);
  try {
    return { ...(await runAttached(name)), interrupted };
  } finally {
    process.off('SIGINT', onSignal);
  }
}

/** A restore in its swap step ignores signals and must finish: wait for it, then remove. */
export const removeHelper = (name: string): Promise<void> => waitAndRemove(name);
