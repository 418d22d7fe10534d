import test from 'ava';
import { detectCompose, parseVersion } from '../../lib/engine/compose.js';
import { ProcessError, setRunner, type Runner } from '../../lib/engine/runner.js';

/** A fake at the process seam: answers `<cmd> version --short` from a table. */
function fakeRunner(versions: Record<string, string | undefined>): Runner & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    async capture(command) {
      const key = command.slice(0, -2).join(' ');
      calls.push(command.join(' '));
      const v = versions[key];
      if (v === undefined) throw new ProcessError(command, { exitCode: 1, stdout: '', stderr: 'not found' });
      return { exitCode: 0, stdout: `${v}\n`, stderr: '' };
    },
    async interactive() {
      return 0;
    },
  };
}

function withRunner(runner: Runner, fn: () => Promise<void>) {
  return async () => {
    const previous = setRunner(runner);
    try {
      await fn();
    } finally {
      setRunner(previous);
    }
  };
}

test.serial('prefers the v2 plugin', async (t) => {
  const fake = fakeRunner({ 'docker compose': 'v2.29.1', 'docker-compose': '1.29.2' });
  await withRunner(fake, async () => {
    t.like(await detectCompose({}), { flavour: 'plugin', command: ['docker', 'compose'], version: '2.29.1' });
  })();
});

test.serial('falls back to standalone v2, then v1', async (t) => {
  await withRunner(fakeRunner({ 'docker-compose': '2.24.0' }), async () => {
    t.like(await detectCompose({}), { flavour: 'standalone-v2', command: ['docker-compose'] });
  })();
  await withRunner(fakeRunner({ 'docker-compose': '1.29.2' }), async () => {
    t.like(await detectCompose({}), { flavour: 'v1', version: '1.29.2' });
  })();
});

test.serial('v1 older than 1.28 is refused, naming the reason', async (t) => {
  await withRunner(fakeRunner({ 'docker-compose': '1.25.0' }), async () => {
    await t.throwsAsync(detectCompose({}), { message: /1\.25\.0 is too old.*profiles/ });
  })();
});

test.serial('CCTL_COMPOSE forces a choice', async (t) => {
  const fake = fakeRunner({ 'docker compose': '2.29.1', 'docker-compose': '1.29.2' });
  await withRunner(fake, async () => {
    t.like(await detectCompose({ CCTL_COMPOSE: 'docker-compose' }), { flavour: 'v1' });
    t.deepEqual(fake.calls, ['docker-compose version --short']);
  })();
});

test.serial('nothing found says what to install', async (t) => {
  await withRunner(fakeRunner({}), async () => {
    const e = await t.throwsAsync(detectCompose({}), { message: /not found/ });
    t.regex((e as { hint?: string }).hint ?? '', /Install Docker Compose/);
  })();
});

test('parseVersion reads v-prefixed and suffixed versions', (t) => {
  t.deepEqual(parseVersion('v2.29.1-desktop.1'), [2, 29, 1]);
  t.deepEqual(parseVersion('1.29.2'), [1, 29, 2]);
  t.is(parseVersion('garbage'), undefined);
});
