/**
 * `cctl backup`: the home volume as a .tar.gz, made by tar in a helper
 * container and brought out with `docker cp`. `docker cp` runs through the
 * client, so it works the same against a remote engine (DOCKER_HOST, docker
 * contexts), where a bind mount would name a folder on the remote machine, and
 * the file belongs to the user who ran cctl. The archive holds login tokens:
 * it is created owner-only (umask 077 in the helper and for `docker cp`), so
 * it is never readable by others, not even before a chmod.
 */
import { existsSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { CctlError, InterruptedError } from '../../kernel/errors.js';
import { copyFiles } from '../../engine/helper-containers.js';
import { volumeExists } from '../../engine/volumes.js';
import { tail } from '../../kernel/text.js';
import { verifyArchive, type ArchiveSummary } from './verify.js';
import {
  ARCHIVE_IN_CONTAINER,
  HELPER_CAPS,
  STAGING_PREFIX,
  clearStaleHelpers,
  createHelper,
  removeHelper,
  requireImage,
  startHelper,
} from './helpers.js';

/** YYYYMMDD-HHMMSS in local time: archive names sort by age. */
export function backupStamp(now = new Date()): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${now.getFullYear()}${pad(now.getMonth() + 1)}${pad(now.getDate())}-${pad(now.getHours())}${pad(now.getMinutes())}${pad(now.getSeconds())}`;
}

export function defaultBackupName(project: string, now = new Date()): string {
  return `cctl-${project}-home-${backupStamp(now)}.tar.gz`;
}

export interface BackupOptions {
  volume: string;
  image: string;
  /** Where the archive goes; it must not exist yet. */
  file: string;
  /** Names the helper containers (the compose project name). */
  owner: string;
  /** The command the hints name: 'cctl' (the home volume) or 'cctl gateway' (the ledger). */
  verb?: string;
}

export interface BackupResult extends ArchiveSummary {
  file: string;
  volume: string;
  bytes: number;
  /** Files that changed while tar read them (the stack was running). */
  changedWhileReading: boolean;
}

export async function backupVolume(options: BackupOptions): Promise<BackupResult> {
  const file = resolve(options.file);
  const verb = options.verb ?? 'cctl';
  if (existsSync(file)) throw new CctlError(`${file} already exists.`, { hint: `Name another file: ${verb} backup FILE.tar.gz` });
  if (!existsSync(dirname(file))) throw new CctlError(`The folder ${dirname(file)} does not exist.`);
  if (!(await volumeExists(options.volume))) {
    throw new CctlError(`There is no volume ${options.volume} to back up.`, { hint: `"${verb} up" creates it.` });
  }
  await requireImage(options.image);
  await clearStaleHelpers(options.owner);

  // Numeric and named owners and modes are kept (tar's defaults as root);
  // leftovers of an interrupted restore are not part of the home.
  // Both spellings of the pattern: GNU tar and busybox tar match names differently.
  const script = `umask 077 && tar -czf ${ARCHIVE_IN_CONTAINER} -C /data --exclude '${STAGING_PREFIX}.*' --exclude './${STAGING_PREFIX}.*' .`;
  const helper = await createHelper({
    owner: options.owner,
    image: options.image,
    mounts: [`${options.volume}:/data:ro`],
    script,
    caps: HELPER_CAPS.read,
  });
  // Written beside the target and renamed at the end: no half-written backups.
  const partial = join(dirname(file), `.${basename(file)}.partial`);
  try {
    const result = await startHelper(helper);
    if (result.interrupted) throw new InterruptedError();
    // GNU tar exits 1 when a file grew while it was read (Claude appending to
    // its JSONL); the archive is still whole, and is verified below.
    const changedWhileReading = result.exitCode === 1 && /file changed as we read it/.test(result.stderr);
    if (result.exitCode !== 0 && !changedWhileReading) {
      throw new CctlError(`tar failed in the helper container (exit ${result.exitCode}): ${tail(result.stderr)}`);
    }
    // docker cp creates the file with the archive's mode in the helper (0600)
    // less its own umask, which it inherits from here: never wider than 0600.
    const umask = process.umask(0o077);
    try {
      await copyFiles(`${helper}:${ARCHIVE_IN_CONTAINER}`, partial, 'Copying the archive out of the helper container');
    } finally {
      process.umask(umask);
    }
    const summary = await verifyArchive(partial);
    renameSync(partial, file);
    return { file, volume: options.volume, bytes: statSync(file).size, ...summary, changedWhileReading };
  } finally {
    rmSync(partial, { force: true });
    await removeHelper(helper);
  }
}
