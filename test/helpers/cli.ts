/** Runs the built CLI (bin/cctl.js) as a user would, through the project's runner. */
import { fileURLToPath } from 'node:url';
import { runSettled, type RunResult } from '../../lib/engine/runner.js';

export const CLI = fileURLToPath(new URL('../../bin/cctl.js', import.meta.url));

/** Settings every end-to-end project needs here: the stand-in base, no PyPI, the machine CA. */
export function e2eEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, CCTL_MONITOR: '0', ...extra };
  env.CCTL_BASE_IMAGE ??= process.env.CCTL_TEST_BASE_IMAGE ?? 'cctl-base:bookworm-node22';
  const ca = process.env.CCTL_TEST_CA_CERT ?? process.env.NODE_EXTRA_CA_CERTS;
  if (ca && env.CCTL_CA_CERT === undefined) env.CCTL_CA_CERT = ca;
  // The tests read stdout; CI=true would be set anyway under .ci/run.
  delete env.CCTL_DEBUG;
  return env;
}

/** Never rejects: resolves with the exit code, stdout and stderr. */
export async function cctl(args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv; input?: string }): Promise<RunResult> {
  return runSettled(['node', CLI, ...args], { cwd: options.cwd, env: options.env ?? e2eEnv(), input: options.input });
}

/**
 * The compose command the tests themselves call, to check cctl's work with
 * plain Compose: CCTL_COMPOSE when set (CI's legacy phase sets
 * `docker-compose`), otherwise the v2 plugin that users have.
 */
export function composeCommand(env: NodeJS.ProcessEnv = process.env): string[] {
  const chosen = env.CCTL_COMPOSE?.trim();
  return chosen ? chosen.split(/\s+/) : ['docker', 'compose'];
}
