/** `cctl shell`: a login shell in /workspace as the image's user (claude): bash when the image has it, else sh. */
import type { GlobalOptions } from '../kernel/argv.js';
import { UsageError } from '../kernel/errors.js';
import { execInteractive, WORKSPACE } from '../ops/exec.js';

// Alpine images have no bash unless it was added; choosing inside the container costs no extra docker call.
const LOGIN_SHELL = ['sh', '-c', 'if command -v bash >/dev/null 2>&1; then exec bash -l; else exec sh -l; fi'];

export default async function shell(args: string[], globals: GlobalOptions): Promise<number> {
  if (args.length > 0) {
    throw new UsageError('cctl shell takes no arguments.', `To run a command, use: cctl exec -- ${args.join(' ')}`);
  }
  return execInteractive(globals, { command: LOGIN_SHELL, workdir: WORKSPACE, followCwd: true });
}
