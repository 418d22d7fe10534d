import type { OptionsFor } from './declarations/verbs.js';
import { buildImages, builtServices } from '../ops/build.js';
import { initProject, wroteTeamFiles, type InitResult } from '../ops/init.js';
import { assertBuildFilesAccepted } from '../ops/protected.js';
import { findProject } from '../project/locate.js';
import { presentation, taskList } from '../ui/tasks.js';

export default async function build(_args: string[], options: OptionsFor<'build'>): Promise<number> {
  const project = findProject(options);
  // The team's Dockerfile.local as the last accepted up left it: an edit from claude-cli is built only after a yes.
  assertBuildFilesAccepted(project);
  const ctx: { services: string[]; init?: InitResult } = { services: [] };
  const mode = presentation(options.json === true);
  await taskList<typeof ctx>(
    [
      {
        title: 'Bring the compose file and build files up to date',
        task: async (c, task) => {
          const result = await initProject(project);
          c.init = result;
          c.services = builtServices(result.settings);
          task.title = `Compose file and build files are up to date${wroteTeamFiles(result)}`;
        },
      },
      {
        title: 'Build images',
        task: async (c, task) => {
          task.title = `Build ${c.services.join(', ')}${options.cache === false ? ' (no cache)' : ''}`;
          await buildImages(project, c.services, {
            noCache: options.cache === false,
            checked: { model: c.init!.buildModel, settings: c.init!.settings, hashes: c.init!.hashes },
            onLine: mode === 'live' ? (l) => (task.output = l) : undefined,
          });
        },
      },
    ],
    mode,
  ).run(ctx);
  if (options.json) process.stdout.write(`${JSON.stringify({ ok: true, built: ctx.services })}\n`);
  return 0;
}
