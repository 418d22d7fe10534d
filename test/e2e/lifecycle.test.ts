/**
 * init → up → status → down → up → down --volumes on the real engine, in one
 * throw-away project that also has a service of the user's own.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { e2e, BASE_IMAGE } from '../helpers/e2e.js';
import { tempProject, removeProjectImages } from '../helpers/project.js';
import { cctl, e2eEnv, composeCommand } from '../helpers/cli.js';
import { run } from '../../lib/engine/runner.js';

const tmp = tempProject('life');
const env = e2eEnv({ COMPOSE_PROJECT_NAME: tmp.name });
const file = join(tmp.dir, 'docker-compose.yml');
const userText = `# The team's own stack; cctl must not touch it.
services:
  # a long-running helper of ours
  other:
    image: ${BASE_IMAGE}
    command: ["sleep", "3600"]   # aligned comment
    init: true

volumes:
  otherdata: {}
`;
writeFileSync(file, userText);
const volume = `${tmp.name}_claude-home`;
const dc = (...args: string[]) => run([...composeCommand(), '-f', file, '-p', tmp.name, ...args], { cwd: tmp.dir, env });

e2e.after.always(async () => {
  await dc('--profile', 'claude', 'down', '-v', '--timeout', '1').catch(() => undefined);
  await removeProjectImages(tmp.name);
  tmp.cleanup();
});

async function containerInfo(service: string) {
  const ids = (
    await run([
      'docker',
      'ps',
      '-q',
      '--filter',
      `label=com.docker.compose.project=${tmp.name}`,
      '--filter',
      `label=com.docker.compose.service=${service}`,
    ])
  ).stdout.trim();
  if (!ids) return undefined;
  const [c] = JSON.parse((await run(['docker', 'inspect', ids])).stdout) as Array<{
    Id: string;
    State: { Status: string; StartedAt: string; Health?: { Status: string } };
  }>;
  return c;
}

e2e.serial('init adds only the claude profile, and real compose accepts it', async (t) => {
  const r = await cctl(['init'], { cwd: tmp.dir, env });
  t.is(r.exitCode, 0, r.stderr);
  const after = readFileSync(file, 'utf8');
  t.true(after.startsWith(userText.slice(0, userText.indexOf('\nvolumes:'))), 'the user part is unchanged up to the insertion');
  t.regex(after, /command: \["sleep", "3600"\] {3}# aligned comment/);
  t.regex(after, /\n {2}claude-cli:\n/);
  t.regex(after, /\n {2}proxy:\n/);
  t.regex(after, /\n {2}claude-home: \{\}\n/);
  await t.notThrowsAsync(dc('--profile', 'claude', 'config', '-q'));
  const again = await cctl(['init'], { cwd: tmp.dir, env });
  t.is(again.exitCode, 0);
  t.is(readFileSync(file, 'utf8'), after, 'a second init is byte-identical');
});

e2e.serial('up reaches all-healthy and leaves the user service running as it was', async (t) => {
  await dc('up', '-d', 'other');
  const before = await containerInfo('other');
  t.truthy(before);
  const r = await cctl(['up', '--json', '--timeout', '600'], { cwd: tmp.dir, env });
  t.is(r.exitCode, 0, r.stderr);
  const doc = JSON.parse(r.stdout) as { ok: boolean; services: Array<{ name: string; state: string; health: string }> };
  t.true(doc.ok);
  t.deepEqual(
    doc.services.map((s) => [s.name, s.state, s.health]),
    [
      ['claude-cli', 'running', 'healthy'],
      ['proxy', 'running', 'healthy'],
    ],
  );
  const after = await containerInfo('other');
  t.is(after?.Id, before?.Id);
  t.is(after?.State.StartedAt, before?.State.StartedAt);
});

e2e.serial('status --json agrees with docker inspect', async (t) => {
  const r = await cctl(['status', '--json'], { cwd: tmp.dir, env });
  t.is(r.exitCode, 0, r.stderr);
  const doc = JSON.parse(r.stdout) as { services: Array<{ name: string; state: string; health: string }> };
  for (const s of doc.services) {
    const c = await containerInfo(s.name);
    if (!c) return t.fail(`no container for ${s.name}`);
    t.is(s.state, c.State.Status);
    t.is(s.health, c.State.Health?.Status ?? 'none');
  }
  t.deepEqual(
    doc.services.map((s) => s.name),
    ['claude-cli', 'proxy'],
  );
});

e2e.serial('down keeps the home volume; the next up still has the file', async (t) => {
  await dc('--profile', 'claude', 'exec', '-T', 'claude-cli', 'sh', '-c', 'echo kept > /home/claude/.claude/marker');
  const down = await cctl(['down'], { cwd: tmp.dir, env });
  t.is(down.exitCode, 0, down.stderr);
  t.is(await containerInfo('claude-cli'), undefined);
  t.truthy(await containerInfo('other'), "the user's service keeps running");
  const up = await cctl(['up', '--timeout', '300'], { cwd: tmp.dir, env });
  t.is(up.exitCode, 0, up.stderr);
  const read = await dc('--profile', 'claude', 'exec', '-T', 'claude-cli', 'cat', '/home/claude/.claude/marker');
  t.is(read.stdout.trim(), 'kept');
});

e2e.serial('a failing health check makes up exit 1 within the timeout, naming the service', async (t) => {
  // A real failure mode: the home volume no longer writable by claude.
  await run(['docker', 'run', '--rm', '--user', '0', '-v', `${volume}:/h`, BASE_IMAGE, 'chown', '0:0', '/h/.claude']);
  await cctl(['down'], { cwd: tmp.dir, env });
  const started = Date.now();
  const r = await cctl(['up', '--timeout', '25'], { cwd: tmp.dir, env });
  const seconds = (Date.now() - started) / 1000;
  t.is(r.exitCode, 1);
  t.regex(r.stderr, /claude-cli/);
  t.regex(r.stderr, /unhealthy|did not become healthy/);
  t.regex(r.stderr, /not writable/, 'the last health output is shown');
  t.true(seconds < 60, `took ${seconds} s`);
  await run(['docker', 'run', '--rm', '--user', '0', '-v', `${volume}:/h`, BASE_IMAGE, 'chown', '1001:1001', '/h/.claude']);
});

e2e.serial('down --volumes needs --yes in a script, and then removes the volume', async (t) => {
  const refused = await cctl(['down', '--volumes'], { cwd: tmp.dir, env });
  t.is(refused.exitCode, 2);
  t.regex(refused.stderr, /--yes/);
  await t.notThrowsAsync(run(['docker', 'volume', 'inspect', volume]));
  const r = await cctl(['down', '--volumes', '--yes'], { cwd: tmp.dir, env });
  t.is(r.exitCode, 0, r.stderr);
  await t.throwsAsync(run(['docker', 'volume', 'inspect', volume]));
});

e2e('with the daemon unreachable, up and status fail fast with the daemon message', async (t) => {
  const dead = e2eEnv({ DOCKER_HOST: 'unix:///tmp/cctl-no-daemon.sock', COMPOSE_PROJECT_NAME: tmp.name });
  for (const args of [['up'], ['status'], ['doctor']]) {
    const started = Date.now();
    const r = await cctl(args, { cwd: tmp.dir, env: dead });
    t.is(r.exitCode, 1, `${args[0]}: ${r.stderr}`);
    t.regex(r.stderr, /Docker daemon is not reachable/, args[0]);
    t.true(Date.now() - started < 15_000, `${args[0]} took ${Date.now() - started} ms`);
  }
});
