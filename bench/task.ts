/**
 * Task benchmark: `cctl task new` to a healthy task stack, against a cold
 * `cctl up` of the same project, interleaved so load on the machine hits
 * both alike. Cold, as opposed to lifecycle.ts's warm up: the stack is down
 * and the project's images are gone from the engine, so up builds them again
 * (BuildKit's layer cache stays, as on a developer's machine after an image
 * prune or on a teammate's first up). A task shares the project's images and
 * home volume and its gateway: it builds nothing, runs no trust check and
 * starts one container (claude-cli, on the project's networks). A warm up
 * (images present, stack down) is printed beside it, unchecked. `task new
 * --json` reports where its time went (stepsMs); the medians of each step
 * are printed, with the load average before and after.
 *
 * Goals (bench/goals.ts; --check exits 1 on a miss, --goal ID=LIMIT changes one):
 *   task-new-ratio   task new / cold up, to all-healthy <= 0.5 (relative)
 *
 *   node --import tsx bench/task.ts [--runs N] [--check] [--relative-only] [--tolerance F] [--goal ID=LIMIT]
 *   (needs an engine, the stand-in base and Compose v2: tasks are v2 only)
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { CLI, e2eEnv } from '../test/helpers/cli.js';
import { compose as detectCompose } from '../lib/engine/compose.js';
import { projectArgv } from '../lib/ops/compose.js';
import { benchArgs, Goals, median } from './goals.js';

const args = benchArgs({ runs: { type: 'string', default: process.env.BENCH_RUNS ?? '5' } });
const goals = new Goals('bench/task.ts', args);
const RUNS = Number(args.runs);
if (!Number.isInteger(RUNS) || RUNS < 1) throw new Error('--runs must be a whole number >= 1');

const root = mkdtempSync(join(tmpdir(), 'cctl-bench-task-'));
// A name of this run's own: its images are removed between runs and at the end, and nobody else's are touched.
const name = `cctlbenchtask${randomBytes(3).toString('hex')}`;
const dir = join(root, name);
const home = join(root, 'home');
mkdirSync(dir);
mkdirSync(home);
writeFileSync(join(home, '.gitconfig'), '[user]\n\tname = Bench\n\temail = bench@example.test\n[init]\n\tdefaultBranch = main\n');
const env = e2eEnv({ HOME: home, CCTL_CACHE_DIR: join(root, '.cache') });
delete env.COMPOSE_PROJECT_NAME;
const sh = (file: string, argv: string[]) => execFileSync(file, argv, { cwd: dir, env, stdio: 'pipe' }).toString();
const cctl = (...a: string[]) => sh(process.execPath, [CLI, ...a]);
const engine = await detectCompose();
const project = { file: join(dir, 'compose.yaml'), dir, name, exists: true, nameSource: 'folder' as const };
const compose = (...a: string[]) => {
  const [file, ...rest] = projectArgv(engine, project, a, env);
  return sh(file!, rest);
};

const images = () =>
  sh('docker', ['images', '--format', '{{.Repository}}:{{.Tag}}'])
    .split('\n')
    .filter((i) => i.startsWith(`cctl-${name}-`));

function time(fn: () => unknown): number {
  const t0 = performance.now();
  fn();
  return performance.now() - t0;
}

const made: string[] = [];
try {
  sh('git', ['init', '-q']);
  cctl('init');
  sh('git', ['add', '-A']);
  sh('git', ['commit', '-qm', 'bench project']);
  cctl('up', '--timeout', '900'); // build once; everything below reuses the images
  const runs = { up: [] as number[], warm: [] as number[], task: [] as number[] };
  const steps: Record<string, number[]> = {};
  const loadBefore = loadavg();
  for (let i = 0; i < RUNS; i++) {
    for (const who of i % 2 ? (['task', 'warm', 'up'] as const) : (['up', 'warm', 'task'] as const)) {
      if (who === 'up' || who === 'warm') {
        // The stack down (volumes kept, as after "cctl down"): up makes containers and networks anew. Cold: the images too.
        compose('down', '--timeout', '1');
        if (who === 'up') sh('docker', ['image', 'rm', ...images()]);
        runs[who].push(time(() => cctl('up', '--timeout', '600')));
      } else {
        const task = `b${i}`;
        made.push(task);
        let out = '';
        runs.task.push(time(() => (out = cctl('task', 'new', task, '--json', '--timeout', '300'))));
        const stepsMs = (JSON.parse(out) as { stepsMs: Record<string, number> }).stepsMs;
        for (const [step, ms] of Object.entries(stepsMs)) (steps[step] ??= []).push(ms);
        // What the steps do not cover: node's start, module loading, the engine check before newTask, the exit.
        (steps['process (rest)'] ??= []).push(runs.task.at(-1)! - Object.values(stepsMs).reduce((a, b) => a + b, 0));
        cctl('task', 'rm', task, '--force');
        made.pop();
      }
    }
  }
  const ratio = median(runs.task) / median(runs.up);
  console.log(`compose ${engine.flavour} ${engine.version}; runs: ${RUNS} (medians)`);
  console.log(
    `cold cctl up to all-healthy        ${median(runs.up).toFixed(0).padStart(6)} ms  (${runs.up.map((x) => x.toFixed(0)).join(', ')})`,
  );
  console.log(
    `warm cctl up to all-healthy        ${median(runs.warm).toFixed(0).padStart(6)} ms  (${runs.warm.map((x) => x.toFixed(0)).join(', ')}; task new / warm up ${(median(runs.task) / median(runs.warm)).toFixed(2)} x, not a goal)`,
  );
  console.log(
    `cctl task new to a healthy stack   ${median(runs.task).toFixed(0).padStart(6)} ms  (${runs.task.map((x) => x.toFixed(0)).join(', ')})`,
  );
  for (const [step, ms] of Object.entries(steps))
    console.log(`  ${step.padEnd(32)} ${median(ms).toFixed(0).padStart(6)} ms  (${ms.map((x) => x.toFixed(0)).join(', ')})`);
  const load = (l: number[]) => l.map((x) => x.toFixed(1)).join(' ');
  console.log(`load average before ${load(loadBefore)}, after ${load(loadavg())} (${cpus().length} cores)`);
  goals.check('task-new-ratio', 'task new / cold up, to all-healthy', ratio, '<=', 0.5, 'x', 'relative');
  goals.finish();
} finally {
  for (const task of made) {
    try {
      cctl('task', 'rm', task, '--force');
    } catch {
      // Already gone.
    }
  }
  try {
    // By name (Compose v2 needs no file for that): whatever state the files are in, the containers and volumes go.
    sh('docker', ['compose', '-p', name, 'down', '-v', '--timeout', '1']);
    const left = images();
    if (left.length) sh('docker', ['image', 'rm', ...left]);
  } catch {
    // Nothing to clean, or the engine went away.
  }
  rmSync(root, { recursive: true, force: true });
}
