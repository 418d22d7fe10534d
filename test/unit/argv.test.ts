import test from 'ava';
import { splitPassThrough, stripDoubleDash } from '../../lib/kernel/argv.js';

test('flags after a pass-through verb stay with the verb, byte for byte', (t) => {
  t.deepEqual(splitPassThrough(['exec', 'bash', '-lc', 'echo "a b"']), {
    globals: {},
    verb: 'exec',
    rest: ['bash', '-lc', 'echo "a b"'],
    help: false,
  });
  t.deepEqual(splitPassThrough(['monitor', '--plan', 'max5', '--view', 'daily'])?.rest, ['--plan', 'max5', '--view', 'daily']);
  t.deepEqual(splitPassThrough(['usage', 'daily', '--json', '--since', '20250101'])?.rest, ['daily', '--json', '--since', '20250101']);
});

test('global options before the verb are ours, in every spelling', (t) => {
  const s = splitPassThrough(['-f', 'x.yaml', '--project-name=demo', '--debug', 'claude', '-p', 'hi']);
  t.deepEqual(s?.globals, { file: 'x.yaml', projectName: 'demo', debug: true });
  t.deepEqual(s?.rest, ['-p', 'hi']);
});

test('other commands, and unknown leading flags, go to cac', (t) => {
  t.is(splitPassThrough(['up', '--build']), undefined);
  t.is(splitPassThrough(['--version']), undefined);
  t.is(splitPassThrough([]), undefined);
});

test("help before the verb, or right after it, is cctl's help; one word further it is the tool's", (t) => {
  t.true(splitPassThrough(['--help', 'exec'])?.help);
  for (const verb of ['exec', 'shell', 'usage', 'monitor', 'claude']) {
    t.true(splitPassThrough([verb, '--help'])?.help, verb);
    t.true(splitPassThrough([verb, '-h'])?.help, verb);
  }
  t.false(splitPassThrough(['claude', '--', '--help'])?.help);
  t.false(splitPassThrough(['usage', 'daily', '--help'])?.help);
  t.false(splitPassThrough(['exec', 'git', '--help'])?.help);
});

test('a missing value for a global option is a usage error', (t) => {
  t.throws(() => splitPassThrough(['-f']), { message: /needs a value/ });
});

test('one leading -- is dropped, later ones are kept', (t) => {
  t.deepEqual(stripDoubleDash(['--', 'sh', '-c', 'x', '--', 'y']), ['sh', '-c', 'x', '--', 'y']);
  t.deepEqual(stripDoubleDash(['sh']), ['sh']);
});
