/**
 * The health wait wakes on docker events: a container reporting its health
 * ends the pause at once, so "healthy" is noticed without a polling delay,
 * and between events it polls by container name, without a ps.
 */
import test from 'ava';
import { waitHealthy } from '../../lib/ops/stack.js';
import { findProject } from '../../lib/project/locate.js';
import { FakeEngine, inspectJson, withEngine } from '../helpers/fake-engine.js';
import { scratchDir } from '../helpers/scratch.js';

test.serial('a health event ends the pause at once; later polls inspect by name', async (t) => {
  const project = findProject({ projectName: 'p' }, scratchDir('cctl-wait-'));
  let healthy = false;
  const fake = new FakeEngine();
  fake.on('docker ps -aq', { stdout: 'id-claude-cli\nid-proxy\n' });
  fake.on('docker inspect', () => ({
    stdout: JSON.stringify(['claude-cli', 'proxy'].map((service) => inspectJson({ service, health: healthy ? 'healthy' : 'starting' }))),
  }));
  // The event stream: one health event 200 ms after the wait starts.
  fake.on('docker events', async () => {
    await new Promise((r) => setTimeout(r, 200));
    healthy = true;
    return { stdout: 'health_status: healthy\n' };
  });
  const started = Date.now();
  // A poll interval far longer than the test may take: only the event can end the pause in time.
  const states = await withEngine(fake, () => waitHealthy(project, ['claude-cli', 'proxy'], { timeoutMs: 60_000, intervalMs: 30_000 }));
  t.true(Date.now() - started < 5_000, `took ${Date.now() - started} ms`);
  t.deepEqual(
    states.map((s) => s.health),
    ['healthy', 'healthy'],
  );
  t.is(fake.lines('docker ps').length, 1, 'one ps, then inspect by name');
  t.deepEqual(fake.lines('docker inspect').slice(1), ['docker inspect p-claude-cli-1 p-proxy-1']);
});

test.serial('a service that exits during the wait: the error carries its last log lines, where the reason is', async (t) => {
  const project = findProject({ projectName: 'p' }, scratchDir('cctl-wait-'));
  const fake = new FakeEngine().withContainers([
    { service: 'claude-cli' },
    { service: 'proxy', state: 'exited', exitCode: 2, health: 'unhealthy' },
  ]);
  fake.on('docker logs --tail 5 p-proxy-1', {
    stderr: 'gateway: team-key mode needs the team credential: ANTHROPIC_API_KEY or ANTHROPIC_AUTH_TOKEN (or a *_FILE variant).\n',
  });
  const error = await withEngine(fake, () =>
    waitHealthy(project, ['claude-cli', 'proxy'], { timeoutMs: 5_000 }).then(
      () => undefined,
      (e: Error) => e,
    ),
  );
  t.is(
    error!.message,
    'Service proxy exited with code 2.\nIts last log lines:\n  gateway: team-key mode needs the team credential: ANTHROPIC_API_KEY or ANTHROPIC_AUTH_TOKEN (or a *_FILE variant).',
  );
});
