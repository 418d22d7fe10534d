/**
 * doctor's `owner`, `workspace` and `protected`: what the per-machine file
 * promises, checked on the real containers (ops/machine-checks.ts).
 */
import { CLI_SERVICE } from '../../project/locate.js';
import { ownerCheck, protectedPathsCheck, workspaceWriteCheck } from '../machine-checks.js';
import { inspectServices } from '../stack.js';
import { type Check, type CheckResult, fromError, warn } from './check.js';

export const machineChecks: Check = async ({ daemon, project, settings }) => {
  if (!daemon || !project.exists) return [];
  const [cli] = settings ? await inspectServices(project, [CLI_SERVICE]).catch(() => []) : [];
  const running = cli?.state === 'running' ? cli.container : undefined;
  const results: CheckResult[] = [];
  for (const check of [
    () => ownerCheck(project),
    () =>
      running
        ? workspaceWriteCheck(project)
        : Promise.resolve(warn('workspace', 'not checked: claude-cli is not running', 'Run "cctl up".')),
    () => protectedPathsCheck(project, running),
  ]) {
    try {
      results.push(await check());
    } catch (error) {
      results.push(fromError('machine', error));
    }
  }
  return results;
};
