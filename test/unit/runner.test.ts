import test from 'ava';
import { exitStatus, ProcessError, processRunner, quoteArg } from '../../lib/engine/runner.js';

test('exit status is the code, or 128 + the signal number', (t) => {
  t.is(exitStatus(0, null), 0);
  t.is(exitStatus(7, null), 7);
  t.is(exitStatus(null, 'SIGINT'), 130);
  t.is(exitStatus(null, 'SIGTERM'), 143);
  t.is(exitStatus(null, 'SIGKILL'), 137);
});

test('capture buffers output and resolves on success', async (t) => {
  const r = await processRunner.capture(['sh', '-c', 'echo out; echo err >&2'], {});
  t.deepEqual(r, { exitCode: 0, stdout: 'out\n', stderr: 'err\n' });
});

test('capture rejects with a real Error carrying code, stdout and stderr', async (t) => {
  const e = await t.throwsAsync(processRunner.capture(['sh', '-c', 'echo partial; echo broke >&2; exit 4']), {
    instanceOf: ProcessError,
  });
  t.is(e?.exitCode, 4);
  t.is(e?.stdout, 'partial\n');
  t.is(e?.stderr, 'broke\n');
  t.regex(e?.message ?? '', /broke/);
});

test('capture feeds input to stdin', async (t) => {
  const r = await processRunner.capture(['cat'], { input: 'hello' });
  t.is(r.stdout, 'hello');
});

test('a missing program is a ProcessError with exit code 127', async (t) => {
  const e = await t.throwsAsync(processRunner.capture(['cctl-no-such-program-xyz']), { instanceOf: ProcessError });
  t.is(e?.exitCode, 127);
});

test('interactive resolves with the exit code, or 128 + signal', async (t) => {
  t.is(await processRunner.interactive(['sh', '-c', 'exit 9']), 9);
  t.is(await processRunner.interactive(['sh', '-c', 'kill -TERM $$']), 143);
});

test('quoteArg leaves plain words and quotes the rest', (t) => {
  t.is(quoteArg('up'), 'up');
  t.is(quoteArg('--file=a.yaml'), '--file=a.yaml');
  t.is(quoteArg("it's here"), `'it'\\''s here'`);
});
