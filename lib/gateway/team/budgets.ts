/**
 * Per-member budgets: daily or monthly limits on tokens or estimated cost,
 * and the rule that admits a request against them. Days and months are UTC,
 * as the ledger's are.
 *
 * The rule (the same for every ledger store, see reservation.ts): a request
 * is admitted when, for every limit the member has, what is spent plus what
 * requests in flight have reserved is still below the limit. The admitted
 * request then reserves its own estimate. So the last request admitted can
 * pass a limit by at most its own estimate, whatever the concurrency.
 */
import type { TokenCounts } from './pricing.js';

export interface Budgets {
  dailyTokens?: number;
  monthlyTokens?: number;
  dailyCost?: number;
  monthlyCost?: number;
  /** Not a budget but a limit all the same: requests in flight at once (unset: the gateway's default). */
  maxInFlight?: number;
}

/** UTC day of a timestamp: the ledger's days are UTC, as its budgets are. */
export function dayOf(time: number): string {
  return new Date(time).toISOString().slice(0, 10);
}

export interface Spend {
  day: string;
  month: string;
  dayTokens: number;
  dayCost: number;
  monthTokens: number;
  monthCost: number;
}

/** What the requests in flight have reserved and not yet settled. */
export interface Held {
  count: number;
  tokens: number;
  cost: number;
}

export interface BudgetRefusal {
  /** e.g. "daily token budget". */
  limit: string;
  /** Settled spend in the limit's window. */
  used: number;
  /** Reserved by requests still in flight. */
  held: number;
  allowed: number;
  resetsAt: Date;
  /**
   * spent: the limit is used up until it resets; held: requests in flight
   * hold the rest, so trying again once they end may succeed.
   */
  kind: 'spent' | 'held';
  message: string;
}

export function totalTokens(row: TokenCounts): number {
  return row.inputTokens + row.outputTokens + row.cacheCreationTokens + row.cacheReadTokens;
}

/** The first instant of the next UTC day and month after `time`. */
export function nextDay(time: number): Date {
  const d = new Date(time);
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1));
}
export function nextMonth(time: number): Date {
  const d = new Date(time);
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1));
}

/** An empty spend record for the day and month of `time`. */
export function noSpend(time: number): Spend {
  const day = dayOf(time);
  return { day, month: day.slice(0, 7), dayTokens: 0, dayCost: 0, monthTokens: 0, monthCost: 0 };
}

export function hasBudget(budgets: Budgets): boolean {
  return (
    budgets.dailyTokens !== undefined ||
    budgets.monthlyTokens !== undefined ||
    budgets.dailyCost !== undefined ||
    budgets.monthlyCost !== undefined
  );
}

const formatNumber = (n: number) => n.toLocaleString('en-US');
const formatDollars = (n: number) => `$${n.toFixed(2)}`;

/**
 * The first limit that refuses a new request, or undefined when it may go
 * on. `spend` is the settled spend in the day and month of `time`; `held`
 * what the member's requests in flight have reserved (it counts against the
 * day and the month alike).
 */
export function checkBudgets(member: string, budgets: Budgets, spend: Spend, held: Held, time: number): BudgetRefusal | undefined {
  const limits: [number | undefined, number, number, string, Date, (n: number) => string][] = [
    [budgets.dailyTokens, spend.dayTokens, held.tokens, 'daily token budget', nextDay(time), formatNumber],
    [budgets.dailyCost, spend.dayCost, held.cost, 'daily cost budget', nextDay(time), formatDollars],
    [budgets.monthlyTokens, spend.monthTokens, held.tokens, 'monthly token budget', nextMonth(time), formatNumber],
    [budgets.monthlyCost, spend.monthCost, held.cost, 'monthly cost budget', nextMonth(time), formatDollars],
  ];
  for (const [allowed, used, reserved, limit, resetsAt, format] of limits) {
    if (allowed === undefined) continue;
    if (used >= allowed) {
      return {
        limit,
        used,
        held: reserved,
        allowed,
        resetsAt,
        kind: 'spent',
        message: `Member "${member}" has reached the ${limit} of ${format(allowed)} (used ${format(used)}). It resets at ${resetsAt.toISOString()}; a team admin can raise it with "cctl gateway member budget".`,
      };
    }
    if (used + reserved >= allowed) {
      return {
        limit,
        used,
        held: reserved,
        allowed,
        resetsAt,
        kind: 'held',
        message: `Member "${member}" has ${held.count} request(s) in flight that hold the rest of the ${limit} of ${format(allowed)} (used ${format(used)}, reserved ${format(reserved)}). Try again when they finish.`,
      };
    }
  }
  return undefined;
}
