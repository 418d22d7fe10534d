/**
 * The layering, checked on the source: commands on top, then ops (use cases),
 * then project (files on disk) and engine (docker/compose processes) side by
 * side, and the kernel at the bottom. ui is presentation that ops and commands
 * may use. The gateway is a package of its own that nothing imports, but for
 * its allow-list grammar: one builtins-only file that the project layer
 * compiles too, so that cctl and the gateway read entries the same way.
 */
import test from 'ava';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const LIB = fileURLToPath(new URL('../../lib', import.meta.url));

/** Which layers each layer may import (itself included). */
const ALLOWED: Record<string, readonly string[]> = {
  entry: ['entry', 'commands', 'kernel', 'engine'],
  commands: ['commands', 'ops', 'project', 'engine', 'ui', 'kernel'],
  ops: ['ops', 'project', 'engine', 'ui', 'kernel'],
  ui: ['ui', 'kernel'],
  project: ['project', 'kernel', 'grammar'],
  engine: ['engine', 'kernel'],
  kernel: ['kernel'],
  gateway: ['gateway', 'grammar'],
  grammar: [],
};

const GRAMMAR = 'gateway/egress/grammar.ts';

function layerOf(file: string): string {
  const rel = relative(LIB, file);
  if (rel === GRAMMAR) return 'grammar';
  const top = rel.split('/')[0]!;
  return rel.includes('/') ? top : 'entry';
}

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** Static imports and string-literal dynamic imports, resolved to .ts files. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specs = [...text.matchAll(/(?:from|import)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g)].map((m) => m[1]!);
  return specs.map((s) => resolve(dirname(file), s).replace(/\.js$/, '.ts'));
}

const files = sources(LIB);
const graph = new Map(files.map((f) => [f, importsOf(f)]));

test('every layer imports only the layers below it', (t) => {
  const violations: string[] = [];
  for (const [file, deps] of graph) {
    const from = layerOf(file);
    for (const dep of deps) {
      const to = layerOf(dep);
      if (!ALLOWED[from]?.includes(to)) violations.push(`${relative(LIB, file)} (${from}) imports ${relative(LIB, dep)} (${to})`);
    }
  }
  t.deepEqual(violations, []);
});

test('the project layer never spawns a process, and the gateway uses node builtins only', (t) => {
  const offenders = files.filter((f) => {
    const layer = layerOf(f);
    const text = readFileSync(f, 'utf8');
    if (layer === 'project') return /node:child_process/.test(text);
    if (layer === 'gateway' || layer === 'grammar')
      return [...text.matchAll(/from\s+['"]([^'"]+)['"]/g)].some((m) => !m[1]!.startsWith('node:') && !m[1]!.startsWith('.'));
    return false;
  });
  t.deepEqual(
    offenders.map((f) => relative(LIB, f)),
    [],
  );
});

test('the import graph has no cycles', (t) => {
  const state = new Map<string, 'open' | 'done'>();
  const cycles: string[] = [];
  const visit = (f: string, path: string[]) => {
    if (state.get(f) === 'done') return;
    if (state.get(f) === 'open') {
      cycles.push([...path.slice(path.indexOf(f)), f].map((p) => relative(LIB, p)).join(' -> '));
      return;
    }
    state.set(f, 'open');
    for (const dep of graph.get(f) ?? []) visit(dep, [...path, f]);
    state.set(f, 'done');
  };
  for (const f of files) visit(f, []);
  t.deepEqual(cycles, []);
});

test('no source file is over 300 lines', (t) => {
  const long = files
    .map((f) => ({ f: relative(LIB, f), n: readFileSync(f, 'utf8').split('\n').length }))
    .filter(({ n }) => n > 300)
    .map(({ f, n }) => `${f}: ${n}`);
  t.deepEqual(long, []);
});

test('commands never import each other', (t) => {
  const commands = join(LIB, 'commands');
  const crossing = files
    .filter((f) => dirname(f) === commands)
    .flatMap((f) =>
      (graph.get(f) ?? [])
        .filter((d) => dirname(d) === commands && !d.endsWith('/command.ts'))
        .map((d) => `${relative(LIB, f)} -> ${relative(LIB, d)}`),
    );
  t.deepEqual(crossing, []);
});
