/**
 * `cctl doctor` into a pipe whose reader goes away (`| head -1`, `| true`), on a running team-key stack as a
 * regular user: cctl ends quietly with exit 0, no EPIPE and no stack trace.
 */
import { e2e } from '../helpers/e2e.js';
import { CLI } from '../helpers/cli.js';
import { teamKeyStack } from '../helpers/team-key-stack.js';

const stack = teamKeyStack('docpipe');

e2e.before(() => stack.start());

e2e.serial('cctl doctor | head -1 prints no stack trace and cctl exits 0', async (t) => {
  const r = await stack.asUser(['bash', '-c', `node ${CLI} doctor | head -1; echo "cctl exit \${PIPESTATUS[0]}" >&2`]);
  t.regex(r.stderr, /cctl exit 0/);
  t.notRegex(r.stderr, /EPIPE|at .*\.js:\d+/);
  t.is(r.stdout.split('\n').filter(Boolean).length, 1);
});

e2e.serial('a reader that is gone before cctl writes (| true) ends doctor quietly with exit 0 too', async (t) => {
  const r = await stack.asUser(['bash', '-c', `node ${CLI} doctor | true; echo "cctl exit \${PIPESTATUS[0]}" >&2`]);
  t.regex(r.stderr, /cctl exit 0/);
  t.notRegex(r.stderr, /EPIPE|at .*\.js:\d+/);
});
