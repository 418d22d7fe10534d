/**
 * kernel/inside.ts: writes, reads and removals below a root that never
 * follow a symlink below it, on the real filesystem.
 */
import test from 'ava';
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mkdirInside, readInside, removeInside, writeInside } from '../../lib/kernel/fs.js';
import { CctlError } from '../../lib/kernel/errors.js';

function scratch(t: { teardown(fn: () => void): void }) {
  const base = mkdtempSync(join(tmpdir(), 'cctl-inside-'));
  t.teardown(() => rmSync(base, { recursive: true, force: true }));
  const root = join(base, 'project');
  const outside = join(base, 'outside');
  mkdirSync(root);
  mkdirSync(outside);
  writeFileSync(join(outside, 'keep.txt'), 'keep\n');
  return { base, root, outside };
}

const linkMessage = (path: string) =>
  new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is a symbolic link \\(to .*\\); cctl does not write or delete through links`);

test('a write makes the folders on the way, replaces the file atomically and leaves no temp file', (t) => {
  const { root } = scratch(t);
  writeInside(root, join(root, '.cctl', 'docker', 'a.sh'), '#!/bin/sh\n', { mode: 0o755 });
  t.is(readFileSync(join(root, '.cctl', 'docker', 'a.sh'), 'utf8'), '#!/bin/sh\n');
  writeInside(root, join(root, '.cctl', 'docker', 'a.sh'), 'echo 2\n');
  t.is(readFileSync(join(root, '.cctl', 'docker', 'a.sh'), 'utf8'), 'echo 2\n');
  // A replaced file keeps its mode; the umask shaped the new one.
  t.is(statSync(join(root, '.cctl', 'docker', 'a.sh')).mode & 0o111, 0o111 & ~process.umask() & 0o755);
  t.deepEqual(readdirSync(join(root, '.cctl', 'docker')), ['a.sh']);
});

test('a new file respects the umask; exactMode sets the mode whatever the umask', (t) => {
  const { root } = scratch(t);
  const old = process.umask(0o077);
  try {
    writeInside(root, join(root, 'plain.txt'), 'x', { mode: 0o644 });
    writeInside(root, join(root, 'shared.txt'), 'x', { mode: 0o644, exactMode: true });
  } finally {
    process.umask(old);
  }
  t.is(statSync(join(root, 'plain.txt')).mode & 0o777, 0o600);
  t.is(statSync(join(root, 'shared.txt')).mode & 0o777, 0o644);
});

test('a link as the file is refused, named, and its target is untouched', (t) => {
  const { root, outside } = scratch(t);
  symlinkSync(join(outside, 'keep.txt'), join(root, 'compose.yaml'));
  const error = t.throws(() => writeInside(root, join(root, 'compose.yaml'), 'services: {}\n'));
  t.true(error instanceof CctlError);
  t.regex(error!.message, linkMessage(join(root, 'compose.yaml')));
  t.is(readFileSync(join(outside, 'keep.txt'), 'utf8'), 'keep\n');
  t.true(lstatSync(join(root, 'compose.yaml')).isSymbolicLink());
  t.throws(() => readInside(root, join(root, 'compose.yaml')), { message: linkMessage(join(root, 'compose.yaml')) });
  t.throws(() => removeInside(root, join(root, 'compose.yaml')), { message: linkMessage(join(root, 'compose.yaml')) });
});

test('a link to a folder anywhere on the way is refused, even one that stays inside the project', (t) => {
  const { root, outside } = scratch(t);
  mkdirSync(join(root, 'real'));
  symlinkSync(outside, join(root, 'out'));
  symlinkSync('real', join(root, 'in'));
  for (const link of ['out', 'in']) {
    const file = join(root, link, 'sub', 'x.txt');
    t.throws(() => writeInside(root, file, 'x'), { message: linkMessage(join(root, link)) });
    t.throws(() => mkdirInside(root, join(root, link, 'sub')), { message: linkMessage(join(root, link)) });
    t.throws(() => readInside(root, join(root, link, 'keep.txt')), { message: linkMessage(join(root, link)) });
    t.throws(() => removeInside(root, join(root, link, 'keep.txt')), { message: linkMessage(join(root, link)) });
  }
  t.deepEqual(readdirSync(outside), ['keep.txt']);
  t.deepEqual(readdirSync(join(root, 'real')), []);
});

test('the root itself may be a link (the user chose it); it is resolved once', (t) => {
  const { base, root } = scratch(t);
  const via = join(base, 'via');
  symlinkSync(root, via);
  writeInside(via, join(via, '.cctl', 'x'), 'y');
  t.is(readFileSync(join(root, '.cctl', 'x'), 'utf8'), 'y');
  t.is(readInside(via, join(via, '.cctl', 'x'))?.toString(), 'y');
});

test('a path outside the root is refused before anything is touched', (t) => {
  const { root, outside } = scratch(t);
  t.throws(() => writeInside(root, join(outside, 'keep.txt'), 'no'), { message: /is not inside/ });
  t.throws(() => writeInside(root, join(root, '..', 'outside', 'keep.txt'), 'no'), { message: /is not inside/ });
  t.throws(() => removeInside(root, root, { recursive: true }), { message: /is not inside/ });
  t.is(readFileSync(join(outside, 'keep.txt'), 'utf8'), 'keep\n');
});

test('removing a folder removes the links in it, never what they point to', (t) => {
  const { root, outside } = scratch(t);
  mkdirSync(join(root, 'old', 'deep'), { recursive: true });
  writeFileSync(join(root, 'old', 'deep', 'f'), '1');
  symlinkSync(outside, join(root, 'old', 'to-dir'));
  symlinkSync(join(outside, 'keep.txt'), join(root, 'old', 'deep', 'to-file'));
  t.true(removeInside(root, join(root, 'old'), { recursive: true }));
  t.false(existsSync(join(root, 'old')));
  t.deepEqual(readdirSync(outside), ['keep.txt']);
  t.is(readFileSync(join(outside, 'keep.txt'), 'utf8'), 'keep\n');
  t.false(removeInside(root, join(root, 'old'), { recursive: true }), 'gone already: false, no error');
});

test('a missing file or folder reads as undefined; a FIFO planted under the name does not hang the read', (t) => {
  const { root } = scratch(t);
  t.is(readInside(root, join(root, 'none', 'x')), undefined);
  t.is(readInside(root, join(root, 'x')), undefined);
  execFileSync('mkfifo', [join(root, 'pipe')]);
  t.throws(() => readInside(root, join(root, 'pipe')), { message: /is not a regular file/ });
});

test('mkdirInside sets the mode it is given on the folder itself', (t) => {
  const { root } = scratch(t);
  mkdirInside(root, join(root, 'secrets'), { mode: 0o700 });
  t.is(statSync(join(root, 'secrets')).mode & 0o777, 0o700);
});

/**
 * Every other write or removal outside kernel/ and engine/, and why it is not a project path.
 * A new one fails here: a file in the project goes through writeInside/removeInside/mkdirInside.
 */
const WRITES_OUTSIDE_THE_PROJECT: Record<string, string> = {
  'commands/backup.ts': 'the backup folder the user names',
  'commands/gateway/init.ts': 'the gateway folder itself (its files go through writeInside)',
  'ops/backup/backup.ts': 'the archive the user names',
  'ops/devcontainer.ts': 'the accepted devcontainer.json in the private folder (the file itself goes through writeInside)',
  'ops/machine-file.ts': 'the per-machine compose file in the private folder',
  'ops/protected.ts': 'the accepted states of the protected paths in the private folder',
  'ops/settings-import.ts': 'a staging folder in the temp dir',
  'ops/task/new.ts': "the task's compose file in the private folder",
  'ops/task/rm.ts': "the task's compose file in the private folder",
  'ops/task/resolved.ts': "the project's resolved model kept in the private folder",
  'ops/gateway-ledger.ts': "the gateway folder's backups/ (a server folder, not a project)",
  'project/baseline.ts': 'the baseline in the private folder',
  'project/locate.ts': 'the host time zone ICU gave, in the cache folder',
  'project/private-dir.ts': 'the private folder (~/.config/cctl/projects/NAME)',
  'project/secrets.ts': 'proxy.env and client.env in the private folder',
  'project/team-member.ts': 'proxy.env in the private folder',
  'project/trust.ts': 'the trust store in the private folder',
  'project/up-record.ts': 'the up record in the cache folder',
};

test('no module writes or removes with plain fs calls but the ones that never touch the project', (t) => {
  const lib = new URL('../../lib/', import.meta.url).pathname;
  const WRITES =
    /\b(writeFileSync|rmSync|unlinkSync|mkdirSync|renameSync|copyFileSync|chmodSync|cpSync|appendFileSync|rmdirSync|symlinkSync|writeFileAtomic|createWriteStream)\b/;
  const writers = (readdirSync(lib, { recursive: true }) as string[])
    .filter((f) => f.endsWith('.ts') && !/^(kernel|engine|gateway)\//.test(f))
    .filter((f) => WRITES.test(readFileSync(join(lib, f), 'utf8')))
    .sort();
  t.deepEqual(writers, Object.keys(WRITES_OUTSIDE_THE_PROJECT).sort());
});
