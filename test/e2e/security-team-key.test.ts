/**
 * In team-key mode the team key is nowhere claude-cli can read: not in the workspace, its home, /tmp or the
 * /proc environments (a recursive grep inside finds nothing), only the token the gateway checks; doctor's
 * secrets check passes, and fails once the key is planted in the workspace.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { e2e } from '../helpers/e2e.js';
import { teamKeyStack } from '../helpers/team-key-stack.js';

const stack = teamKeyStack('seckey');
const { tmp, teamKey, cctl, compose, inCli } = stack;

e2e.before(() => stack.start());

e2e.serial('no path inside claude-cli holds the team key: workspace, home, /tmp, /proc environments', async (t) => {
  // (Not /proc/self/cmdline: that is grep's own, which holds the key as its pattern.)
  const grep = await inCli(
    `grep -rlF -- '${teamKey}' /workspace /home/claude /tmp /proc/self/environ /proc/1/environ /proc/1/cmdline 2>/dev/null; echo "grep exit $?"`,
  );
  t.is(grep.exitCode, 0, grep.stderr);
  t.is(grep.stdout.trim(), 'grep exit 1', 'grep found nothing');
  const envDump = await compose('exec', '-T', 'claude-cli', 'env');
  t.false(envDump.stdout.includes(teamKey));
  t.regex(envDump.stdout, /^ANTHROPIC_AUTH_TOKEN=/m);
});

e2e.serial('doctor passes the secrets check, and fails once the key is planted in the workspace', async (t) => {
  const ok = await cctl('doctor', '--json');
  const secrets = (JSON.parse(ok.stdout) as { checks: Array<{ name: string; status: string; detail: string }> }).checks.find(
    (c) => c.name === 'secrets',
  );
  t.is(secrets?.status, 'pass', JSON.stringify(secrets));
  writeFileSync(join(tmp.dir, 'notes.txt'), `oops: ${teamKey}\n`);
  const bad = await cctl('doctor', '--json');
  t.is(bad.exitCode, 1);
  const failed = (JSON.parse(bad.stdout) as { checks: Array<{ name: string; status: string; detail: string }> }).checks.find(
    (c) => c.name === 'secrets',
  );
  t.is(failed?.status, 'fail');
  t.regex(failed!.detail, /\/workspace\/notes\.txt/);
  rmSync(join(tmp.dir, 'notes.txt'));
});
