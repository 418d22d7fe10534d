/**
 * Gate for end-to-end tests. They need a real Docker engine and the stand-in
 * base image that .ci/run prepares. Without an engine they are skipped, with
 * a line that says so; under CI=true or CCTL_E2E=1 that is a failure instead.
 */
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { announceOnce } from './announce.js';

export const BASE_IMAGE = process.env.CCTL_TEST_BASE_IMAGE ?? 'cctl-base:bookworm-node22';
const strict = process.env.CI === 'true' || process.env.CCTL_E2E === '1';

function probe(): string | undefined {
  try {
    execFileSync('docker', ['info', '--format', '{{.ServerVersion}}'], { stdio: 'pipe', timeout: 20_000 });
  } catch (error) {
    return `no Docker engine answers (${
      String((error as { stderr?: Buffer }).stderr ?? error)
        .trim()
        .split('\n')[0]
    })`;
  }
  try {
    execFileSync('docker', ['image', 'inspect', BASE_IMAGE], { stdio: 'pipe' });
  } catch {
    return `the base image ${BASE_IMAGE} is missing (bash .ci/run prepares it)`;
  }
  return undefined;
}

export const missing = probe();

/**
 * A stand-in for `test` whose every form skips: test.skip alone has no
 * .serial or hooks, and e2e files use `e2e.serial(...)` and `e2e.after.always(...)`.
 */
function skipping(): typeof test {
  const noop = () => {};
  const hook = Object.assign(noop, { always: noop, skip: noop });
  const skip = Object.assign((...args: Parameters<typeof test.skip>) => test.skip(...args), {
    serial: Object.assign((...args: Parameters<typeof test.skip>) => test.serial.skip(...args), { skip: test.serial.skip }),
    skip: test.skip,
    only: test.skip,
    failing: test.skip,
    before: hook,
    after: hook,
    beforeEach: hook,
    afterEach: hook,
  });
  return skip as unknown as typeof test;
}

/** Use in place of `test` in e2e files. */
export const e2e: typeof test = (() => {
  if (!missing) return test;
  if (strict) {
    test.serial('end-to-end prerequisites', (t) => {
      t.fail(`end-to-end tests cannot run: ${missing} (CI=true or CCTL_E2E=1 makes this a failure)`);
    });
    return skipping();
  }
  announceOnce('e2e', `SKIPPED end-to-end tests: ${missing}`);
  return skipping();
})();
