/**
 * The engine API path against the real engine: what the socket answers is what the docker CLI answers
 * (snapshot both ways, equal), a start on the socket starts the container (docker inspect says so), and a
 * socket that is not there falls back to the CLI, whose failure names the daemon.
 */
import { e2e, BASE_IMAGE } from '../helpers/e2e.js';
import { snapshot } from '../../lib/engine/containers.js';
import { configHashesByService, startContainers } from '../../lib/engine/created-containers.js';
import { resetEngineHttp } from '../../lib/engine/engine-http.js';
import { processRunner, run, setRunner, type Runner } from '../../lib/engine/runner.js';

const project = `cctlapi${process.pid}`;
const labels = (service: string) => [
  '--label',
  `com.docker.compose.project=${project}`,
  '--label',
  `com.docker.compose.service=${service}`,
  '--label',
  `com.docker.compose.config-hash=hash-${service}`,
];

/** The real runner without its engine API: every call goes through the docker CLI. */
const cliOnly: Runner = { capture: processRunner.capture, interactive: processRunner.interactive };

e2e.serial('the socket and the CLI report the same; a start on the socket starts; no socket means the CLI', async (t) => {
  t.teardown(() =>
    run(['docker', 'ps', '-aq', '--filter', `label=com.docker.compose.project=${project}`]).then(({ stdout }) =>
      stdout.trim() ? run(['docker', 'rm', '-f', ...stdout.trim().split('\n')]) : undefined,
    ),
  );
  const running = (await run(['docker', 'run', '-d', ...labels('box'), BASE_IMAGE, 'sleep', '600'])).stdout.trim();
  const created = (await run(['docker', 'create', ...labels('idle'), BASE_IMAGE, 'sleep', '600'])).stdout.trim();

  const viaSocket = await snapshot(project, ['box', 'idle', 'none'], [BASE_IMAGE, 'cctl-no-such-image:x']);
  const previous = setRunner(cliOnly);
  const viaCli = await snapshot(project, ['box', 'idle', 'none'], [BASE_IMAGE, 'cctl-no-such-image:x']).finally(() => setRunner(previous));
  t.deepEqual(viaSocket, viaCli);
  t.like(viaSocket.services[0], { state: 'running', configHash: 'hash-box' });
  t.like(viaSocket.services[1], { state: 'created', configHash: 'hash-idle' });
  t.is(viaSocket.services[2]!.state, 'missing');
  t.truthy(viaSocket.images[BASE_IMAGE]?.id.startsWith('sha256:'));
  t.is(viaSocket.images['cctl-no-such-image:x'], undefined);
  t.deepEqual(
    [...(await configHashesByService(project))].map(([s, c]) => [s, c.id]).sort(),
    [
      ['box', running],
      ['idle', created],
    ].sort(),
  );

  await startContainers([created]);
  t.is((await run(['docker', 'inspect', '--format', '{{.State.Running}}', created])).stdout.trim(), 'true');
  // Started already: the engine says 304, and that is no failure (as for the CLI).
  await startContainers([created]);

  const saved = process.env.DOCKER_HOST;
  process.env.DOCKER_HOST = `unix:///tmp/${project}-no-engine.sock`;
  try {
    const error = await t.throwsAsync(snapshot(project, ['box'], []));
    t.regex(error!.message, /Docker daemon is not reachable/);
  } finally {
    if (saved === undefined) delete process.env.DOCKER_HOST;
    else process.env.DOCKER_HOST = saved;
    resetEngineHttp();
  }
});
