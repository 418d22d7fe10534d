/** Throw-away projects for end-to-end tests, each with its own compose project name. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { privateDir } from '../../lib/project/private-dir.js';

export interface TempProject {
  dir: string;
  name: string;
  /** Removes the folder, and the project's private folder under this process's HOME (secrets, state, backups). */
  cleanup(): void;
}

export function tempProject(prefix: string): TempProject {
  const dir = mkdtempSync(join(tmpdir(), `cctl-${prefix}-`));
  const name = `cctle2e${prefix.replace(/[^a-z0-9]/g, '')}${randomBytes(3).toString('hex')}`;
  return {
    dir,
    name,
    cleanup: () => {
      rmSync(dir, { recursive: true, force: true });
      rmSync(privateDir(name), { recursive: true, force: true });
    },
  };
}
