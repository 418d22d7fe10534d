/** doctor's `volume`: the home volume exists and, with claude-cli running, claude can write it. */
import { execCapture } from '../../engine/compose-client.js';
import { volumeExists } from '../../engine/volumes.js';
import { CLI_SERVICE, type Project } from '../../project/locate.js';
import { claudeIds } from '../../project/machine-file.js';
import { projectInvocation } from '../compose.js';
import { homeVolumeName, inspectServices } from '../stack.js';
import { type Check, type CheckResult, fail, fromError, pass, unchecked, warn } from './check.js';

export const volumeCheck: Check = async (ctx) => {
  if (!ctx.daemon || !ctx.settings) return [unchecked(ctx, 'volume')];
  const volume = homeVolumeName(ctx.project);
  try {
    return [await writable(ctx.project, volume)];
  } catch (error) {
    return [fromError('volume', error)];
  }
};

async function writable(project: Project, volume: string): Promise<CheckResult> {
  if (!(await volumeExists(volume))) return warn('volume', `${volume} does not exist yet`, '"cctl up" creates it.');
  const [cli] = await inspectServices(project, [CLI_SERVICE]);
  if (cli?.state !== 'running') {
    return warn('volume', `${volume} exists; writability not checked (claude-cli is not running)`, 'Run "cctl up".');
  }
  try {
    await execCapture(await projectInvocation(project), {
      service: CLI_SERVICE,
      command: ['sh', '-c', 'test -w "$HOME" && test -w "${CLAUDE_CONFIG_DIR:-$HOME/.claude}"'],
    });
    return pass('volume', `${volume} is writable by claude`);
  } catch {
    // claude has the host user's ids (the project owner's under root; machine-file.ts).
    const own = claudeIds(project.dir);
    const ids = `${own.uid}:${own.gid}`;
    return fail(
      'volume',
      `${volume} is not writable by claude`,
      `Fix ownership: docker run --rm -u 0 -v ${volume}:/h <image> chown -R ${ids} /h`,
    );
  }
}
