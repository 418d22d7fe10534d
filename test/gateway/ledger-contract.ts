/**
 * The ledger store's cases, one set for both stores: each opens the store it
 * is given (a SQLite path or a Postgres URL, fresh for the case) and checks
 * it with node:assert against figures worked out here from the rows, not read
 * back from either store. ledger-contract-run.ts runs them under Node 22 (for
 * node:sqlite); ledger-store.test.ts runs that for SQLite and for a real
 * Postgres and compares what both answered.
 */
import assert from 'node:assert/strict';
import type { LedgerBackend } from '../../lib/gateway/team/backend.js';
import { openBackend } from '../../lib/gateway/team/open-backend.js';
import { SCHEMA_VERSION } from '../../lib/gateway/team/schema.js';
import type { LedgerRow } from '../../lib/gateway/team/store.js';

export interface Target {
  /** A fresh SQLite path or Postgres database URL for each call. */
  fresh(): Promise<string>;
  /** Marks the ledger as written by a newer gateway. */
  bumpVersion(backend: LedgerBackend, version: number): Promise<void>;
}

const at = (iso: string) => Date.parse(iso);
const row = (over: Partial<LedgerRow>): LedgerRow => ({
  time: at('2026-03-10T12:00:00Z'),
  member: 'ann',
  project: 'p',
  model: 'claude-sonnet-4',
  status: 200,
  durationMs: 12.5,
  inputTokens: 10,
  outputTokens: 20,
  cacheCreationTokens: 3,
  cacheReadTokens: 40,
  cost: 0.001,
  ...over,
});

/** Rows over two months, three members, two models, with an error and odd names that sort differently by locale. */
export function sampleRows(): LedgerRow[] {
  const rows: LedgerRow[] = [];
  const members = ['ann', 'Bob', '_svc'];
  const models = ['claude-sonnet-4', 'claude-opus-4-5'];
  const days = ['2026-02-27T23:59:59Z', '2026-02-28T00:00:00Z', '2026-03-01T00:00:00Z', '2026-03-01T23:59:59.999Z', '2026-03-10T08:00:00Z'];
  let i = 0;
  for (const day of days) {
    for (const member of members) {
      for (const model of models) {
        i++;
        rows.push(
          row({
            time: at(day) + (i % 3),
            member,
            model,
            project: i % 2 ? 'web' : 'api',
            status: i % 7 === 0 ? 529 : 200,
            inputTokens: i * 11,
            outputTokens: i * 7,
            cacheCreationTokens: i,
            cacheReadTokens: i * 3,
            cost: i * 0.000123,
            ...(i % 7 === 0 ? { error: 'overloaded' } : {}),
          }),
        );
      }
    }
  }
  return rows;
}

type Case = (target: Target) => Promise<unknown>;

async function withStore<T>(target: Target, work: (b: LedgerBackend, where: string) => Promise<T>): Promise<T> {
  const where = await target.fresh();
  const backend = await openBackend(where);
  try {
    return await work(backend, where);
  } finally {
    await backend.close();
  }
}

const ask = (member: string, tokens: number, time = at('2026-03-10T12:00:00Z'), cap = 8) => ({
  member,
  time,
  estimate: { inputTokens: tokens, outputTokens: 0, tokens, cost: 0 },
  defaultMaxInFlight: cap,
});

export const CASES: Record<string, Case> = {
  async 'a new ledger is at the newest schema, and opening it again changes nothing'(target) {
    const where = await target.fresh();
    const first = await openBackend(where);
    assert.equal(await first.schemaVersion(), SCHEMA_VERSION);
    await first.insert([row({})]);
    await first.close();
    const second = await openBackend(where);
    assert.equal(await second.schemaVersion(), SCHEMA_VERSION);
    assert.equal((await second.totals()).requests, 1, 'the row survives a reopen');
    await second.close();
    return SCHEMA_VERSION;
  },

  async 'a ledger from a newer gateway is refused, not written'(target) {
    const where = await target.fresh();
    const backend = await openBackend(where);
    await target.bumpVersion(backend, SCHEMA_VERSION + 1);
    await backend.close();
    await assert.rejects(openBackend(where), (error: Error) => {
      assert.equal(error.name, 'GatewayConfigError');
      assert.match(
        error.message,
        new RegExp(`schema version ${SCHEMA_VERSION + 1}, newer than this gateway knows \\(${SCHEMA_VERSION}\\)`),
      );
      return true;
    });
    return 'refused';
  },

  async 'members: add, one active name, revoke seen at once, a revoked name comes back with a new token'(target) {
    return withStore(target, async (b) => {
      await b.addMember('ann', 'hash-1', { dailyTokens: 1000, monthlyCost: 12.5 }, 1000);
      await assert.rejects(b.addMember('ann', 'hash-2', {}), /A member named "ann" already exists/);
      assert.deepEqual(await b.memberByTokenHash('hash-1'), { name: 'ann', createdAt: 1000, dailyTokens: 1000, monthlyCost: 12.5 });
      assert.equal(await b.memberByTokenHash('hash-2'), undefined, 'the refused add left no token behind');
      assert.equal(await b.revokeMember('ann', 2000), true);
      assert.equal(await b.revokeMember('ann', 3000), false, 'revoking twice changes nothing');
      assert.equal(await b.memberByTokenHash('hash-1'), undefined, 'a revoked token is refused on the next lookup');
      await b.addMember('ann', 'hash-3', {}, 4000);
      assert.equal(await b.memberByTokenHash('hash-1'), undefined, 'the old token stays dead');
      assert.deepEqual(await b.memberByTokenHash('hash-3'), { name: 'ann', createdAt: 4000 });
      assert.equal(await b.setBudgets('ann', { dailyCost: 2 }), true);
      assert.equal(await b.setBudgets('nobody', { dailyCost: 2 }), false);
      await b.addMember('Bob', 'hash-b', {}, 5000);
      await b.addMember('_svc', 'hash-s', {}, 6000);
      const members = await b.members();
      // Byte order, as SQLite compares: upper case before "_" before lower case.
      assert.deepEqual(
        members.map((m) => m.name),
        ['Bob', '_svc', 'ann'],
      );
      assert.deepEqual(members[2], { name: 'ann', createdAt: 4000, dailyCost: 2 });
      return members;
    });
  },

  async 'usage: every grouping and window equals the sums of the rows'(target) {
    return withStore(target, async (b) => {
      const rows = sampleRows();
      await b.insert(rows.slice(0, 7));
      await b.insert(rows.slice(7));
      const day = (r: LedgerRow) => new Date(r.time).toISOString().slice(0, 10);
      const keyOf = {
        day,
        month: (r: LedgerRow) => day(r).slice(0, 7),
        member: (r: LedgerRow) => r.member,
        project: (r: LedgerRow) => r.project,
        model: (r: LedgerRow) => r.model,
      };
      const expect = (by: (keyof typeof keyOf)[], since?: string, until?: string, member?: string) => {
        const groups = new Map<string, Record<string, unknown>>();
        for (const r of rows) {
          if ((since && day(r) < since) || (until && day(r) > until) || (member !== undefined && r.member !== member)) continue;
          const key = JSON.stringify(by.map((k) => keyOf[k](r)));
          const g = (groups.get(key) ?? {
            ...Object.fromEntries(by.map((k) => [k, keyOf[k](r)])),
            requests: 0,
            errors: 0,
            inputTokens: 0,
            outputTokens: 0,
            cacheCreationTokens: 0,
            cacheReadTokens: 0,
            totalTokens: 0,
            cost: 0,
          }) as Record<string, number>;
          g.requests! += 1;
          g.errors! += r.status >= 400 ? 1 : 0;
          g.inputTokens! += r.inputTokens;
          g.outputTokens! += r.outputTokens;
          g.cacheCreationTokens! += r.cacheCreationTokens;
          g.cacheReadTokens! += r.cacheReadTokens;
          g.totalTokens! += r.inputTokens + r.outputTokens + r.cacheCreationTokens + r.cacheReadTokens;
          g.cost! += r.cost;
          groups.set(key, g);
        }
        return [...groups.entries()]
          .sort(([a], [c]) => (a < c ? -1 : a > c ? 1 : 0))
          .map(([, g]) => ({ ...g, cost: Math.round((g.cost as number) * 1e6) / 1e6 }));
      };
      const answers: unknown[] = [];
      // The last four: one member's month (as `usage --team` would ask it), another's, a name that sorts elsewhere, nobody.
      const queries: [(keyof typeof keyOf)[], string?, string?, string?][] = [
        [[]],
        [['day']],
        [['month']],
        [['member']],
        [['model', 'member']],
        [['month', 'member', 'project', 'model']],
        [['day'], '2026-02-28', '2026-03-01'],
        [['member'], '2026-03-01'],
        [[], undefined, '2026-02-27'],
        [['day'], '2027-01-01'],
        [['day'], '2026-03-01', '2026-03-31', 'ann'],
        [['day', 'model'], '2026-02-01', '2026-02-28', 'Bob'],
        [[], undefined, undefined, '_svc'],
        [['day'], undefined, undefined, 'nobody'],
      ];
      for (const [by, since, until, member] of queries) {
        const got = await b.usage({ by, ...(since ? { since } : {}), ...(until ? { until } : {}), ...(member ? { member } : {}) });
        assert.deepEqual(got, expect(by, since, until, member), `by=${by.join(',')} since=${since} until=${until} member=${member}`);
        answers.push(got);
      }
      return answers;
    });
  },

  async 'recent: newest first, ties by insertion, errors and unread usage only where set'(target) {
    return withStore(target, async (b) => {
      await b.insert([
        row({ time: 5, model: 'a' }),
        row({ time: 7, model: 'b', status: 500, error: 'boom' }),
        row({ time: 7, model: 'c' }),
        row({ time: 6, model: 'd', usageUnread: true }),
      ]);
      const recent = await b.recent(3);
      assert.deepEqual(
        recent.map((r) => r.model),
        ['c', 'b', 'd'],
      );
      assert.deepEqual(recent[1], row({ time: 7, model: 'b', status: 500, error: 'boom' }));
      assert.deepEqual(recent[2], row({ time: 6, model: 'd', usageUnread: true }), 'the usage_unread flag reads back');
      assert.equal('error' in recent[0]!, false);
      assert.equal('usageUnread' in recent[0]!, false);
      return recent;
    });
  },

  async 'retention prunes request rows and keeps the daily totals'(target) {
    return withStore(target, async (b) => {
      const rows = sampleRows();
      await b.insert(rows);
      const before = await b.usage({ by: ['month'] });
      const cut = at('2026-03-01T00:00:00Z');
      const pruned = await b.prune(cut);
      assert.equal(pruned, rows.filter((r) => r.time < cut).length);
      assert.equal((await b.totals()).requests, rows.length - pruned);
      assert.deepEqual(await b.usage({ by: ['month'] }), before, 'the roll-up is untouched');
      return pruned;
    });
  },

  async 'two writers at once lose no row and no roll-up update'(target) {
    const where = await target.fresh();
    const writers = await Promise.all([openBackend(where), openBackend(where)]);
    try {
      // Every row lands on the same daily key, the hottest case for a lost update.
      await Promise.all(
        writers.map((w, n) =>
          (async () => {
            for (let i = 0; i < 20; i++)
              await w.insert(
                Array.from({ length: 25 }, () =>
                  row({ inputTokens: n + 1, outputTokens: 0, cacheCreationTokens: 0, cacheReadTokens: 0, cost: 0 }),
                ),
              );
          })(),
        ),
      );
      const totals = await writers[0]!.totals();
      assert.equal(totals.requests, 1000);
      assert.equal(totals.dailyRequests, 1000);
      assert.equal(totals.dailyTokens, 500 * 1 + 500 * 2);
      return totals;
    } finally {
      await Promise.all(writers.map((w) => w.close()));
    }
  },

  async 'migration blocks: pages, roll-up rows and totals copy exactly'(target) {
    const source = await openBackend(await target.fresh());
    const copy = await openBackend(await target.fresh());
    try {
      const rows = sampleRows();
      await source.addMember('ann', 'h1', { dailyTokens: 5 }, 1);
      await source.revokeMember('ann', 2);
      await source.addMember('cap', 'h2', { maxInFlight: 3 }, 3);
      await source.insert([...rows, row({ time: at('2026-03-10T09:00:00Z'), usageUnread: true })]);
      await source.prune(at('2026-02-28T00:00:00Z'));
      const page1 = await source.requestPage(0, 10);
      const page2 = await source.requestPage(page1[page1.length - 1]!.id, 1000);
      assert.equal(page1.length + page2.length, (await source.totals()).requests);
      await copy.importRows(
        await source.storedMembers(),
        [...page1, ...page2].map((x) => x.row),
        await source.dailyRows(),
      );
      assert.deepEqual(await copy.totals(), await source.totals());
      assert.deepEqual(await copy.storedMembers(), [
        { name: 'ann', tokenHash: 'h1', createdAt: 1, revokedAt: 2, dailyTokens: 5 },
        { name: 'cap', tokenHash: 'h2', createdAt: 3, maxInFlight: 3 },
      ]);
      assert.equal([...page1, ...page2].filter((x) => x.row.usageUnread).length, 1, 'the unread flag is in the source pages');
      assert.deepEqual((await copy.recent(1))[0], row({ time: at('2026-03-10T09:00:00Z'), usageUnread: true }), 'and in the copy');
      assert.deepEqual(await copy.usage({ by: ['day', 'member', 'model'] }), await source.usage({ by: ['day', 'member', 'model'] }));
      return copy.totals();
    } finally {
      await source.close();
      await copy.close();
    }
  },

  async 'reservations: the in-flight cap, spent and held budgets, settle by row, revoked and expired'(target) {
    return withStore(target, async (b) => {
      // Each rule on its own member, so one refusal never hides another.
      const now = at('2026-03-10T12:00:00Z');
      await b.addMember('cap', 'h-cap', { maxInFlight: 2 }, 1);
      const a1 = await b.reserve(ask('cap', 10));
      const a2 = await b.reserve(ask('cap', 10));
      const a3 = await b.reserve(ask('cap', 10));
      assert.ok(a1.ok && a2.ok);
      assert.deepEqual(a3, { ok: false, kind: 'in-flight', count: 2, cap: 2 });
      if (a1.ok) await b.release(a1.id);
      assert.equal((await b.reserve(ask('cap', 10))).ok, true, 'a released slot admits again');

      await b.addMember('bud', 'h-bud', { dailyTokens: 1000 }, 1);
      await b.insert([
        row({ member: 'bud', time: now - 1000, inputTokens: 700, outputTokens: 0, cacheCreationTokens: 0, cacheReadTokens: 0 }),
      ]);
      const r1 = await b.reserve(ask('bud', 200));
      assert.equal(r1.ok, true, '700 spent < 1000');
      const r2 = await b.reserve(ask('bud', 200));
      assert.equal(r2.ok, true, '700 + 200 held < 1000');
      const r3 = await b.reserve(ask('bud', 200));
      assert.equal(!r3.ok && r3.kind === 'budget' && r3.refusal.kind, 'held', '700 + 400 held >= 1000');
      // The rows that settle both: 150 and 200 tokens; the reservations go in the same commit.
      if (r1.ok && r2.ok) {
        await b.insert([
          row({
            member: 'bud',
            time: now,
            inputTokens: 150,
            outputTokens: 0,
            cacheCreationTokens: 0,
            cacheReadTokens: 0,
            reservation: r1.id,
          }),
          row({
            member: 'bud',
            time: now,
            inputTokens: 200,
            outputTokens: 0,
            cacheCreationTokens: 0,
            cacheReadTokens: 0,
            reservation: r2.id,
          }),
        ]);
      }
      const r4 = await b.reserve(ask('bud', 1));
      assert.equal(!r4.ok && r4.kind === 'budget' && r4.refusal.kind, 'spent', '1050 spent');
      assert.deepEqual(await b.spendOf('bud', now), {
        day: '2026-03-10',
        month: '2026-03',
        dayTokens: 1050,
        dayCost: 0.003,
        monthTokens: 1050,
        monthCost: 0.003,
      });

      await b.addMember('gone', 'h-gone', {}, 1);
      await b.revokeMember('gone', 2);
      assert.deepEqual(await b.reserve(ask('gone', 1)), { ok: false, kind: 'no-member' });

      await b.addMember('old', 'h-old', { maxInFlight: 1 }, 1);
      assert.equal((await b.reserve(ask('old', 1, now - 2 * 3_600_000))).ok, true);
      assert.equal((await b.reserve(ask('old', 1, now))).ok, true, 'a reservation past its expiry holds nothing');
      return 'ok';
    });
  },

  async 'reservations from two writers at once admit exactly what the rule allows'(target) {
    const where = await target.fresh();
    const setup = await openBackend(where);
    await setup.addMember('ann', 'h', { dailyTokens: 1000, maxInFlight: 1000 }, 1);
    await setup.close();
    const writers = await Promise.all([openBackend(where), openBackend(where)]);
    try {
      // Warm both pools first, so the asks below really run side by side.
      await Promise.all(writers.flatMap((w) => Array.from({ length: 10 }, () => w.spendOf('ann', 0))));
      // 200 asks of 10 tokens: admitted while held < 1000, so exactly 100, however they interleave.
      const results = await Promise.all(
        Array.from({ length: 200 }, (_, i) => writers[i % 2]!.reserve(ask('ann', 10, at('2026-03-10T12:00:00Z'), 1000))),
      );
      const admitted = results.filter((r) => r.ok).length;
      assert.equal(admitted, 100);
      return admitted;
    } finally {
      await Promise.all(writers.map((w) => w.close()));
    }
  },
};
