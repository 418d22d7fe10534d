import test from 'ava';
import { formatNextSteps, nextSteps } from '../../lib/project/next-steps.js';
import { onboardScript, writeOnboardScript } from '../../lib/project/onboard.js';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { holdsMemberToken, writeMemberCredential } from '../../lib/project/team-member.js';
import { proxyEnvFile } from '../../lib/project/secrets.js';
import { ensurePrivateDir } from '../../lib/project/private-dir.js';
import { join } from 'node:path';
import { scratchDir } from '../helpers/scratch.js';

test('next steps advertise cctl monitor only when the monitor is installed', (t) => {
  const on = formatNextSteps(nextSteps({ monitor: true, auth: 'login' }));
  const off = formatNextSteps(nextSteps({ monitor: false, auth: 'login' }));
  t.regex(on, /^ {2}cctl monitor +watch token use live/m);
  t.notRegex(off, /cctl monitor/);
  t.regex(off, /^ {2}cctl usage blocks --live +watch token use live/m);
  for (const text of [on, off]) t.regex(text, /cctl usage daily/);
  t.regex(formatNextSteps(nextSteps({ monitor: true, auth: 'team-key' })), /proxy holds the team key/);
  // With the team's gateway the key stays on that server: the proxy holds the member's own token.
  const member = formatNextSteps(nextSteps({ monitor: true, auth: 'team-key', teamGateway: true }));
  t.notRegex(member, /team key/);
  t.regex(member, /team's gateway, with your member token/);
});

test('a member token in proxy.env is told from a team key', (t) => {
  const home = scratchDir('cctl-next-home-');
  try {
    const env = { HOME: home };
    t.false(holdsMemberToken('app', env), 'no proxy.env');
    ensurePrivateDir('app', env);
    writeMemberCredential('app', `cctl_member_${'a'.repeat(43)}`, env);
    t.true(holdsMemberToken('app', env));
    writeFileSync(proxyEnvFile('app', env), 'ANTHROPIC_API_KEY=sk-ant-team\n');
    t.false(holdsMemberToken('app', env));
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});

test("the onboarding script prints the project's next steps", (t) => {
  const dir = scratchDir('cctl-next-');
  writeOnboardScript(dir, { monitor: false, auth: 'login' });
  const script = readFileSync(join(dir, 'scripts', 'onboard.sh'), 'utf8');
  t.notRegex(script, /cctl monitor/);
  t.notRegex(script, /__NEXT_STEPS__/);
  t.true(script.includes(`Next steps:\n${formatNextSteps(nextSteps({ monitor: false, auth: 'login' }))}EOF\n`));
  // The default (no settings at hand) is the default settings: the monitor on.
  t.regex(onboardScript(), /^ {2}cctl monitor /m);
});
