/**
 * The route pass: what a request is for. Only /health and the API under /v1
 * exist; everything else is a 404, so the gateway is never an open relay.
 */
import type http from 'node:http';

export type Route =
  | { kind: 'health'; target: URL }
  | { kind: 'health-method'; target: URL }
  | { kind: 'api'; target: URL }
  | { kind: 'not-found'; target: URL };

export function routeOf(req: http.IncomingMessage): Route {
  const target = requestTarget(req.url);
  if (target.pathname === '/health') {
    return req.method === 'GET' || req.method === 'HEAD' ? { kind: 'health', target } : { kind: 'health-method', target };
  }
  if (target.pathname === '/v1' || target.pathname.startsWith('/v1/')) return { kind: 'api', target };
  return { kind: 'not-found', target };
}

/**
 * Normalising through URL resolves "..", "%2e%2e" and absolute-form targets,
 * so the /v1 check cannot be walked around.
 */
export function requestTarget(url: string | undefined): URL {
  try {
    return new URL(url ?? '/', 'http://gateway.invalid');
  } catch {
    return new URL('http://gateway.invalid/');
  }
}
