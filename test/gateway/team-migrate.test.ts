/**
 * `migrate --from sqlite` (team/cli.js, what `cctl gateway migrate` runs in
 * the gateway's container): a SQLite ledger with members, request rows over
 * several days and a pruned stretch is copied into a real Postgres (Debian's
 * package, started here); the copy's counts and totals equal the source's,
 * both stores answer the same usage, the old member token works against the
 * Postgres ledger, and a second run (or a non-empty target) is refused.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { bearer, send, startUpstream } from './fixtures.js';
import { ADMIN_TOKEN, cleanup, memberCli, ROOT, seedLedger, startTeam, tempDataDir, tsNode } from './team-fixtures.js';
import { compareTotals } from '../../lib/gateway/team/migrate.js';
import type { LedgerTotals } from '../../lib/gateway/team/backend.js';

let pg: TestPostgres;
test.before(async () => {
  pg = await startPostgres();
});
test.after.always(() => pg?.stop());

function migrate(dataDir: string, url: string | undefined, args = ['--from', 'sqlite']) {
  const [bin, ...rest] = tsNode('lib/gateway/team/cli.ts');
  return spawnSync(bin!, [...rest, 'migrate', ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, CCTL_DATA_DIR: dataDir, ...(url ? { CCTL_LEDGER_URL: url } : {}) },
    encoding: 'utf8',
    timeout: 120_000,
  });
}

const usage = async (port: number, by: string) =>
  (JSON.parse((await send(port, { path: `/admin/api/usage?by=${by}`, headers: bearer(ADMIN_TOKEN) })).body) as { rows: unknown[] }).rows;

test('a SQLite ledger is copied into an empty Postgres: equal counts and totals, the same usage, the old tokens work', async (t) => {
  const dataDir = tempDataDir();
  t.teardown(() => cleanup(dataDir));
  // The seeded rows end now, so ann's usage today grows through the day (~1.8M tokens by evening): her budget
  // must stay above any day's share, or the copied token is refused for the budget, not for the copy.
  const add = memberCli(dataDir, ['add', 'ann', '--daily-tokens', '90000000', '--max-in-flight', '3']);
  t.is(add.status, 0, add.stderr);
  const token = add.stdout.trim();
  t.is(memberCli(dataDir, ['add', 'bob']).status, 0);
  t.is(memberCli(dataDir, ['revoke', 'bob']).status, 0);
  // 12,345 rows over 40 days: more than two copy blocks, and a usage_unread row.
  seedLedger(dataDir, {
    generate: {
      count: 12_345,
      days: 40,
      members: ['ann', 'bob'],
      models: ['claude-sonnet-4', 'claude-opus-4-5'],
      projects: ['web', 'api'],
    },
    rows: [
      {
        time: Date.now() - 1000,
        member: 'ann',
        project: 'web',
        model: 'claude-sonnet-4',
        status: 200,
        durationMs: 5,
        inputTokens: 64,
        outputTokens: 4096,
        cacheCreationTokens: 0,
        cacheReadTokens: 0,
        cost: 0.07,
        usageUnread: true,
      },
    ],
  });

  const url = await pg.database();
  const run = migrate(dataDir, url);
  t.is(run.status, 0, run.stderr);
  const report = JSON.parse(run.stdout) as { ok: boolean; source: LedgerTotals; target: LedgerTotals; differences: string[] };
  t.true(report.ok);
  t.deepEqual(report.differences, []);
  t.like(report.source, { members: 2, requests: 12_346 });
  t.is(report.target.requests, 12_346);
  t.is(report.target.requestTokens, report.source.requestTokens);
  t.is(report.target.dailyTokens, report.source.dailyTokens);
  t.regex(run.stderr, /copied 12346 of 12346 request rows/);

  // Both stores answer the same, through a gateway on each.
  const upstream = await startUpstream(
    (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ type: 'message', model: 'claude-sonnet-4', content: [], usage: { input_tokens: 3, output_tokens: 1 } }));
    },
    { readBody: true },
  );
  t.teardown(() => upstream.close());
  const onSqlite = await startTeam(upstream.url, { dataDir });
  const pgDir = tempDataDir();
  const onPostgres = await startTeam(upstream.url, { dataDir: pgDir, env: { CCTL_LEDGER_URL: url } });
  t.teardown(async () => {
    await onSqlite.stop();
    await onPostgres.stop();
    cleanup(pgDir);
  });
  for (const by of ['member', 'day', 'model,member', 'month,project'])
    t.deepEqual(await usage(onPostgres.port, by), await usage(onSqlite.port, by), by);
  // ann's token (only its hash was copied) is a member of the Postgres ledger, with her budgets; bob stays revoked.
  const members = JSON.parse((await send(onPostgres.port, { path: '/admin/api/members', headers: bearer(ADMIN_TOKEN) })).body) as {
    members: { name: string; revokedAt?: number; dailyTokens?: number; maxInFlight?: number }[];
  };
  t.like(
    members.members.find((m) => m.name === 'ann'),
    { dailyTokens: 90000000, maxInFlight: 3 },
  );
  t.truthy(members.members.find((m) => m.name === 'bob')?.revokedAt);
  const r = await send(onPostgres.port, {
    body: JSON.stringify({ model: 'claude-sonnet-4', max_tokens: 10, messages: [] }),
    headers: { 'x-api-key': token },
  });
  t.is(r.status, 200, r.body);

  // Again: the target is no longer empty, so nothing is copied twice.
  const again = migrate(dataDir, url);
  t.is(again.status, 1);
  t.regex(again.stderr, /is not empty \(2 members, 1234\d request rows/);
});

test('migrate refuses without a Postgres ledger, without a SQLite file, and with other words', (t) => {
  const dataDir = tempDataDir();
  t.teardown(() => cleanup(dataDir));
  const noUrl = migrate(dataDir, undefined);
  t.is(noUrl.status, 1);
  t.regex(noUrl.stderr, /keeps its ledger in SQLite[\s\S]*--ledger postgres/);
  const noFile = migrate(dataDir, 'postgres://cctl@127.0.0.1:1/none');
  t.is(noFile.status, 1);
  t.regex(noFile.stderr, /no SQLite ledger to copy: .*ledger\.db does not exist/);
  const wrong = migrate(dataDir, undefined, ['--from', 'mysql']);
  t.is(wrong.status, 2);
  t.regex(wrong.stderr, /usage: cli\.js migrate --from sqlite/);
});

test('the check names each total that differs, and allows cost sums a millionth apart', (t) => {
  const base: LedgerTotals = {
    members: 2,
    requests: 10,
    dailyRows: 3,
    requestTokens: 100,
    requestCost: 0.1,
    dailyRequests: 10,
    dailyTokens: 100,
    dailyCost: 0.1,
  };
  t.deepEqual(compareTotals(base, { ...base, requestCost: 0.1 + 1e-9 }), []);
  t.deepEqual(compareTotals(base, { ...base, requests: 9, dailyCost: 0.2 }), [
    'requests: 10 in SQLite, 9 in Postgres',
    'dailyCost: 0.1 in SQLite, 0.2 in Postgres',
  ]);
});
