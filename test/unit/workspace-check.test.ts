/** doctor's workspace check (ops/machine-checks.ts) on what claude-cli answers: whose /workspace is, and what to do. */
import test from 'ava';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { workspaceWriteCheck } from '../../lib/ops/machine-checks.js';
import { locateProject } from '../../lib/project/locate.js';
import { FakeEngine, withEngine } from '../helpers/fake-engine.js';
import { scratchDir } from '../helpers/scratch.js';

async function answer(stdout: string) {
  const dir = scratchDir('cctl-workspace-unit-');
  writeFileSync(join(dir, 'compose.yaml'), 'services:\n  claude-cli:\n    image: x\n');
  const fake = new FakeEngine().on(/ exec -T claude-cli sh -c /, { stdout });
  return withEngine(fake, async () =>
    workspaceWriteCheck(locateProject({ file: join(dir, 'compose.yaml'), projectName: 'demo' }, dir, {})),
  );
}

test.serial('claude can write /workspace: pass', async (t) => {
  t.like(await answer('ok\n1500\n1500\n'), { status: 'pass' });
});

test.serial("a folder another user owns: fail, and the fix is that user's up", async (t) => {
  const check = await answer('no\n1001\n1500\n');
  t.is(check.status, 'fail');
  t.regex(check.detail, /cannot write \/workspace, which belongs to UID 1500/);
  t.regex(check.fix!, /as the user who owns the project/);
});

test.serial('a folder root owns: a warning (no user to map claude to), and the fix gives the folder to a user', async (t) => {
  const check = await answer('no\n1001\n0\n');
  t.is(check.status, 'warn');
  t.regex(check.detail, /belongs to root/);
  t.regex(check.fix!, /chown -R USER/);
});
