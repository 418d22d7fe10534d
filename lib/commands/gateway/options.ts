/**
 * What every `cctl gateway` action shares: its options (declared once in
 * declarations/verbs.ts), how one is read as text, and where output goes.
 */
import type { OptionsFor } from '../declarations/verbs.js';

export type Options = OptionsFor<'gateway'> & Record<string, unknown>;

export const out = (text: string) => void process.stdout.write(text);

/** An option as text: the last one when given twice, undefined when absent or negated. */
export function str(options: Options, key: string): string | undefined {
  const v = options[key];
  return v === undefined || v === false ? undefined : String(Array.isArray(v) ? v[v.length - 1] : v);
}
