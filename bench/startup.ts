/**
 * cctl's own start-up, against the floor of any Node program: `cctl
 * --version` and `cctl --help` beside `node -e 0`, interleaved in one run
 * (order rotating), medians. No engine needed.
 *
 * Goals (bench/goals.ts; --check exits 1 on a miss, --goal ID=LIMIT changes one):
 *   version-ratio   cctl --version / node -e 0 <= 1.15 (relative)
 *   help-ratio      cctl --help / node -e 0 <= 1.15 (relative)
 *
 *   npm run build && node --import tsx bench/startup.ts [--runs N] [--check] [--relative-only] [--tolerance F] [--goal ID=LIMIT]
 */
import { spawnSync } from 'node:child_process';
import { availableParallelism, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { benchArgs, Goals, median } from './goals.js';

const args = benchArgs({ runs: { type: 'string', default: '40' } });
const goals = new Goals('bench/startup.ts', args);
const RUNS = Number(args.runs);
if (!Number.isInteger(RUNS) || RUNS < 3) throw new Error('--runs must be an integer >= 3');

const cli = fileURLToPath(new URL('../bin/cctl.js', import.meta.url));
const node = process.execPath;
const commands = {
  node: [node, '-e', '0'],
  version: [node, cli, '--version'],
  help: [node, cli, '--help'],
} as const;
type Who = keyof typeof commands;

// The environment a user's shell gives: no NODE_OPTIONS from this process's loader (tsx).
const env = { ...process.env };
delete env.NODE_OPTIONS;

function once(who: Who): number {
  const [file, ...rest] = commands[who];
  const started = performance.now();
  const r = spawnSync(file, rest, { stdio: ['ignore', 'pipe', 'pipe'], env, encoding: 'utf8' });
  const ms = performance.now() - started;
  if (r.status !== 0) throw new Error(`${commands[who].join(' ')} exited ${r.status ?? r.signal}: ${r.stderr}`);
  return ms;
}

const order: Who[] = ['node', 'version', 'help'];
for (let i = 0; i < 3; i++) for (const who of order) once(who); // warm-up: file cache, compile cache
const times: Record<Who, number[]> = { node: [], version: [], help: [] };
for (let i = 0; i < RUNS; i++) {
  // Rotate the order, so none always runs right after another.
  for (let k = 0; k < order.length; k++) {
    const who = order[(i + k) % order.length]!;
    times[who].push(once(who));
  }
}
const m = { node: median(times.node), version: median(times.version), help: median(times.help) };
console.log(
  `node ${process.version}; ${RUNS} interleaved runs each, medians; load average ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}, ${availableParallelism()} cores`,
);
for (const who of order)
  console.log(
    `  ${commands[who].slice(1).join(' ').replace(cli, 'cctl').padEnd(16)} ${m[who].toFixed(1).padStart(6)} ms  (min ${Math.min(...times[who]).toFixed(1)}, max ${Math.max(...times[who]).toFixed(1)})`,
  );
goals.check('version-ratio', 'cctl --version / node -e 0, medians', m.version / m.node, '<=', 1.15, 'x', 'relative');
goals.check('help-ratio', 'cctl --help / node -e 0, medians', m.help / m.node, '<=', 1.15, 'x', 'relative');
goals.finish();
