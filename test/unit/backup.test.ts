import test from 'ava';
import { execFileSync, spawnSync } from 'node:child_process';
import { gzipSync, gunzipSync } from 'node:zlib';
import {
  chmodSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyArchive } from '../../lib/ops/backup/verify.js';
import { RESTORE_SCRIPT } from '../../lib/ops/backup/restore.js';
import { defaultBackupName } from '../../lib/ops/backup/backup.js';
import { STAGING_PREFIX } from '../../lib/ops/backup/helpers.js';
import { SHELLCHECK_INSTALL, withTool } from '../helpers/tools.js';
import { backupsDir, findBackup } from '../../lib/project/private-dir.js';

function scratch(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'cctl-backup-unit-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A home-like tree and its .tar.gz, made by the system tar as a helper would. */
function makeArchive(dir: string): { home: string; archive: string } {
  const home = join(dir, 'home');
  mkdirSync(join(home, '.claude', 'projects', '-workspace'), { recursive: true });
  writeFileSync(join(home, '.claude', '.claude.json'), '{"oauthAccount":{"emailAddress":"a@example.com"}}\n');
  chmodSync(join(home, '.claude', '.claude.json'), 0o600);
  writeFileSync(join(home, '.claude', 'projects', '-workspace', 's.jsonl'), '{"usage":{"input_tokens":1}}\n'.repeat(200));
  symlinkSync('.claude', join(home, 'link'));
  const archive = join(dir, 'home.tar.gz');
  execFileSync('tar', ['-czf', archive, '-C', home, '.']);
  return { home, archive };
}

test('verifyArchive counts the entries of a whole archive', async (t) => {
  const { archive } = makeArchive(scratch(t));
  const summary = await verifyArchive(archive);
  // ., .claude, .claude.json, projects, -workspace, s.jsonl, link
  t.is(summary.entries, 7);
  t.is(summary.tarBytes % 512, 0);
});

test('verifyArchive refuses a truncated archive, naming the problem', async (t) => {
  const dir = scratch(t);
  const { archive } = makeArchive(dir);
  const whole = readFileSync(archive);
  const cut = join(dir, 'cut.tar.gz');
  writeFileSync(cut, whole.subarray(0, Math.floor(whole.length / 2)));
  const error = await t.throwsAsync(verifyArchive(cut));
  t.regex(error!.message, /not a usable backup: it is truncated/);
});

test('verifyArchive refuses a tar whose header was damaged inside intact gzip', async (t) => {
  const dir = scratch(t);
  const { archive } = makeArchive(dir);
  const tar = gunzipSync(readFileSync(archive));
  tar[600] = tar[600]! ^ 0xff; // inside the second header's name field
  const bad = join(dir, 'bad.tar.gz');
  writeFileSync(bad, gzipSync(tar));
  const error = await t.throwsAsync(verifyArchive(bad));
  t.regex(error!.message, /damaged tar header after 1 entries/);
});

test('verifyArchive refuses gzip that holds no tar, and a file that is not gzip', async (t) => {
  const dir = scratch(t);
  const notTar = join(dir, 'a.tar.gz');
  writeFileSync(notTar, gzipSync(Buffer.from('hello\n')));
  t.regex((await t.throwsAsync(verifyArchive(notTar)))!.message, /holds no tar archive/);
  const notGzip = join(dir, 'b.tar.gz');
  writeFileSync(notGzip, 'plain text');
  t.regex((await t.throwsAsync(verifyArchive(notGzip)))!.message, /it is not gzip-compressed/);
});

test('verifyArchive refuses a tar cut at a block boundary (gzip itself whole)', async (t) => {
  const dir = scratch(t);
  const { archive } = makeArchive(dir);
  const tar = gunzipSync(readFileSync(archive));
  const cut = join(dir, 'cut.tar.gz');
  writeFileSync(cut, gzipSync(tar.subarray(0, 512 * 3)));
  t.regex((await t.throwsAsync(verifyArchive(cut)))!.message, /tar archive ends early/);
});

test('default backup names carry the project and a sortable local time', (t) => {
  t.is(defaultBackupName('web', new Date(2025, 0, 2, 3, 4, 5)), 'cctl-web-home-20250102-030405.tar.gz');
});

// The restore script runs in a container as root; here it runs in plain sh on
// a temporary folder, which checks its logic (the e2e test checks it in Docker).
function restoreHere(data: string, archive: string, force: boolean, entries = 7) {
  const env = { ...process.env, DATA: data, ARCHIVE: archive, FORCE: force ? '1' : '0', ENTRIES: String(entries) };
  return spawnSync('sh', ['-c', RESTORE_SCRIPT], { env, encoding: 'utf8' });
}

function tree(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: false })
    .map(String)
    .sort()
    .map((p) => {
      const full = join(dir, p);
      const st = lstatSync(full);
      const what = st.isSymbolicLink() ? `-> ${readlinkSync(full)}` : st.isFile() ? readFileSync(full, 'utf8') : 'dir';
      return `${p} ${(st.mode & 0o7777).toString(8)} ${what}`;
    });
}

test('the restore script refuses a volume with data unless forced, then replaces it with modes kept', (t) => {
  const dir = scratch(t);
  const { home, archive } = makeArchive(dir);
  const data = join(dir, 'data');
  mkdirSync(data);
  writeFileSync(join(data, 'old.txt'), 'old');
  const refused = restoreHere(data, archive, false);
  t.is(refused.status, 3);
  t.deepEqual(readdirSync(data), ['old.txt']);

  const forced = restoreHere(data, archive, true);
  t.is(forced.status, 0, forced.stderr);
  t.deepEqual(tree(data), tree(home));
  t.is(statSync(data).mode & 0o777, statSync(home).mode & 0o777);
});

test('an archive whose tar listing differs from the verified count changes nothing', (t) => {
  const dir = scratch(t);
  const { archive } = makeArchive(dir);
  const data = join(dir, 'data');
  mkdirSync(data);
  writeFileSync(join(data, 'old.txt'), 'old');
  const miscounted = restoreHere(data, archive, true, 8);
  t.is(miscounted.status, 4);
  t.regex(miscounted.stderr, /tar lists 7 entries, expected 8/);
  t.deepEqual(readdirSync(data), ['old.txt']);
});

test('junk that tar takes for an empty archive changes nothing', (t) => {
  const dir = scratch(t);
  const data = join(dir, 'data');
  mkdirSync(data);
  writeFileSync(join(data, 'old.txt'), 'old');
  const broken = join(dir, 'broken.tar.gz');
  writeFileSync(broken, gzipSync(Buffer.alloc(100, 7)));
  // GNU tar lists this junk as an empty archive and "extracts" it with exit 0.
  const result = restoreHere(data, broken, true, 1);
  t.is(result.status, 4);
  t.deepEqual(readdirSync(data), ['old.txt']);
});

test('an interrupted swap is undone when it had not committed, and finished when it had', (t) => {
  const dir = scratch(t);
  const { home, archive } = makeArchive(dir);

  // Killed while moving old entries aside: some old ones are still in place.
  const undo = join(dir, 'undo');
  mkdirSync(join(undo, `${STAGING_PREFIX}.old`), { recursive: true });
  mkdirSync(join(undo, `${STAGING_PREFIX}.new`));
  writeFileSync(join(undo, 'a.txt'), 'a');
  writeFileSync(join(undo, `${STAGING_PREFIX}.old`, 'b.txt'), 'b');
  writeFileSync(join(undo, `${STAGING_PREFIX}.new`, 'n.txt'), 'n');
  // Without --force the repaired volume holds data, so nothing new is restored.
  t.is(restoreHere(undo, archive, false).status, 3);
  t.deepEqual(readdirSync(undo).sort(), ['a.txt', 'b.txt']);

  // Killed while moving new entries up, after the marker: finish the move.
  const finish = join(dir, 'finish');
  mkdirSync(join(finish, `${STAGING_PREFIX}.old`), { recursive: true });
  mkdirSync(join(finish, `${STAGING_PREFIX}.new`));
  writeFileSync(join(finish, `${STAGING_PREFIX}.committed`), '');
  writeFileSync(join(finish, `${STAGING_PREFIX}.old`, 'old.txt'), 'old');
  writeFileSync(join(finish, 'n1.txt'), 'n1');
  writeFileSync(join(finish, `${STAGING_PREFIX}.new`, 'n2.txt'), 'n2');
  t.is(restoreHere(finish, archive, false).status, 3);
  t.deepEqual(readdirSync(finish).sort(), ['n1.txt', 'n2.txt']);

  // And a forced restore over the repaired folder gives exactly the archive.
  t.is(restoreHere(finish, archive, true).status, 0);
  t.deepEqual(tree(finish), tree(home));
});

withTool('shellcheck', SHELLCHECK_INSTALL)('the restore script is clean under shellcheck', (t) => {
  const result = spawnSync('shellcheck', ['-s', 'sh', '-'], { input: RESTORE_SCRIPT, encoding: 'utf8' });
  t.is(result.status, 0, result.stdout);
});

test('restore finds the name cctl backup printed in the private folder, and a miss names where it looked', (t) => {
  const dir = scratch(t);
  const env = { HOME: join(dir, 'home') };
  const work = join(dir, 'work');
  mkdirSync(work);
  const backups = backupsDir('app', env);
  mkdirSync(backups, { recursive: true });
  const older = 'cctl-app-home-20250101-010101.tar.gz';
  const newer = 'cctl-app-home-20250102-030405.tar.gz';
  for (const name of [older, newer]) writeFileSync(join(backups, name), 'x');
  // The guide's command, run in the project folder: the archive is in the private folder.
  t.is(findBackup(newer, 'app', env, work), join(backups, newer));
  // A file in this folder wins over one of the same name in the backups.
  writeFileSync(join(work, older), 'here');
  t.is(findBackup(older, 'app', env, work), join(work, older));
  const missing = t.throws(() => findBackup('cctl-app-home-19990101-000000.tar.gz', 'app', env, work)) as Error & { hint?: string };
  t.regex(missing.message, new RegExp(`nor in ${backups}`));
  t.is(missing.hint, `cctl backup keeps archives in ${backups}; the newest is: cctl restore ${newer}`);
  // A path (not a bare name) is only looked for where it points.
  const pathed = t.throws(() => findBackup(`sub/${newer}`, 'app', env, work)) as Error;
  t.notRegex(pathed.message, /nor in/);
  const empty = t.throws(() => findBackup(newer, 'other', env, work)) as Error & { hint?: string };
  t.regex(empty.hint ?? '', /holds none/);
});
