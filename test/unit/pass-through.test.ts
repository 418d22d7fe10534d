/**
 * The pass-through verbs (claude, monitor, usage, shell, exec) are timed
 * against the raw `compose exec`, so their path must not load cac, the YAML
 * parser or listr2. Checked on what Node actually loads: a child process
 * imports the entry and each verb's module with a resolve hook that records
 * every module, and the list must not name those packages.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PASS_THROUGH } from '../../lib/kernel/argv.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const HEAVY = ['cac', 'yaml', 'listr2'];

// Runs in the hooks thread: appends each resolved URL to the file named in `data`.
const HOOK = `
import { appendFileSync } from 'node:fs';
let log;
export function initialize(data) { log = data.log; }
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  appendFileSync(log, result.url + '\\n');
  return result;
}`;

function loadedBy(modules: string[]): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'cctl-graph-'));
  const log = join(dir, 'loaded.txt');
  const script = `
    import { register } from 'node:module';
    register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(HOOK)}), { data: { log: ${JSON.stringify(log)} } });
    for (const m of ${JSON.stringify(modules)}) await import(m);`;
  try {
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`the module graph could not be loaded: ${r.stderr}`);
    return readFileSync(log, 'utf8').split('\n').filter(Boolean);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const heavy = (urls: string[]) => urls.filter((u) => HEAVY.some((p) => u.includes(`/node_modules/${p}/`)));

test('the pass-through path loads no cac, yaml or listr2', (t) => {
  const entry = new URL('../../lib/pass-through.ts', import.meta.url).href;
  const verbs = [...PASS_THROUGH].map((v) => new URL(`../../lib/commands/${v}.ts`, import.meta.url).href);
  const urls = loadedBy([entry, ...verbs]);
  // The hook did see the graph: the verbs' own modules are in it.
  t.true(
    urls.some((u) => u.endsWith('/lib/ops/exec.ts')),
    urls.join('\n'),
  );
  t.deepEqual(heavy(urls), []);
});

test('cctl up loads no yaml or listr2 until it knows the short path will not do (ops/up/short-path.ts)', (t) => {
  const urls = loadedBy([new URL('../../lib/commands/up.ts', import.meta.url).href]);
  t.true(
    urls.some((u) => u.endsWith('/lib/ops/up/short-path.ts')),
    urls.join('\n'),
  );
  t.deepEqual(
    heavy(urls).filter((u) => !u.includes('/node_modules/cac/')),
    [],
  );
});

test('the check can fail: the cac CLI does load them', (t) => {
  const urls = loadedBy([new URL('../../lib/cli.ts', import.meta.url).href, new URL('../../lib/commands/init.ts', import.meta.url).href]);
  t.true(heavy(urls).some((u) => u.includes('/node_modules/cac/')));
  t.true(heavy(urls).some((u) => u.includes('/node_modules/yaml/')));
});
