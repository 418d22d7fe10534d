/** doctor's `image`: the images are built and current (each one's build hash is its file's: committed, or this machine's). */
import { buildHashInFile } from '../../project/compose-file.js';
import { gatewayBuildHashInMachineFile } from '../machine-file.js';
import { imageStaleness } from '../build.js';
import { type Check, fromError, pass, unchecked, warn } from './check.js';

export const imageCheck: Check = async (ctx) => {
  const { project, settings } = ctx;
  if (!ctx.daemon || !settings) return [unchecked(ctx, 'image')];
  try {
    const hashes = { cli: buildHashInFile(project), gateway: gatewayBuildHashInMachineFile(project) };
    const stale = await imageStaleness(project, settings, hashes);
    const bad = stale.filter((i) => i.reason !== 'current');
    if (bad.length === 0) return [pass('image', stale.map((i) => i.image).join(', '))];
    return [warn('image', bad.map((i) => `${i.image} is ${i.reason}`).join('; '), '"cctl up" builds it (or "cctl build").')];
  } catch (error) {
    return [fromError('image', error)];
  }
};
