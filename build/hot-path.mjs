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
//   3. dist/hot/cli.cjs: the cac CLI (dist/cli.js as tsc compiled it) and cac bundled into one CommonJS
//      file, for every other verb. `cctl up` with nothing to do is timed against raw Compose checks
//      (bench/speed.ts); loading ~100 ES modules through Node's ES module loader cost it ~0.1 s of CPU
//      more than one bundle on a loaded machine. Each module's import.meta.url becomes its own dist/
//      file's URL, found from the bundle's folder, so paths found from it are the ones they were. Packages other than
//      cac (ES modules only) stay where npm put them, required when used; their `require` entry points
//      exist (yaml, listr2, postgres, docker-compose).
import { build } from 'esbuild';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { relative } from 'node:path';
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

await build({
  entryPoints: [`${root}dist/cli.js`],
  outfile: `${out}/cli.cjs`,
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  external: ['yaml', 'listr2', 'postgres', 'docker-compose'],
  logLevel: 'warning',
  plugins: [
    {
      name: 'import-meta-url',
      setup(b) {
        b.onLoad({ filter: /[\\/]dist[\\/].*\.js$/ }, (args) => ({
          // Relative to the bundle (__dirname is dist/hot/ when it runs), so a packed and installed copy finds its own files.
          contents: readFileSync(args.path, 'utf8').replaceAll(
            'import.meta.url',
            `require('node:url').pathToFileURL(require('node:path').join(__dirname, ${JSON.stringify(relative(out, args.path))})).href`,
          ),
          loader: 'js',
        }));
      },
    },
  ],
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
