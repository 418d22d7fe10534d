/**
 * isolate + login: Claude Code's /login, its first-start check and its token
 * refresh go to api.anthropic.com, platform.claude.com and claude.ai, not to
 * ANTHROPIC_BASE_URL. An isolated claude-cli reaches them through the built-in
 * gateway's CONNECT when the allow-list holds them (the `anthropic` preset,
 * there by default). This warns only when it does not: the team removed the
 * preset, or a third-party gateway (proxy=image) has no egress at all.
 */
import { expandAllow, PRESETS } from './egress.js';
import type { Settings } from './settings.js';

export function isolatedLoginWarning(s: Pick<Settings, 'isolate' | 'auth' | 'proxy' | 'allow'>): string | undefined {
  if (!s.isolate || s.auth !== 'login') return undefined;
  if (s.proxy !== 'builtin') {
    return (
      `isolate is on in login mode with proxy=${s.proxy}: claude-cli can reach only that gateway, so /login and ` +
      'token refresh (claude.ai, platform.claude.com) will fail. Use --auth team-key, or the built-in gateway, whose allow-list lets them through.'
    );
  }
  const allowed = new Set(expandAllow(s.allow));
  const missing = PRESETS.anthropic!.hosts.filter((h) => !allowed.has(`${h}:443`));
  if (missing.length === 0) return undefined;
  return (
    `isolate is on in login mode, and the allow-list lacks ${missing.join(', ')}: /login, its first-start check and ` +
    'token refresh will fail. Add them with "cctl init --allow anthropic", then "cctl up".'
  );
}
