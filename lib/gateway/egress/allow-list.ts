/**
 * CCTL_EGRESS_ALLOW, read with the shared grammar (grammar.ts, which cctl
 * compiles too): a malformed entry stops the gateway at start with a
 * message that names the variable and the entry.
 */
import { GatewayConfigError } from '../config-error.js';
import { type AllowRule, parseRule } from './grammar.js';

export function parseAllowRule(entry: string): AllowRule {
  const parsed = parseRule(entry);
  if (!parsed.ok) {
    throw new GatewayConfigError(
      `CCTL_EGRESS_ALLOW: "${entry}" is not an allow-list entry: ${parsed.why}. Entries look like host.example, host:port, *.domain, *.domain:port, 10.0.0.1:port or [::1]:port.`,
    );
  }
  return parsed.value;
}

/** Entries are separated by commas or whitespace; an empty list allows nothing. */
export function parseAllowList(text: string): AllowRule[] {
  return text
    .split(/[\s,]+/)
    .filter(Boolean)
    .map(parseAllowRule);
}
