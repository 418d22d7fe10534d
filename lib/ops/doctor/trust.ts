/** doctor's `trust`: what Compose would run for cctl's services is what the user accepted (ops/trust-check.ts). */
import { describeTrustChanges, reviewFileOnDisk } from '../trust-check.js';
import { type Check, fromError, pass, warn } from './check.js';

export const trustCheck: Check = async ({ project }) => {
  try {
    const { changes, resolved } = await reviewFileOnDisk(project);
    if (changes.length) {
      return [
        warn(
          'trust',
          `${changes.length} change(s) since you last accepted this project, pending your yes at the next cctl up:\n${describeTrustChanges(changes)}`,
          'If you made them: cctl up --accept-changes (or answer yes in a terminal); if not, undo them (git diff).',
        ),
      ];
    }
    return resolved ? [pass('trust', "what Compose would run for cctl's services is what you accepted")] : [];
  } catch (error) {
    // A .env that sets cctl's variables, or a file Compose cannot resolve: said as such.
    return [fromError('trust', error)];
  }
};
