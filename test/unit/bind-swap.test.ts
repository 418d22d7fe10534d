/**
 * Hostile workspace: a protected path swapped for a link between up's check and the container's start
 * (issue 19 item 7). Docker resolves a bind's source when it starts the container, following links; on the
 * full path the old claude-cli runs on until Compose stops it, after the check. A source it has a mount over
 * is a mount point inside (no rename, no replace); one it has not (a .vscode made since it started, the
 * .git/hooks cctl just created) could become a link to ~/.ssh right after the check, timed by the
 * compose file's atime or by the old container's stop (a poller inside saw its idle shell die and renamed a
 * folder before the container was gone, in 1 to 2 runs of 3 on this machine). On main b1e1417 nothing
 * stopped it: so claude-cli is stopped before the check whenever it lacks a mount at one of the targets.
 */
import test from 'ava';
import { stopIfBindsExposed } from '../../lib/ops/protected.js';
import type { Bind } from '../../lib/project/protected-paths.js';
import { FakeEngine, withEngine } from '../helpers/fake-engine.js';

const project = { name: 'app', dir: '/src/app', file: '/src/app/compose.yaml', exists: true, nameSource: 'folder' as const };
const binds: Bind[] = [
  { source: '/src/app/.git', target: '/workspace/.git', readOnly: false },
  { source: '/src/app/.git/hooks', target: '/workspace/.git/hooks', readOnly: true },
  { source: '/src/app/.vscode', target: '/workspace/.vscode', readOnly: true },
];

function engine(running: boolean, mounted: string[]): FakeEngine {
  const fake = new FakeEngine();
  fake.on(/^docker ps --filter status=running/, { stdout: running ? 'cli-id\n' : '' });
  fake.on('docker inspect --format {{json .Mounts}} cli-id', {
    stdout: JSON.stringify(mounted.map((d) => ({ Source: `/src/app${d.slice('/workspace'.length)}`, Destination: d, RW: true }))),
  });
  return fake;
}

test.serial('a running claude-cli without a mount at a new bind target is stopped before the check', async (t) => {
  let stopped = 0;
  const exposed = await withEngine(engine(true, ['/workspace', '/workspace/.git', '/workspace/.git/hooks']), () =>
    stopIfBindsExposed(project, binds, async () => void stopped++),
  );
  t.deepEqual(exposed, ['/workspace/.vscode']);
  t.is(stopped, 1);
});

test.serial('every target already a mount point in the running claude-cli: it keeps running', async (t) => {
  let stopped = 0;
  const exposed = await withEngine(engine(true, ['/workspace', ...binds.map((b) => b.target)]), () =>
    stopIfBindsExposed(project, binds, async () => void stopped++),
  );
  t.deepEqual(exposed, []);
  t.is(stopped, 0);
});

test.serial('no claude-cli running (nobody inside to swap), or no binds: nothing is asked or stopped', async (t) => {
  let stopped = 0;
  const fake = engine(false, []);
  t.deepEqual(await withEngine(fake, () => stopIfBindsExposed(project, binds, async () => void stopped++)), []);
  t.deepEqual(fake.lines('docker inspect'), []);
  const none = engine(true, []);
  t.deepEqual(await withEngine(none, () => stopIfBindsExposed(project, [], async () => void stopped++)), []);
  t.deepEqual(none.lines('docker'), []);
  t.is(stopped, 0);
});
