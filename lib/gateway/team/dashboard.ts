/**
 * GET /dashboard: one static page, with no data in it. Its script asks the
 * admin API for the figures with the admin token the viewer types in (kept in
 * sessionStorage, never in a cookie, so no other site can ride on it). The
 * Content-Security-Policy allows only this page's own inline script and style,
 * by hash, and requests to this origin.
 */
import { createHash } from 'node:crypto';
import type http from 'node:http';
import { DASHBOARD_SCRIPT, DASHBOARD_STYLE, dashboardHtml } from './dashboard-page.js';

const hash = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;

const PAGE = Buffer.from(dashboardHtml());
const POLICY = [
  "default-src 'none'",
  `script-src ${hash(DASHBOARD_SCRIPT)}`,
  `style-src ${hash(DASHBOARD_STYLE)}`,
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export function serveDashboard(req: http.IncomingMessage, res: http.ServerResponse): number {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' });
    res.end('Use GET /dashboard.\n');
    return 0;
  }
  res.writeHead(200, {
    'content-type': 'text/html; charset=utf-8',
    'content-length': PAGE.length,
    'content-security-policy': POLICY,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cache-control': 'no-store',
  });
  res.end(req.method === 'HEAD' ? undefined : PAGE);
  return req.method === 'HEAD' ? 0 : PAGE.length;
}
