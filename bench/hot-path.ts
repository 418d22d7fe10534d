/**
 * The pass-through verbs against the floor of any Node CLI. A Node program
 * cannot replace its own process, so the least a wrapper can cost is a bare
 * Node script that spawns the same `compose exec` with inherited stdio and
 * passes its status on. Each verb runs as cctl and as that floor, on the very
 * argv cctl spawns (read from `cctl --debug` once), with the same environment,
 * interleaved in one run (order alternating). A verb's ratio is the median of
 * its per-round ratios, each cctl run against the floor run beside it: a
 * machine whose load drifts during the run moves both runs of a round alike,
 * while the ratio of two medians taken over the whole run does not cancel it
 * (printed too, with the load average):
 *
 *   usage daily --json    exec true    claude --version
 *   shell (stdin: "exit 0")            monitor --version
 *
 * The raw exec, without Node, is printed for scale. Where the image has no
 * monitor (CI's: PyPI is out of reach), `monitor` exits 1, which sends cctl
 * into its failure diagnosis (lib/ops/exec-diagnosis.ts: it asks the engine
 * whether compose or the command failed) and the floor into nothing; that is
 * not the hot path, so the bench says so and leaves monitor out of the goals. Works with either Compose: set
 * CCTL_COMPOSE=docker-compose for v1 (CI's legacy phase).
 *
 * Goals (bench/goals.ts; --check exits 1 on a miss, --goal ID=LIMIT changes one):
 *   <verb>-floor-ratio   cctl / floor for each verb <= 1.10 (relative)
 *   all-floor-ratio      the five verbs' medians summed, cctl / floor <= 1.10 (relative)
 *
 *   npm run build && node --import tsx bench/hot-path.ts [--dir PROJECT] [-f FILE] [-p NAME] [--runs N] [--verbs usage,exec,...] [--check] [--goal ID=LIMIT]
 *
 * Needs the project's stack running (`cctl up`).
 */
import { spawnSync } from 'node:child_process';
import { availableParallelism, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { findProject } from '../lib/project/locate.js';
import { projectEnv } from '../lib/ops/compose.js';
import { benchArgs, Goals, median } from './goals.js';

const args = benchArgs({
  dir: { type: 'string', default: process.cwd() },
  file: { type: 'string', short: 'f' },
  'project-name': { type: 'string', short: 'p' },
  runs: { type: 'string', default: '15' },
  verbs: { type: 'string', default: 'usage,exec,claude,shell,monitor' },
});
const goals = new Goals('bench/hot-path.ts', args);
const RUNS = Number(args.runs);
if (!Number.isInteger(RUNS) || RUNS < 3) throw new Error('--runs must be an integer >= 3');

const VERBS: Record<string, { argv: string[]; input?: string }> = {
  usage: { argv: ['usage', 'daily', '--json'] },
  exec: { argv: ['exec', 'true'] },
  claude: { argv: ['claude', '--version'] },
  shell: { argv: ['shell'], input: 'exit 0\n' },
  monitor: { argv: ['monitor', '--version'] },
};
const verbs = args.verbs.split(',').filter(Boolean);
const unknown = verbs.filter((v) => !(v in VERBS));
if (unknown.length) throw new Error(`--verbs: no verb ${unknown.join(', ')} (the verbs: ${Object.keys(VERBS).join(', ')})`);

const project = findProject({ file: args.file, projectName: args['project-name'] }, args.dir);
if (!project.exists) throw new Error(`no compose file at ${project.file}`);
const cctlBin = fileURLToPath(new URL('../bin/cctl.js', import.meta.url));
const globals = ['-f', project.file, '-p', project.name];
// What a user's shell gives: no loader of this process's (tsx) in NODE_OPTIONS.
const userEnv = { ...process.env };
delete userEnv.NODE_OPTIONS;
delete userEnv.CCTL_DEBUG;
// The environment cctl gives compose; the floor's child gets the same.
const execEnv = projectEnv(project, userEnv);
// The floor: spawn argv[1..] with inherited stdio, pass the status on. Nothing else.
const FLOOR = `require('child_process').spawn(process.argv[1], process.argv.slice(2), { stdio: 'inherit' }).on('close', (c, s) => (process.exitCode = c ?? 128))`;

/** Undoes runner.ts's quoteArg: words, or single-quoted words with '\'' for a quote. */
function unquote(line: string): string[] {
  const words: string[] = [];
  const re = /'((?:[^']|'\\'')*)'|(\S+)/g;
  for (let m = re.exec(line); m; m = re.exec(line)) words.push(m[1] !== undefined ? m[1].replace(/'\\''/g, "'") : m[2]!);
  return words;
}

interface Timed {
  ms: number;
  status: number | null;
  stdout: string;
  stderr: string;
}
function once(argv: readonly string[], env: NodeJS.ProcessEnv, input?: string): Timed {
  const started = performance.now();
  const r = spawnSync(argv[0]!, argv.slice(1), {
    cwd: project.dir,
    env,
    input: input ?? '',
    stdio: ['pipe', 'pipe', 'pipe'],
    encoding: 'utf8',
    timeout: 120_000,
  });
  const ms = performance.now() - started;
  if (r.error) throw r.error;
  return { ms, status: r.status, stdout: r.stdout, stderr: r.stderr };
}

interface Sides {
  cctl: string[];
  floor: string[];
  raw: string[];
  input?: string;
}
const sides: Record<string, Sides> = {};
for (const verb of verbs) {
  const { argv, input } = VERBS[verb]!;
  const debug = spawnSync(process.execPath, [cctlBin, '--debug', ...globals, ...argv], {
    cwd: project.dir,
    env: userEnv,
    input: input ?? '',
    encoding: 'utf8',
    timeout: 120_000,
  });
  const line = debug.stderr.split('\n').find((l) => l.startsWith('+ ') && / exec /.test(l));
  if (!line) throw new Error(`cctl --debug ${argv.join(' ')} showed no compose exec (exit ${debug.status}): ${debug.stderr}`);
  const raw = unquote(line.slice(2));
  sides[verb] = { cctl: [process.execPath, cctlBin, ...globals, ...argv], floor: [process.execPath, '-e', FLOOR, ...raw], raw, input };
}

const times: Record<string, Record<'cctl' | 'floor' | 'raw', number[]>> = {};
/** cctl / floor within each round, per verb. */
const ratios: Record<string, number[]> = {};
const notHotPath = new Map<string, string>();
for (const verb of verbs) {
  const s = sides[verb]!;
  times[verb] = { cctl: [], floor: [], raw: [] };
  const probe = once(s.floor, execEnv, s.input);
  if (verb === 'monitor' && probe.status === 1 && /not installed in this image/.test(probe.stderr)) {
    notHotPath.set(verb, 'the image has no monitor, so it exits 1 and cctl runs its failure diagnosis, which the floor does not');
  }
  // Warm-up, and the point of the comparison: both do the same thing, to the byte and the status.
  for (let i = 0; i < 2; i++) {
    const c = once(s.cctl, userEnv, s.input);
    const f = once(s.floor, execEnv, s.input);
    if (c.status !== f.status || (verb === 'usage' && c.stdout !== f.stdout)) {
      throw new Error(`${verb}: cctl exited ${c.status} and the floor ${f.status}, or their output differs: not the same work`);
    }
    // Both failing alike is not the hot path either (a project with no containers sends cctl into its failure
    // diagnosis): only monitor's missing-binary case above is a known failure, and it is left out of the goals.
    if (c.status !== 0 && !notHotPath.has(verb)) {
      throw new Error(
        `${verb}: cctl and the floor both exited ${c.status}: the stack is not running what the bench measures (${c.stderr.trim()})`,
      );
    }
  }
}
for (let i = 0; i < RUNS; i++) {
  for (const verb of verbs.filter((v) => !notHotPath.has(v))) {
    const s = sides[verb]!;
    const order = i % 2 ? (['cctl', 'floor', 'raw'] as const) : (['raw', 'floor', 'cctl'] as const);
    const round = { cctl: 0, floor: 0, raw: 0 };
    for (const who of order) times[verb]![who].push((round[who] = once(s[who], who === 'cctl' ? userEnv : execEnv, s.input).ms));
    (ratios[verb] ??= []).push(round.cctl / round.floor);
  }
}

const engineLine = spawnSync('docker', ['version', '--format', '{{.Server.Version}}'], { encoding: 'utf8' }).stdout.trim();
console.log(
  `engine ${engineLine}, compose ${sides[verbs[0]!]!.raw.slice(0, 2).join(' ')}; ${RUNS} interleaved runs per verb, medians; load average ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}, ${availableParallelism()} cores`,
);
const sum = { cctl: 0, floor: 0 };
const measured = verbs.filter((v) => !notHotPath.has(v));
for (const [verb, why] of notHotPath) console.log(`  ${verb.padEnd(8)} not measured: ${why}`);
for (const verb of measured) {
  const t = times[verb]!;
  const m = { cctl: median(t.cctl), floor: median(t.floor), raw: median(t.raw) };
  sum.cctl += m.cctl;
  sum.floor += m.floor;
  console.log(
    `  ${verb.padEnd(8)} cctl ${m.cctl.toFixed(0).padStart(5)} ms   floor ${m.floor.toFixed(0).padStart(5)} ms   raw exec ${m.raw.toFixed(0).padStart(5)} ms   cctl over floor ${(m.cctl - m.floor).toFixed(0)} ms   ratio of medians ${(m.cctl / m.floor).toFixed(3)}x`,
  );
  goals.check(
    `${verb}-floor-ratio`,
    `cctl ${VERBS[verb]!.argv.join(' ')} / the floor, median of ${RUNS} rounds`,
    median(ratios[verb]!),
    '<=',
    1.1,
    'x',
    'relative',
  );
}
if (measured.length > 1)
  goals.check(
    'all-floor-ratio',
    `the ${measured.length} verbs together, cctl / the floor`,
    sum.cctl / sum.floor,
    '<=',
    1.1,
    'x',
    'relative',
  );
goals.finish();
