import test from 'ava';
import { detectCompose, parseVersion, unsupportedPair } from '../../lib/engine/compose.js';
import { ENGINE_20, ENGINE_26, FakeEngine, V1, V2, withEngine, type Flavour } from '../helpers/fake-engine.js';

const STANDALONE_V2: Flavour = { env: 'docker-compose', prefix: ['docker-compose'], version: '2.24.0' };
const OLD_V1: Flavour = { ...V1, version: '1.25.0' };

/** Detection against a fake that has exactly these composes installed. */
const installed = (...flavours: Flavour[]) => new FakeEngine({ detect: { installed: flavours } });

test.serial('prefers the v2 plugin when both are installed', async (t) => {
  await withEngine(installed(V1, V2), async () => {
    t.like(await detectCompose({}), { flavour: 'plugin', command: ['docker', 'compose'], version: '2.29.1' });
  });
});

test.serial('falls back to standalone v2, then v1', async (t) => {
  await withEngine(installed(STANDALONE_V2), async () => {
    t.like(await detectCompose({}), { flavour: 'standalone-v2', command: ['docker-compose'] });
  });
  await withEngine(installed(V1), async () => {
    t.like(await detectCompose({}), { flavour: 'v1', version: '1.29.2' });
  });
});

test.serial('v1 older than 1.28 is refused, naming the reason', async (t) => {
  await withEngine(installed(OLD_V1), async () => {
    await t.throwsAsync(detectCompose({}), { message: /1\.25\.0 is too old.*profiles/ });
  });
});

test.serial('CCTL_COMPOSE forces a choice, probing only that one', async (t) => {
  const fake = installed(V1, V2);
  await withEngine(fake, async () => {
    t.like(await detectCompose({ CCTL_COMPOSE: 'docker-compose' }), { flavour: 'v1' });
  });
  t.deepEqual(fake.lines(), ['docker-compose version --short']);
});

test.serial('nothing found says what to install', async (t) => {
  await withEngine(installed(), async () => {
    const e = await t.throwsAsync(detectCompose({}), { message: /not found/ });
    t.regex((e as { hint?: string }).hint ?? '', /Install Docker Compose/);
  });
});

test.serial('Compose v1 is refused only against engine 25 or newer; v2 never', async (t) => {
  await withEngine(installed(V1), async () => {
    const v1 = await detectCompose({});
    t.regex(unsupportedPair(v1, ENGINE_26)?.message ?? '', /cannot drive Docker 26\.1\.5/);
    t.is(unsupportedPair(v1, { serverVersion: '25.0.0', apiVersion: '1.44' })?.exitCode, 1);
    t.is(unsupportedPair(v1, ENGINE_20), undefined);
    t.is(unsupportedPair(v1, { serverVersion: 'dev', apiVersion: '1.45' }), undefined);
  });
  await withEngine(installed(V1, V2), async () => {
    t.is(unsupportedPair(await detectCompose({}), ENGINE_26), undefined);
  });
});

test('parseVersion reads v-prefixed and suffixed versions', (t) => {
  t.deepEqual(parseVersion('v2.29.1-desktop.1'), [2, 29, 1]);
  t.deepEqual(parseVersion('1.29.2'), [1, 29, 2]);
  t.is(parseVersion('garbage'), undefined);
});
