/** doctor's `compose-file`: the project's compose file is found, parses, and holds the claude services. */
import { hasClaudeServices, storedSettings } from '../../project/compose-file.js';
import { type Check, fail, fromError, pass, warn } from './check.js';

export const composeFileCheck: Check = async (ctx) => {
  const { project } = ctx;
  try {
    ctx.settings = storedSettings(project);
    if (!project.exists) {
      return [
        fail(
          'compose-file',
          `no compose file in ${project.dir} or any folder above it`,
          'Run cctl inside the project (any subfolder works), use -f FILE, or start one with "cctl init".',
        ),
      ];
    }
    if (!hasClaudeServices(project)) return [warn('compose-file', `${project.file} has no claude services yet`, 'Run "cctl init".')];
    return [pass('compose-file', `${project.file} parses and holds the claude services`)];
  } catch (error) {
    return [fromError('compose-file', error)];
  }
};
