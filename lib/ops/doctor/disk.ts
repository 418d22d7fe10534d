/** doctor's `disk`: free space where the engine keeps images (the project's disk when the engine is remote). */
import { statfsSync } from 'node:fs';
import { dataRoot } from '../../engine/daemon.js';
import { type Check, fail, needDaemon, pass, warn } from './check.js';

const GB = 1024 ** 3;

export const diskCheck: Check = async ({ daemon, env, project }) => {
  if (!daemon) return [needDaemon('disk')];
  try {
    const root = await dataRoot();
    const local = !env.DOCKER_HOST || env.DOCKER_HOST.startsWith('unix://');
    const s = statfsSync(local ? root : project.dir);
    const free = s.bavail * s.bsize;
    const where = local ? root : `${project.dir} (the engine is remote)`;
    const text = `${(free / GB).toFixed(1)} GB free on ${where}`;
    if (free < 2 * GB) return [fail('disk', text, 'The image needs about 1 GB to build. Free space, e.g. "docker system prune".')];
    if (free < 5 * GB) return [warn('disk', text, 'Consider "docker system prune".')];
    return [pass('disk', text)];
  } catch (error) {
    return [warn('disk', `could not read free space: ${(error as Error).message}`)];
  }
};
