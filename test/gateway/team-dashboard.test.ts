/**
 * The dashboard in a real browser: headless Chromium (Debian's `chromium`)
 * opens /dashboard on a team gateway over a seeded ledger, with the admin
 * token in the URL fragment as a team lead's bookmark would carry it. The
 * DOM after the page's own fetches must hold the chart's bars and one row per
 * member; Chromium's log must show no console message at all (errors, CSP
 * violations and failed loads all land there). A screenshot is kept in
 * .cctl-test/artifacts (or $CCTL_TEST_ARTIFACTS).
 */
import test from 'ava';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CHROMIUM, chromium } from './chromium.js';
import { startUpstream, type Upstream } from './fixtures.js';
import { ADMIN_TOKEN, cleanup, ROOT, seedLedger, startTeam, tempDataDir, type TeamProcess } from './team-fixtures.js';

const ARTIFACTS = process.env.CCTL_TEST_ARTIFACTS ?? join(ROOT, '.cctl-test', 'artifacts');
const MEMBERS = ['alice', 'bob', 'carol'];

let upstream: Upstream;
let team: TeamProcess;

test.before(async () => {
  if (!existsSync(CHROMIUM))
    throw new Error(`The dashboard test needs headless Chromium at ${CHROMIUM}: apt-get install chromium (or set CCTL_CHROMIUM).`);
  const dir = tempDataDir();
  seedLedger(dir, {
    members: MEMBERS,
    generate: { count: 3000, days: 30, members: MEMBERS, models: ['claude-sonnet-4-5', 'claude-opus-4-1'], projects: ['web', 'api'] },
  });
  upstream = await startUpstream();
  team = await startTeam(upstream.url, { dataDir: dir });
});
test.after.always(async () => {
  await team?.stop();
  await upstream?.close();
  if (team) cleanup(team.dataDir);
});

const tableRows = (dom: string, id: string) => {
  const table = new RegExp(`<table id="${id}">[\\s\\S]*?<tbody>([\\s\\S]*?)</tbody>`).exec(dom)?.[1] ?? '';
  return [...table.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map((m) => [...m[1]!.matchAll(/<td[^>]*>([^<]*)<\/td>/g)].map((c) => c[1]));
};

test.serial('the chart and the member rows render, with nothing on the console', (t) => {
  const url = `http://127.0.0.1:${team.port}/dashboard#token=${ADMIN_TOKEN}`;
  const { stdout: dom, console } = chromium(url, ['--dump-dom']);
  t.deepEqual(console, [], 'no console output: no errors, CSP violations or failed loads');
  const bars = dom.match(/<rect [^>]*class="bar"/g) ?? [];
  t.true(bars.length >= 30 && bars.length <= 30 * MEMBERS.length, `${bars.length} bars: one per member per day`);
  t.regex(dom, /<svg [^>]*aria-label="Daily tokens by member"/);
  const members = tableRows(dom, 'members');
  t.deepEqual(
    members.map((r) => r[0]),
    MEMBERS,
  );
  t.true(
    members.every((r) => /^\d{1,3}(,\d{3})*$/.test(r[1]!) && r[7]!.startsWith('$')),
    JSON.stringify(members[0]),
  );
  t.is(tableRows(dom, 'models').length, 2);
  t.is(tableRows(dom, 'recent').length, 50);
  t.deepEqual(
    tableRows(dom, 'budgets').map((r) => r.slice(0, 3)),
    MEMBERS.map((m) => [m, 'active', 'none']),
  );
  t.regex(dom, /<b id="errors">\d+\.\d%<\/b>/);

  mkdirSync(ARTIFACTS, { recursive: true });
  const shot = join(ARTIFACTS, 'dashboard.png');
  rmSync(shot, { force: true });
  const second = chromium(url, [`--screenshot=${shot}`]);
  t.deepEqual(second.console, []);
  t.true(statSync(shot).size > 10_000, `screenshot at ${shot}`);
  t.deepEqual([...readFileSync(shot).subarray(1, 4)], [...Buffer.from('PNG')]);
  t.log(`screenshot: ${shot}`);
  // A phone-sized window: the page must still load cleanly (tables scroll inside their panels).
  const phone = join(ARTIFACTS, 'dashboard-phone.png');
  rmSync(phone, { force: true });
  t.deepEqual(chromium(url, [`--screenshot=${phone}`, '--window-size=390,1400']).console, []);
  t.true(statSync(phone).size > 10_000, `screenshot at ${phone}`);
});

test.serial('control: a wrong admin token shows the refusal on the page and an error on the console', (t) => {
  const { stdout: dom, console } = chromium(`http://127.0.0.1:${team.port}/dashboard#token=not-the-admin-token`, ['--dump-dom']);
  t.true(
    console.some((line) => line.includes('did not accept this admin token')),
    console.join('\n'),
  );
  t.regex(dom, /id="status" class="error">The gateway did not accept this admin token\./);
  t.is(tableRows(dom, 'members').length, 0);
  t.regex(dom, /<form id="login">/, 'the token form is shown again');
});
