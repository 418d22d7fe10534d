#!/usr/bin/env node
// Bootstrap only: the CLI lives in lib/ and is compiled to dist/ by `npm install` (the prepare script).
// Three ways, cheapest first, because users time these against bare `node` and raw `compose exec`:
//   - `--version` and `--help` alone print what the build rendered from the cac CLI (dist/hot/*.txt);
//   - the pass-through verbs (claude, usage, exec, ...) load one bundled module (dist/hot/pass-through.js)
//     that never loads cac or YAML;
//   - everything else goes to the cac CLI (dist/cli.js).
// build/hot-path.mjs makes dist/hot/; test/unit/hot-path-bundle.test.ts holds these to the cac CLI's output.
import { readFileSync } from 'node:fs';
import module from 'node:module';

const argv = process.argv.slice(2);
const only = argv.length === 1 ? argv[0] : undefined;
if (only === '--version' || only === '-v' || only === '--help' || only === '-h') {
  const help = only === '--help' || only === '-h';
  const text = readFileSync(new URL(`../dist/hot/${help ? 'help' : 'version'}.txt`, import.meta.url), 'utf8');
  // cac's version line ends with the platform and this Node's version, known only now.
  process.stdout.write(help ? text : `${text} ${process.platform}-${process.arch} node-${process.version}\n`);
} else {
  // Node 22.1+ keeps compiled code on disk between runs (os.tmpdir()/node-compile-cache); older Nodes lack it.
  module.enableCompileCache?.();
  // A reader that closed the pipe (cctl doctor | head -1) ends the command quietly, as in other Unix tools.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error) => {
      if (error.code === 'EPIPE') process.exit(0);
      throw error;
    });
  }
  const { passThrough } = await import('../dist/hot/pass-through.js');
  const code = (await passThrough(argv)) ?? (await (await import('../dist/cli.js')).main(argv));
  process.exitCode = code;
}
