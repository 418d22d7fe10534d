/**
 * The files a compose file makes Compose read (include and the included
 * folder's .env, extends, env_file, label_file) and the variables they may
 * interpolate, which the short path of `up` fingerprints: an edit to one from
 * inside must send `up` the full way, through the trust check.
 */
import test from 'ava';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { composeInputs, variableNames } from '../../lib/project/compose-inputs.js';

test('include, extends, env_file and label_file are followed, nested ones too, with the variables they use', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cctl-inputs-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'db'));
  writeFileSync(
    join(dir, 'compose.yaml'),
    [
      'include:',
      '  - db/compose.yaml',
      '  - path: [more.yaml]',
      '    env_file: more.env',
      'services:',
      '  claude-cli:',
      '    extends: {file: base.yaml, service: x}',
      '    env_file: [cli.env]',
      '    label_file: labels.env',
      '    image: ${CLI_IMAGE:-x}',
      '    environment: [PASSED, SET=1]',
      '  other:',
      '    environment: {ALSO_PASSED: null, SET2: x}',
      '',
    ].join('\n'),
  );
  writeFileSync(join(dir, 'cli.env'), 'A=${FROM_SHELL}\n');
  writeFileSync(join(dir, 'db', 'compose.yaml'), 'services:\n  db:\n    extends: {file: ../deep.yaml, service: y}\n');
  writeFileSync(join(dir, 'deep.yaml'), 'services: {y: {image: alpine}}\n');
  writeFileSync(join(dir, '.env'), 'B=$$ESCAPED\n');
  const inputs = composeInputs(join(dir, 'compose.yaml'), join(dir, '.env'));
  t.deepEqual(
    inputs?.files.map((f) => f.slice(dir.length + 1)),
    ['base.yaml', 'cli.env', 'db/.env', 'db/compose.yaml', 'deep.yaml', 'labels.env', 'more.env', 'more.yaml'],
  );
  t.deepEqual(inputs?.variables, ['ALSO_PASSED', 'CLI_IMAGE', 'ESCAPED', 'FROM_SHELL', 'PASSED']);
});

test('a path Compose interpolates names a file only Compose can tell: no answer', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cctl-inputs-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  for (const service of ['{extends: {file: "${BASE:-b.yaml}", service: x}}', '{env_file: "${HOME}/x.env"}', '{label_file: [$L]}']) {
    writeFileSync(join(dir, 'compose.yaml'), `services: {claude-cli: ${service}}\n`);
    t.is(composeInputs(join(dir, 'compose.yaml')), undefined, service);
  }
  writeFileSync(join(dir, 'compose.yaml'), 'include: ["${SUB:-sub}/compose.yaml"]\n');
  t.is(composeInputs(join(dir, 'compose.yaml')), undefined, 'include');
  t.deepEqual(variableNames('a: $A ${B:-x} ${C?err} $$D ${ 1}'), ['A', 'B', 'C', 'D']);
});

test('a compose file that names nothing else gives no files, and one that cannot be read gives none', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cctl-inputs-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'compose.yaml'), 'services: {a: {image: alpine}}\n');
  t.deepEqual(composeInputs(join(dir, 'compose.yaml')), { files: [], variables: [] });
  t.deepEqual(composeInputs(join(dir, 'missing.yaml')), { files: [], variables: [] });
});

test('a file this reading could get wrong gives no answer: the alias limit, several documents, a deep chain, ~/ and .. in an absolute path', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cctl-inputs-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const cli = (extra: string) => `services:\n  claude-cli:\n    extends: {file: base.yaml, service: b}\n${extra}`;
  writeFileSync(join(dir, 'base.yaml'), 'services: {b: {init: true}}\n');
  // Compose reads 10,001 aliases of one anchor (yaml refused them, and the extends target went unfingerprinted).
  writeFileSync(join(dir, 'compose.yaml'), `${cli('')}x-a: &a 1\nx-pad: [${Array(10_001).fill('*a').join(', ')}]\n`);
  t.is(composeInputs(join(dir, 'compose.yaml')), undefined, 'alias limit');
  writeFileSync(join(dir, 'compose.yaml'), `${cli('')}x-a: &a 1\nx-pad: [${Array(1_001).fill('*a').join(', ')}]\n`);
  t.deepEqual(composeInputs(join(dir, 'compose.yaml'))?.files, [join(dir, 'base.yaml')], 'as many aliases as init reads');
  writeFileSync(join(dir, 'base.yaml'), 'services: {b: {extends: {file: deeper.yaml, service: c}}}\n---\nx: 1\n');
  writeFileSync(join(dir, 'compose.yaml'), cli(''));
  t.is(composeInputs(join(dir, 'compose.yaml')), undefined, 'several documents in a file it names');
  for (let i = 0; i < 8; i++) writeFileSync(join(dir, `c${i}.yaml`), `services: {b: {extends: {file: c${i + 1}.yaml, service: b}}}\n`);
  writeFileSync(join(dir, 'base.yaml'), 'services: {b: {extends: {file: c0.yaml, service: b}}}\n');
  t.is(composeInputs(join(dir, 'compose.yaml')), undefined, 'a chain deeper than followed');
  writeFileSync(join(dir, 'base.yaml'), 'services: {b: {init: true}}\n');
  for (const extra of ['    env_file: ~/src/p/x.env\n', `    env_file: ${dir}/link/../x.env\n`, `    label_file: ${dir}/./x.env\n`]) {
    writeFileSync(join(dir, 'compose.yaml'), cli(extra));
    t.is(composeInputs(join(dir, 'compose.yaml')), undefined, extra);
  }
});

test("an included file's relative paths resolve in its project_directory, for every file of the entry", (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cctl-inputs-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'sub'));
  mkdirSync(join(dir, 'other'));
  writeFileSync(join(dir, 'compose.yaml'), 'include:\n  - path: [sub/a.yaml, other/b.yaml]\n    project_directory: .\n');
  writeFileSync(join(dir, 'sub', 'a.yaml'), 'services: {a: {image: alpine, env_file: a.env}}\n');
  writeFileSync(join(dir, 'other', 'b.yaml'), 'include: [nested.yaml]\n');
  const files = composeInputs(join(dir, 'compose.yaml'))?.files.map((f) => f.slice(dir.length + 1));
  t.deepEqual(files, ['.env', 'a.env', 'nested.yaml', 'other/b.yaml', 'sub/a.yaml']);
});
