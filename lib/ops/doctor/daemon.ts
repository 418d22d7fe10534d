/** doctor's `daemon`: the Docker daemon answers, with its version and API version. */
import { daemonInfo } from '../../engine/daemon.js';
import { type Check, fromError, pass } from './check.js';

export const daemonCheck: Check = async (ctx) => {
  try {
    ctx.daemon = await daemonInfo();
    return [pass('daemon', `Docker ${ctx.daemon.serverVersion}, API ${ctx.daemon.apiVersion}`)];
  } catch (error) {
    return [fromError('daemon', error)];
  }
};
