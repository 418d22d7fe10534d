/**
 * The way in for the pass-through verbs (claude, monitor, usage, shell,
 * exec). These are the commands users time against the raw `compose exec`,
 * so this path loads no cac, no YAML parser and no task lists: argv
 * splitting, the verb's module and what it imports, nothing else
 * (test/unit/pass-through.test.ts checks the module graph). bin/cctl.js
 * tries it first; anything else goes to cli.ts.
 */
import { splitPassThrough } from './kernel/argv.js';
import { setDebug } from './engine/runner.js';
import { report } from './report.js';
import type { CommandMain } from './commands/command.js';

/** The exit code, or undefined when argv names no pass-through verb (or asks for help): cli.ts takes it then. */
export async function passThrough(argv: readonly string[]): Promise<number | undefined> {
  try {
    const split = splitPassThrough(argv);
    if (!split?.verb || split.help) return undefined;
    if (split.globals.debug) setDebug(true);
    const mod = (await import(`./commands/${split.verb}.js`)) as { default: CommandMain };
    return (await mod.default(split.rest, { ...split.globals })) ?? 0;
  } catch (error) {
    return report(error);
  }
}
