/**
 * `cctl init`'s options (its declaration in verbs.ts's table): its own, and
 * one for each setting, made from the settings table (setting-flags.ts).
 */
import { flag, json, value, values, verb } from './define.js';
import { settingFlags } from './setting-flags.js';

export const INIT = verb({
  usage: 'init',
  description: 'Add the claude-profile services to the project compose file',
  options: {
    force: flag('--force', 'Overwrite edits to cctl-owned keys (a backup is written first)'),
    acceptChanges: flag(
      '--accept-changes',
      'Accept edits to the compose file that widen claude-cli or redirect the team key (asked on a terminal; needed in scripts)',
    ),
    ...settingFlags(),
    set: values('--set <key=value>', 'Set any stored setting by name (repeatable)'),
    teamGateway: value(
      '--team-gateway <url>',
      "Use the team's shared gateway as upstream, with your member token (env CCTL_MEMBER_TOKEN, or asked); https, or http on a private network",
    ),
    insecureHttp: flag('--insecure-http', 'With --team-gateway: allow http:// to a public address (the member token travels unencrypted)'),
    verbose: flag('--verbose', "List each file written to the gateway's build folder in the private folder (default: one line for them)"),
    json: json(),
  },
  examples: [
    'cctl init',
    'cctl init --auth team-key --upstream https://api.anthropic.com',
    'CCTL_CA_CERT=/etc/ssl/certs/ca-certificates.crt cctl init --no-monitor',
    'cctl init --isolate --allow github --allow npm --allow docs.example.com',
  ],
});
