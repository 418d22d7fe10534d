import test from 'ava';
import { readFileSync, writeFileSync } from 'node:fs';
import { scratchDir } from '../helpers/scratch.js';
import { resolvedFile, resolvedKey, resolvedModel } from '../../lib/ops/task/resolved.js';

const project = { name: 'app' };
const scratch = () => ({ HOME: scratchDir('cctl-resolved-') });

function asker(model: Record<string, unknown>) {
  const asked = { count: 0 };
  return { asked, ask: async () => (asked.count++, model) };
}

test('Compose is asked once per key; the next task with the same inputs reads the kept model', async (t) => {
  const env = scratch();
  const key = resolvedKey('fingerprint-1', 'machine text');
  const { asked, ask } = asker({ services: { 'claude-cli': { image: 'i' } } });
  const first = await resolvedModel(project, key, ask, () => true, env);
  const second = await resolvedModel(project, key, ask, () => true, env);
  t.is(asked.count, 1);
  t.deepEqual([first?.kept, second?.kept], [false, true]);
  t.deepEqual(second?.model, { services: { 'claude-cli': { image: 'i' } } });
});

test('another fingerprint or another machine file asks again', async (t) => {
  const env = scratch();
  const { asked, ask } = asker({ services: {} });
  await resolvedModel(project, resolvedKey('fingerprint-1', 'machine text'), ask, () => true, env);
  await resolvedModel(project, resolvedKey('fingerprint-2', 'machine text'), ask, () => true, env);
  await resolvedModel(project, resolvedKey('fingerprint-2', 'machine text, new identity'), ask, () => true, env);
  t.is(asked.count, 3);
  t.not(resolvedKey('a', 'b'), resolvedKey('a\0b', ''), 'the parts cannot run into each other');
});

test('inputs changed while Compose read them: nothing kept, no model (the caller refuses)', async (t) => {
  const env = scratch();
  const key = resolvedKey('fingerprint-1', 'machine text');
  const { asked, ask } = asker({ services: { 'claude-cli': { privileged: true } } });
  t.is(await resolvedModel(project, key, ask, () => false, env), undefined);
  const again = await resolvedModel(project, key, ask, () => true, env);
  t.is(asked.count, 2, 'the answer read during a change was not kept');
  t.false(again?.kept);
});

test('a damaged or foreign kept file is asked about again, never trusted', async (t) => {
  const env = scratch();
  const key = resolvedKey('fingerprint-1', 'machine text');
  const { asked, ask } = asker({ services: {} });
  await resolvedModel(project, key, ask, () => true, env);
  const file = resolvedFile(project, env);
  t.like(JSON.parse(readFileSync(file, 'utf8')), { key });
  for (const text of ['{not json', JSON.stringify({ key, model: [] }), JSON.stringify({ key: 'other', model: {} })]) {
    writeFileSync(file, text);
    t.false((await resolvedModel(project, key, ask, () => true, env))?.kept);
  }
  t.is(asked.count, 4);
});
