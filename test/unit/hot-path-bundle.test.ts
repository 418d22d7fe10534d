/**
 * bin/cctl.js's fast ways (build/hot-path.mjs makes dist/hot/): `--version`
 * and `--help` print exactly what the cac CLI prints, without loading it;
 * a pass-through verb loads the bundle (a handful of files under dist/hot/)
 * and nothing of cac, YAML, listr2 or the unbundled dist/. Checked on what
 * Node actually loads, through a resolve hook in the real bin.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(ROOT, 'bin', 'cctl.js');

/** Runs the compiled cac CLI alone (dist/cli.js main), as bin/cctl.js did before the fast ways. */
function cacOutput(args: string[]): string {
  const r = spawnSync(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `const { main } = await import(${JSON.stringify(join(ROOT, 'dist', 'cli.js'))}); process.exitCode = await main(${JSON.stringify(args)});`,
    ],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(r.stderr);
  return r.stdout;
}

/** bin/cctl.js ARGS in DIR, with every module Node resolves written down. */
function binLoads(
  args: string[],
  dir: string,
  env: NodeJS.ProcessEnv = {},
): { urls: string[]; stdout: string; stderr: string; status: number | null } {
  const log = join(dir, 'loaded.txt');
  const hook = join(dir, 'hook.mjs');
  const register = join(dir, 'register.mjs');
  writeFileSync(
    hook,
    `import { appendFileSync } from 'node:fs';\nexport async function resolve(s, c, next) { const r = await next(s, c); appendFileSync(${JSON.stringify(log)}, r.url + '\\n'); return r; }\n`,
  );
  writeFileSync(register, `import { register } from 'node:module';\nregister(${JSON.stringify(`file://${hook}`)});\n`);
  writeFileSync(log, '');
  const r = spawnSync(process.execPath, ['--import', register, BIN, ...args], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, NODE_OPTIONS: '', ...env },
  });
  const urls = readFileSync(log, 'utf8')
    .split('\n')
    .filter(Boolean)
    .filter((u) => !u.endsWith('/bin/cctl.js'));
  return { urls, stdout: r.stdout, stderr: r.stderr, status: r.status };
}

function scratch(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'cctl-hot-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

for (const [fast, same] of [
  ['--version', '--version'],
  ['-v', '--version'],
  ['--help', '--help'],
  ['-h', '--help'],
]) {
  test(`cctl ${fast} prints exactly what the cac CLI prints for ${same}, loading nothing of cctl`, (t) => {
    const r = binLoads([fast!], scratch(t));
    t.is(r.status, 0, r.stderr);
    t.is(r.stdout, cacOutput([same!]));
    t.deepEqual(
      r.urls.filter((u) => !u.startsWith('node:')),
      [],
      'only Node built-ins were resolved',
    );
  });
}

test('a pass-through verb loads the bundle under dist/hot/ and nothing of cac, yaml, listr2 or the unbundled dist/', (t) => {
  const dir = scratch(t);
  writeFileSync(join(dir, 'compose.yaml'), 'services:\n  claude-cli:\n    image: x\n');
  // A stand-in compose (the one process seam): answers the version probe, records the exec, succeeds.
  const fake = join(dir, 'fake-compose');
  writeFileSync(fake, `#!/bin/sh\ncase "$*" in *version*) echo 2.26.1 ;; *) echo "$*" > '${dir}/exec.txt' ;; esac\n`, { mode: 0o755 });
  for (const verb of ['exec', 'usage', 'claude', 'shell', 'monitor']) {
    const args = verb === 'exec' ? ['exec', 'true'] : [verb];
    const r = binLoads(args, dir, { CCTL_COMPOSE: fake, CCTL_CACHE_DIR: join(dir, 'cache') });
    t.is(r.status, 0, `${verb}: ${r.stderr}`);
    t.regex(readFileSync(join(dir, 'exec.txt'), 'utf8'), / exec -T .*claude-cli /, `${verb} reached compose exec`);
    // The hook sees each import statement; a file is read and compiled once.
    const files = [...new Set(r.urls.filter((u) => u.startsWith('file:')))];
    t.true(
      files.some((u) => u.endsWith('/dist/hot/pass-through.js')),
      files.join('\n'),
    );
    t.deepEqual(
      files.filter((u) => !u.includes('/dist/hot/')),
      [],
      `${verb}: everything came from the bundle`,
    );
    // The entry and the chunks it shares with the lazily loaded parts (live view, team report): against
    // about twenty files unbundled.
    t.true(files.length <= 8, `${verb}: ${files.length} files: ${files.join(' ')}`);
  }
});

test('the check can fail: a verb of the cac CLI loads cac and the unbundled dist/', (t) => {
  const r = binLoads(['status', '--json'], scratch(t));
  t.true(
    r.urls.some((u) => u.includes('/node_modules/cac/')),
    r.urls.join('\n'),
  );
  t.true(r.urls.some((u) => u.endsWith('/dist/cli.js')));
});
