/**
 * Several sessions at once: two sessions side by side in one stack, and a
 * second stack for a git worktree of the same repository, with its own
 * project name (the worktree's folder), containers and home volume.
 */
import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { removeProjectImages } from '../helpers/project.js';
import { e2e } from '../helpers/e2e.js';
import { cctl, e2eEnv, composeCommand } from '../helpers/cli.js';
import { run } from '../../lib/engine/runner.js';
import { scratchDir } from '../helpers/scratch.js';

const root = scratchDir('cctl-wt-');
const name = `cctle2ewt${randomBytes(3).toString('hex')}`;
const main = join(root, name);
const feature = join(root, `${name}-feature`);
const env = e2eEnv({
  GIT_AUTHOR_NAME: 'E2E',
  GIT_AUTHOR_EMAIL: 'e2e@example.test',
  GIT_COMMITTER_NAME: 'E2E',
  GIT_COMMITTER_EMAIL: 'e2e@example.test',
});
delete env.COMPOSE_PROJECT_NAME;
const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, env, stdio: 'pipe' });

e2e.after.always(async () => {
  for (const dir of [main, feature]) {
    await run([...composeCommand(), '--profile', 'claude', 'down', '-v', '--timeout', '1'], { cwd: dir, env }).catch(() => undefined);
  }
  for (const p of [name, `${name}-feature`]) await removeProjectImages(p);
  rmSync(root, { recursive: true, force: true });
});

e2e.serial('a worktree of the same repository gets its own stack: name, containers and home volume', async (t) => {
  execFileSync('git', ['init', '-q', main]);
  const init = await cctl(['init'], { cwd: main, env });
  t.is(init.exitCode, 0, init.stderr);
  writeFileSync(join(main, 'README.md'), 'app\n');
  git(main, 'add', '-A');
  git(main, 'commit', '-qm', 'app with its claude profile');
  git(main, 'worktree', 'add', '-q', '-b', 'feature', feature);

  for (const dir of [main, feature]) {
    const up = await cctl(['up', '--json', '--timeout', '900'], { cwd: dir, env });
    t.is(up.exitCode, 0, up.stderr + up.stdout);
  }
  const status = async (cwd: string) =>
    JSON.parse((await cctl(['status', '--json'], { cwd, env })).stdout) as {
      project: string;
      services: Array<{ container: string; state: string }>;
    };
  const [a, b] = [await status(main), await status(feature)];
  t.is(a.project, name);
  t.is(b.project, `${name}-feature`);
  t.deepEqual(
    [...a.services, ...b.services].map((s) => s.state),
    ['running', 'running', 'running', 'running'],
  );
  t.is(new Set([...a.services, ...b.services].map((s) => s.container)).size, 4, 'no container is shared');
  const volumes = (await run(['docker', 'volume', 'ls', '-q', '--filter', `name=${name}`])).stdout.split('\n').filter(Boolean).sort();
  t.deepEqual(volumes, [`${name}-feature_claude-home`, `${name}_claude-home`]);

  writeFileSync(join(feature, 'only-in-feature'), 'x\n');
  const sees = async (cwd: string) => (await cctl(['exec', '--', 'test', '-e', '/workspace/only-in-feature'], { cwd, env })).exitCode;
  t.is(await sees(feature), 0);
  t.is(await sees(main), 1, 'each stack mounts its own worktree');
});

e2e.serial('two sessions in one stack run side by side', async (t) => {
  // Each session writes its mark, then waits for the other's: both finish only if they overlap.
  const session = (mine: string, theirs: string) =>
    cctl(
      [
        'exec',
        '--',
        'sh',
        '-c',
        `touch /tmp/${mine}; i=0; while [ ! -e /tmp/${theirs} ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done; test -e /tmp/${theirs} && echo ${mine}-saw-${theirs}`,
      ],
      { cwd: main, env },
    );
  const [one, two] = await Promise.all([session('one', 'two'), session('two', 'one')]);
  t.is(one.stdout.trim(), 'one-saw-two', one.stderr);
  t.is(two.stdout.trim(), 'two-saw-one', two.stderr);
  const versions = await Promise.all([
    cctl(['claude', '--version'], { cwd: main, env }),
    cctl(['claude', '--version'], { cwd: main, env }),
  ]);
  for (const v of versions) t.regex(v.stdout, /\d+\.\d+\.\d+ \(Claude Code\)/, v.stderr);
});
