/**
 * The route pass: what a request is for. Only /health and the Messages API
 * exist for the upstream; every other /v1 route (batches, files, models, ...)
 * is a 404 the gateway answers itself. Batches would be a budget bypass
 * (their cost is never in a reply the gateway reads), and files and batches
 * are shared by everyone behind one key, so one member could read another's.
 */
import type http from 'node:http';

export type Route =
  | { kind: 'health'; target: URL }
  | { kind: 'health-method'; target: URL }
  | { kind: 'api'; target: URL; /** count_tokens is free: nothing to reserve or charge. */ billed: boolean }
  | { kind: 'api-refused'; target: URL }
  | { kind: 'not-found'; target: URL };

/**
 * The API routes that go upstream, by method and path. Claude Code 2.1.332
 * with ANTHROPIC_BASE_URL calls these two (the e2e tests log every path the
 * fake upstream sees); GET /v1/models only with its opt-in model discovery.
 */
export const API_ROUTES: readonly { method: string; path: string; billed: boolean }[] = [
  { method: 'POST', path: '/v1/messages', billed: true },
  { method: 'POST', path: '/v1/messages/count_tokens', billed: false },
];

export function routeOf(req: http.IncomingMessage): Route {
  const target = requestTarget(req.url);
  if (target.pathname === '/health') {
    return req.method === 'GET' || req.method === 'HEAD' ? { kind: 'health', target } : { kind: 'health-method', target };
  }
  const api = API_ROUTES.find((r) => r.path === target.pathname && r.method === req.method);
  if (api) return { kind: 'api', target, billed: api.billed };
  if (target.pathname === '/v1' || target.pathname.startsWith('/v1/')) return { kind: 'api-refused', target };
  return { kind: 'not-found', target };
}

/** The 404 message for an API route the gateway does not relay. */
export function refusedApiMessage(method: string, path: string): string {
  return `Not found: ${method} ${path}. This gateway relays only ${API_ROUTES.map((r) => `${r.method} ${r.path}`).join(' and ')} (the Messages API that Claude Code uses); other Anthropic APIs are not available through it.`;
}

/**
 * Normalising through URL resolves "..", "%2e%2e" and absolute-form targets,
 * so the path checks cannot be walked around.
 */
export function requestTarget(url: string | undefined): URL {
  try {
    return new URL(url ?? '/', 'http://gateway.invalid');
  } catch {
    return new URL('http://gateway.invalid/');
  }
}
