/**
 * Flow-style compose files (issue 19 item 5): `services: {web: {image: nginx:alpine}}`
 * is valid YAML, and merging into it once used to leave cctl's services in flow
 * style, so the next change of a setting wrote them at the root and Compose
 * rejected the file. cctl's own nodes are now written in block style; the
 * user's nodes and comments stay as they were, and a second merge changes nothing.
 */
import test from 'ava';
import { parse } from 'yaml';
import { renderOwned, type PlainMap } from '../../lib/project/model.js';
import { mergeOwned } from '../../lib/project/merge.js';
import { defaults, type Settings } from '../../lib/project/settings.js';

const render = (s: Settings) => renderOwned(s, { project: 'p', buildHash: 'h' } as Parameters<typeof renderOwned>[1]);
const ext = (s: Settings) => ({ key: 'x-cctl', value: { ...s } as unknown as PlainMap });

/** init, a changed setting, and a second init, as the merges they are. */
function lifecycle(start: string, force = false) {
  const s1 = defaults();
  const first = mergeOwned(start, 'f', { base: undefined, ours: render(s1), extension: ext(s1) }, force);
  const s2 = { ...s1, plan: 'max5' };
  const second = mergeOwned(first.text, 'f', { base: render(s1), ours: render(s2), extension: ext(s2) });
  const third = mergeOwned(second.text, 'f', { base: render(s2), ours: render(s2), extension: ext(s2) });
  return { first, second, third };
}

test("a flow-style services map: cctl's services in block style, the user's service and comment kept, idempotent", (t) => {
  const { first, second, third } = lifecycle("# the team's\nservices: {web: {image: nginx:alpine}}\n");
  t.deepEqual(first.conflicts, []);
  t.true(first.text.startsWith("# the team's\nservices:\n  web: {image: nginx:alpine}\n  claude-cli:\n    image: "), first.text);
  const model = parse(second.text) as PlainMap;
  t.deepEqual(Object.keys(model), ['services', 'volumes', 'x-cctl'], "nothing of cctl's at the root");
  t.deepEqual((model.services as PlainMap).web, { image: 'nginx:alpine' });
  t.is((((model.services as PlainMap)['claude-cli'] as PlainMap).environment as PlainMap).CLAUDE_PLAN, 'max5');
  t.false(third.changed, 'a second init changes nothing');
  t.regex(second.text, /\n {2}claude-home: \{\}\n/, "an empty map stays {} on its key's line");
});

test('a whole file in flow style, and a flow-style service cctl owns, are rewritten in block style', (t) => {
  const whole = lifecycle('{services: {web: {image: nginx:alpine}}, volumes: {data: {}}}\n');
  const model = parse(whole.second.text) as PlainMap;
  t.deepEqual((model.services as PlainMap).web, { image: 'nginx:alpine' });
  t.deepEqual((model.volumes as PlainMap).data, {});
  t.truthy((model.services as PlainMap)['claude-cli']);
  t.false(whole.second.text.trimStart().startsWith('{'));
  t.false(whole.third.changed);
  const owned = lifecycle('# top\nservices: {web: {image: nginx:alpine}, claude-cli: {image: x}}\n', true);
  t.is(owned.first.text.match(/# top/g)?.length, 1, 'a comment above the key is not doubled');
  t.regex(owned.first.text, /\n {2}claude-cli:\n {4}image: cctl-/);
  t.false(owned.third.changed);
});
