/** doctor's `ca-cert`: the configured CA bundle is readable PEM. */
import { caCertSource } from '../../project/assets.js';
import { type Check, fromError, pass, warn } from './check.js';

export const caCertCheck: Check = async ({ project, settings }) => {
  if (!settings?.['ca-cert']) return [pass('ca-cert', 'none configured')];
  try {
    // A host path an older cctl stored falls back to the project's copy (assets.ts): a note, not a failure.
    const ca = caCertSource(project.dir, settings['ca-cert']);
    return [
      ca.note
        ? warn('ca-cert', ca.note, '"cctl up" stores the copy\'s path in the compose file.')
        : pass('ca-cert', `${ca.stored} is readable PEM`),
    ];
  } catch (error) {
    return [fromError('ca-cert', error)];
  }
};
