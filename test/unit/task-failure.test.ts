/**
 * A failed step is said once: the plain task list (CI, a pipe) marks which
 * task failed, and cctl's report (failure-report.ts) gives the message and its hint.
 */
import test from 'ava';
import { taskList } from '../../lib/ui/tasks.js';
import { report } from '../../lib/failure-report.js';
import { CctlError } from '../../lib/kernel/errors.js';

test.serial('plain task list + report: the error message stands once, the failed task is named', async (t) => {
  let text = '';
  const saved = { out: process.stdout.write, err: process.stderr.write };
  const capture = ((chunk: string | Uint8Array) => ((text += String(chunk)), true)) as typeof process.stdout.write;
  process.stdout.write = capture;
  process.stderr.write = capture;
  try {
    const error = new CctlError('Port 3000 on this machine is already in use.', { hint: 'Free it, or choose another port.' });
    const list = taskList([{ title: 'Start the claude profile', task: () => Promise.reject(error) }], 'plain');
    await list.run({}).catch((e: unknown) => report(e));
  } finally {
    process.stdout.write = saved.out;
    process.stderr.write = saved.err;
  }
  const plain = text.replace(/\x1b\[[0-9;]*m/g, '');
  t.is(plain.split('already in use').length - 1, 1, plain);
  t.regex(plain, /Start the claude profile \[FAILED\]/);
  t.regex(plain, /^cctl: Port 3000 on this machine is already in use\.\nFree it, or choose another port\.$/m);
});
