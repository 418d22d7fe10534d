/**
 * Budget reservations: how budgets hold while many requests are in flight.
 *
 * A request reserves an estimate of its cost when it is admitted, and the
 * ledger row that records its real usage settles the reservation (the row
 * is inserted and the reservation deleted in one transaction, so the spend
 * is never counted twice nor missed). A request that leaves no row releases
 * its reservation. Every ledger store keeps the same rule, atomically:
 *
 *   in one transaction (SQLite: BEGIN IMMEDIATE; Postgres: the function
 *   cctl_reserve() of schema.ts, which locks the member's row with SELECT ...
 *   FOR UPDATE first, in one round trip), read the member's budgets and
 *   in-flight cap, count and sum the member's live reservations, read the
 *   settled spend for the day and month; refuse when the count has reached
 *   the cap or checkBudgets() refuses; otherwise insert the reservation.
 *
 * A reservation expires (RESERVATION_TTL_MS) so that one left by a gateway
 * that died mid-request does not hold a budget for ever.
 */
import type { BudgetRefusal } from './budgets.js';
import { priceOf } from './pricing.js';

/** Requests one member may have in flight when neither the member nor CCTL_MAX_IN_FLIGHT says otherwise. */
export const DEFAULT_MAX_IN_FLIGHT = 8;
/** Longer than any request the gateway lets run (its idle timeout is 10 minutes between bytes). */
export const RESERVATION_TTL_MS = 60 * 60 * 1000;
/** When a body does not say max_tokens, the largest output any current model allows. */
export const OUTPUT_CEILING = 128_000;

export interface Estimate {
  inputTokens: number;
  outputTokens: number;
  /** inputTokens + outputTokens. */
  tokens: number;
  /** US dollars. */
  cost: number;
}

export interface ReservationAsk {
  member: string;
  /** Admission time, ms since the epoch: decides the budget day and month. */
  time: number;
  estimate: Estimate;
  /** The cap for a member whose own max_in_flight is unset. */
  defaultMaxInFlight: number;
  /**
   * The token the request came with (its hash). Postgres admits only while
   * it is still the member's active token, so a lookup cached by a replica
   * (pg-ledger.ts) cannot outlive a revoke. SQLite looks tokens up on every
   * request and ignores it.
   */
  tokenHash?: string;
}

export type ReservationResult =
  | { ok: true; id: number }
  | { ok: false; kind: 'in-flight'; count: number; cap: number }
  | { ok: false; kind: 'budget'; refusal: BudgetRefusal }
  /** Revoked between the token lookup and the reservation. */
  | { ok: false; kind: 'no-member' };

/**
 * An upper bound on what a Messages request can cost, from what the gateway
 * knows before sending it:
 * - input: at most one token per byte of the body (a token is at least one
 *   byte of text, and the JSON around the text only adds bytes), priced as
 *   a cache write, the dearest kind of input;
 * - output: max_tokens (extended thinking counts within it).
 * Inputs the body only points at (a document or image by URL, server tools
 * such as web fetch) can exceed it: that is the estimate error the guide's
 * bound speaks of.
 */
export function estimateRequest(model: string | undefined, maxTokens: number | undefined, bodyBytes: number): Estimate {
  const price = priceOf(model ?? '');
  const output = maxTokens !== undefined && Number.isFinite(maxTokens) && maxTokens >= 0 ? Math.ceil(maxTokens) : OUTPUT_CEILING;
  return {
    inputTokens: bodyBytes,
    outputTokens: output,
    tokens: bodyBytes + output,
    cost: (bodyBytes * price.input * 1.25 + output * price.output) / 1_000_000,
  };
}

/** The estimate of a request the upstream does not bill (count_tokens). */
export const FREE: Estimate = { inputTokens: 0, outputTokens: 0, tokens: 0, cost: 0 };

/** What the gateway reads from a request body before admitting it. */
export interface RequestFacts {
  model?: string;
  maxTokens?: number;
}

/** Model and max_tokens of a JSON body; nothing when it is not a JSON object. */
export function requestFacts(body: Buffer): RequestFacts {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return {};
  }
  if (!parsed || typeof parsed !== 'object') return {};
  const record = parsed as Record<string, unknown>;
  const facts: RequestFacts = {};
  if (typeof record.model === 'string') facts.model = record.model;
  if (typeof record.max_tokens === 'number') facts.maxTokens = record.max_tokens;
  return facts;
}
