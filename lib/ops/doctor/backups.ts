/** doctor's `backups`: no home-volume backup (it holds login tokens) lies in the project folder. */
import { join } from 'node:path';
import { backupsInProject, privateDir } from '../../project/private-dir.js';
import { type Check, warn } from './check.js';

export const backupsCheck: Check = async ({ project }) => {
  const stray = backupsInProject(project.dir);
  if (!stray.length) return [];
  return [
    warn(
      'backups',
      `${stray.length} backup(s) in the project folder, where claude-cli can read them and git can pick them up: ${stray.join(', ')}`,
      `They hold login tokens: move them to ${join(privateDir(project.name), 'backups')} (cctl backup's default now).`,
    ),
  ];
};
