/**
 * How a verb declares its options, once. The declaration is data that cli.ts
 * turns into cac's registration and --help, completion.ts into the shell
 * completions, and the type system into the handler's option types:
 * `OptionsOf<typeof spec>` says `json?: boolean`, `tail?: string`, never
 * `unknown`. `normalize` makes cac's parse match those types (cac hands back
 * numbers for numeric values and arrays for repeated flags).
 */
import type { GlobalOptions } from '../../kernel/argv.js';

interface Base {
  /** cac's spelling: '-v, --volumes', '--tail <n>', '--no-cache'. */
  flags: string;
  description: string;
}
/** A switch: true when given (false for its --no- form). */
export interface Flag extends Base {
  kind: 'flag';
  /** Also offer --no-<name> (cac reads it as false). */
  negatable?: boolean;
}
/** One value; the last one wins when repeated. */
export interface Value extends Base {
  kind: 'value';
  default?: string;
}
/** A value that may be given several times. */
export interface Values extends Base {
  kind: 'values';
}
export type OptionSpec = Flag | Value | Values;

export interface VerbSpec<O extends Record<string, OptionSpec> = Record<string, OptionSpec>> {
  /** cac's command line: 'logs [service]'. */
  usage: string;
  description: string;
  alias?: string;
  options: O;
  examples: readonly string[];
  /** Arguments are handed on untouched (kernel/argv.ts splits them before cac runs). */
  passThrough?: boolean;
  /** The words after `--` reach the handler, after a '--' of their own (`cctl task exec NAME -- cmd…`). */
  afterDoubleDash?: boolean;
  /** A verb of several actions: each action's usage and one line on what it does, listed by --help. */
  actions?: Readonly<Record<string, string>>;
  /** Words the shell may complete after the verb besides its flags (service names, reports, the tool's own flags). */
  words?: readonly string[];
}

type ValueOf<S extends OptionSpec> = S extends Flag ? boolean : S extends Values ? string[] : string;

/** The handler's options: each declared option with its type, plus the global ones. */
export type OptionsOf<V extends VerbSpec> = { [K in keyof V['options']]?: ValueOf<V['options'][K]> } & GlobalOptions;

export const flag = (flags: string, description: string, extra: { negatable?: boolean } = {}): Flag => ({
  kind: 'flag',
  flags,
  description,
  ...extra,
});
export const value = (flags: string, description: string, extra: { default?: string } = {}): Value => ({
  kind: 'value',
  flags,
  description,
  ...extra,
});
export const values = (flags: string, description: string): Values => ({ kind: 'values', flags, description });
/** Every verb's --json, with what it prints. */
export const json = (what = 'Print the result as JSON'): Flag => flag('--json', what);

/** Keeps the literal option keys, so OptionsOf can read them. */
export function verb<const O extends Record<string, OptionSpec>>(spec: VerbSpec<O>): VerbSpec<O> {
  return spec;
}

/** The long flag's name ('volumes' for '-v, --volumes', 'cache' for '--no-cache'). */
export function longName(spec: OptionSpec): string {
  const m = /--(?:no-)?([\w-]+)/.exec(spec.flags);
  if (!m) throw new Error(`option "${spec.flags}" has no long form`);
  return m[1]!;
}

/** Every spelling the shell may complete: --name, --no-name for negatable flags. */
export function completions(spec: OptionSpec): string[] {
  const name = longName(spec);
  if (spec.flags.includes('--no-')) return [`--no-${name}`];
  return spec.kind === 'flag' && spec.negatable ? [`--${name}`, `--no-${name}`] : [`--${name}`];
}

const asString = (v: unknown): string => String(Array.isArray(v) ? v[v.length - 1] : v);

/** cac's parse, made to match OptionsOf: booleans, strings and string lists, the globals kept. */
export function normalize<V extends VerbSpec>(spec: V, raw: Record<string, unknown>): OptionsOf<V> {
  const out: Record<string, unknown> = {};
  for (const [key, option] of Object.entries(spec.options)) {
    const v = raw[key];
    if (v === undefined) continue;
    out[key] = option.kind === 'flag' ? v !== false && v !== 'false' : option.kind === 'values' ? [v].flat().map(String) : asString(v);
  }
  if (raw.file !== undefined) out.file = asString(raw.file);
  if (raw.projectName !== undefined) out.projectName = asString(raw.projectName);
  if (raw.debug) out.debug = true;
  return out as OptionsOf<V>;
}
