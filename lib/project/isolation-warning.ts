/**
 * isolate + login: claude-cli's only way out is the proxy, which forwards the
 * API and nothing else, so Claude Code's /login and its token refresh
 * (claude.ai, platform.claude.com) cannot reach their hosts. Until the
 * gateway's egress allow-list can let exactly those through, this is a
 * warning, not a refusal (a team may log in first, or accept short
 * sessions). It lives in this one function so that the egress work can drop
 * it in one place; init and up print it, and docs/GUIDE.md says the same.
 */
import type { Settings } from './settings.js';

export function isolatedLoginWarning(s: Pick<Settings, 'isolate' | 'auth'>): string | undefined {
  if (!s.isolate || s.auth !== 'login') return undefined;
  return (
    'isolate is on in login mode: claude-cli can reach only the proxy, so /login and token refresh ' +
    '(claude.ai, platform.claude.com) will fail, and a login expires without renewal. ' +
    'Use --auth team-key with isolate, or turn isolate off (cctl init --set isolate=false) to log in.'
  );
}
