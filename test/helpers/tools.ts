/**
 * Tests that need a tool on PATH (shellcheck, ...). Without it they are
 * skipped with a line that says so; under CI=true they fail instead. Never a
 * silent pass.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { announceOnce } from './announce.js';

/** `test` when the tool runs (`<tool> --version`), else a visibly skipped (or, in CI, failing) stand-in. */
export function withTool(tool: string, install: string): typeof test {
  const probe = spawnSync(tool, ['--version'], { stdio: 'ignore' });
  if (!probe.error && probe.status === 0) return test;
  const why = `${tool} is not installed (${install})`;
  if (process.env.CI === 'true') {
    return Object.assign(
      (title: string) => test(title, (t) => t.fail(`${why}, and CI=true needs this check`)),
      test,
    ) as unknown as typeof test;
  }
  announceOnce(`tool-${tool}`, `SKIPPED tests that need ${why}`);
  return Object.assign(
    (title: string, ...rest: unknown[]) => (test.skip as (...a: unknown[]) => void)(title, ...rest),
    test,
  ) as unknown as typeof test;
}

export const SHELLCHECK_INSTALL = 'apt-get install shellcheck';
