#!/usr/bin/env node
// Bootstrap only: the CLI lives in lib/ and is compiled to dist/ by `npm install` (the prepare script).
// The pass-through verbs (claude, usage, exec, ...) go first, on a path that never loads cac or YAML;
// everything else goes to the cac CLI.
import { passThrough } from '../dist/pass-through.js';

// A reader that closed the pipe (cctl doctor | head -1) ends the command quietly, as in other Unix tools.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error) => {
    if (error.code === 'EPIPE') process.exit(0);
    throw error;
  });
}
const argv = process.argv.slice(2);
const code = (await passThrough(argv)) ?? (await (await import('../dist/cli.js')).main(argv));
process.exitCode = code;
