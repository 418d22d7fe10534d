/**
 * bench/lifecycle.ts and bench/speed.ts on the real engine, each with its own
 * stack: both run to the end against raw Compose doing the same work, state
 * every goal, and --check fails on a goal no machine can meet.
 */
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { e2e } from '../helpers/e2e.js';
import { e2eEnv } from '../helpers/cli.js';
import { removeProjectImages } from '../helpers/project.js';
import { run } from '../../lib/engine/runner.js';
import { privateDir } from '../../lib/project/private-dir.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
// The benches' own fixed project names (bench/lifecycle.ts, bench/speed.ts).
const PROJECTS = ['cctlbenchlife', 'cctlbenchspeed'];

e2e.after.always(async () => {
  for (const name of PROJECTS) {
    await removeProjectImages(name);
    rmSync(privateDir(name), { recursive: true, force: true });
  }
});

function bench(file: string, args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', `bench/${file}`, ...args], {
    cwd: ROOT,
    env: e2eEnv(),
    encoding: 'utf8',
    timeout: 1_800_000,
  });
  return { status: r.status, out: r.stdout + r.stderr };
}

e2e.serial('bench/lifecycle.ts runs every comparison and --check exits 1 on a missed goal', (t) => {
  const r = bench('lifecycle.ts', ['--runs', '1', '--check', '--goal', 'version-ratio=0.01']);
  t.is(r.status, 1, r.out);
  t.regex(r.out, /goal warm-ratio: warm up to all-healthy, cctl \/ raw = [\d.]+ x, goal <= 1\.05 x: (met|MISSED)/);
  t.regex(r.out, /goal status-ratio: cctl status \/ compose ps = [\d.]+ x/);
  t.regex(r.out, /goal version-ratio: cctl --version \/ node -e 0 = [\d.]+ x, goal <= 0\.010 x \[--goal, stated <= 1\.15 x\]: MISSED by/);
  t.log(
    r.out
      .split('\n')
      .filter((l) => /^goal|^compose/.test(l))
      .join('\n'),
  );
});

e2e.serial('bench/speed.ts runs every comparison and --check exits 1 on a missed goal', (t) => {
  const r = bench('speed.ts', ['--runs', '1', '--check', '--goal', 'current-ratio=0.01']);
  t.is(r.status, 1, r.out);
  t.regex(r.out, /goal warm-ratio: warm up, cctl \/ raw = [\d.]+ x/);
  t.regex(r.out, /goal usage-floor-ratio: usage daily --json, cctl \/ the floor = [\d.]+ x/);
  t.regex(r.out, /goal current-ratio: up when current, cctl \/ the raw checks = [\d.]+ x, goal <= 0\.010 x .*MISSED by/);
  t.log(
    r.out
      .split('\n')
      .filter((l) => /^goal|^engine/.test(l))
      .join('\n'),
  );
});
