/**
 * What every command module is: a default export that takes the positional
 * arguments and its options, and returns the exit code (0 when void). A
 * verb's options are declared once in declarations/verbs.ts; its handler takes
 * `OptionsFor<'verb'>` from there (pass-through verbs take the globals only).
 */
import type { GlobalOptions } from '../kernel/argv.js';

export type CommandMain<O extends GlobalOptions = GlobalOptions> = (args: string[], options: O) => Promise<number | void>;
