/**
 * lib/gateway/tsconfig.json makes "node builtins only" a compile error. Each
 * case copies that tsconfig byte for byte into a scratch folder at the same
 * depth under the repository (so node_modules, with yaml in it, is as
 * reachable as it is from lib/gateway) and compiles one file with it.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');

function compile(source: string): Promise<{ code: number; output: string }> {
  // <root>/.gateway-scratch-XXXX/gateway/ mirrors <root>/lib/gateway/.
  const scratch = mkdtempSync(join(root, '.gateway-scratch-'));
  const dir = join(scratch, 'gateway');
  mkdirSync(dir);
  copyFileSync(join(root, 'lib', 'gateway', 'tsconfig.json'), join(dir, 'tsconfig.json'));
  writeFileSync(join(dir, 'sibling.ts'), 'export const sibling = 1;\n');
  writeFileSync(join(dir, 'probe.ts'), source);
  return new Promise((resolve) => {
    execFile(process.execPath, [tsc, '-p', join(dir, 'tsconfig.json'), '--noEmit'], { timeout: 120_000 }, (error, stdout, stderr) => {
      rmSync(scratch, { recursive: true, force: true });
      resolve({ code: error ? ((error.code as number | undefined) ?? 1) : 0, output: stdout + stderr });
    });
  });
}

test('builtins, their types and sibling modules compile (the control case)', async (t) => {
  const result = await compile(
    "import http from 'node:http';\nimport { sibling } from './sibling.js';\nexport const server: http.Server = http.createServer();\nexport const n: number = sibling;\n",
  );
  t.is(result.code, 0, result.output);
});

test('the builtins are typed, not any: a type error in their use is caught', async (t) => {
  const result = await compile("import http from 'node:http';\nexport const wrong: number = http.createServer();\n");
  t.not(result.code, 0);
  t.regex(result.output, /TS2322/);
});

test('an npm package fails to compile even though node_modules has it', async (t) => {
  const result = await compile("import { parse } from 'yaml';\nexport const p = parse;\n");
  t.not(result.code, 0);
  t.regex(result.output, /probe\.ts.*error TS2307: Cannot find module 'yaml'/);
});

test('a file outside the gateway folder fails to compile', async (t) => {
  const result = await compile("import { CctlError } from '../../lib/kernel/errors.js';\nexport const e = CctlError;\n");
  t.not(result.code, 0);
  t.regex(result.output, /error TS(6059|2307)/);
});
