/**
 * An estimated cost per request, from list prices per million tokens
 * (https://docs.anthropic.com/en/docs/about-claude/pricing). Cache writes
 * (5-minute) cost 1.25x the input price and cache reads 0.1x. It is an
 * estimate: the invoice is the authority, and an unknown model is priced as
 * Sonnet so that it still shows up in cost budgets.
 */
/** The four counts the upstream reports, as a ledger row holds them. */
export interface TokenCounts {
  inputTokens: number;
  outputTokens: number;
  cacheCreationTokens: number;
  cacheReadTokens: number;
}

interface Price {
  input: number;
  output: number;
}

/** First match wins; newer families before the names they contain. */
const PRICES: [RegExp, Price][] = [
  // A minor version, not the date of a dated id (claude-opus-4-20250514 is Opus 4, at Opus 4's price).
  [/opus-4-(?:[5-9]|[1-9]\d)(?!\d)/, { input: 5, output: 25 }],
  [/opus/, { input: 15, output: 75 }],
  [/haiku-(?:4|[5-9])/, { input: 1, output: 5 }],
  [/haiku/, { input: 0.8, output: 4 }],
  [/sonnet/, { input: 3, output: 15 }],
];
const FALLBACK: Price = { input: 3, output: 15 };

export function priceOf(model: string): Price {
  const name = model.toLowerCase();
  return PRICES.find(([pattern]) => pattern.test(name))?.[1] ?? FALLBACK;
}

export function estimateCost(model: string, usage: TokenCounts): number {
  const price = priceOf(model);
  const dollars =
    usage.inputTokens * price.input +
    usage.cacheCreationTokens * price.input * 1.25 +
    usage.cacheReadTokens * price.input * 0.1 +
    usage.outputTokens * price.output;
  return dollars / 1_000_000;
}

/** Web search, a server tool: $10 per 1,000 searches, on top of the tokens. */
export const WEB_SEARCH_PRICE = 0.01;
