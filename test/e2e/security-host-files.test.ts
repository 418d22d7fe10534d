/**
 * What the stack leaves on the host belongs to the user and stays private: a file made in /workspace is
 * the host user's (not root's, not the image's UID), and a default backup lands in the private folder,
 * owner-only (0600 in a 0700 folder) from the start, never in the workspace claude-cli can read.
 */
import { chmodSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { e2e } from '../helpers/e2e.js';
import { HOST_UID, teamKeyStack } from '../helpers/team-key-stack.js';

const stack = teamKeyStack('secfiles');
const { tmp, privateDir, cctl, inCli } = stack;

e2e.before(() => stack.start());

e2e.serial('a file made in /workspace belongs to the host user', async (t) => {
  const r = await inCli('touch /workspace/made-inside && id -u');
  t.is(r.exitCode, 0, r.stderr);
  t.is(r.stdout.trim(), String(HOST_UID));
  t.is(statSync(join(tmp.dir, 'made-inside')).uid, HOST_UID);
});

e2e.serial('a default backup goes to the private folder, owner-only from the start', async (t) => {
  const r = await cctl('backup');
  t.is(r.exitCode, 0, r.stderr);
  const backups = join(privateDir, 'backups');
  const files = readdirSync(backups);
  t.is(files.length, 1);
  t.is(statSync(join(backups, files[0]!)).mode & 0o777, 0o600);
  t.is(statSync(backups).mode & 0o777, 0o700);
  t.false(readdirSync(tmp.dir).some((f) => f.endsWith('.tar.gz')));
  chmodSync(backups, 0o700);
});
