/**
 * `cctl backup [file]`: the home volume (logins, history, usage JSONL) as a
 * .tar.gz. By default it goes to the project's private folder
 * (~/.config/cctl/projects/<name>/backups/, mode 0700), outside the project
 * tree: the archive holds login tokens, so it must not land where git or
 * claude-cli can see it.
 */
import { join, resolve } from 'node:path';
import { mkdirSync, chmodSync } from 'node:fs';
import type { OptionsFor } from './declarations/verbs.js';
import { relativeToProject } from '../project/assets.js';
import { machineImageName } from '../project/machine-file.js';
import { CLI_SERVICE, locateProject } from '../project/locate.js';
import { backupsDir, ensurePrivateDir } from '../project/private-dir.js';
import { homeVolumeName } from '../ops/stack.js';
import { backupVolume, defaultBackupName } from '../ops/backup/backup.js';

function defaultBackupFile(projectName: string): string {
  ensurePrivateDir(projectName);
  const dir = backupsDir(projectName);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  return join(dir, defaultBackupName(projectName));
}

export default async function backup(args: string[], options: OptionsFor<'backup'>): Promise<number> {
  const project = locateProject(options);
  const file = args[0] ? resolve(args[0]) : defaultBackupFile(project.name);
  const result = await backupVolume({
    volume: homeVolumeName(project),
    image: machineImageName(project, CLI_SERVICE),
    file,
    owner: project.name,
  });
  if (options.json) {
    process.stdout.write(`${JSON.stringify({ ok: true, ...result })}\n`);
    return 0;
  }
  const kib = Math.max(1, Math.round(result.bytes / 1024));
  process.stdout.write(
    `Saved ${result.volume} (${result.entries} entries, ${kib} KiB) to ${relativeToProject(process.cwd(), result.file)}\n`,
  );
  if (result.changedWhileReading) {
    process.stderr.write(
      'Note: some files changed while they were read (the stack is running); the archive is complete but may be a moment out of step.\n',
    );
  }
  process.stderr.write('It holds login tokens: keep it private (it is mode 0600).\n');
  return 0;
}
