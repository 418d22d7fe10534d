/**
 * `cctl restore`: the archive is verified on the host first (verify.ts, with
 * the content policy in policy.ts), then extracted by tar in a helper that
 * holds only the capabilities extraction needs, and swapped in by renames.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { CctlError, InterruptedError } from '../../kernel/errors.js';
import { copyFiles } from '../../engine/helper-containers.js';
import { createVolume, removeVolume, volumeExists, volumeUsers } from '../../engine/volumes.js';
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

/**
 * Runs in the helper, as root, with the target volume at $DATA (/data) and
 * the archive at $ARCHIVE, which verifyArchive() found to hold $ENTRIES
 * entries whose names hold $NEWLINES newlines in all (GNU tar lists such a
 * name on one line, escaped; busybox tar prints it raw, one line more each).
 * Exit 3: the volume holds data and FORCE is not 1; exit 4: this
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
if [ "$listed" -eq 0 ] || [ "$listed" -lt "$ENTRIES" ] || [ "$listed" -gt $((ENTRIES + \${NEWLINES:-0})) ]; then
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
  /** The command the hints name: 'cctl' (the home volume) or 'cctl gateway' (the ledger). */
  verb?: string;
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
  const verb = options.verb ?? 'cctl';
  if (!existsSync(file)) throw new CctlError(`${file} does not exist.`);
  // Before anything else touches the engine: a bad archive changes nothing.
  const summary = await verifyArchive(file);

  const users = await volumeUsers(options.volume);
  if (users.length) {
    throw new CctlError(`The volume ${options.volume} is in use by ${users.join(', ')}.`, {
      hint: `Stop the services first with "${verb} down" (it keeps the volume), then restore, then "${verb} up".`,
    });
  }
  await requireImage(options.image);
  await clearStaleHelpers(options.owner);

  const created = !(await volumeExists(options.volume));
  if (created) await createVolume(options.volume, options.volumeLabels);
  const helper = await createHelper({
    owner: options.owner,
    image: options.image,
    mounts: [`${options.volume}:/data`],
    env: {
      FORCE: options.force ? '1' : '0',
      ARCHIVE: ARCHIVE_IN_CONTAINER,
      DATA: '/data',
      ENTRIES: String(summary.entries),
      NEWLINES: String(summary.nameNewlines),
    },
    script: RESTORE_SCRIPT,
    caps: HELPER_CAPS.write,
  });
  let ok = false;
  try {
    await copyFiles(file, `${helper}:${ARCHIVE_IN_CONTAINER}`, 'Copying the archive into the helper container');
    const result = await startHelper(helper);
    if (result.exitCode === 3) {
      throw new CctlError(`The volume ${options.volume} already holds data; restore will not replace it without --force.`, {
        hint: `Keep a copy first ("${verb} backup"), then: ${verb} restore --force ${options.file}`,
      });
    }
    if (result.interrupted || result.exitCode === 130) throw new InterruptedError();
    if (result.exitCode !== 0) {
      throw new CctlError(`Restoring into ${options.volume} failed (exit ${result.exitCode}); the old data is in place.`, {
        hint: tail(result.stderr, 3, '\n') || undefined,
      });
    }
    ok = true;
    return { file, volume: options.volume, created, ...summary };
  } finally {
    await removeHelper(helper);
    // A volume made only for this restore goes again when the restore fails.
    if (created && !ok) await removeVolume(options.volume).catch(() => undefined);
  }
}
