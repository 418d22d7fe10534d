/**
 * The reservation rule (reservation.ts) in Postgres, for gateways on several
 * replicas. One statement per admission, cctl_reserve() (schema.ts): the
 * member's row is locked first (SELECT ... FOR UPDATE), so two replicas
 * admitting the same member at once take turns, and each sees the other's
 * reservation; other members never wait. Then the live reservations are
 * counted and summed, the settled spend is read from the roll-up, and the
 * rule decides, exactly as in SQLite.
 */
import { checkBudgets, hasBudget, noSpend, type Held, type Spend } from './budgets.js';
import { memberRecordOf, num } from './ledger-columns.js';
import type { Sql } from './postgres-sql.js';
import { RESERVATION_TTL_MS, type ReservationAsk, type ReservationResult } from './reservation.js';

const TOKENS = 'input_tokens + output_tokens + cache_creation_tokens + cache_read_tokens';

export async function spendOf(sql: Sql, member: string, time: number): Promise<Spend> {
  const spend = noSpend(time);
  const [r] = await sql.unsafe(
    `SELECT SUM(CASE WHEN day = $1 THEN ${TOKENS} END) AS dt, SUM(CASE WHEN day = $1 THEN cost END) AS dc,
       SUM(${TOKENS}) AS mt, SUM(cost) AS mc FROM daily WHERE member = $2 AND day >= $3 AND day <= $1`,
    [spend.day, member, `${spend.month}-01`],
    { prepare: true },
  );
  spend.dayTokens = num(r?.dt);
  spend.dayCost = num(r?.dc);
  spend.monthTokens = num(r?.mt);
  spend.monthCost = num(r?.mc);
  return spend;
}

/**
 * One round trip: cctl_reserve() (schema.ts, version 3) decides and inserts
 * in the database, and answers with the member's row and the figures it
 * decided on. A refusal is worded here from those figures by the same
 * checkBudgets() the SQLite ledger calls, so both stores refuse alike.
 */
export async function reserve(sql: Sql, ask: ReservationAsk): Promise<ReservationResult> {
  const spend = noSpend(ask.time);
  const [r] = await sql.unsafe(
    'SELECT * FROM cctl_reserve($1, $2, $3, $4, $5, $6, $7, $8, $9)',
    [
      ask.member,
      ask.tokenHash ?? null,
      ask.time,
      ask.time + RESERVATION_TTL_MS,
      ask.estimate.tokens,
      ask.estimate.cost,
      ask.defaultMaxInFlight,
      spend.day,
      `${spend.month}-01`,
    ],
    { prepare: true },
  );
  if (!r) return { ok: false, kind: 'no-member' };
  if (r.id !== null && r.id !== undefined) return { ok: true, id: num(r.id) };
  const member = memberRecordOf(r);
  const held: Held = { count: num(r.held_n), tokens: num(r.held_t), cost: num(r.held_c) };
  const cap = member.maxInFlight ?? ask.defaultMaxInFlight;
  if (held.count >= cap) return { ok: false, kind: 'in-flight', count: held.count, cap };
  spend.dayTokens = num(r.dt);
  spend.dayCost = num(r.dc);
  spend.monthTokens = num(r.mt);
  spend.monthCost = num(r.mc);
  const refusal = hasBudget(member) ? checkBudgets(ask.member, member, spend, held, ask.time) : undefined;
  if (refusal) return { ok: false, kind: 'budget', refusal };
  // The database and checkBudgets() read the same rule; should they ever part, no request goes unchecked.
  throw new Error(`the ledger refused a reservation for ${ask.member} that the budget rule admits (held ${held.count}, cap ${cap})`);
}

export async function release(sql: Sql, id: number): Promise<void> {
  await sql.unsafe('DELETE FROM reservations WHERE id = $1', [id], { prepare: true });
}
