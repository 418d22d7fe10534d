/**
 * bin/cctl.js's fast ways (build/hot-path.mjs makes dist/hot/): `--version`
 * and `--help` print exactly what the cac CLI prints, without loading it;
 * a pass-through verb loads one file, the CommonJS bundle, and no ES module
 * at all (so no cac, YAML, listr2 or the unbundled dist/); every other verb
 * loads the CLI's own bundle after it, and no ES module either. Checked on what
 * Node actually loads in the real bin: a preloaded script writes down every
 * CommonJS file compiled, and a resolve hook every ES module resolved.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import Module from 'node:module';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
): { urls: string[]; codeCache: string[]; stdout: string; stderr: string; status: number | null } {
  const log = join(dir, 'loaded.txt');
  const cacheLog = join(dir, 'code-cache.txt');
  const hook = join(dir, 'hook.mjs');
  const preload = join(dir, 'preload.cjs');
  writeFileSync(
    hook,
    `import { appendFileSync } from 'node:fs';\nexport async function resolve(s, c, next) { const r = await next(s, c); appendFileSync(${JSON.stringify(log)}, r.url + '\\n'); return r; }\n`,
  );
  // CommonJS files pass no resolve hook: each is written down as it is compiled. The hook is registered
  // from here, not with --import, which would send the main file through the ES module loader itself.
  writeFileSync(
    preload,
    `const Module = require('node:module'); const { appendFileSync } = require('node:fs');\n` +
      `Module.register(${JSON.stringify(`file://${hook}`)});\n` +
      `const compile = Module.prototype._compile;\n` +
      `Module.prototype._compile = function (content, filename) { appendFileSync(${JSON.stringify(log)}, 'file://' + filename + '\\n'); return compile.call(this, content, filename); };\n` +
      // bin/cctl.js compiles the bundle itself on Nodes without a compile cache (requireCompiled): a vm.Script
      // with its file name, and V8's answer to the cached code it was given.
      `const vm = require('node:vm'); const Script = vm.Script;\n` +
      `vm.Script = class extends Script { constructor(code, o) { super(code, o); if (o?.filename) { appendFileSync(${JSON.stringify(log)}, 'file://' + o.filename + '\\n'); appendFileSync(${JSON.stringify(cacheLog)}, (o.cachedData ? (this.cachedDataRejected ? 'rejected' : 'used') : 'none') + '\\n'); } } };\n`,
  );
  writeFileSync(log, '');
  writeFileSync(cacheLog, '');
  const watch = ['--require', preload];
  const r = spawnSync(process.execPath, [...watch, BIN, ...args], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, NODE_OPTIONS: '', ...env },
  });
  const urls = readFileSync(log, 'utf8')
    .split('\n')
    .filter(Boolean)
    .filter((u) => !u.endsWith('/bin/cctl.js') && !u.startsWith(`file://${dir}/`));
  const codeCache = readFileSync(cacheLog, 'utf8').split('\n').filter(Boolean);
  return { urls, codeCache, stdout: r.stdout, stderr: r.stderr, status: r.status };
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

test('a pass-through verb loads one file, the bundle, and no ES module: nothing of cac, yaml, listr2 or the unbundled dist/', (t) => {
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
    const files = [...new Set(r.urls)];
    t.deepEqual(files, [`file://${join(ROOT, 'dist', 'hot', 'pass-through.cjs')}`], `${verb}: one file, the bundle`);
  }
});

test("the bundle's compiled code is kept in cctl's cache folder and used by the next run; a damaged entry is compiled afresh", (t) => {
  const dir = scratch(t);
  writeFileSync(join(dir, 'compose.yaml'), 'services:\n  claude-cli:\n    image: x\n');
  const fake = join(dir, 'fake-compose');
  writeFileSync(fake, `#!/bin/sh\ncase "$*" in *version*) echo 2.26.1 ;; esac\n`, { mode: 0o755 });
  const cache = join(dir, 'cache');
  const exec = () => binLoads(['exec', 'true'], dir, { CCTL_COMPOSE: fake, CCTL_CACHE_DIR: cache });
  const first = exec();
  t.is(first.status, 0, first.stderr);
  if (typeof (Module as { enableCompileCache?: unknown }).enableCompileCache === 'function') {
    // Node 22.1+: Node's own compile cache, in cctl's per-user folder rather than the shared os.tmpdir().
    t.true(readdirSync(join(cache, 'node-compile-cache')).length > 0);
    return;
  }
  t.deepEqual(first.codeCache, ['none'], 'the first run compiles');
  const entries = readdirSync(join(cache, 'hot-path'));
  t.is(entries.length, 1, entries.join(', '));
  t.regex(entries[0]!, new RegExp(`^${process.version}-${process.arch}-\\d+-\\d+-\\d+\\.v8$`));
  const second = exec();
  t.is(second.status, 0, second.stderr);
  t.deepEqual(second.codeCache, ['used'], 'the second run takes the compiled code');
  const entry = join(cache, 'hot-path', entries[0]!);
  writeFileSync(entry, 'not code');
  const damaged = exec();
  t.is(damaged.status, 0, damaged.stderr);
  t.deepEqual(damaged.codeCache, ['rejected'], 'V8 refuses data that is not its own');
  t.deepEqual(exec().codeCache, ['used'], 'and the entry was written afresh');
  t.deepEqual(readdirSync(join(cache, 'hot-path')), entries);
});

test('a pass-through verb loads no Node module that its spawn does not: no HTTP client, no node:os', (t) => {
  const dir = scratch(t);
  writeFileSync(join(dir, 'compose.yaml'), 'services:\n  claude-cli:\n    image: x\n');
  const fake = join(dir, 'fake-compose');
  writeFileSync(fake, `#!/bin/sh\ncase "$*" in *version*) echo 2.26.1 ;; esac\n`, { mode: 0o755 });
  // What the floor (a bare script spawning compose) loads is child_process and what it needs; anything a
  // verb adds to that is start-up time over the floor. Written down at exit, after the child is gone.
  const preload = join(dir, 'modules.cjs');
  const out = join(dir, 'modules.txt');
  writeFileSync(
    preload,
    `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(out)}, process.moduleLoadList.join('\\n')));\n`,
  );
  const r = spawnSync(process.execPath, ['--require', preload, BIN, 'exec', 'true'], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, NODE_OPTIONS: '', CCTL_COMPOSE: fake, CCTL_CACHE_DIR: join(dir, 'cache') },
  });
  t.is(r.status, 0, r.stderr);
  const loaded = readFileSync(out, 'utf8').split('\n');
  t.true(loaded.includes('NativeModule child_process'), 'the list is the real one');
  for (const heavy of ['http', 'https', 'tls', 'os', 'readline']) {
    t.false(loaded.includes(`NativeModule ${heavy}`), `${heavy} was loaded`);
  }
});

test('the check can fail: a verb of the cac CLI loads the CLI bundle too, and no file of the unbundled dist/', (t) => {
  const r = binLoads(['status', '--json'], scratch(t));
  t.deepEqual(
    [...new Set(r.urls.filter((u) => !u.startsWith('node:') && !u.includes('/node_modules/')))],
    [`file://${join(ROOT, 'dist', 'hot', 'pass-through.cjs')}`, `file://${join(ROOT, 'dist', 'hot', 'cli.cjs')}`],
    r.urls.join('\n'),
  );
});

test("the CLI bundle answers as the compiled cac CLI does, and finds cctl's files from its own folder", (t) => {
  const dir = scratch(t);
  for (const args of [
    ['init', '--help'],
    ['status', '--help'],
    ['up', '--help'],
  ]) {
    const r = spawnSync(process.execPath, [BIN, ...args], { cwd: dir, encoding: 'utf8' });
    t.is(r.status, 0, r.stderr);
    t.is(r.stdout, cacOutput(args), args.join(' '));
  }
  // The bundle holds no path of the machine that built it: import.meta.url is found from __dirname at run time.
  const bundle = readFileSync(join(ROOT, 'dist', 'hot', 'cli.cjs'), 'utf8');
  t.false(bundle.includes(ROOT), 'no absolute path of the build');
  t.false(/import\.meta/.test(bundle));
});
