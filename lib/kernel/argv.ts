/**
 * Splitting argv for the pass-through commands. cac would eat flags that
 * follow a command's arguments (`cctl exec bash -lc x` loses `-lc`), so for
 * `claude`, `monitor`, `usage`, `shell` and `exec` everything after the verb
 * is handed on untouched, and only the global options before it are ours.
 */
import { UsageError } from './errors.js';

export interface GlobalOptions {
  file?: string;
  projectName?: string;
  debug?: boolean;
}

export const PASS_THROUGH = new Set(['claude', 'monitor', 'usage', 'shell', 'exec']);

/** Global options that take a value, in every spelling. */
const VALUE_OPTIONS: Record<string, keyof GlobalOptions> = {
  '-f': 'file',
  '--file': 'file',
  '-p': 'projectName',
  '--project-name': 'projectName',
};

export interface SplitArgv {
  globals: GlobalOptions;
  /** The pass-through verb, when argv names one. */
  verb?: string;
  /** Everything after the verb, byte for byte. */
  rest: string[];
  /**
   * True when a help flag came before any verb, or right after it
   * (`cctl exec --help`): that asks for cctl's help about the verb. The tool's
   * own help is one word further: `cctl claude -- --help`, `cctl usage daily --help`.
   */
  help: boolean;
}

/** Returns undefined when argv does not name a pass-through command (cac handles it). */
export function splitPassThrough(argv: readonly string[]): SplitArgv | undefined {
  const globals: GlobalOptions = {};
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.indexOf('=');
    const name = arg.startsWith('--') && eq > 0 ? arg.slice(0, eq) : arg;
    const key = VALUE_OPTIONS[name];
    if (key) {
      const value = name !== arg ? arg.slice(eq + 1) : argv[++i];
      if (value === undefined) throw new UsageError(`Option ${name} needs a value.`);
      (globals as Record<string, unknown>)[key] = value;
      continue;
    }
    if (arg === '--debug') {
      globals.debug = true;
      continue;
    }
    if (arg === '-h' || arg === '--help') {
      help = true;
      continue;
    }
    if (arg.startsWith('-')) return undefined;
    if (!PASS_THROUGH.has(arg)) return undefined;
    const rest = argv.slice(i + 1);
    return { globals, verb: arg, rest, help: help || rest[0] === '-h' || rest[0] === '--help' };
  }
  return undefined;
}

/** `exec -- cmd args`: drop one leading `--` so both spellings work. */
export function stripDoubleDash(args: readonly string[]): string[] {
  return args[0] === '--' ? args.slice(1) : [...args];
}
