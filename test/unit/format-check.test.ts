/**
 * The formatter (prettier, .prettierrc.json: print width 140) and its check,
 * `npm run format:check`: the check fails on a file the formatter would
 * change, and passes once it is formatted. The tree is formatted once, in a
 * commit of its own, and CI (.ci/run) runs the check before the tests.
 */
import test from 'ava';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as prettier from 'prettier';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

test("the check fails on unformatted code, passes on the formatter's output, and keeps lines within 140", async (t) => {
  const config = { ...(JSON.parse(readFileSync(`${ROOT}.prettierrc.json`, 'utf8')) as prettier.Options), filepath: `${ROOT}lib/x.ts` };
  const ugly = `export const values = [${Array.from({ length: 40 }, (_, i) => `"value-${i}"`).join(',')}]\n`;
  t.false(await prettier.check(ugly, config));
  const pretty = await prettier.format(ugly, config);
  t.true(await prettier.check(pretty, config));
  t.true(pretty.split('\n').every((line) => line.length <= 140));
  t.regex(pretty, /'value-0'/, 'single quotes');
  const script = JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')).scripts['format:check'] as string;
  t.regex(script, /^prettier --check "lib\/\*\*\/\*\.ts" "test\/\*\*\/\*\.ts"/);
  // CI runs it, and a failed check fails the run.
  const ci = readFileSync(`${ROOT}.ci/run`, 'utf8');
  t.regex(ci, /^if npm run --silent format:check; then\n(?:.*\n)*?\s+overall=1\n/m);
});
