import test from 'ava';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cacheFile, detectionKey } from '../../lib/engine/compose-cache.js';
import { cachedCompose, forgetCompose, resetComposeDetection } from '../../lib/engine/compose.js';
import { FakeEngine, V1, withEngine } from '../helpers/fake-engine.js';
import { scratchDir } from '../helpers/scratch.js';

/** A PATH with a fake docker-compose file (only its identity matters) and a private cache dir. */
function sandbox() {
  const root = scratchDir('cctl-cache-');
  const bin = join(root, 'bin');
  mkdirSync(bin);
  writeFileSync(join(bin, 'docker-compose'), '#!/bin/sh\n');
  chmodSync(join(bin, 'docker-compose'), 0o755);
  const env = { PATH: bin, CCTL_CACHE_DIR: join(root, 'cache'), DOCKER_CONFIG: join(root, 'docker') };
  return { root, bin, env };
}

test.serial('detects once, then answers from the file without spawning', async (t) => {
  const { env } = sandbox();
  // Only Compose v1 answers; every probe is a spawn the cache should save.
  const fake = new FakeEngine({ detect: { installed: [V1] } });
  const probes = () => fake.lines().length;
  await withEngine(fake, async () => {
    const first = await cachedCompose(env);
    t.like(first, { flavour: 'v1', command: ['docker-compose'] });
    const afterFirst = probes();
    t.true(afterFirst >= 1);
    resetComposeDetection(); // a new process: the in-memory memo is gone, the file is not
    t.deepEqual(await cachedCompose(env), first);
    t.is(probes(), afterFirst);
    const stored = Object.values(JSON.parse(readFileSync(cacheFile(env), 'utf8')) as Record<string, { engine: { version: string } }>);
    t.deepEqual(
      stored.map((e) => e.engine.version),
      ['1.29.2'],
    );

    forgetCompose(env);
    await cachedCompose(env);
    t.true(probes() > afterFirst, 'forgotten: detected again');
  });
});

test('the key changes when the compose binary, a plugin, CCTL_COMPOSE or PATH changes', (t) => {
  const { bin, env, root } = sandbox();
  const key = detectionKey(env);
  t.is(detectionKey(env), key);
  writeFileSync(join(bin, 'docker-compose'), '#!/bin/sh\n# upgraded\n');
  const upgraded = detectionKey(env);
  t.not(upgraded, key);
  mkdirSync(join(root, 'docker', 'cli-plugins'), { recursive: true });
  writeFileSync(join(root, 'docker', 'cli-plugins', 'docker-compose'), 'plugin');
  t.not(detectionKey(env), upgraded, 'a plugin installed in DOCKER_CONFIG');
  t.not(detectionKey({ ...env, CCTL_COMPOSE: 'docker compose' }), detectionKey(env));
  t.not(detectionKey({ ...env, PATH: `${bin}:/nowhere` }), detectionKey(env));
});

test.serial('two environments keep their own entries instead of evicting each other', async (t) => {
  const { env } = sandbox();
  const fake = new FakeEngine({ detect: { installed: [V1] } });
  const probeCount = () => fake.lines().length;
  await withEngine(fake, async () => {
    const other = { ...env, PATH: `/nowhere:${env.PATH}` };
    for (const e of [env, other]) {
      resetComposeDetection();
      await cachedCompose(e);
    }
    const probes = probeCount();
    for (const e of [env, other, env]) {
      resetComposeDetection();
      await cachedCompose(e);
    }
    t.is(probeCount(), probes);
    t.is(Object.keys(JSON.parse(readFileSync(cacheFile(env), 'utf8'))).length, 2);
  });
});

test.serial('an old entry is not trusted', async (t) => {
  const { env } = sandbox();
  const fake = new FakeEngine({ detect: { installed: [V1] } });
  const probeCount = () => fake.lines().length;
  await withEngine(fake, async () => {
    resetComposeDetection();
    await cachedCompose(env, Date.now() - 2 * 24 * 3600 * 1000);
    const probes = probeCount();
    resetComposeDetection();
    await cachedCompose(env);
    t.true(probeCount() > probes);
  });
});
