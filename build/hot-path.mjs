// The hot path's build step, run by `npm run build` after tsc:
//
//   1. dist/hot/pass-through.cjs: lib/pass-through.ts and the five pass-through
//      verbs bundled into one CommonJS file (esbuild), so `cctl usage daily`
//      reads and compiles one file before it spawns compose, and Node sets up
//      no ES module loader (bin/cctl.js is CommonJS too). What those verbs
//      import only on some paths (the live view, the team report, the failure
//      diagnosis) is in the same file: V8 compiles a function when it first
//      runs, so code that never runs costs a quick pre-parse, not a compile.
//      Packages stay where npm put them, required when used.
//   2. dist/hot/help.txt and dist/hot/version.txt: what `cctl --help` and
//      `cctl --version` print, rendered here by the cac CLI itself, so
//      bin/cctl.js answers them without loading cac or the verb table.
//      (cac's --version line ends with the platform and Node version, which
//      bin/cctl.js appends at run time; help has no run-time part.)
//      test/unit/hot-path-bundle.test.ts checks both against cac's output.
import { build } from 'esbuild';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = `${root}dist/hot`;

await build({
  entryPoints: [`${root}lib/pass-through.ts`],
  outfile: `${out}/pass-through.cjs`,
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  logLevel: 'warning',
});

// cac prints help and the version with console.info (console.log, in other versions); render them from
// the compiled CLI.
async function render(argv) {
  const lines = [];
  const saved = { log: console.log, info: console.info };
  console.log = console.info = (...args) => lines.push(args.join(' '));
  try {
    const { main } = await import(`${root}dist/cli.js`);
    const code = await main(argv);
    if (code !== 0) throw new Error(`cctl ${argv.join(' ')} exited ${code} while rendering it`);
  } finally {
    Object.assign(console, saved);
  }
  if (!lines.length) throw new Error(`cctl ${argv.join(' ')} printed nothing while rendering it`);
  return `${lines.join('\n')}\n`;
}
mkdirSync(out, { recursive: true });
writeFileSync(`${out}/help.txt`, await render(['--help']));
const version = (await render(['--version'])).trim();
// "cctl/0.1.0 linux-x64 node-v20.20.2": the part before the platform is fixed at build time.
const suffix = ` ${process.platform}-${process.arch} node-${process.version}`;
if (!version.endsWith(suffix)) throw new Error(`cac's --version line changed shape: "${version}"`);
writeFileSync(`${out}/version.txt`, version.slice(0, -suffix.length));
