/**
 * The admin API, read by the dashboard and by `cctl usage --team`. Every
 * route needs `Authorization: Bearer <admin token>`; without it the answer
 * is 401 and nothing about the ledger, not even whether it has rows.
 *
 *   GET /admin/api/usage?by=day,member&since=YYYY-MM-DD&until=YYYY-MM-DD[&member=NAME]
 *   GET /admin/api/requests?limit=50      newest first, metadata only
 *   GET /admin/api/members                names, budgets and spend, never tokens
 */
import type http from 'node:http';
import { sameSecret } from '../authenticate.js';
import type { TeamLedger } from './pg-ledger.js';
import { USAGE_KEYS, type UsageKey, type UsageQuery } from './store.js';

export interface AdminDeps {
  adminToken: string;
  ledger: TeamLedger;
}

export function sendJson(res: http.ServerResponse, status: number, value: unknown): number {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
  res.end(body);
  return Buffer.byteLength(body);
}

const apiError = (type: string, message: string) => ({ type: 'error', error: { type, message } });

export function isAdmin(req: http.IncomingMessage, adminToken: string): boolean {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
  return !!match?.[1] && sameSecret(match[1], adminToken);
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** Parses the usage query; a bad parameter is the client's mistake, said plainly. */
export function usageQueryOf(params: URLSearchParams): UsageQuery | string {
  const by = (params.get('by') ?? 'day')
    .split(',')
    .map((k) => k.trim())
    .filter(Boolean);
  const unknown = by.filter((k) => !USAGE_KEYS.includes(k as UsageKey));
  if (unknown.length) return `Unknown grouping "${unknown.join(',')}"; use any of ${USAGE_KEYS.join(', ')}.`;
  const query: UsageQuery = { by: by as UsageKey[] };
  for (const name of ['since', 'until'] as const) {
    const value = params.get(name);
    if (value === null) continue;
    if (!DAY.test(value)) return `${name} must be a day as YYYY-MM-DD, got "${value}".`;
    query[name] = value;
  }
  const member = params.get('member');
  if (member !== null) {
    if (member === '' || member.length > 200)
      return `member must be a member's name (1 to 200 characters), got ${member.length} characters.`;
    query.member = member;
  }
  return query;
}

/** Answers one admin request; the promise settles once the response is written. */
export async function serveAdmin(req: http.IncomingMessage, res: http.ServerResponse, target: URL, deps: AdminDeps): Promise<void> {
  if (!isAdmin(req, deps.adminToken)) {
    sendJson(
      res,
      401,
      apiError(
        'authentication_error',
        'The admin API needs the admin token as Authorization: Bearer (cctl gateway init stored it in the gateway folder).',
      ),
    );
    return;
  }
  if (req.method !== 'GET') {
    sendJson(res, 405, apiError('invalid_request_error', 'The admin API is read-only: use GET.'));
    return;
  }
  const route = target.pathname.replace(/^\/admin\/api\//, '');
  try {
    if (route === 'usage') {
      const query = usageQueryOf(target.searchParams);
      if (typeof query === 'string') sendJson(res, 400, apiError('invalid_request_error', query));
      else sendJson(res, 200, { query, rows: await deps.ledger.usage(query) });
    } else if (route === 'requests') {
      const limit = Math.min(Math.max(Number(target.searchParams.get('limit') ?? 50) || 50, 1), 1000);
      sendJson(res, 200, { requests: await deps.ledger.recent(limit) });
    } else if (route === 'members') {
      sendJson(res, 200, { members: await deps.ledger.members() });
    } else {
      sendJson(
        res,
        404,
        apiError('not_found_error', `No admin route ${target.pathname}; see /admin/api/usage, /admin/api/requests, /admin/api/members.`),
      );
    }
  } catch (error) {
    if (!res.headersSent) sendJson(res, 500, apiError('api_error', `The ledger could not answer: ${(error as Error).message}`));
  }
}
