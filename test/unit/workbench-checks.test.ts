/** doctor's workbench checks that need no engine, and the tool-search variable. */
import test from 'ava';
import { join } from 'node:path';
import { findProject } from '../../lib/project/locate.js';
import { defaults } from '../../lib/project/settings.js';
import { renderOwned, type PlainMap } from '../../lib/project/model.js';
import { keepsToolSearch } from '../../lib/project/workbench.js';
import { agentCheck, identityCheck } from '../../lib/ops/workbench-checks.js';
import { scratchDir } from '../helpers/scratch.js';

const bare = () => {
  const dir = scratchDir('cctl-wbc-');
  return { dir, env: { PATH: process.env.PATH, HOME: dir, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: join(dir, 'none') } };
};

test('no identity on the host: doctor warns and says how to set one', async (t) => {
  const { dir, env } = bare();
  const check = await identityCheck(findProject({}, dir, {}), defaults(), env);
  t.like(check, { name: 'git-identity', status: 'warn' });
  t.regex(check.fix ?? '', /git config --global user.name/);
  const fixed = await identityCheck(findProject({}, dir, {}), { ...defaults(), 'git-name': 'Bot', 'git-email': 'bot@x.org' }, env);
  t.like(fixed, { status: 'pass', detail: 'Bot <bot@x.org> (from settings)' });
});

test('ssh agent: off passes, on without an agent fails with the fix', async (t) => {
  const { dir, env } = bare();
  const project = findProject({}, dir, {});
  t.like(await agentCheck(project, { ...defaults(), 'ssh-agent': 'off' }, env), {
    status: 'pass',
    detail: 'not forwarded: ssh-agent is off',
  });
  const on = await agentCheck(project, { ...defaults(), 'ssh-agent': 'on' }, env);
  t.like(on, { status: 'fail' });
  t.regex(on.fix ?? '', /ssh-add/);
});

test("ENABLE_TOOL_SEARCH only when the built-in gateway fronts Anthropic's API", (t) => {
  t.true(keepsToolSearch(defaults()));
  t.false(keepsToolSearch({ proxy: 'builtin', upstream: 'https://llm.example.com' }));
  t.false(keepsToolSearch({ proxy: 'external', upstream: 'https://api.anthropic.com' }));
  const cli = (renderOwned(defaults(), { project: 'p', buildHash: 'h' }).services as PlainMap)['claude-cli'] as PlainMap;
  t.is((cli.environment as PlainMap).ENABLE_TOOL_SEARCH, 'true');
});
