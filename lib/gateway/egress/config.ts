/** The egress proxy's settings, from the environment (docs/CONTRACT.md). */
import { intFromEnv } from '../env.js';
import { type EgressNet, systemNet } from './address-check.js';
import { parseAllowList } from './allow-list.js';
import { DEFAULT_DNS_CACHE_SECONDS } from './dns-cache.js';
import type { AllowRule } from './grammar.js';
import { parseSources, type SourceFilter } from './sources.js';

export interface EgressConfig {
  allow: AllowRule[];
  sources: SourceFilter;
  /** Open tunnels at most; more get 503, so a runaway client cannot starve the API route of sockets and memory. */
  maxTunnels: number;
  /** DNS, connect and the gateway's own addresses: the system's, or a test's (address-check.ts). */
  net: EgressNet;
}

export const DEFAULT_MAX_TUNNELS = 512;

type Env = Record<string, string | undefined>;

/**
 * Egress is on when CCTL_EGRESS_ALLOW is set, even to an empty list (then
 * every destination is denied, and logged, which is how a team finds out
 * what its stack needs). Unset, the gateway refuses every proxy request.
 */
export function egressFromEnv(env: Env): EgressConfig | undefined {
  const allow = env.CCTL_EGRESS_ALLOW;
  if (allow === undefined) return undefined;
  return {
    allow: parseAllowList(allow),
    sources: parseSources(env.CCTL_EGRESS_SOURCES),
    maxTunnels: intFromEnv(env, 'CCTL_EGRESS_MAX_TUNNELS', DEFAULT_MAX_TUNNELS, 1, 100_000),
    net: systemNet(undefined, intFromEnv(env, 'CCTL_EGRESS_DNS_CACHE_SECONDS', DEFAULT_DNS_CACHE_SECONDS, 0, 3600)),
  };
}
