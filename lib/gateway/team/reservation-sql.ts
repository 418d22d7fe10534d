/**
 * The SQL of budget reservations in the SQLite ledger (the rule is in
 * reservation.ts and budgets.ts). Each method runs inside the caller's
 * transaction (LedgerStore.settleAndReserve), which is what makes the check
 * and the insert one atomic step.
 */
import { type Budgets, checkBudgets, type Held, hasBudget, noSpend, type Spend } from './budgets.js';
import { RESERVATION_TTL_MS, type ReservationAsk, type ReservationResult } from './reservation.js';
import type { SqlValue, Statement } from './sqlite.js';

const num = (value: SqlValue | undefined): number => (typeof value === 'number' ? value : typeof value === 'bigint' ? Number(value) : 0);
const TOKENS = 'input_tokens + output_tokens + cache_creation_tokens + cache_read_tokens';

export class Reservations {
  constructor(private readonly sql: (text: string) => Statement) {}

  /** Settled spend of a member in the UTC day and month of `time`, from the daily roll-up. */
  spendOf(member: string, time: number): Spend {
    const spend = noSpend(time);
    const r = this.sql(
      `SELECT SUM(CASE WHEN day = ?1 THEN ${TOKENS} END) AS dt, SUM(CASE WHEN day = ?1 THEN cost END) AS dc,
         SUM(${TOKENS}) AS mt, SUM(cost) AS mc FROM daily WHERE member = ?2 AND day >= ?3 AND day <= ?1`,
    ).get(spend.day, member, `${spend.month}-01`);
    spend.dayTokens = num(r?.dt);
    spend.dayCost = num(r?.dc);
    spend.monthTokens = num(r?.mt);
    spend.monthCost = num(r?.mc);
    return spend;
  }

  /** What a member's live (unexpired) reservations hold. */
  heldBy(member: string, time: number): Held {
    const r = this.sql('SELECT COUNT(*) AS n, SUM(tokens) AS t, SUM(cost) AS c FROM reservations WHERE member = ? AND expires_at > ?').get(
      member,
      time,
    );
    return { count: num(r?.n), tokens: num(r?.t), cost: num(r?.c) };
  }

  /** The cap, then the budgets; the reservation when both allow it. `limits` is the active member's row, undefined when revoked. */
  admit(limits: Budgets | undefined, ask: ReservationAsk): ReservationResult {
    if (!limits) return { ok: false, kind: 'no-member' };
    const held = this.heldBy(ask.member, ask.time);
    const cap = limits.maxInFlight ?? ask.defaultMaxInFlight;
    if (held.count >= cap) return { ok: false, kind: 'in-flight', count: held.count, cap };
    if (hasBudget(limits)) {
      const refusal = checkBudgets(ask.member, limits, this.spendOf(ask.member, ask.time), held, ask.time);
      if (refusal) return { ok: false, kind: 'budget', refusal };
    }
    const id = this.sql('INSERT INTO reservations (member, time, expires_at, tokens, cost) VALUES (?, ?, ?, ?, ?) RETURNING id').get(
      ask.member,
      ask.time,
      ask.time + RESERVATION_TTL_MS,
      ask.estimate.tokens,
      ask.estimate.cost,
    )!.id;
    return { ok: true, id: num(id) };
  }

  /** Settles (with its row) or releases a reservation. */
  release(id: number): void {
    this.sql('DELETE FROM reservations WHERE id = ?').run(id);
  }

  /** Reservations left by a gateway that died mid-request. */
  prune(now: number): void {
    this.sql('DELETE FROM reservations WHERE expires_at <= ?').run(now);
  }
}
