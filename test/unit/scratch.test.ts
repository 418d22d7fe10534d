/**
 * `npm test` used to leave about 100 /tmp/cctl-* folders behind: folders made
 * by tests that nothing removed, and e2e files whose cleanup hooks never ran
 * because they were skipped. Scratch folders (test/helpers/scratch.ts) go when
 * the test process exits, and every other temp folder a test file makes must
 * be removed by that file.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { announceOnce } from '../helpers/announce.js';
import { scratchDir } from '../helpers/scratch.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

test('a scratch folder is gone when the process that made it exits, even on a failure exit', (t) => {
  for (const code of [0, 1]) {
    const script = `import { scratchDir } from './test/helpers/scratch.ts'; const d = scratchDir('cctl-scratch-check-'); console.log(d); process.exitCode = ${code};`;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8' });
    const dir = r.stdout.trim();
    t.regex(dir, /cctl-scratch-check-/, r.stderr);
    t.is(r.status, code);
    t.false(existsSync(dir), `${dir} is still there`);
  }
});

test('every test file that makes a temp folder with mkdtempSync also removes it (or uses scratchDir)', (t) => {
  const files = (readdirSync(join(ROOT, 'test'), { recursive: true }) as string[]).filter(
    (f) => f.endsWith('.ts') && ![join('helpers', 'scratch.ts'), join('unit', 'scratch.test.ts')].includes(f),
  );
  const leaking = files.filter((f) => {
    const text = readFileSync(join(ROOT, 'test', f), 'utf8');
    return /\bmkdtempSync\(/.test(text) && !/\b(rmSync|cleanup)\(/.test(text);
  });
  t.deepEqual(leaking, []);
});

test('a SKIPPED line is said once per run: the first file of a run claims it, the others stay quiet', (t) => {
  const marks = join(scratchDir('cctl-announce-'), 'marks');
  const run = 4242;
  const said = [1, 2, 3].map(() => announceOnce('e2e', '(announce check: said once)', run, marks));
  t.deepEqual(said, [true, false, false]);
  // The next run (another parent) says it again, and clears the marks of the one before.
  t.true(announceOnce('e2e', '(announce check: the next run)', run + 1, marks));
  t.true(announceOnce('e2e', '(announce check: the first run again, its mark cleared)', run, marks));
});
