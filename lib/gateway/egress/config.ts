/** The egress proxy's settings, from the environment (docs/CONTRACT.md). */
import { type AllowRule, parseAllowList } from './allow-list.js';
import { parseSources, type SourceFilter } from './sources.js';

export interface EgressConfig {
  allow: AllowRule[];
  sources: SourceFilter;
}

type Env = Record<string, string | undefined>;

/**
 * Egress is on when CCTL_EGRESS_ALLOW is set, even to an empty list (then
 * every destination is denied, and logged, which is how a team finds out
 * what its stack needs). Unset, the gateway refuses every proxy request.
 */
export function egressFromEnv(env: Env): EgressConfig | undefined {
  const allow = env.CCTL_EGRESS_ALLOW;
  if (allow === undefined) return undefined;
  return { allow: parseAllowList(allow), sources: parseSources(env.CCTL_EGRESS_SOURCES) };
}
