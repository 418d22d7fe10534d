/**
 * Lookups, remembered briefly. A tunnel to a name needs the name's
 * addresses before it can check them (address-check.ts); a lookup goes
 * through libuv's thread pool and, in a container, to Docker's DNS server,
 * which costs a tunnel more than everything else it does (bench/egress.ts:
 * 0.4 to 1.3 ms at p50 on a busy 2-core machine, against 0.5 ms for the whole
 * tunnel to a literal address). Tools open many connections to the same few
 * hosts (npm, git, pip), so an answer is reused for a few seconds, and
 * connections asking at once share one lookup.
 *
 * Safe for the address check: the cache holds answers, never decisions.
 * Every tunnel still checks the addresses it is given and dials the checked
 * one, so a remembered answer is refused exactly as a fresh one would be.
 * Failed lookups are not remembered: the next tunnel asks again.
 */

export type Resolve = (host: string) => Promise<string[]>;

export interface DnsCacheOptions {
  /** How long an answer is reused; 0 turns the cache off. */
  ttlMs: number;
  /** Names remembered at most: the oldest goes first (a wildcard entry admits any number of names). */
  maxNames: number;
  now?: () => number;
}

/** Seconds an answer is reused by default (CCTL_EGRESS_DNS_CACHE_SECONDS). */
export const DEFAULT_DNS_CACHE_SECONDS = 10;
export const DNS_CACHE_NAMES = 1000;

export function cachedResolve(resolve: Resolve, options: DnsCacheOptions): Resolve {
  if (options.ttlMs <= 0) return resolve;
  const now = options.now ?? Date.now;
  const answers = new Map<string, { until: number; answer: Promise<string[]> }>();
  return (host) => {
    const key = host.toLowerCase();
    const known = answers.get(key);
    if (known && known.until > now()) return known.answer;
    // A new answer goes to the end of the map's order, so the first name is the oldest.
    answers.delete(key);
    if (answers.size >= options.maxNames) answers.delete(answers.keys().next().value!);
    const answer = resolve(host);
    const entry = { until: now() + options.ttlMs, answer };
    answers.set(key, entry);
    answer.catch(() => {
      if (answers.get(key) === entry) answers.delete(key);
    });
    return answer;
  };
}
