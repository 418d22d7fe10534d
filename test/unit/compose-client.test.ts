/**
 * The compose client (engine/compose-client.ts) at the process seam: each
 * verb's argv on v1 and v2, the invocation's files in order, its folder and
 * its exact environment on every call, the exit status passed through, and
 * the resolved model read as JSON (v2) or YAML (v1).
 */
import test from 'ava';
import * as client from '../../lib/engine/compose-client.js';
import type { ComposeInvocation } from '../../lib/engine/compose-client.js';
import type { ComposeCommand } from '../../lib/engine/compose.js';
import { ProcessError } from '../../lib/engine/runner.js';
import { FakeEngine, V1, V2, withEngine, type Flavour } from '../helpers/fake-engine.js';

const engineOf = (f: Flavour): ComposeCommand => ({ flavour: f === V1 ? 'v1' : 'plugin', command: f.prefix, version: f.version });

function invocation(f: Flavour): ComposeInvocation {
  return {
    engine: engineOf(f),
    files: ['/p/compose.yaml', '/home/u/.config/cctl/projects/p/override.yaml'],
    project: 'demo',
    dir: '/p',
    profiles: ['claude'],
    // Exactly this, and nothing of process.env.
    env: { PATH: '/usr/bin', COMPOSE_PROJECT_NAME: 'demo', CCTL_SSH_AUTH_SOCK: '/dev/null' },
  };
}

const PREFIX = [
  '--project-directory',
  '/p',
  '-f',
  '/p/compose.yaml',
  '-f',
  '/home/u/.config/cctl/projects/p/override.yaml',
  '-p',
  'demo',
  '--profile',
  'claude',
];

for (const flavour of [V1, V2]) {
  const label = flavour === V1 ? 'v1' : 'v2';

  test.serial(`${label}: each verb is one argv: command, files in order, project, profile, then the verb`, async (t) => {
    const inv = invocation(flavour);
    const fake = new FakeEngine({ flavour }).on(/ config --hash/, { stdout: 'claude-cli abc\nproxy def\n' });
    await withEngine(fake, async () => {
      await client.up(inv, { services: ['claude-cli', 'proxy'] });
      await client.stop(inv, { services: ['proxy'], timeoutSeconds: 5 });
      await client.remove(inv, { services: ['proxy'] });
      await client.down(inv, { timeoutSeconds: 10 });
      await client.execCapture(inv, { service: 'claude-cli', command: ['ssh-add', '-l'] });
      await client.exec(inv, { service: 'claude-cli', command: ['bash'], tty: true, workdir: '/workspace/sub' });
      await client.logs(inv, { services: ['proxy'], follow: true, tail: 50, ansi: false });
      await client.readLogs(inv, { services: ['proxy'] });
      t.deepEqual(
        [...(await client.configHashes(inv))],
        [
          ['claude-cli', 'abc'],
          ['proxy', 'def'],
        ],
      );
    });
    const verbs = fake.calls.map((c) => {
      t.deepEqual(c.argv.slice(0, flavour.prefix.length + PREFIX.length), [...flavour.prefix, ...PREFIX], c.line);
      return c.argv.slice(flavour.prefix.length + PREFIX.length);
    });
    t.deepEqual(verbs, [
      ['up', '-d', '--no-build', 'claude-cli', 'proxy'],
      ['stop', '--timeout', '5', 'proxy'],
      ['rm', '-f', 'proxy'],
      ['down', '--timeout', '10'],
      ['exec', '-T', 'claude-cli', 'ssh-add', '-l'],
      ['exec', '-w', '/workspace/sub', 'claude-cli', 'bash'],
      ['--ansi', 'never', 'logs', '--follow', '--tail=50', 'proxy'],
      ['logs', '--no-color', 'proxy'],
      ['config', '--hash', '*'],
    ]);
    for (const c of fake.calls) {
      // The invocation's environment is the child's whole environment, and its folder the working folder.
      t.is(c.options.env, inv.env, c.line);
      t.is(c.options.cwd, '/p', c.line);
    }
    t.deepEqual(
      fake.calls.map((c) => c.mode),
      ['capture', 'capture', 'capture', 'capture', 'capture', 'interactive', 'interactive', 'capture', 'capture'],
    );
  });

  test.serial(`${label}: exec and logs pass the child's status through; a captured failure is a ProcessError`, async (t) => {
    const inv = invocation(flavour);
    const fake = new FakeEngine({ flavour })
      .on(/ exec claude-cli false$/, { exitCode: 130 })
      .on(/ exec -T claude-cli false$/, { exitCode: 3, stderr: 'no' })
      .on(/ logs /, { exitCode: 1 });
    await withEngine(fake, async () => {
      t.is(await client.exec(inv, { service: 'claude-cli', command: ['false'], tty: true }), 130);
      t.is(await client.logs(inv, { services: ['proxy'] }), 1);
      const error = await t.throwsAsync(client.execCapture(inv, { service: 'claude-cli', command: ['false'] }));
      t.true(error instanceof ProcessError);
      t.like(error, { exitCode: 3, stderr: 'no' });
    });
  });
}

test.serial('config: v2 is asked for JSON, v1 prints YAML and is parsed; both give the same model', async (t) => {
  const model = { name: 'demo', services: { 'claude-cli': { image: 'cctl-claude:local', privileged: false, ports: [] } } };
  const v2 = new FakeEngine({ flavour: V2 }).on(/ config --format json$/, { stdout: JSON.stringify(model) });
  const fromV2 = await withEngine(v2, () => client.config(invocation(V2)));
  t.deepEqual(fromV2, model);
  t.deepEqual(v2.calls.at(-1)!.argv.slice(-3), ['config', '--format', 'json']);

  // What Compose 1.29 prints: YAML, no --format flag.
  const yamlText = 'name: demo\nservices:\n  claude-cli:\n    image: cctl-claude:local\n    privileged: false\n    ports: []\n';
  const v1 = new FakeEngine({ flavour: V1 }).on(/ config$/, { stdout: yamlText });
  const inv = invocation(V1);
  const fromV1 = await withEngine(v1, () => client.config(inv));
  t.deepEqual(fromV1, model);
  t.deepEqual(v1.calls.at(-1)!.argv, [...V1.prefix, ...PREFIX, 'config']);
  t.is(v1.calls.at(-1)!.options.env, inv.env);
});

test.serial('config: output that is not a model is an error, not an empty model', async (t) => {
  const fake = new FakeEngine({ flavour: V1 }).on(/ config$/, { stdout: '- a list\n' });
  const error = await t.throwsAsync(withEngine(fake, () => client.config(invocation(V1))));
  t.regex(error!.message, /printed no model/);
  const failing = new FakeEngine({ flavour: V2 }).on(/ config --format json$/, {
    exitCode: 15,
    stderr: 'services.x Additional property foo is not allowed',
  });
  const refused = await t.throwsAsync(withEngine(failing, () => client.config(invocation(V2))));
  t.true(refused instanceof ProcessError);
  t.regex(refused!.message, /Additional property foo/);
});
