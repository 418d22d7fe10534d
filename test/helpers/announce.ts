/**
 * A line said once per test run, not once per test file: ava runs each file
 * in a process of its own (workerThreads: false), so a module-level "said it
 * already" flag is per file, and `npm test` without an engine printed its
 * SKIPPED line eight times. The run is ava's main process, every file's
 * parent: the first file to claim the line for that parent prints it.
 */
import { mkdirSync, openSync, closeSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const MARKS = fileURLToPath(new URL('../../node_modules/.cache/cctl-test-announced/', import.meta.url));

/** Prints `line` unless another file of this run has; `key` tells lines apart. */
export function announceOnce(key: string, line: string, run = process.ppid, marks = MARKS): boolean {
  mkdirSync(marks, { recursive: true });
  const mark = `${run}-${key.replace(/[^\w.-]/g, '_')}`;
  // Marks of earlier runs go; a run's own parent pid is what keeps its marks apart.
  for (const old of readdirSync(marks)) if (!old.startsWith(`${run}-`)) rmSync(join(marks, old), { force: true });
  try {
    closeSync(openSync(join(marks, mark), 'wx'));
  } catch {
    return false;
  }
  console.log(line);
  return true;
}
