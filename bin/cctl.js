#!/usr/bin/env node
// Bootstrap only: the CLI lives in lib/ and is compiled to dist/ by `npm install` (the prepare script).
// CommonJS (bin/package.json), because users time these against bare `node` and raw `compose exec`, and
// Node 20 pays about 10 % of its own start-up to set up its ES module loader, which `node -e 0` and a
// Node script spawning compose do not. Three ways, cheapest first:
//   - `--version` and `--help` alone print what the build rendered from the cac CLI (dist/hot/*.txt);
//   - the pass-through verbs (claude, usage, exec, ...) require one bundled CommonJS file
//     (dist/hot/pass-through.cjs) that never loads cac or YAML, through a compile cache;
//   - everything else requires the cac CLI bundled into one CommonJS file (dist/hot/cli.cjs), which loads
//     no ES module either.
// build/hot-path.mjs makes dist/hot/; test/unit/hot-path-bundle.test.ts holds these to the cac CLI's output.
'use strict';
const { readFileSync, writeSync } = require('node:fs');
const { join } = require('node:path');

const argv = process.argv.slice(2);
const only = argv.length === 1 ? argv[0] : undefined;
if (only === '--version' || only === '-v' || only === '--help' || only === '-h') {
  const help = only === '--help' || only === '-h';
  const text = readFileSync(join(__dirname, '..', 'dist', 'hot', help ? 'help.txt' : 'version.txt'), 'utf8');
  // cac's version line ends with the platform and this Node's version, known only now. One write to fd 1:
  // process.stdout would load its stream classes first.
  try {
    writeSync(1, help ? text : `${text} ${process.platform}-${process.arch} node-${process.version}\n`);
  } catch (error) {
    if (error.code !== 'EPIPE') throw error;
  }
} else {
  // A reader that closed the pipe (cctl doctor | head -1) ends the command quietly, as in other Unix tools.
  // Attached when the stream is first made: making process.stdout and process.stderr is start-up work that
  // the pass-through verbs, whose child inherits fds 1 and 2 and which write nothing themselves, skip.
  for (const name of ['stdout', 'stderr']) {
    const make = Object.getOwnPropertyDescriptor(process, name).get;
    Object.defineProperty(process, name, {
      configurable: true,
      enumerable: true,
      get() {
        const stream = make.call(process);
        Object.defineProperty(process, name, { configurable: true, enumerable: true, get: () => stream });
        stream.on('error', (error) => {
          if (error.code === 'EPIPE') process.exit(0);
          throw error;
        });
        return stream;
      },
    });
  }
  const { passThrough } = requireCompiled(join(__dirname, '..', 'dist', 'hot', 'pass-through.cjs'));
  passThrough(argv)
    .then((code) => code ?? require('../dist/hot/cli.cjs').main(argv))
    .then((code) => {
      process.exitCode = code;
    });
}

/**
 * cctl's cache folder, as lib/engine/compose-cache.ts names it: per user, so no other user of the machine
 * can put compiled code there (Node's own default, os.tmpdir()/node-compile-cache, is shared by all).
 */
function cacheDir() {
  const env = process.env;
  return env.CCTL_CACHE_DIR ?? join(env.XDG_CACHE_HOME ?? join(env.HOME || require('node:os').homedir(), '.cache'), 'cctl');
}

/**
 * require(file), with its compiled code kept on disk between runs: compiling the bundle is most of what
 * a pass-through verb does before it spawns compose. Node 22.1+ keeps a compile cache itself (for the ES
 * modules of the cac CLI too). Older Nodes get the same for this one file: V8's code cache, written after
 * the first run with the functions that ran compiled in, keyed by Node's version and the bundle file's
 * identity (a rebuild is a new file, so a new entry; the old one is removed). V8 checks the data and
 * rejects what does not fit (another V8, other flags): the file is then compiled as require would, and
 * the entry written afresh. NODE_DISABLE_COMPILE_CACHE=1 turns either off, as it does Node's.
 */
function requireCompiled(file) {
  const Module = require('node:module');
  const env = process.env;
  if (env.NODE_DISABLE_COMPILE_CACHE) return require(file);
  if (Module.enableCompileCache) {
    Module.enableCompileCache(env.NODE_COMPILE_CACHE ? undefined : join(cacheDir(), 'node-compile-cache'));
    return require(file);
  }
  const fs = require('node:fs');
  const { Script } = require('node:vm');
  const dir = join(cacheDir(), 'hot-path');
  const id = fs.statSync(file);
  const name = `${process.version}-${process.arch}-${id.size}-${id.ino}-${Math.trunc(id.mtimeMs)}.v8`;
  let cachedData;
  try {
    cachedData = fs.readFileSync(join(dir, name));
  } catch {
    cachedData = undefined;
  }
  const script = new Script(Module.wrap(fs.readFileSync(file, 'utf8')), { filename: file, cachedData });
  if (cachedData === undefined || script.cachedDataRejected) process.once('exit', () => keepCompiled(dir, name, script));
  const module = new Module(file, null);
  module.filename = file;
  module.paths = Module._nodeModulePaths(join(file, '..'));
  script.runInThisContext()(module.exports, Module.createRequire(file), module, file, join(file, '..'));
  return module.exports;
}

/** Writes the script's code cache as the folder's one entry (atomically: another cctl may be reading it). */
function keepCompiled(dir, name, script) {
  const fs = require('node:fs');
  try {
    fs.mkdirSync(dir, { recursive: true });
    const tmp = join(dir, `${name}.${process.pid}.tmp`);
    fs.writeFileSync(tmp, script.createCachedData());
    fs.renameSync(tmp, join(dir, name));
    for (const old of fs.readdirSync(dir)) if (old !== name && old.endsWith('.v8')) fs.rmSync(join(dir, old), { force: true });
  } catch {
    // A read-only home only costs the compile next time.
  }
}
