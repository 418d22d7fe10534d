/** doctor's workbench checks (git identity, SSH agent: ops/workbench-checks.ts); the identity alone without a daemon. */
import { identityCheck, workbenchChecks } from '../workbench-checks.js';
import type { Check } from './check.js';

export const workbenchCheck: Check = async ({ daemon, env, project, settings }) => {
  if (!settings) return [];
  return daemon ? workbenchChecks(project, settings, env) : [await identityCheck(project, settings, env)];
};
