/**
 * GET /metrics: behind its own token, in the Prometheus text format (read
 * back with a Prometheus text-format parser, and every sample line checked
 * against the format's grammar), with counters that equal what happened:
 * the requests sent, the egress decisions, and in team mode the ledger.
 */
import test from 'ava';
import { createRequire } from 'node:module';
import { GatewayMetrics, MAX_EGRESS_HOSTS } from '../../lib/gateway/metrics-http.js';
import { bearer, CLIENT_TOKEN, defaultReply, messagesBody, send, startGateway, startUpstream } from './fixtures.js';
import { ADMIN_TOKEN, cleanup, memberCli, postgresMemberCli, startTeam, type TeamProcess } from './team-fixtures.js';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';

type Parsed = {
  name: string;
  type: string;
  metrics: { value?: string; labels?: Record<string, string>; buckets?: Record<string, string>; count?: string; sum?: string }[];
}[];
const parsePrometheus = createRequire(import.meta.url)('parse-prometheus-text-format') as (text: string) => Parsed;

const METRICS_TOKEN = 'metrics-token-for-tests-0123456789';
const SAMPLE =
  /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"(,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*")*\})? (-?[0-9.e+-]+|\+Inf|-Inf|NaN)$/;

/** Parses, after checking each line is a comment or a sample the format allows. */
function parseStrict(text: string): Parsed {
  for (const line of text.trimEnd().split('\n')) {
    if (line.startsWith('# HELP ') || line.startsWith('# TYPE ')) continue;
    if (!SAMPLE.test(line)) throw new Error(`not a valid sample line: ${JSON.stringify(line)}`);
  }
  return parsePrometheus(text);
}

const family = (parsed: Parsed, name: string) => parsed.find((f) => f.name === name)?.metrics ?? [];
const value = (parsed: Parsed, name: string, labels: Record<string, string> = {}) =>
  Number(family(parsed, name).find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v))?.value ?? NaN);

async function scrape(port: number, token = METRICS_TOKEN) {
  return send(port, { path: '/metrics', headers: bearer(token) });
}

test('local gateway: /metrics needs its own token, and counts requests, refusals and latency', async (t) => {
  const upstream = await startUpstream(defaultReply);
  const metrics = new GatewayMetrics({ token: METRICS_TOKEN });
  const started = await startGateway(upstream.url, { log: metrics.observe(() => {}) });
  metrics.attach(started.gateway.server);
  t.teardown(async () => {
    await started.gateway.close(100);
    await upstream.close();
  });
  t.is((await send(started.port, { path: '/metrics' })).status, 401, 'no token');
  t.is((await scrape(started.port, CLIENT_TOKEN)).status, 401, 'the client token is not the metrics token');
  for (let i = 0; i < 5; i++)
    t.is((await send(started.port, { body: messagesBody(), headers: { 'x-api-key': CLIENT_TOKEN } })).status, 200);
  for (let i = 0; i < 2; i++) t.is((await send(started.port, { body: messagesBody(), headers: { 'x-api-key': 'wrong' } })).status, 401);
  const reply = await scrape(started.port);
  t.is(reply.status, 200);
  t.regex(String(reply.headers['content-type']), /^text\/plain; version=0\.0\.4/);
  const parsed = parseStrict(reply.body);
  t.is(value(parsed, 'cctl_gateway_requests_total', { code: '200' }), 5);
  t.is(value(parsed, 'cctl_gateway_requests_total', { code: '401' }), 2);
  t.is(value(parsed, 'cctl_gateway_refusals_total', { code: '401' }), 2);
  t.is(value(parsed, 'cctl_gateway_requests_in_flight'), 0);
  // The parser keeps a labelled histogram's buckets but drops its labels, _sum and _count: those are read from the lines.
  t.is(family(parsed, 'cctl_gateway_request_duration_seconds')[0]?.buckets?.['+Inf'], '7');
  const sample = (name: string) =>
    Number(
      / (\S+)$/.exec(reply.body.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes('route="messages"')) ?? '')?.[1] ?? NaN,
    );
  t.is(sample('cctl_gateway_request_duration_seconds_count'), 7, 'every API request is in the histogram');
  t.true(sample('cctl_gateway_request_duration_seconds_sum') > 0);
  const buckets = reply.body
    .split('\n')
    .filter((l) => l.startsWith('cctl_gateway_request_duration_seconds_bucket{route="messages"'))
    .map((l) => Number(l.split(' ')[1]));
  t.deepEqual(
    buckets,
    [...buckets].sort((a, b) => a - b),
    'buckets are cumulative',
  );
  t.is(buckets[buckets.length - 1], 7);
  t.is(family(parsed, 'cctl_ledger_requests_total').length, 0, 'no ledger in the local gateway');
});

test('in flight counts a request until its reply ends', async (t) => {
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  const upstream = await startUpstream((req, res, body) => void held.then(() => defaultReply(req, res)), { readBody: true });
  const metrics = new GatewayMetrics({ token: METRICS_TOKEN });
  const started = await startGateway(upstream.url, { log: metrics.observe(() => {}) });
  metrics.attach(started.gateway.server);
  t.teardown(async () => {
    await started.gateway.close(100);
    await upstream.close();
  });
  const slow = [1, 2, 3].map(() => send(started.port, { body: messagesBody(), headers: { 'x-api-key': CLIENT_TOKEN } }));
  const deadline = Date.now() + 5000;
  let inFlight = 0;
  while (inFlight < 3 && Date.now() < deadline) {
    inFlight = value(parseStrict((await scrape(started.port)).body), 'cctl_gateway_requests_in_flight');
    if (inFlight < 3) await new Promise((r) => setTimeout(r, 20));
  }
  t.is(inFlight, 3);
  release();
  await Promise.all(slow);
  t.is(value(parseStrict((await scrape(started.port)).body), 'cctl_gateway_requests_in_flight'), 0);
});

test('egress decisions by host, with hosts past the cap folded into "(other)" (a workspace cannot grow the metrics without bound)', async (t) => {
  const metrics = new GatewayMetrics({ token: METRICS_TOKEN });
  const write = metrics.observe(() => {});
  const line = (host: string, decision: string) =>
    JSON.stringify({ time: 'x', event: 'egress', kind: 'connect', decision, host, port: 443, status: 200 });
  for (let i = 0; i < 3; i++) write(line('registry.npmjs.org', 'allowed'));
  for (let i = 0; i < MAX_EGRESS_HOSTS + 50; i++) write(line(`attacker-${i}.example`, 'denied'));
  write(line('registry.npmjs.org', 'denied'));
  const parsed = parseStrict(await metrics.registry.render());
  const series = family(parsed, 'cctl_egress_connections_total');
  t.is(value(parsed, 'cctl_egress_connections_total', { decision: 'allowed', host: 'registry.npmjs.org' }), 3);
  t.is(
    value(parsed, 'cctl_egress_connections_total', { decision: 'denied', host: 'registry.npmjs.org' }),
    1,
    'a host already known keeps its label',
  );
  t.is(value(parsed, 'cctl_egress_connections_total', { decision: 'denied', host: '(other)' }), 51);
  t.true(new Set(series.map((m) => m.labels?.host)).size <= MAX_EGRESS_HOSTS + 1, `${series.length} series`);
  const denied = series.filter((m) => m.labels?.decision === 'denied').reduce((sum, m) => sum + Number(m.value), 0);
  t.is(denied, MAX_EGRESS_HOSTS + 51, 'every decision is counted');
});

test('label values are escaped: a model name with quotes, backslashes and a newline reads back exactly', async (t) => {
  const awkward = 'claude "x"\\y\nz';
  const metrics = new GatewayMetrics({
    token: METRICS_TOKEN,
    ledger: {
      usage: async () => [
        {
          member: 'ann',
          model: awkward,
          requests: 2,
          errors: 0,
          inputTokens: 1,
          outputTokens: 2,
          cacheCreationTokens: 3,
          cacheReadTokens: 4,
          cost: 0.5,
        },
      ],
    },
  });
  const parsed = parseStrict(await metrics.registry.render());
  t.is(value(parsed, 'cctl_ledger_requests_total', { member: 'ann', model: awkward }), 2);
});

test('team gateway: the ledger counters equal the ledger, by member and model, and tokens by kind', async (t) => {
  const upstream = await startUpstream(
    (req, res, body) => {
      const model = (JSON.parse(body) as { model: string }).model;
      const reply = JSON.stringify({
        id: 'm',
        type: 'message',
        role: 'assistant',
        model,
        content: [],
        stop_reason: 'end_turn',
        usage: { input_tokens: model.length, output_tokens: 5, cache_creation_input_tokens: 2, cache_read_input_tokens: 9 },
      });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(reply);
    },
    { readBody: true },
  );
  const team = await startTeam(upstream.url, { env: { CCTL_METRICS_TOKEN: METRICS_TOKEN } });
  t.teardown(async () => {
    await team.stop();
    await upstream.close();
    cleanup(team.dataDir);
  });
  const tokens = { ann: memberCli(team.dataDir, ['add', 'ann']).stdout.trim(), bob: memberCli(team.dataDir, ['add', 'bob']).stdout.trim() };
  const plan: [keyof typeof tokens, string, number][] = [
    ['ann', 'claude-sonnet-4', 4],
    ['ann', 'claude-opus-4-5', 2],
    ['bob', 'claude-sonnet-4', 3],
  ];
  for (const [member, model, count] of plan) {
    for (let i = 0; i < count; i++)
      t.is((await send(team.port, { body: messagesBody({ model }), headers: { 'x-api-key': tokens[member] } })).status, 200);
  }
  t.is((await scrape(team.port, ADMIN_TOKEN)).status, 401, 'the admin token does not open the metrics');
  const usage = JSON.parse((await send(team.port, { path: '/admin/api/usage?by=member,model', headers: bearer(ADMIN_TOKEN) })).body) as {
    rows: Record<string, any>[];
  };
  t.is(usage.rows.length, 3);
  const parsed = parseStrict((await scrape(team.port)).body);
  for (const row of usage.rows) {
    const labels = { member: row.member as string, model: row.model as string };
    t.is(value(parsed, 'cctl_ledger_requests_total', labels), row.requests);
    t.is(value(parsed, 'cctl_ledger_tokens_total', { ...labels, kind: 'input' }), row.inputTokens);
    t.is(value(parsed, 'cctl_ledger_tokens_total', { ...labels, kind: 'output' }), row.outputTokens);
    t.is(value(parsed, 'cctl_ledger_tokens_total', { ...labels, kind: 'cache_creation' }), row.cacheCreationTokens);
    t.is(value(parsed, 'cctl_ledger_tokens_total', { ...labels, kind: 'cache_read' }), row.cacheReadTokens);
    t.is(value(parsed, 'cctl_ledger_cost_usd_total', labels), row.cost);
  }
  t.is(value(parsed, 'cctl_ledger_requests_total', { member: 'ann', model: 'claude-sonnet-4' }), 4, 'and they equal what was sent');
  t.is(value(parsed, 'cctl_gateway_requests_total', { code: '200' }), 9);
});

let pg: TestPostgres | undefined;
test.after.always(() => pg?.stop());

// A burst of parallel requests, two members, two models, each request's usage its own: once the ledger holds
// them all, every counter equals the ledger, and the count from the log lines equals the rows, on both stores.
for (const store of ['sqlite', 'postgres'] as const) {
  test.serial(`after a burst of parallel requests, /metrics counters equal the ledger (${store})`, async (t) => {
    const BURST = 60;
    let n = 0;
    const upstream = await startUpstream(
      (req, res, body) => {
        const model = (JSON.parse(body) as { model: string }).model;
        const k = ++n;
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            id: `m${k}`,
            type: 'message',
            role: 'assistant',
            model,
            content: [],
            stop_reason: 'end_turn',
            usage: { input_tokens: k, output_tokens: 2 * k, cache_creation_input_tokens: k % 5, cache_read_input_tokens: 3 * k },
          }),
        );
      },
      { readBody: true },
    );
    const env: Record<string, string> = { CCTL_METRICS_TOKEN: METRICS_TOKEN, CCTL_MAX_IN_FLIGHT: String(BURST) };
    let url: string | undefined;
    if (store === 'postgres') {
      pg ??= await startPostgres();
      env.CCTL_LEDGER_URL = url = await pg.database();
    }
    const team: TeamProcess = await startTeam(upstream.url, { env });
    t.teardown(async () => {
      await team.stop();
      await upstream.close();
      cleanup(team.dataDir);
    });
    const add = (name: string) => (url ? postgresMemberCli(url, ['add', name]) : memberCli(team.dataDir, ['add', name]).stdout.trim());
    const tokens = [add('ann'), add('bob')];
    const models = ['claude-sonnet-4', 'claude-opus-4-5'];
    const replies = await Promise.all(
      Array.from({ length: BURST }, (_, i) =>
        send(team.port, { body: messagesBody({ model: models[i % 2]! }), headers: { 'x-api-key': tokens[(i >> 1) % 2]! } }),
      ),
    );
    t.deepEqual(
      replies.map((r) => r.status),
      Array(BURST).fill(200),
    );
    // Rows reach the ledger in batches, after the replies: wait until it holds them all (or 10 s), then compare.
    type Usage = {
      rows: {
        member: string;
        model: string;
        requests: number;
        inputTokens: number;
        outputTokens: number;
        cacheCreationTokens: number;
        cacheReadTokens: number;
        cost: number;
      }[];
    };
    const usage = async () =>
      (JSON.parse((await send(team.port, { path: '/admin/api/usage?by=member,model', headers: bearer(ADMIN_TOKEN) })).body) as Usage).rows;
    let rows = await usage();
    for (
      const deadline = Date.now() + 10_000;
      rows.reduce((s, r) => s + r.requests, 0) < BURST && Date.now() < deadline;
      rows = await usage()
    ) {
      await new Promise((r) => setTimeout(r, 100));
    }
    t.is(
      rows.reduce((s, r) => s + r.requests, 0),
      BURST,
      'the ledger holds one row per reply',
    );
    t.is(rows.length, 4);
    const parsed = parseStrict((await scrape(team.port)).body);
    t.is(value(parsed, 'cctl_gateway_requests_total', { code: '200' }), BURST, 'the count from the log lines');
    for (const row of rows) {
      const labels = { member: row.member, model: row.model };
      t.is(value(parsed, 'cctl_ledger_requests_total', labels), row.requests);
      t.is(value(parsed, 'cctl_ledger_tokens_total', { ...labels, kind: 'input' }), row.inputTokens);
      t.is(value(parsed, 'cctl_ledger_tokens_total', { ...labels, kind: 'output' }), row.outputTokens);
      t.is(value(parsed, 'cctl_ledger_tokens_total', { ...labels, kind: 'cache_creation' }), row.cacheCreationTokens);
      t.is(value(parsed, 'cctl_ledger_tokens_total', { ...labels, kind: 'cache_read' }), row.cacheReadTokens);
      t.is(value(parsed, 'cctl_ledger_cost_usd_total', labels), row.cost);
    }
    // Each reply's usage was k, 2k, k % 5, 3k for k = 1..BURST: the sums are known without the ledger.
    const sum = (pick: (r: Usage['rows'][number]) => number) => rows.reduce((s, r) => s + pick(r), 0);
    const k = (BURST * (BURST + 1)) / 2;
    t.deepEqual([sum((r) => r.inputTokens), sum((r) => r.outputTokens), sum((r) => r.cacheReadTokens)], [k, 2 * k, 3 * k]);
    if (store === 'postgres') t.is(value(parsed, 'cctl_ledger_write_lag_seconds'), 0, 'no row waits for its commit');
  });
}

test('a metrics token shorter than 16 characters stops the gateway with the reason', async (t) => {
  const upstream = await startUpstream(defaultReply);
  t.teardown(() => upstream.close());
  const error = await t.throwsAsync(startTeam(upstream.url, { env: { CCTL_METRICS_TOKEN: 'short' } }));
  t.regex(error!.message, /exited with 2.*metrics token \(CCTL_METRICS_TOKEN\) must be at least 16 characters/s);
});
