/** doctor's `buildkit`: docker buildx is there (without it images still build, more slowly). */
import { buildxVersion } from '../../engine/daemon.js';
import { type Check, needDaemon, pass, warn } from './check.js';

export const buildkitCheck: Check = async (ctx) => {
  if (!ctx.daemon) return [needDaemon('buildkit')];
  const buildx = await buildxVersion().catch(() => undefined);
  if (buildx) return [pass('buildkit', buildx)];
  return [
    warn(
      'buildkit',
      'docker buildx is missing: images build with the classic builder (slower, still works)',
      'Install the buildx plugin (docker-buildx-plugin, or docker-buildx on Debian).',
    ),
  ];
};
