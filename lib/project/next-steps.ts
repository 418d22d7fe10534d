/**
 * What to run next, once the stack is up: printed by `cctl up` and by the
 * onboarding script, from the settings, so neither advertises a command the
 * stack cannot answer (`cctl monitor` on an image built without it).
 */
import type { Settings } from './settings.js';

export interface NextStep {
  command: string;
  what: string;
}

/**
 * `teamGateway`: the proxy holds this member's token for the team's shared
 * gateway (init --team-gateway), not the team key, which stays on that server.
 */
export function nextSteps(s: Pick<Settings, 'monitor' | 'auth'> & { teamGateway?: boolean }): NextStep[] {
  const claude =
    s.auth === 'login'
      ? 'start Claude Code; the first time, log in with /login'
      : s.teamGateway
        ? "start Claude Code (through the team's gateway, with your member token)"
        : 'start Claude Code (the proxy holds the team key)';
  return [
    { command: 'cctl claude', what: claude },
    s.monitor
      ? { command: 'cctl monitor', what: 'watch token use live (Claude Code Usage Monitor)' }
      : { command: 'cctl usage blocks --live', what: 'watch token use live (ccusage; the Usage Monitor is off)' },
    { command: 'cctl usage daily', what: 'token use and cost per day (ccusage)' },
    { command: 'cctl status', what: 'the services and their health; "cctl down" stops them' },
  ];
}

/** Two columns, indented: the block both `cctl up` and the onboarding script print. */
export function formatNextSteps(steps: readonly NextStep[]): string {
  const width = Math.max(...steps.map((s) => s.command.length)) + 2;
  return steps.map((s) => `  ${s.command.padEnd(width)}${s.what}\n`).join('');
}
