/** The import script as the helper runs it (POSIX sh), on a folder standing in for the volume; and the host side. */
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hostFiles, IMPORT_SCRIPT, parseChanges } from '../../lib/ops/settings-import.js';
import { scratchDir } from '../helpers/scratch.js';

function setup() {
  const root = scratchDir('cctl-import-');
  const host = join(root, 'host');
  mkdirSync(join(host, 'agents', 'team'), { recursive: true });
  writeFileSync(join(host, 'CLAUDE.md'), 'mine\n');
  writeFileSync(join(host, 'settings.json'), '{"theme":"dark"}\n');
  writeFileSync(join(host, 'agents', 'team', 'review.md'), 'review\n');
  writeFileSync(join(host, '.credentials.json'), '{"token":"x"}\n');
  writeFileSync(join(host, 'history.jsonl'), '{}\n');
  const data = join(root, 'data');
  mkdirSync(join(data, '.claude'), { recursive: true });
  return { root, host, data };
}

const runScript = (stage: string, data: string, dryRun = false) =>
  execFileSync('sh', ['-c', IMPORT_SCRIPT], {
    env: { PATH: process.env.PATH, STAGE: stage, DATA: data, DRY_RUN: dryRun ? '1' : '0' },
    encoding: 'utf8',
  });

test('only CLAUDE.md, settings.json, agents/ and commands/ are taken from the host', (t) => {
  const { host } = setup();
  t.deepEqual(hostFiles(host), ['CLAUDE.md', 'settings.json', 'agents/team/review.md']);
});

test('the script adds (never credentials or history, even when staged), then finds nothing to do; a changed file is updated; a dry run writes nothing', (t) => {
  const { host, data } = setup();
  t.deepEqual(
    parseChanges(runScript(host, data, true)).map((c) => c.change),
    ['added', 'added', 'added'],
  );
  t.throws(() => readFileSync(join(data, '.claude', 'CLAUDE.md')));
  t.deepEqual(parseChanges(runScript(host, data)), [
    { path: 'CLAUDE.md', change: 'added' },
    { path: 'agents/team/review.md', change: 'added' },
    { path: 'settings.json', change: 'added' },
  ]);
  t.is(readFileSync(join(data, '.claude', 'agents', 'team', 'review.md'), 'utf8'), 'review\n');
  for (const never of ['.credentials.json', 'history.jsonl']) t.throws(() => readFileSync(join(data, '.claude', never)), undefined, never);
  t.deepEqual(parseChanges(runScript(host, data)), []);
  writeFileSync(join(host, 'CLAUDE.md'), 'changed\n');
  t.deepEqual(parseChanges(runScript(host, data)), [{ path: 'CLAUDE.md', change: 'updated' }]);
});

test('a symlink in the volume is never written through (it could point at the credentials)', (t) => {
  const { host, data } = setup();
  writeFileSync(join(data, '.claude', '.credentials.json'), 'secret\n');
  symlinkSync('.credentials.json', join(data, '.claude', 'settings.json'));
  symlinkSync('/tmp', join(data, '.claude', 'agents'));
  const changes = parseChanges(runScript(host, data));
  t.deepEqual(
    changes.filter((c) => c.change === 'skipped').map((c) => c.path),
    ['agents/team/review.md', 'settings.json'],
  );
  t.is(readFileSync(join(data, '.claude', '.credentials.json'), 'utf8'), 'secret\n');
});
