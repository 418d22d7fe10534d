/**
 * The way in for the pass-through verbs (claude, monitor, usage, shell,
 * exec). These are the commands users time against the raw `compose exec`,
 * so this path loads no cac, no YAML parser and no task lists: argv
 * splitting, the verbs' modules and what they import, nothing else
 * (test/unit/pass-through.test.ts checks the module graph). bin/cctl.js
 * tries it first, bundled (test/unit/hot-path-bundle.test.ts); anything else
 * goes to cli.ts.
 */
import { splitPassThrough } from './kernel/argv.js';
import { setDebug } from './engine/runner.js';
import { report } from './failure-report.js';
import type { CommandMain } from './commands/command.js';
// Imported statically: the five are a few lines each over ops/exec.ts, which all of them use, and the
// build bundles this file with them into one (dist/hot/pass-through.js, build/hot-path.mjs), so a
// pass-through call reads and compiles one file instead of about twenty.
import claude from './commands/claude.js';
import exec from './commands/exec.js';
import monitor from './commands/monitor.js';
import shell from './commands/shell.js';
import usage from './commands/usage.js';

const VERBS: Record<string, CommandMain> = { claude, exec, monitor, shell, usage };

/** The exit code, or undefined when argv names no pass-through verb (or asks for help): cli.ts takes it then. */
export async function passThrough(argv: readonly string[]): Promise<number | undefined> {
  try {
    const split = splitPassThrough(argv);
    if (!split?.verb || split.help) return undefined;
    if (split.globals.debug) setDebug(true);
    const main = VERBS[split.verb];
    if (!main) return undefined;
    return (await main(split.rest, { ...split.globals })) ?? 0;
  } catch (error) {
    return report(error);
  }
}
