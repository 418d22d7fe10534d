/**
 * Scratch folders for tests, removed when the test process exits. ava runs
 * each test file in a process of its own (workerThreads: false), so a folder
 * made here is gone when its file is done, whether its tests passed, failed
 * or were skipped (an e2e file without an engine runs no hook of its own).
 * test/unit/scratch.test.ts checks that they go, and that no test file makes
 * a temp folder that nothing removes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const made: string[] = [];
let hooked = false;

/** A new folder under the temp dir, named PREFIX + six random characters; removed at exit. */
export function scratchDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  if (!hooked) {
    hooked = true;
    process.on('exit', () => {
      for (const d of made) {
        try {
          rmSync(d, { recursive: true, force: true });
        } catch {
          // A file a container left under another owner: the test's own cleanup (as root, or via docker) handles it; exit must not fail here.
        }
      }
    });
  }
  return dir;
}
