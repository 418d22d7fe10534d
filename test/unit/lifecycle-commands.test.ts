/**
 * Command tests for the lifecycle: a fake at the process seam answers docker
 * and compose, records every argv, and the task list runs with the silent
 * renderer so each task's state can be asserted (as np does).
 */
import test from 'ava';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { upTasks, type UpContext } from '../../lib/commands/up.js';
import { resetComposeDetection } from '../../lib/engine/compose.js';
import { findProject } from '../../lib/project/locate.js';
import {  } from '../../lib/ops/compose.js';
import { ProcessError, setRunner, type Runner } from '../../lib/engine/runner.js';
import { taskList } from '../../lib/ui/tasks.js';

interface Flavour {
  env: string;
  version: string;
  prefix: string[];
}
const V2: Flavour = { env: 'docker compose', version: 'v2.29.1', prefix: ['docker', 'compose'] };
const V1: Flavour = { env: 'docker-compose', version: '1.29.2', prefix: ['docker-compose'] };

const healthy = (service: string) => ({
  Id: service,
  Name: `/p_${service}_1`,
  Config: { Labels: { 'com.docker.compose.service': service }, Image: `img-${service}` },
  State: { Status: 'running', ExitCode: 0, Health: { Status: 'healthy', Log: [{ Output: 'ok', ExitCode: 0 }] } },
  NetworkSettings: { Ports: {} },
});

function fakeEngine(f: Flavour, opts: { upStderr?: string; api?: string } = {}) {
  const calls: string[][] = [];
  const fail = (command: readonly string[], stderr: string): never => {
    throw new ProcessError(command, { exitCode: 1, stdout: '', stderr });
  };
  const runner: Runner = {
    async capture(command) {
      calls.push([...command]);
      const line = command.join(' ');
      const ok = (stdout = '') => ({ exitCode: 0, stdout, stderr: '' });
      if (line.endsWith('version --short')) return line.startsWith(f.prefix.join(' ')) ? ok(f.version) : fail(command, 'not found');
      if (line.startsWith('docker version --format {{.Server.Version}}')) return ok(`25.0.3 ${opts.api ?? '1.44'}`);
      if (line.startsWith('docker version --format {{.Server.APIVersion}}')) return ok(opts.api ?? '1.44');
      if (line.startsWith('docker image inspect')) return fail(command, 'Error: No such image');
      if (line.startsWith('docker ps')) return ok('cli\nproxy\n');
      if (line.startsWith('docker inspect')) return ok(JSON.stringify([healthy('claude-cli'), healthy('proxy')]));
      if (line.includes(' up -d') && opts.upStderr) return fail(command, opts.upStderr);
      if (line.startsWith(f.prefix.join(' '))) return ok();
      return fail(command, `unexpected: ${line}`);
    },
    async interactive() {
      return 0;
    },
  };
  return { runner, calls };
}

async function runUp(f: Flavour, opts: { upStderr?: string; api?: string } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'cctl-up-unit-'));
  const project = findProject({ projectName: 'p' }, dir);
  const engine = fakeEngine(f, opts);
  const previous = setRunner(engine.runner);
  const saved = process.env.CCTL_COMPOSE;
  process.env.CCTL_COMPOSE = f.env;
  // Detection must reach the fake, and the fake's answer must not reach the real cache.
  process.env.CCTL_COMPOSE_CACHE = '0';
  resetComposeDetection();
  const ctx: UpContext = { project, built: [] };
  const list = taskList(upTasks({ build: false, live: false, timeoutMs: 5000, signal: new AbortController().signal }), 'silent');
  let error: unknown;
  try {
    await list.run(ctx);
  } catch (e) {
    error = e;
  } finally {
    setRunner(previous);
    if (saved === undefined) delete process.env.CCTL_COMPOSE;
    else process.env.CCTL_COMPOSE = saved;
    resetComposeDetection();
  }
  const composeCalls = engine.calls.filter((c) => c.join(' ').startsWith(f.prefix.join(' ')) && !c.includes('--short'));
  return { ctx, list, error, composeCalls, dir, file: project.file };
}

for (const f of [V1, V2]) {
  test.serial(`up builds and starts with the ${f.env} argv shape`, async (t) => {
    const { composeCalls, list, error, dir, file } = await runUp(f);
    t.is(error, undefined);
    const prefix = [...f.prefix, '--project-directory', dir, '-f', file, '-p', 'p', '--profile', 'claude'];
    t.deepEqual(composeCalls, [
      [...prefix, 'build', 'claude-cli', 'proxy'],
      [...prefix, 'up', '-d', '--no-build', 'claude-cli', 'proxy'],
    ]);
    t.deepEqual(
      list.tasks.map((task) => task.state),
      ['COMPLETED', 'COMPLETED', 'COMPLETED', 'COMPLETED', 'COMPLETED'],
    );
  });
}

test.serial('start_interval is written only for a v2 compose on engine >= 25', async (t) => {
  const v2 = await runUp(V2);
  t.regex(readFileSync(v2.file, 'utf8'), /start_interval: 1s/);
  const v1 = await runUp(V1);
  t.notRegex(readFileSync(v1.file, 'utf8'), /start_interval/);
  const oldEngine = await runUp(V2, { api: '1.41' });
  t.notRegex(readFileSync(oldEngine.file, 'utf8'), /start_interval/);
});

test.serial('a busy port fails the start task, names the port, and the wait never runs', async (t) => {
  const { list, error } = await runUp(V1, {
    upStderr: 'ERROR: for proxy  Cannot start service proxy: driver failed programming external connectivity: Bind for 127.0.0.1:3000 failed: port is already allocated',
  });
  t.regex((error as Error).message, /Port 3000 on this machine is already in use/);
  t.deepEqual(
    list.tasks.map((task) => task.state),
    ['COMPLETED', 'COMPLETED', 'COMPLETED', 'FAILED', 'WAITING'],
  );
});
