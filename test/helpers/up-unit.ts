/** `up`'s task list run against the fake engine at the process seam, for command tests of its paths. */
import { upTasks, type UpContext } from '../../lib/ops/up/tasks.js';
import { findProject } from '../../lib/project/locate.js';
import { taskList } from '../../lib/ui/tasks.js';
import { FakeEngine, withEngine, type EngineModel, type Flavour } from './fake-engine.js';
import { scratchDir } from './scratch.js';

export const HEALTHY = [{ service: 'claude-cli' }, { service: 'proxy' }];

/** Runs up's tasks silently in a new folder for project `p`; `tweak` adds answers to the fake before. */
export async function runUp(model: EngineModel & { flavour: Flavour }, tweak: (fake: FakeEngine) => void = () => {}) {
  const dir = scratchDir('cctl-up-unit-');
  const project = findProject({ projectName: 'p' }, dir);
  const fake = new FakeEngine(model).withContainers(HEALTHY);
  tweak(fake);
  const ctx: UpContext = { project, built: [] };
  const list = taskList(upTasks({ build: false, live: false, timeoutMs: 5000, signal: new AbortController().signal }), 'silent');
  const error = await withEngine(fake, () =>
    list.run(ctx).then(
      () => undefined,
      (e: unknown) => e as Error,
    ),
  );
  return { ctx, list, error, fake, dir, file: project.file };
}
