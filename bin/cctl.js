#!/usr/bin/env node
// Bootstrap only: the CLI lives in lib/ and is compiled to dist/ by `npm install` (the prepare script).
import { main } from '../dist/cli.js';

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
