/**
 * `cctl claude [args…]`: Claude Code in /workspace through the image's
 * wrapper, which sets up the user's config before starting claude. Piped
 * stdin (`echo q | cctl claude -p`) works because exec drops the TTY then.
 * One leading `--` is dropped: `cctl claude --help` is cctl's help, and
 * `cctl claude -- --help` Claude Code's.
 */
import { stripDoubleDash, type GlobalOptions } from '../kernel/argv.js';
import { execInteractive, WORKSPACE } from '../ops/exec.js';

const CLAUDE_WRAPPER = 'claude-wrapper.sh';

export default async function claude(args: string[], globals: GlobalOptions): Promise<number> {
  return execInteractive(globals, { command: [CLAUDE_WRAPPER, ...stripDoubleDash(args)], workdir: WORKSPACE, followCwd: true });
}
