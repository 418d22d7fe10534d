/**
 * Script injection into the team dashboard. A member (or a workspace behind
 * a member's gateway) controls the model string of a request, and a member
 * with their own token controls the project header; both reach the ledger
 * and the dashboard's tables and chart. The attack sends markup that would
 * run if any value went in as HTML; headless Chromium then loads the page
 * and the DOM must hold the markup as text only, the title unchanged, and
 * no console line (a CSP refusal would print one).
 */
import test from 'ava';
import { existsSync } from 'node:fs';
import { CHROMIUM, chromium } from './chromium.js';
import { send, startUpstream, type Upstream } from './fixtures.js';
import { ADMIN_TOKEN, cleanup, memberCli, seedLedger, startTeam, tempDataDir, type TeamProcess } from './team-fixtures.js';

const IMG = '<img src=x onerror="document.title=\'XSS-img\'">';
const SVG = '"><svg onload="document.title=\'XSS-svg\'">';
const SCRIPT = "</script><script>document.title='XSS-script'</script>";

let upstream: Upstream;
let team: TeamProcess;

test.before(async () => {
  if (!existsSync(CHROMIUM))
    throw new Error(`The dashboard test needs headless Chromium at ${CHROMIUM}: apt-get install chromium (or set CCTL_CHROMIUM).`);
  const dir = tempDataDir();
  // Member names come from the admin, and `member add` takes none with markup; rows written past it must not run either.
  seedLedger(dir, {
    generate: { count: 40, days: 3, members: [SVG], models: [IMG], projects: [SCRIPT] },
  });
  // The upstream refuses the request: the row then names the model the request asked for.
  upstream = await startUpstream((_req, res) => {
    res.writeHead(400, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ type: 'error', error: { type: 'invalid_request_error', message: 'no such model' } }));
  });
  team = await startTeam(upstream.url, { dataDir: dir });
});
test.after.always(async () => {
  await team?.stop();
  await upstream?.close();
  if (team) cleanup(team.dataDir);
});

test.serial('markup in a model, a project or a member name is shown as text and never runs', async (t) => {
  const token = memberCli(team.dataDir, ['add', 'mallory']).stdout.trim();
  const body = JSON.stringify({ model: SCRIPT + IMG, max_tokens: 5, messages: [] });
  const refused = await send(team.port, { body, headers: { 'x-api-key': token, 'x-cctl-project': IMG + SVG } });
  t.is(refused.status, 400);

  const { stdout: dom, console } = chromium(`http://127.0.0.1:${team.port}/dashboard#token=${ADMIN_TOKEN}`, ['--dump-dom']);
  t.deepEqual(console, [], 'no console output: no script error, no CSP refusal');
  t.regex(dom, /<title>cctl team gateway<\/title>/, 'no injected script changed the title');
  t.notRegex(dom, /<img|<svg onload|<script>document/i, 'no injected element in the DOM');
  // The payloads did reach the page, as text: the attack was delivered, and refused by the page.
  t.true(dom.includes('&lt;img src=x onerror='), 'the model is in the tables as text');
  t.true(dom.includes('&lt;/script&gt;&lt;script&gt;'), 'the project is in the tables as text');
  t.true(dom.includes('"&gt;&lt;svg onload='), 'the member name is in the tables as text');
  t.true(dom.includes('mallory'), "the live request's row is on the page");
});
