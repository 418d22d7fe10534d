/** doctor's `secrets`: no secret of the stack is readable from claude-cli (the scan: ops/secret-scan.ts). */
import { CLI_SERVICE } from '../../project/locate.js';
import { secretCheck } from '../secret-scan.js';
import { inspectServices } from '../stack.js';
import { type Check, fromError, needDaemon, warn } from './check.js';

export const secretsCheck: Check = async ({ daemon, project, settings }) => {
  if (!settings) return [warn('secrets', 'not checked: the compose file could not be read')];
  if (!daemon) return [needDaemon('secrets')];
  try {
    const [cli] = await inspectServices(project, [CLI_SERVICE]);
    return [{ name: 'secrets', ...(await secretCheck(project, settings, cli?.state === 'running')) }];
  } catch (error) {
    return [fromError('secrets', error)];
  }
};
