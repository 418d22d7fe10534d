/**
 * `cctl monitor [args…]`: the Usage Monitor through the image's `monitor`
 * wrapper, which supplies the plan and time zone from the environment the
 * compose file sets. An image built without the monitor is labelled
 * dev.cctl.monitor=off and its wrapper exits 1; only after that exit do we
 * read the label, so the normal start costs no extra docker call.
 */
import type { GlobalOptions } from '../kernel/argv.js';
import { CctlError } from '../kernel/errors.js';
import { execInteractive } from '../ops/exec.js';

export const MONITOR_LABEL = 'dev.cctl.monitor';
export const ENABLE_MONITOR = 'cctl init --monitor && cctl up --build';

export function monitorMissingError(): CctlError {
  return new CctlError('This claude-cli image was built without the Claude Code Usage Monitor.', {
    hint: `Enable it with: ${ENABLE_MONITOR}`,
  });
}

export function checkMonitorLabel(labels: Readonly<Record<string, string>>): void {
  if (labels[MONITOR_LABEL] === 'off') throw monitorMissingError();
}

export default async function monitor(args: string[], globals: GlobalOptions): Promise<number> {
  return execInteractive(globals, { command: ['monitor', ...args] }, checkMonitorLabel);
}
