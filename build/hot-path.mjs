// The hot path's build step, run by `npm run build` after tsc:
//
//   1. dist/hot/pass-through.js: lib/pass-through.ts and the five pass-through
//      verbs bundled into one ES module (esbuild), so `cctl usage daily`
//      reads and compiles one file instead of about twenty before it spawns
//      compose. What those verbs import only on some paths (the live view, the
//      team report) stays in chunks of its own beside it, loaded when used.
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
  outdir: out,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // Packages stay where npm put them: a lazily loaded chunk imports them by name as the tsc output does.
  packages: 'external',
  chunkNames: 'chunk-[name]-[hash]',
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
