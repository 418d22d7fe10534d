/**
 * Betas that make the upstream itself connect to a URL the request names:
 * the MCP connector (`mcp_servers`, beta mcp-client-*) and the web fetch
 * server tool (beta web-fetch-*). Anthropic's servers then reach any host,
 * with whatever the workspace wrote into the URL or the tool's input: an
 * egress past the stack's allow-list. Claude Code sends neither (it runs MCP
 * servers and WebFetch itself, inside the stack), so a request that asks for
 * one is refused before it goes upstream. Web search stays: its queries go
 * to a search index, not to a host the request names.
 */
import { GatewayFailure } from './api-error.js';
import type { Refusal } from './authenticate.js';
import type { Headers } from './headers.js';

const REFUSED_PREFIXES = ['mcp-client-', 'web-fetch-'];

export function refusedBeta(headers: Headers): Refusal | undefined {
  const value = headers['anthropic-beta'];
  const betas = (Array.isArray(value) ? value.join(',') : (value ?? '')).split(',').map((b) => b.trim().toLowerCase());
  const beta = betas.find((b) => REFUSED_PREFIXES.some((prefix) => b.startsWith(prefix)));
  if (!beta) return undefined;
  return {
    reason: `beta ${beta.slice(0, 64)} refused`,
    failure: new GatewayFailure(
      400,
      'invalid_request_error',
      `The beta "${beta.slice(0, 64)}" makes the upstream connect to URLs the request names, which connects to hosts outside this stack's allow-list; the cctl gateway does not relay it. Run MCP servers and web fetches inside the stack instead (Claude Code does so by itself).`,
    ),
  };
}
