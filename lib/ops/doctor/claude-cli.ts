/**
 * doctor's `claude-cli`: a claude-cli that stopped on its own (or fails its
 * health check) is a failure; none at all (after down) is not.
 */
import { CLI_SERVICE } from '../../project/locate.js';
import { brokenServices, inspectServices } from '../stack.js';
import { type Check, fail, fromError, pass, stoppedText, warn } from './check.js';

export const claudeCliCheck: Check = async ({ daemon, project, settings }) => {
  if (!settings || !daemon) return [];
  try {
    const [cli] = await inspectServices(project, [CLI_SERVICE]);
    if (!cli || cli.state === 'missing') return [warn(CLI_SERVICE, 'no container: the stack is not up', 'Run "cctl up".')];
    if (brokenServices([cli]).length) {
      const why = cli.state === 'running' ? `is unhealthy${cli.lastHealthOutput ? `: ${cli.lastHealthOutput}` : ''}` : stoppedText(cli);
      return [fail(CLI_SERVICE, `${CLI_SERVICE} ${why}`, `See why: "cctl logs ${CLI_SERVICE}". Start it again: "cctl up".`)];
    }
    return [pass(CLI_SERVICE, `${cli.container} is ${cli.state}${cli.health === 'none' ? '' : `, ${cli.health}`}`)];
  } catch (error) {
    return [fromError(CLI_SERVICE, error)];
  }
};
