/** doctor's `compose`: a Compose cctl supports, and one that works with this engine. */
import { detectCompose, unsupportedPair } from '../../engine/compose.js';
import { type Check, fromError, pass } from './check.js';

export const composeCheck: Check = async (ctx) => {
  try {
    // A diagnosis detects afresh rather than trusting the remembered answer.
    const c = await detectCompose(ctx.env);
    const broken = ctx.daemon && unsupportedPair(c, ctx.daemon);
    if (broken) return [fromError('compose', broken)];
    return [pass('compose', `${c.command.join(' ')} ${c.version} (${c.flavour})`)];
  } catch (error) {
    return [fromError('compose', error)];
  }
};
