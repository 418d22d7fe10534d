/** doctor's `compose-config`: Compose itself accepts the file (`compose config`), once the file and Compose are fine. */
import { composeText } from '../../project/compose-text.js';
import { composeValidate } from '../compose.js';
import { type Check, fail, pass } from './check.js';

export const composeConfigCheck: Check = async ({ project, settings, checks }) => {
  if (!project.exists || !settings || !checks.some((c) => c.name === 'compose' && c.status === 'pass')) return [];
  try {
    await composeValidate(project, composeText(project.file));
    return [pass('compose-config', 'Compose accepts the file ("compose config")')];
  } catch (error) {
    return [fail('compose-config', (error as Error).message, 'Fix what Compose names (cctl init --force rewrites the keys cctl owns).')];
  }
};
