/**
 * Each folder of lib/ has a README that says what its files hold; they had
 * drifted (kernel/ did not name once.ts, gateway/ named 10 of its 22 files).
 * Every .ts file must be named there in backticks, as `name` or `name.ts`
 * (files in a subfolder by their own name, under that subfolder's line).
 */
import test from 'ava';
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const LIB = fileURLToPath(new URL('../../lib/', import.meta.url));
const FOLDERS = readdirSync(LIB, { withFileTypes: true })
  .filter((e) => e.isDirectory())
  .map((e) => e.name);
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The .ts files of a folder that its README does not name. */
export function unnamed(readme: string, files: readonly string[]): string[] {
  return files.filter((f) => !new RegExp(`\`(?:[\\w./-]*/)?${escape(basename(f, '.ts'))}(?:\\.ts)?\``).test(readme));
}

for (const folder of FOLDERS) {
  test(`lib/${folder}/README.md names every file in the folder`, (t) => {
    const files = (readdirSync(join(LIB, folder), { recursive: true }) as string[]).filter((f) => f.endsWith('.ts')).sort();
    const readme = readFileSync(join(LIB, folder, 'README.md'), 'utf8');
    t.deepEqual(unnamed(readme, files), []);
  });
}

test('the check can fail: a file the README does not name is reported, a named one is not', (t) => {
  t.deepEqual(unnamed('holds `a.ts` and `sub/b`, and c without backticks', ['a.ts', 'sub/b.ts', 'c.ts', 'dd.ts']), ['c.ts', 'dd.ts']);
});
