/**
 * Per-member budgets: daily or monthly limits on tokens or estimated cost.
 * Days and months are UTC, as the ledger's are. The meter keeps each active
 * member's spend in memory (seeded from the ledger at start, then added to as
 * requests finish), so checking a budget costs a map lookup, not a query.
 */
import { dayOf, type Budgets, type LedgerRow } from './store.js';

export interface Spend {
  day: string;
  month: string;
  dayTokens: number;
  dayCost: number;
  monthTokens: number;
  monthCost: number;
}

export interface BudgetRefusal {
  /** e.g. "daily token budget". */
  limit: string;
  used: number;
  allowed: number;
  resetsAt: Date;
  message: string;
}

export function totalTokens(row: Pick<LedgerRow, 'inputTokens' | 'outputTokens' | 'cacheCreationTokens' | 'cacheReadTokens'>): number {
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

const formatNumber = (n: number) => n.toLocaleString('en-US');
const formatDollars = (n: number) => `$${n.toFixed(2)}`;

export class SpendMeter {
  private readonly spend = new Map<string, Spend>();

  constructor(private readonly now: () => number = Date.now) {}

  /** The member's spend in the current day and month (zero after a reset). */
  current(member: string): Spend {
    const time = this.now();
    const day = dayOf(time);
    const month = day.slice(0, 7);
    let s = this.spend.get(member);
    if (!s || s.month !== month) {
      s = { day, month, dayTokens: 0, dayCost: 0, monthTokens: 0, monthCost: 0 };
      this.spend.set(member, s);
    } else if (s.day !== day) {
      s.day = day;
      s.dayTokens = 0;
      s.dayCost = 0;
    }
    return s;
  }

  /** Adds a finished request (its time decides whether it still counts). */
  add(row: Pick<LedgerRow, 'member' | 'time' | 'cost' | 'inputTokens' | 'outputTokens' | 'cacheCreationTokens' | 'cacheReadTokens'>): void {
    const s = this.current(row.member);
    const day = dayOf(row.time);
    if (day.slice(0, 7) !== s.month) return;
    const tokens = totalTokens(row);
    s.monthTokens += tokens;
    s.monthCost += row.cost;
    if (day === s.day) {
      s.dayTokens += tokens;
      s.dayCost += row.cost;
    }
  }

  /** The first budget the member has used up, or undefined when they may go on. */
  check(member: string, budgets: Budgets): BudgetRefusal | undefined {
    const s = this.current(member);
    const time = this.now();
    const limits: [number | undefined, number, string, Date, (n: number) => string][] = [
      [budgets.dailyTokens, s.dayTokens, 'daily token budget', nextDay(time), formatNumber],
      [budgets.dailyCost, s.dayCost, 'daily cost budget', nextDay(time), formatDollars],
      [budgets.monthlyTokens, s.monthTokens, 'monthly token budget', nextMonth(time), formatNumber],
      [budgets.monthlyCost, s.monthCost, 'monthly cost budget', nextMonth(time), formatDollars],
    ];
    for (const [allowed, used, limit, resetsAt, format] of limits) {
      if (allowed === undefined || used < allowed) continue;
      return {
        limit,
        used,
        allowed,
        resetsAt,
        message: `Member "${member}" has reached the ${limit} of ${format(allowed)} (used ${format(used)}). It resets at ${resetsAt.toISOString()}; a team admin can raise it with "cctl gateway member budget".`,
      };
    }
    return undefined;
  }
}
