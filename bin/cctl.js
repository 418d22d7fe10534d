#!/usr/bin/env node
// Bootstrap only: the CLI lives in lib/ and is compiled to dist/ by `npm install` (the prepare script).
// CommonJS (bin/package.json), because users time these against bare `node` and raw `compose exec`, and
// Node 20 pays about 10 % of its own start-up to set up its ES module loader, which `node -e 0` and a
// Node script spawning compose do not. Three ways, cheapest first:
//   - `--version` and `--help` alone print what the build rendered from the cac CLI (dist/hot/*.txt);
//   - the pass-through verbs (claude, usage, exec, ...) require one bundled CommonJS file
//     (dist/hot/pass-through.cjs) that never loads cac or YAML;
//   - everything else imports the cac CLI (dist/cli.js, an ES module).
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
  // Node 22.1+ keeps compiled code on disk between runs (os.tmpdir()/node-compile-cache); older Nodes lack it.
  require('node:module').enableCompileCache?.();
  // A reader that closed the pipe (cctl doctor | head -1) ends the command quietly, as in other Unix tools.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error) => {
      if (error.code === 'EPIPE') process.exit(0);
      throw error;
    });
  }
  const { passThrough } = require('../dist/hot/pass-through.cjs');
  passThrough(argv)
    .then(async (code) => code ?? (await import('../dist/cli.js')).main(argv))
    .then((code) => {
      process.exitCode = code;
    });
}
