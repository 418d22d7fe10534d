/**
 * The reservation rule (reservation.ts) in Postgres, for gateways on several
 * replicas. One transaction per admission: the member's row is locked first
 * (SELECT ... FOR UPDATE), so two replicas admitting the same member at once
 * take turns, and each sees the other's reservation; other members never
 * wait. Then the live reservations are counted and summed, the settled spend
 * is read from the roll-up, and checkBudgets() decides, exactly as in SQLite.
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

async function heldBy(sql: Sql, member: string, time: number): Promise<Held> {
  const [r] = await sql.unsafe(
    'SELECT COUNT(*) AS n, SUM(tokens) AS t, SUM(cost) AS c FROM reservations WHERE member = $1 AND expires_at > $2',
    [member, time],
    { prepare: true },
  );
  return { count: num(r?.n), tokens: num(r?.t), cost: num(r?.c) };
}

export function reserve(sql: Sql, ask: ReservationAsk): Promise<ReservationResult> {
  return sql.begin(async (tx): Promise<ReservationResult> => {
    const [row] = await tx.unsafe('SELECT * FROM members WHERE name = $1 AND revoked_at IS NULL FOR UPDATE', [ask.member], {
      prepare: true,
    });
    if (!row) return { ok: false, kind: 'no-member' };
    const member = memberRecordOf(row);
    const held = await heldBy(tx, ask.member, ask.time);
    const cap = member.maxInFlight ?? ask.defaultMaxInFlight;
    if (held.count >= cap) return { ok: false, kind: 'in-flight', count: held.count, cap };
    if (hasBudget(member)) {
      const refusal = checkBudgets(ask.member, member, await spendOf(tx, ask.member, ask.time), held, ask.time);
      if (refusal) return { ok: false, kind: 'budget', refusal };
    }
    const [inserted] = await tx.unsafe(
      'INSERT INTO reservations (member, time, expires_at, tokens, cost) VALUES ($1, $2, $3, $4, $5) RETURNING id',
      [ask.member, ask.time, ask.time + RESERVATION_TTL_MS, ask.estimate.tokens, ask.estimate.cost],
      { prepare: true },
    );
    return { ok: true, id: num(inserted?.id) };
  });
}

export async function release(sql: Sql, id: number): Promise<void> {
  await sql.unsafe('DELETE FROM reservations WHERE id = $1', [id], { prepare: true });
}
