/**
 * Task benchmark: `cctl task new` to a healthy task stack, against a cold
 * `cctl up` of the same project (images built, stack down: containers and
 * networks made anew, then the health wait), interleaved so load on the
 * machine hits both alike. A task shares the project's images and home
 * volume, so it should cost well under an up: no build, no trust check.
 *
 * Goals (bench/goals.ts; --check exits 1 on a miss, --goal ID=LIMIT changes one):
 *   task-new-ratio   task new / cold up, to all-healthy <= 0.5 (relative)
 *
 *   node --import tsx bench/task.ts [--runs N] [--check] [--relative-only] [--tolerance F] [--goal ID=LIMIT]
 *   (needs an engine, the stand-in base and Compose v2: tasks are v2 only)
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
const dir = join(root, 'cctlbenchtask');
const home = join(root, 'home');
mkdirSync(dir);
mkdirSync(home);
writeFileSync(join(home, '.gitconfig'), '[user]\n\tname = Bench\n\temail = bench@example.test\n[init]\n\tdefaultBranch = main\n');
const name = 'cctlbenchtask';
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
  const runs = { up: [] as number[], task: [] as number[] };
  for (let i = 0; i < RUNS; i++) {
    for (const who of i % 2 ? (['task', 'up'] as const) : (['up', 'task'] as const)) {
      if (who === 'up') {
        // Cold: the stack down (volumes kept, as after "cctl down"), so up makes containers and networks anew.
        compose('down', '--timeout', '1');
        runs.up.push(time(() => cctl('up', '--timeout', '300')));
      } else {
        const task = `b${i}`;
        made.push(task);
        runs.task.push(time(() => cctl('task', 'new', task, '--timeout', '300')));
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
    `cctl task new to a healthy stack   ${median(runs.task).toFixed(0).padStart(6)} ms  (${runs.task.map((x) => x.toFixed(0)).join(', ')})`,
  );
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
    compose('down', '-v', '--timeout', '1');
  } catch {
    // Nothing to clean, or the engine went away.
  }
  rmSync(root, { recursive: true, force: true });
}
