/**
 * The team gateway's parts: budget windows against a clock the test moves,
 * cost estimates, the admin query parser, and the ledger's aggregation by
 * day, month, member, project and model (in SQLite, under Node 22).
 */
import test from 'ava';
import { checkBudgets, type Held, nextDay, nextMonth, noSpend, type Spend } from '../../lib/gateway/team/budgets.js';
import { usageQueryOf } from '../../lib/gateway/team/admin.js';
import { estimateCost, priceOf } from '../../lib/gateway/team/pricing.js';
import { rowOf } from '../../lib/gateway/team/team.js';
import type { LedgerRow, UsageRow } from '../../lib/gateway/team/store.js';
import { parseBudgets } from '../../lib/gateway/team/cli.js';
import { cleanup, memberCli, seedLedger, tempDataDir } from './team-fixtures.js';

const at = (iso: string) => Date.parse(iso);

const spendOf = (time: number, spent: Partial<Spend> = {}): Spend => ({ ...noSpend(time), ...spent });
const none: Held = { count: 0, tokens: 0, cost: 0 };

test('a daily budget refuses at the limit and resets at the next UTC midnight', (t) => {
  const now = at('2026-03-10T23:59:00Z');
  t.is(
    checkBudgets('ann', { dailyTokens: 1000 }, spendOf(now, { dayTokens: 999, monthTokens: 999 }), none, now),
    undefined,
    'one token left',
  );
  const refusal = checkBudgets('ann', { dailyTokens: 1000 }, spendOf(now, { dayTokens: 1000, monthTokens: 1000 }), none, now);
  t.like(refusal, { limit: 'daily token budget', used: 1000, allowed: 1000, kind: 'spent' });
  t.is(refusal?.resetsAt.toISOString(), '2026-03-11T00:00:00.000Z');
  const next = at('2026-03-11T00:00:00Z');
  t.like(
    checkBudgets('ann', { monthlyTokens: 1000 }, spendOf(next, { monthTokens: 1000 }), none, next),
    { limit: 'monthly token budget', used: 1000 },
    'the month still counts',
  );
});

test('a monthly cost budget resets on the first of the next month, and says so', (t) => {
  const now = at('2026-01-31T10:00:00Z');
  const refusal = checkBudgets('ann', { monthlyCost: 12 }, spendOf(now, { monthCost: 12.5 }), none, now);
  t.is(refusal?.resetsAt.toISOString(), '2026-02-01T00:00:00.000Z');
  t.regex(refusal!.message, /monthly cost budget of \$12\.00 \(used \$12\.50\)\. It resets at 2026-02-01T00:00:00\.000Z/);
});

test('what requests in flight hold counts against a budget, and such a refusal is worth retrying', (t) => {
  const now = at('2026-03-10T12:00:00Z');
  const budgets = { dailyCost: 1 };
  t.is(
    checkBudgets('ann', budgets, spendOf(now, { dayCost: 0.5 }), { count: 1, tokens: 0, cost: 0.49 }, now),
    undefined,
    'spent + held below the limit',
  );
  const held = checkBudgets('ann', budgets, spendOf(now, { dayCost: 0.5 }), { count: 2, tokens: 0, cost: 0.5 }, now);
  t.like(held, { kind: 'held', used: 0.5, held: 0.5, allowed: 1 });
  t.regex(held!.message, /2 request\(s\) in flight/);
});

test('next day and month boundaries are UTC', (t) => {
  t.is(nextDay(at('2026-12-31T23:00:00Z')).toISOString(), '2027-01-01T00:00:00.000Z');
  t.is(nextMonth(at('2026-12-15T00:00:00Z')).toISOString(), '2027-01-01T00:00:00.000Z');
});

test('cost estimates use the model family’s list prices, cache writes at 1.25x and reads at 0.1x', (t) => {
  t.deepEqual(priceOf('claude-opus-4-1-20250805'), { input: 15, output: 75 });
  t.deepEqual(priceOf('claude-opus-4-5'), { input: 5, output: 25 });
  t.deepEqual(priceOf('claude-haiku-4-5'), { input: 1, output: 5 });
  t.deepEqual(priceOf('claude-3-5-haiku-latest'), { input: 0.8, output: 4 });
  t.deepEqual(priceOf('something-new'), { input: 3, output: 15 });
  const cost = estimateCost('claude-sonnet-4-5', {
    inputTokens: 1_000_000,
    outputTokens: 1_000_000,
    cacheCreationTokens: 1_000_000,
    cacheReadTokens: 1_000_000,
  });
  t.is(Math.round(cost * 1000) / 1000, 3 + 15 + 3.75 + 0.3);
});

test('a log entry becomes a row with the reported counts, zero for the ones it lacks', (t) => {
  const row = rowOf(
    {
      time: '',
      method: 'POST',
      path: '/v1/messages',
      status: 200,
      durationMs: 12.5,
      bytesIn: 1,
      bytesOut: 2,
      model: 'claude-sonnet-4-5',
      usage: { input_tokens: 5, output_tokens: 6 },
    },
    'ann',
    'p',
    1000,
  );
  t.like(row, {
    time: 1000,
    member: 'ann',
    project: 'p',
    inputTokens: 5,
    outputTokens: 6,
    cacheCreationTokens: 0,
    cacheReadTokens: 0,
    status: 200,
  });
  t.is(row.error, undefined);
  const failed = rowOf(
    { time: '', method: 'POST', path: '/v1/messages', status: 502, durationMs: 1, bytesIn: 0, bytesOut: 0, error: 'Upstream unreachable' },
    'ann',
    'p',
    1,
  );
  t.like(failed, { model: '(unknown)', error: 'Upstream unreachable', cost: 0 });
});

test('the admin usage query accepts known groupings and days only', (t) => {
  t.deepEqual(usageQueryOf(new URLSearchParams('by=day,member&since=2026-01-01')), { by: ['day', 'member'], since: '2026-01-01' });
  t.regex(usageQueryOf(new URLSearchParams('by=day;drop')) as string, /Unknown grouping/);
  t.regex(usageQueryOf(new URLSearchParams('since=yesterday')) as string, /since must be a day/);
  t.deepEqual(usageQueryOf(new URLSearchParams('by=day&member=ann&since=2026-03-01')), { by: ['day'], since: '2026-03-01', member: 'ann' });
  t.regex(usageQueryOf(new URLSearchParams('member=')) as string, /member must be a member's name/);
  t.regex(
    usageQueryOf(new URLSearchParams(`member=${'x'.repeat(201)}`)) as string,
    /member must be a member's name \(1 to 200 characters\), got 201/,
  );
});

test('budget flags parse to numbers and refuse nonsense', (t) => {
  t.deepEqual(parseBudgets(['--daily-tokens', '100', '--monthly-cost=25.5']), { dailyTokens: 100, monthlyCost: 25.5 });
  t.throws(() => parseBudgets(['--daily-tokens', 'lots']), { message: /needs a number/ });
  t.throws(() => parseBudgets(['--weekly-tokens', '1']), { message: /Unknown option/ });
});

test('the ledger aggregates by day, month, member, project and model (SQLite, Node 22)', (t) => {
  const dir = tempDataDir();
  t.teardown(() => cleanup(dir));
  const row = (time: string, member: string, model: string, project: string, input: number, output: number, status = 200): LedgerRow => ({
    time: at(time),
    member,
    project,
    model,
    status,
    durationMs: 1,
    inputTokens: input,
    outputTokens: output,
    cacheCreationTokens: 1,
    cacheReadTokens: 2,
    cost: input / 1000,
  });
  const rows = [
    row('2026-02-27T10:00:00Z', 'ann', 'opus', 'web', 100, 10),
    row('2026-02-28T23:59:59Z', 'ann', 'sonnet', 'web', 200, 20),
    row('2026-02-28T00:00:00Z', 'ben', 'sonnet', 'api', 300, 30, 529),
    row('2026-03-01T00:00:00Z', 'ben', 'sonnet', 'web', 400, 40),
    row('2026-03-01T12:00:00Z', 'ann', 'opus', 'api', 500, 50),
  ];
  const queries = [
    { by: ['day'] },
    { by: ['month'] },
    { by: ['member'] },
    { by: ['model'] },
    { by: ['day', 'member'], since: '2026-02-28', until: '2026-02-28' },
    { by: [] },
    { by: ['project', 'model'] },
  ];
  const { results } = JSON.parse(seedLedger(dir, { rows, queries })) as { results: UsageRow[][] };
  const pick = (rs: UsageRow[], ...keys: string[]) =>
    rs.map((r) => [
      ...keys.map((k) => (r as Record<string, unknown>)[k]),
      r.requests,
      r.inputTokens,
      r.outputTokens,
      r.totalTokens,
      r.errors,
    ]);
  t.deepEqual(pick(results[0]!, 'day'), [
    ['2026-02-27', 1, 100, 10, 113, 0],
    ['2026-02-28', 2, 500, 50, 556, 1],
    ['2026-03-01', 2, 900, 90, 996, 0],
  ]);
  t.deepEqual(pick(results[1]!, 'month'), [
    ['2026-02', 3, 600, 60, 669, 1],
    ['2026-03', 2, 900, 90, 996, 0],
  ]);
  t.deepEqual(pick(results[2]!, 'member'), [
    ['ann', 3, 800, 80, 889, 0],
    ['ben', 2, 700, 70, 776, 1],
  ]);
  t.deepEqual(pick(results[3]!, 'model'), [
    ['opus', 2, 600, 60, 666, 0],
    ['sonnet', 3, 900, 90, 999, 1],
  ]);
  t.deepEqual(pick(results[4]!, 'day', 'member'), [
    ['2026-02-28', 'ann', 1, 200, 20, 223, 0],
    ['2026-02-28', 'ben', 1, 300, 30, 333, 1],
  ]);
  t.deepEqual(pick(results[5]!), [[5, 1500, 150, 1665, 1]]);
  t.deepEqual(pick(results[6]!, 'project', 'model'), [
    ['api', 'opus', 1, 500, 50, 553, 0],
    ['api', 'sonnet', 1, 300, 30, 333, 1],
    ['web', 'opus', 1, 100, 10, 113, 0],
    ['web', 'sonnet', 2, 600, 60, 666, 0],
  ]);
  t.is(results[2]![0]!.cost, 0.8);
});

test('a revoked member added again keeps their budgets, except those given now', (t) => {
  const dir = tempDataDir();
  try {
    const run = (...args: string[]) => {
      const r = memberCli(dir, args);
      if (r.status !== 0) throw new Error(r.stderr);
      return r.stdout;
    };
    const list = () => (JSON.parse(run('list')) as { members: Array<Record<string, unknown>> }).members.find((m) => m.name === 'gina')!;
    run('add', 'gina', '--daily-tokens', '30', '--monthly-cost', '12.5', '--max-in-flight', '2');
    run('revoke', 'gina');
    run('add', 'gina');
    t.like(list(), { dailyTokens: 30, monthlyCost: 12.5, maxInFlight: 2 });
    t.is(list().revokedAt, undefined);
    run('revoke', 'gina');
    run('add', 'gina', '--daily-tokens', '50');
    t.like(list(), { dailyTokens: 50, monthlyCost: 12.5, maxInFlight: 2 });
    run('budget', 'gina');
    t.deepEqual(Object.keys(list()).sort(), ['createdAt', 'name'], 'budget with no flags still removes every limit');
  } finally {
    cleanup(dir);
  }
});
