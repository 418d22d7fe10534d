/**
 * `cctl monitor [args…]`: the Usage Monitor through the image's `monitor`
 * wrapper, which supplies the plan and time zone from the environment the
 * compose file sets. On an image built without the monitor, the wrapper
 * itself says so, with how to enable it, and exits 1: that message is the one
 * users of plain `docker compose exec claude-cli monitor` see too, so cctl
 * passes the status through and adds no second copy. One leading `--` is
 * dropped, so `cctl monitor -- --help` reaches the monitor's own help.
 */
import { stripDoubleDash, type GlobalOptions } from '../kernel/argv.js';
import { execInteractive } from '../ops/exec.js';

export default async function monitor(args: string[], globals: GlobalOptions): Promise<number> {
  return execInteractive(globals, { command: ['monitor', ...stripDoubleDash(args)] });
}
