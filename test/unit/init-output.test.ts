/**
 * What `cctl init` prints about the files it writes: each file in the project
 * (they go into git), but the gateway's build folder in the private folder,
 * about fifty files cctl keeps in step itself, as one line (--verbose lists them).
 */
import test from 'ava';
import { join } from 'node:path';
import { main } from '../../lib/cli.js';
import { privateDir } from '../../lib/project/private-dir.js';
import { FakeEngine, withEngine } from '../helpers/fake-engine.js';
import { captureStdout } from '../helpers/output.js';
import { ownHome } from '../helpers/project.js';
import { scratchDir } from '../helpers/scratch.js';

ownHome(test, 'init-output');

test.serial("init summarises the gateway's build folder in one line; --verbose names each file", async (t) => {
  const dir = scratchDir('cctl-init-out-');
  const file = join(dir, 'compose.yaml');
  const quiet = await withEngine(new FakeEngine(), () => captureStdout(() => main(['-f', file, '-p', 'initout', 'init'])));
  t.is(quiet.result, 0);
  const build = join(privateDir('initout'), 'proxy');
  const lines = quiet.out.split('\n');
  t.deepEqual(
    lines.filter((l) => l.includes(`${build}/`)),
    [],
    'no line per file of the build folder',
  );
  const summary = lines.filter((l) => l.includes(`${build} `));
  t.is(summary.length, 1, quiet.out);
  t.regex(summary[0]!, /^ {2}added (\d+) file\(s\) of the gateway's build folder in \S+ \(--verbose lists them\)$/);
  const added = Number(/added (\d+)/.exec(summary[0]!)![1]);
  t.true(added > 5, summary[0]);
  t.true(
    lines.some((l) => /^ {2}added +\.cctl\/docker\//.test(l)),
    'files in the project are still named one by one',
  );

  // Another project (a fresh private folder), listed with --verbose: one line per file, as many as counted.
  const fresh = join(scratchDir('cctl-init-out-'), 'compose.yaml');
  const loud = await withEngine(new FakeEngine(), () => captureStdout(() => main(['-f', fresh, '-p', 'initout2', 'init', '--verbose'])));
  t.is(loud.result, 0);
  const each = loud.out.split('\n').filter((l) => l.includes(`${join(privateDir('initout2'), 'proxy')}/`));
  t.is(each.length, added);
  t.false(loud.out.includes('--verbose lists them'));
});
