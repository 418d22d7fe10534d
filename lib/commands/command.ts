/**
 * What every command module is: a default export that takes the positional
 * arguments and the parsed options, and returns the exit code (0 when void).
 */
import type { GlobalOptions } from '../kernel/argv.js';

export type CommandOptions = Record<string, unknown> & GlobalOptions;

export type CommandMain = (args: string[], options: CommandOptions) => Promise<number | void>;
