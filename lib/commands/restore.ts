/**
 * `cctl restore <file> [--force]`: puts a backup back into the home volume.
 * The archive is verified first, a volume with data is only replaced with
 * --force, and a failed restore leaves the old data as it was
 * (lib/ops/backup/restore.ts explains how). A bare file name not in this
 * folder is looked for where `cctl backup` puts archives (the private folder).
 */
import type { OptionsFor } from './declarations/verbs.js';
import { relativeToProject } from '../project/assets.js';
import { HOME_VOLUME } from '../project/model.js';
import { machineImageName } from '../project/machine-file.js';
import { UsageError } from '../kernel/errors.js';
import { CLI_SERVICE, locateProject } from '../project/locate.js';
import { homeVolumeName } from '../ops/stack.js';
import { findBackup } from '../project/private-dir.js';
import { restoreVolume } from '../ops/backup/restore.js';

export default async function restore(args: string[], options: OptionsFor<'restore'>): Promise<number> {
  const file = args[0];
  if (!file) throw new UsageError('restore needs the backup file.', 'Example: cctl restore cctl-myproject-home-20250101-120000.tar.gz');
  const project = locateProject(options);
  const result = await restoreVolume({
    volume: homeVolumeName(project),
    image: machineImageName(project, CLI_SERVICE),
    file: findBackup(file, project.name),
    owner: project.name,
    force: options.force === true,
    // The labels Compose puts on volumes it creates, so `up` adopts this one
    // as the project's own instead of warning that it was made elsewhere.
    volumeLabels: { 'com.docker.compose.project': project.name, 'com.docker.compose.volume': HOME_VOLUME },
  });
  if (options.json) {
    process.stdout.write(`${JSON.stringify({ ok: true, ...result })}\n`);
    return 0;
  }
  process.stdout.write(
    `Restored ${result.entries} entries from ${relativeToProject(process.cwd(), result.file)} into ${result.volume}` +
      `${result.created ? ' (new volume)' : ''}.\nNext: cctl up\n`,
  );
  return 0;
}
