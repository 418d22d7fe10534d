/** Throw-away projects for end-to-end tests, each with its own compose project name, and homes for unit tests. */
import type { TestFn } from 'ava';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { privateDir } from '../../lib/project/private-dir.js';
import { scratchDir } from './scratch.js';

export interface TempProject {
  dir: string;
  name: string;
  /** Removes the folder, and the project's private folder under this process's HOME (secrets, state, backups). */
  cleanup(): void;
}

export function tempProject(prefix: string): TempProject {
  // A scratch folder: gone at exit even when the file's tests are skipped and its cleanup hook never runs.
  const dir = scratchDir(`cctl-${prefix}-`);
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

/**
 * A HOME and a cctl cache folder of this test file's own, for unit tests that
 * run init or up: their private folders (~/.config/cctl/projects/NAME) and up
 * records (~/.cache/cctl/up) land there, not in the real ones of whoever runs
 * the tests. Set at once, for the whole file (ava runs each file in a worker
 * with its own process.env); put back and removed after its last test.
 */
export function ownHome(test: TestFn, prefix: string): { home: string; cache: string } {
  const root = mkdtempSync(join(tmpdir(), `cctl-${prefix}-home-`));
  const paths = { home: join(root, 'home'), cache: join(root, 'cache') };
  mkdirSync(paths.home);
  const saved = { HOME: process.env.HOME, CCTL_CACHE_DIR: process.env.CCTL_CACHE_DIR };
  process.env.HOME = paths.home;
  process.env.CCTL_CACHE_DIR = paths.cache;
  test.after.always(() => {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
    rmSync(root, { recursive: true, force: true });
  });
  return paths;
}

/**
 * Removes every image of a compose project that cctl built: claude-cli's tag names the UID it was
 * built for (cctl-NAME-claude-cli:local-u1500-g1500), so a fixed name would miss it.
 */
export async function removeProjectImages(name: string): Promise<void> {
  const { runSettled } = await import('../../lib/engine/runner.js');
  const list = await runSettled(['docker', 'image', 'ls', '--format', '{{.Repository}}:{{.Tag}}', '--filter', `reference=cctl-${name}-*`]);
  const tags = list.stdout
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  if (tags.length) await runSettled(['docker', 'image', 'rm', ...tags]);
}
