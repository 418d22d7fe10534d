/**
 * bench/hot-path.ts on a real stack: every pass-through verb against the
 * floor (a bare Node script spawning the same compose exec), its figures
 * logged, and --check failing on a goal no machine can meet. In the legacy
 * list too (package.json test:legacy), so CI measures Compose v1 as well.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { e2e } from '../helpers/e2e.js';
import { tempProject, removeProjectImages } from '../helpers/project.js';
import { cctl, e2eEnv } from '../helpers/cli.js';
import { run } from '../../lib/engine/runner.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const tmp = tempProject('hotpath');
const env = e2eEnv({ COMPOSE_PROJECT_NAME: tmp.name });

e2e.after.always(async () => {
  await cctl(['down', '--volumes', '--yes'], { cwd: tmp.dir, env });
  await removeProjectImages(tmp.name);
  tmp.cleanup();
});

function bench(args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'bench/hot-path.ts', '--dir', tmp.dir, ...args], {
    cwd: ROOT,
    env,
    encoding: 'utf8',
    timeout: 900_000,
  });
  return { status: r.status, out: r.stdout + r.stderr };
}

e2e.serial('the stack for the bench comes up', async (t) => {
  const up = await cctl(['up', '--timeout', '900'], { cwd: tmp.dir, env });
  t.is(up.exitCode, 0, up.stderr + up.stdout);
});

// One verb per test: under a heavy load a run of all five can outlast ava's 10-minute wait for a result.
for (const verb of ['usage', 'exec', 'claude', 'shell', 'monitor']) {
  e2e.serial(`hot-path measures ${verb} against the floor, doing the same work, and states its goal`, (t) => {
    const r = bench(['--runs', '9', '--verbs', verb]);
    t.is(r.status, 0, r.out);
    // The test images have no monitor (PyPI is out of reach): the bench must say why it leaves it out.
    if (verb === 'monitor' && /monitor +not measured: the image has no monitor/.test(r.out)) t.notRegex(r.out, /goal monitor-floor-ratio/);
    else
      t.regex(
        r.out,
        new RegExp(`goal ${verb}-floor-ratio: cctl ${verb}.* / the floor, median of 9 rounds = [\\d.]+ x, goal <= 1\\.10 x: (met|MISSED)`),
      );
    // The figures, for the CI log of each stack.
    t.log(
      r.out
        .split('\n')
        .filter((l) => /^engine|^ {2}\w+ +cctl|^goal/.test(l))
        .join('\n'),
    );
  });
}

e2e.serial('hot-path --check exits 1 on a missed goal and says by how much', (t) => {
  const r = bench(['--runs', '3', '--verbs', 'exec', '--check', '--goal', 'exec-floor-ratio=0.01']);
  t.is(r.status, 1, r.out);
  t.regex(
    r.out,
    /goal exec-floor-ratio: cctl exec true \/ the floor, median of 3 rounds = [\d.]+ x, goal <= 0\.010 x \[--goal, stated <= 1\.10 x\]: MISSED by [\d.]+ x/,
  );
  t.regex(r.out, /bench\/hot-path\.ts: 1 goals, 1 missed/);
});

// Last: it stops claude-cli. compose exec then fails for cctl and the floor alike, which is not the hot path.
e2e.serial('hot-path refuses to time a stack that fails both sides alike', async (t) => {
  const filters = ['--filter', `label=com.docker.compose.project=${tmp.name}`, '--filter', 'label=com.docker.compose.service=claude-cli'];
  const id = (await run(['docker', 'ps', '-q', ...filters])).stdout.trim();
  t.truthy(id, 'claude-cli runs before the stop');
  await run(['docker', 'stop', id]);
  const r = bench(['--runs', '3', '--verbs', 'exec']);
  t.not(r.status, 0, r.out);
  t.regex(r.out, /exec: cctl and the floor both exited \d+: the stack is not running|exec: cctl exited \d+ and the floor \d+/);
});
