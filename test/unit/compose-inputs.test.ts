/**
 * The files a compose file makes Compose read (include, extends, env_file),
 * which the short path of `up` fingerprints: an edit to one from inside must
 * send `up` the full way, through the trust check.
 */
import test from 'ava';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { referencedFiles } from '../../lib/project/compose-inputs.js';

test('include, extends and env_file are followed, nested ones too; interpolated paths are left out', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cctl-inputs-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'db'));
  writeFileSync(join(dir, 'compose.yaml'), [
    'include:',
    '  - db/compose.yaml',
    '  - path: [more.yaml]',
    '    env_file: more.env',
    'services:',
    '  claude-cli:',
    '    extends: {file: base.yaml, service: x}',
    '    env_file: [cli.env, "${HOME}/x.env"]',
    '',
  ].join('\n'));
  writeFileSync(join(dir, 'db', 'compose.yaml'), 'services:\n  db:\n    extends: {file: ../deep.yaml, service: y}\n');
  writeFileSync(join(dir, 'deep.yaml'), 'services: {y: {image: alpine}}\n');
  const found = referencedFiles(join(dir, 'compose.yaml')).map((f) => f.slice(dir.length + 1));
  t.deepEqual(found, ['base.yaml', 'cli.env', 'db/compose.yaml', 'deep.yaml', 'more.env', 'more.yaml']);
});

test('a compose file that names nothing else gives no files, and one that cannot be read gives none', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cctl-inputs-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'compose.yaml'), 'services: {a: {image: alpine}}\n');
  t.deepEqual(referencedFiles(join(dir, 'compose.yaml')), []);
  t.deepEqual(referencedFiles(join(dir, 'missing.yaml')), []);
});
