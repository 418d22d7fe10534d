/** `cctl exec [--] cmd…`: any command in claude-cli, argv untouched, status passed through. */
import { stripDoubleDash, type GlobalOptions } from '../kernel/argv.js';
import { UsageError } from '../kernel/errors.js';
import { execInteractive } from '../ops/exec.js';

export default async function exec(args: string[], globals: GlobalOptions): Promise<number> {
  const command = stripDoubleDash(args);
  if (command.length === 0) {
    throw new UsageError('cctl exec needs a command to run.', 'Example: cctl exec -- ls -la /workspace');
  }
  return execInteractive(globals, { command, followCwd: true });
}
