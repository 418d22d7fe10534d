/**
 * `cctl usage daily --json` against the raw `compose exec -T claude-cli
 * ccusage claude daily --json`, interleaved in one run on one engine, so load
 * and caches hit both alike. Prints each median and the ratio (goal <= 1.10:
 * cctl may add only Node start-up and reading settings).
 *
 *   npx tsc -p . && npx tsx bench/usage.ts [--dir PROJECT] [-f FILE] [-p NAME] [--runs N] [--check]
 *
 * Needs the project's stack running (`cctl up`). --check exits 1 when the goal is missed.
 */
import { spawnSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { compose } from '../lib/engine/compose.js';
import { findProject } from '../lib/project/locate.js';
import { projectArgv } from '../lib/ops/compose.js';

const GOAL = 1.1;
const WARMUP = 2;

const { values } = parseArgs({
  options: {
    dir: { type: 'string', default: process.cwd() },
    file: { type: 'string', short: 'f' },
    'project-name': { type: 'string', short: 'p' },
    runs: { type: 'string', default: '15' },
    check: { type: 'boolean', default: false },
  },
});
const runs = Number(values.runs);
if (!Number.isInteger(runs) || runs < 3) throw new Error('--runs must be an integer >= 3');

const project = findProject({ file: values.file, projectName: values['project-name'] }, values.dir);
if (!project.exists) throw new Error(`no compose file at ${project.file}`);
const engine = await compose();
const cctlBin = fileURLToPath(new URL('../bin/cctl.js', import.meta.url));
const report = ['daily', '--json'];

const commands = {
  raw: projectArgv(engine, project, ['exec', '-T', 'claude-cli', 'ccusage', 'claude', ...report]),
  cctl: [process.execPath, cctlBin, '-f', project.file, '-p', project.name, 'usage', ...report],
};

/** One timed run; stdin is a pipe for both, so neither gets a TTY. */
function once(argv: string[]): { ms: number; stdout: string } {
  const start = performance.now();
  const r = spawnSync(argv[0]!, argv.slice(1), { cwd: project.dir, stdio: ['pipe', 'pipe', 'pipe'], encoding: 'utf8', timeout: 60_000 });
  const ms = performance.now() - start;
  if (r.status !== 0) throw new Error(`${argv.join(' ')} exited ${r.status ?? r.signal}: ${r.stderr}`);
  return { ms, stdout: r.stdout };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

for (let i = 0; i < WARMUP; i++) {
  const a = once(commands.raw);
  const b = once(commands.cctl);
  // The point of the command is identical output; a bench of different work would mean nothing.
  if (a.stdout !== b.stdout) throw new Error('cctl usage daily --json printed something other than ccusage did');
}
const times: Record<keyof typeof commands, number[]> = { raw: [], cctl: [] };
for (let i = 0; i < runs; i++) {
  // Alternate which goes first, so neither always runs right after the other's cache warm-up.
  const order = i % 2 ? (['cctl', 'raw'] as const) : (['raw', 'cctl'] as const);
  for (const k of order) times[k].push(once(commands[k]).ms);
}

const raw = median(times.raw);
const cctl = median(times.cctl);
const ratio = cctl / raw;
console.log(`compose: ${engine.flavour} ${engine.version}; ${runs} interleaved runs each, after ${WARMUP} warm-up pairs`);
console.log(`raw  ${commands.raw.join(' ')}`);
console.log(`     median ${raw.toFixed(0)} ms (min ${Math.min(...times.raw).toFixed(0)}, max ${Math.max(...times.raw).toFixed(0)})`);
console.log(`cctl ${commands.cctl.slice(1).join(' ')}`);
console.log(`     median ${cctl.toFixed(0)} ms (min ${Math.min(...times.cctl).toFixed(0)}, max ${Math.max(...times.cctl).toFixed(0)})`);
console.log(`ratio ${ratio.toFixed(3)} (goal <= ${GOAL.toFixed(2)}: ${ratio <= GOAL ? 'met' : 'MISSED'})`);
if (values.check && ratio > GOAL) process.exitCode = 1;
