/**
 * Backup and restore of a named volume (the claude home: logins, history,
 * usage JSONL) as a .tar.gz, through throw-away containers.
 *
 * Two choices shape this file:
 *
 * - The archive moves between host and container with `docker cp`, not a bind
 *   mount. `docker cp` runs through the client, so it works the same against a
 *   remote engine (DOCKER_HOST, docker contexts), where a bind mount would name
 *   a folder on the remote machine; and the file it writes belongs to the user
 *   who ran cctl, not to root.
 * - The helper image is the project's own claude-cli image: it is already on
 *   the engine, has tar and gzip (GNU on Debian, busybox on Alpine), and knows
 *   the `claude` user, so tar maps owners by name. No registry is needed.
 */
import { createReadStream, existsSync, renameSync, rmSync, statSync, chmodSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join, resolve } from 'node:path';
import { createGunzip } from 'node:zlib';
import { CctlError, InterruptedError } from '../../kernel/errors.js';
import { explainDockerError } from '../../engine/docker.js';
import { ProcessError, run } from '../../engine/runner.js';
import { imageInfo } from '../stack.js';

/** Label on every helper container, with the project name, so stale ones can be found. */
export const HELPER_LABEL = 'dev.cctl.helper';
/** Names used inside the volume while a restore swaps data in; never part of a backup. */
export const STAGING_PREFIX = '.cctl-restore';

const BLOCK = 512;

export interface ArchiveSummary {
  /** Files, folders and links in the archive (metadata records not counted). */
  entries: number;
  /** Bytes of the uncompressed tar stream. */
  tarBytes: number;
}

function octal(field: Buffer): number {
  // GNU tar stores sizes of 8 GiB and more in base-256, flagged by the high bit.
  if (field[0]! & 0x80) {
    let n = field[0]! & 0x7f;
    for (let i = 1; i < field.length; i++) n = n * 256 + field[i]!;
    return n;
  }
  const text = field.toString('latin1').replace(/\0.*$/s, '').trim();
  return text === '' ? 0 : parseInt(text, 8);
}

function headerChecksumOk(h: Buffer): boolean {
  // The checksum is the byte sum of the header with its own field read as spaces.
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i]!;
  return sum === octal(h.subarray(148, 156));
}

/**
 * Reads the whole archive, so a restore can refuse it before anything is
 * touched: gzip's CRC and length catch truncation and bit rot, and walking the
 * tar headers (each with its checksum) catches a damaged or foreign tar.
 */
export function verifyArchive(file: string): Promise<ArchiveSummary> {
  const bad = (why: string) =>
    new CctlError(`${file} is not a usable backup: ${why}.`, {
      hint: 'Nothing was changed. Use another backup file (made with "cctl backup").',
    });
  return new Promise((resolvePromise, reject) => {
    let pending: Buffer = Buffer.alloc(0);
    let skip = 0; // data bytes (padded to blocks) still to pass over
    let entries = 0;
    let tarBytes = 0;
    let ended = false; // saw the zero block that ends a tar
    let failed = false;
    const fail = (e: Error) => {
      if (failed) return;
      failed = true;
      input.destroy();
      gunzip.destroy();
      reject(e);
    };
    const input = createReadStream(file);
    const gunzip = createGunzip();
    input.on('error', (e) => fail(new CctlError(`Cannot read ${file}: ${e.message}`)));
    gunzip.on('error', (e) => {
      if (/unexpected end/i.test(e.message)) fail(bad('it is truncated (the gzip stream ends early)'));
      else if (/incorrect header check/i.test(e.message)) fail(bad('it is not gzip-compressed'));
      else fail(bad(`it is damaged (gzip says "${e.message}")`));
    });
    gunzip.on('data', (chunk: Buffer) => {
      tarBytes += chunk.length;
      pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      let at = 0;
      while (!ended) {
        if (skip > 0) {
          const n = Math.min(skip, pending.length - at);
          skip -= n;
          at += n;
          if (skip > 0) break;
        }
        if (pending.length - at < BLOCK) break;
        const header = pending.subarray(at, at + BLOCK);
        at += BLOCK;
        if (header.every((b) => b === 0)) {
          ended = true;
          break;
        }
        if (!headerChecksumOk(header)) return fail(bad(`damaged tar header after ${entries} entries`));
        const size = octal(header.subarray(124, 136));
        const type = String.fromCharCode(header[156]!);
        // pax (x, g) and GNU long-name (L, K) records describe the next entry.
        if (!'xgLK'.includes(type)) entries++;
        skip = Math.ceil(size / BLOCK) * BLOCK;
      }
      pending = pending.subarray(at);
    });
    gunzip.on('end', () => {
      if (failed) return;
      if (!ended) return fail(bad(entries === 0 ? 'it holds no tar archive' : 'the tar archive ends early'));
      resolvePromise({ entries, tarBytes });
    });
    input.pipe(gunzip);
  });
}

function dockerFailure(error: unknown, what: string): unknown {
  const explained = explainDockerError(error);
  if (explained !== error || !(error instanceof ProcessError)) return explained;
  return new CctlError(`${what} failed: ${error.stderr.trim().split('\n').slice(-3).join(' ') || `exit code ${error.exitCode}`}`, {
    hint: 'Run again with --debug to see each docker command.',
    cause: error,
  });
}

export async function volumeExists(volume: string): Promise<boolean> {
  try {
    await run(['docker', 'volume', 'inspect', volume]);
    return true;
  } catch (error) {
    if (error instanceof ProcessError && /no such volume/i.test(error.stderr)) return false;
    throw dockerFailure(error, `Inspecting the volume ${volume}`);
  }
}

/** Running containers that have the volume mounted. */
export async function volumeUsers(volume: string): Promise<string[]> {
  try {
    const { stdout } = await run(['docker', 'ps', '--filter', `volume=${volume}`, '--format', '{{.Names}}']);
    return stdout.split('\n').filter(Boolean);
  } catch (error) {
    throw dockerFailure(error, 'Listing containers');
  }
}

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
async function clearStaleHelpers(owner: string): Promise<void> {
  const list = async (all: boolean) =>
    (await run(['docker', 'ps', ...(all ? ['-a'] : []), '-q', '--filter', `label=${HELPER_LABEL}=${owner}`])).stdout.split('\n').filter(Boolean);
  try {
    if ((await list(false)).length > 0) {
      throw new CctlError(`Another cctl backup or restore is running for ${owner}.`, { hint: 'Wait for it to finish, then try again.' });
    }
    const stale = await list(true);
    if (stale.length) await run(['docker', 'rm', '-f', ...stale]);
  } catch (error) {
    if (error instanceof CctlError) throw error;
    throw dockerFailure(error, 'Listing helper containers');
  }
}

interface HelperSpec {
  owner: string;
  image: string;
  mounts: string[];
  env?: Record<string, string>;
  script: string;
}

/** Creates (does not start) a root helper container with no network. */
async function createHelper(spec: HelperSpec): Promise<string> {
  const name = `cctl-helper-${spec.owner}-${randomBytes(4).toString('hex')}`.slice(0, 63);
  const env = Object.entries(spec.env ?? {}).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
  try {
    await run([
      'docker', 'create', '--name', name, '--label', `${HELPER_LABEL}=${spec.owner}`,
      // Root, so tar can read every file and restore owners; no network, it needs none.
      '--user', '0:0', '--network', 'none', '--entrypoint', 'sh',
      ...spec.mounts.flatMap((m) => ['-v', m]), ...env,
      spec.image, '-c', spec.script,
    ]);
  } catch (error) {
    throw dockerFailure(error, 'Creating the helper container');
  }
  return name;
}

/**
 * Runs the created helper to its end. The terminal's Ctrl-C reaches the docker
 * client too, which passes it to the container, whose script decides what an
 * interruption may cut short; cctl itself stays alive to clean up.
 */
async function startHelper(name: string): Promise<{ exitCode: number; stderr: string; stdout: string; interrupted: boolean }> {
  let interrupted = false;
  const onSignal = () => {
    interrupted = true;
  };
  process.on('SIGINT', onSignal);
  try {
    const result = await run(['docker', 'start', '--attach', name]);
    return { ...result, interrupted };
  } catch (error) {
    if (error instanceof ProcessError) return { exitCode: error.exitCode, stderr: error.stderr, stdout: error.stdout, interrupted };
    throw error;
  } finally {
    process.off('SIGINT', onSignal);
  }
}

async function removeHelper(name: string): Promise<void> {
  // Wait first: a restore in its swap step ignores signals and must finish,
  // and `rm -f` would kill it. The wait is bounded by the swap (renames only).
  await run(['docker', 'wait', name], { timeoutMs: 60_000 }).catch(() => undefined);
  await run(['docker', 'rm', '-f', name]).catch(() => undefined);
}

export function defaultBackupName(project: string, now = new Date()): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  const stamp =
    `${now.getFullYear()}${pad(now.getMonth() + 1)}${pad(now.getDate())}-` +
    `${pad(now.getHours())}${pad(now.getMinutes())}${pad(now.getSeconds())}`;
  return `cctl-${project}-home-${stamp}.tar.gz`;
}

export interface BackupOptions {
  volume: string;
  image: string;
  /** Where the archive goes; it must not exist yet. */
  file: string;
  /** Names the helper containers (the compose project name). */
  owner: string;
}

export interface BackupResult extends ArchiveSummary {
  file: string;
  volume: string;
  bytes: number;
  /** Files that changed while tar read them (the stack was running). */
  changedWhileReading: boolean;
}

const ARCHIVE_IN_CONTAINER = '/tmp/cctl-home.tar.gz';

export async function backupVolume(options: BackupOptions): Promise<BackupResult> {
  const file = resolve(options.file);
  if (existsSync(file)) throw new CctlError(`${file} already exists.`, { hint: 'Name another file: cctl backup FILE.tar.gz' });
  if (!existsSync(dirname(file))) throw new CctlError(`The folder ${dirname(file)} does not exist.`);
  if (!(await volumeExists(options.volume))) {
    throw new CctlError(`There is no volume ${options.volume} to back up.`, { hint: '"cctl up" creates it.' });
  }
  await requireImage(options.image);
  await clearStaleHelpers(options.owner);

  // Numeric and named owners and modes are kept (tar's defaults as root);
  // leftovers of an interrupted restore are not part of the home.
  // Both spellings of the pattern: GNU tar and busybox tar match names differently.
  const script = `tar -czf ${ARCHIVE_IN_CONTAINER} -C /data --exclude '${STAGING_PREFIX}.*' --exclude './${STAGING_PREFIX}.*' .`;
  const helper = await createHelper({ owner: options.owner, image: options.image, mounts: [`${options.volume}:/data:ro`], script });
  // Written beside the target and renamed at the end: no half-written backups.
  const partial = join(dirname(file), `.${basename(file)}.partial`);
  try {
    const result = await startHelper(helper);
    if (result.interrupted) throw new InterruptedError();
    // GNU tar exits 1 when a file grew while it was read (Claude appending to
    // its JSONL); the archive is still whole, and is verified below.
    const changedWhileReading = result.exitCode === 1 && /file changed as we read it/.test(result.stderr);
    if (result.exitCode !== 0 && !changedWhileReading) {
      throw new CctlError(`tar failed in the helper container (exit ${result.exitCode}): ${result.stderr.trim().split('\n').slice(-3).join(' ')}`);
    }
    try {
      await run(['docker', 'cp', `${helper}:${ARCHIVE_IN_CONTAINER}`, partial]);
    } catch (error) {
      throw dockerFailure(error, 'Copying the archive out of the helper container');
    }
    // The home holds login tokens: the backup is for its owner's eyes only.
    chmodSync(partial, 0o600);
    const summary = await verifyArchive(partial);
    renameSync(partial, file);
    return { file, volume: options.volume, bytes: statSync(file).size, ...summary, changedWhileReading };
  } finally {
    rmSync(partial, { force: true });
    await removeHelper(helper);
  }
}

/**
 * Runs in the helper, as root, with the target volume at $DATA (/data) and
 * the archive at $ARCHIVE, which verifyArchive() found to hold $ENTRIES
 * entries. Exit 3: the volume holds data and FORCE is not 1; exit 4: this
 * tar lists another count, or cannot extract; 130: interrupted before the
 * swap. The count is checked again here because tar quietly accepts some
 * garbage (GNU tar lists a short junk stream as an empty archive).
 *
 * Why this shape: Docker cannot rename a volume, so "extract elsewhere, then
 * swap volumes" would end in a full copy that an interruption can cut in half.
 * Instead the archive is extracted into a staging folder inside the target
 * volume (old data untouched), and the swap is renames only: move every old
 * entry into .old, write the .committed marker, move every new entry up,
 * delete .old. Renames within one filesystem are instant, and signals are
 * ignored for those few milliseconds. If the container dies anyway, the next
 * restore first repairs the volume from the marker: no marker means undo (put
 * .old back), a marker means every old entry was already aside, so finish.
 */
export const RESTORE_SCRIPT = `set -eu
cd "$DATA"
s=${STAGING_PREFIX}
move_all() {
  for e in "$1"/* "$1"/.[!.]* "$1"/..?*; do
    if [ -e "$e" ] || [ -L "$e" ]; then mv "$e" "$2"/; fi
  done
}
if [ -e "$s.committed" ]; then
  move_all "$s.new" .
elif [ -d "$s.old" ]; then
  move_all "$s.old" .
fi
rm -rf "$s.new" "$s.old" "$s.committed"
listed=$(tar -tzf "$ARCHIVE" | wc -l)
if [ "$listed" -eq 0 ] || [ "$listed" -ne "$ENTRIES" ]; then
  echo "tar lists $listed entries, expected $ENTRIES" >&2
  exit 4
fi
if [ "$FORCE" != 1 ] && [ -n "$(ls -A)" ]; then
  exit 3
fi
trap 'rm -rf "$s.new"; exit 130' INT TERM HUP
mkdir "$s.new"
if ! tar -xzpf "$ARCHIVE" -C "$s.new"; then
  rm -rf "$s.new"
  exit 4
fi
trap '' INT TERM HUP
mkdir "$s.old"
for e in * .[!.]* ..?*; do
  case "$e" in "$s".*) continue ;; esac
  if [ -e "$e" ] || [ -L "$e" ]; then mv "$e" "$s.old"/; fi
done
: >"$s.committed"
move_all "$s.new" .
chown "$(stat -c %u:%g "$s.new")" .
chmod "$(stat -c %a "$s.new")" .
rm -rf "$s.old" "$s.new"
rm -f "$s.committed"
sync
`;

export interface RestoreOptions {
  volume: string;
  image: string;
  file: string;
  owner: string;
  force: boolean;
  /** Labels for a volume that has to be created (so Compose adopts it as its own). */
  volumeLabels?: Record<string, string>;
}

export interface RestoreResult extends ArchiveSummary {
  file: string;
  volume: string;
  /** The volume did not exist and was created. */
  created: boolean;
}

export async function restoreVolume(options: RestoreOptions): Promise<RestoreResult> {
  const file = resolve(options.file);
  if (!existsSync(file)) throw new CctlError(`${file} does not exist.`);
  // Before anything else touches the engine: a bad archive changes nothing.
  const summary = await verifyArchive(file);

  const users = await volumeUsers(options.volume);
  if (users.length) {
    throw new CctlError(`The volume ${options.volume} is in use by ${users.join(', ')}.`, {
      hint: 'Stop the services first with "cctl down" (it keeps the volume), then restore, then "cctl up".',
    });
  }
  await requireImage(options.image);
  await clearStaleHelpers(options.owner);

  const created = !(await volumeExists(options.volume));
  if (created) {
    const labels = Object.entries(options.volumeLabels ?? {}).flatMap(([k, v]) => ['--label', `${k}=${v}`]);
    try {
      await run(['docker', 'volume', 'create', ...labels, options.volume]);
    } catch (error) {
      throw dockerFailure(error, `Creating the volume ${options.volume}`);
    }
  }
  const helper = await createHelper({
    owner: options.owner,
    image: options.image,
    mounts: [`${options.volume}:/data`],
    env: { FORCE: options.force ? '1' : '0', ARCHIVE: ARCHIVE_IN_CONTAINER, DATA: '/data', ENTRIES: String(summary.entries) },
    script: RESTORE_SCRIPT,
  });
  let ok = false;
  try {
    try {
      await run(['docker', 'cp', file, `${helper}:${ARCHIVE_IN_CONTAINER}`]);
    } catch (error) {
      throw dockerFailure(error, 'Copying the archive into the helper container');
    }
    const result = await startHelper(helper);
    if (result.exitCode === 3) {
      throw new CctlError(`The volume ${options.volume} already holds data; restore will not replace it without --force.`, {
        hint: `Keep a copy first ("cctl backup"), then: cctl restore --force ${options.file}`,
      });
    }
    if (result.interrupted || result.exitCode === 130) throw new InterruptedError();
    if (result.exitCode !== 0) {
      throw new CctlError(`Restoring into ${options.volume} failed (exit ${result.exitCode}); the old data is in place.`, {
        hint: result.stderr.trim().split('\n').slice(-3).join('\n') || undefined,
      });
    }
    ok = true;
    return { file, volume: options.volume, created, ...summary };
  } finally {
    await removeHelper(helper);
    // A volume made only for this restore goes again when the restore fails.
    if (created && !ok) await run(['docker', 'volume', 'rm', options.volume]).catch(() => undefined);
  }
}
