/**
 * The engine API path of lib/engine (engine-http.ts, engine-api.ts): which socket the CLI would use, and
 * the calls on it through the runner seam (Runner.engine), answered here by a fake engine that also
 * answers the CLI, so each call is seen going one way or the other.
 */
import test from 'ava';
import { localSocket, parseReply, type EngineReply, type EngineRequest } from '../../lib/engine/engine-http.js';
import { snapshot } from '../../lib/engine/containers.js';
import { configHashesByService, startContainers } from '../../lib/engine/created-containers.js';
import { daemonInfo } from '../../lib/engine/daemon.js';
import { FakeEngine, withEngine } from '../helpers/fake-engine.js';

const none = () => undefined;

test.serial('the local socket: default, unix:// DOCKER_HOST; none for a remote host or a chosen context', (t) => {
  t.is(localSocket({}, none), '/var/run/docker.sock');
  t.is(localSocket({ DOCKER_HOST: 'unix:///run/user/1000/docker.sock' }, none), '/run/user/1000/docker.sock');
  t.is(localSocket({ DOCKER_HOST: 'tcp://10.0.0.5:2376' }, none), undefined);
  t.is(localSocket({ DOCKER_HOST: 'ssh://me@box' }, none), undefined);
  t.is(localSocket({ DOCKER_CONTEXT: 'remote' }, none), undefined);
  t.is(localSocket({ DOCKER_CONTEXT: 'default' }, none), '/var/run/docker.sock');
  t.is(
    localSocket({}, () => ({ currentContext: 'desktop-linux' })),
    undefined,
  );
  t.is(
    localSocket({}, () => ({ currentContext: 'default' })),
    '/var/run/docker.sock',
  );
  // The CLI lets DOCKER_HOST win over the config's context.
  t.is(
    localSocket({ DOCKER_HOST: 'unix:///tmp/d.sock' }, () => ({ currentContext: 'remote' })),
    '/tmp/d.sock',
  );
});

type Routes = Record<string, (req: EngineRequest) => EngineReply>;

/** The fake engine with an API: each request is recorded, and answered by the first route its path starts with. */
class ApiEngine extends FakeEngine {
  readonly requests: string[] = [];
  constructor(private readonly routes: Routes | 'none') {
    super();
  }
  engine(req: EngineRequest): Promise<EngineReply | undefined> {
    this.requests.push(`${req.method} ${req.path}`);
    if (this.routes === 'none') return Promise.resolve(undefined);
    const route = Object.entries(this.routes).find(([prefix]) => `${req.method} ${req.path}`.startsWith(prefix));
    return Promise.resolve(route ? route[1](req) : { status: 404, body: '{"message":"no route"}' });
  }
}

const json = (value: unknown): EngineReply => ({ status: 200, body: JSON.stringify(value) });
const labels = (service: string) => ({ 'com.docker.compose.project': 'p', 'com.docker.compose.service': service });
const container = (service: string, health: string) => ({
  Id: `id-${service}`,
  Name: `/p-${service}-1`,
  Image: 'sha256:img',
  Config: { Labels: { ...labels(service), 'com.docker.compose.config-hash': `h-${service}` }, Image: `img-${service}` },
  State: { Status: 'running', ExitCode: 0, Health: { Status: health } },
  NetworkSettings: { Ports: {} },
});

test.serial('snapshot asks the API when there is one: no docker process, the same facts', async (t) => {
  await withEngine(
    new ApiEngine({
      'GET /containers/json?all=1&filters=': (req) => {
        t.deepEqual(JSON.parse(decodeURIComponent(req.path.split('filters=')[1]!)), { label: ['com.docker.compose.project=p'] });
        return json([{ Id: 'id-proxy', Labels: labels('proxy'), State: 'running' }]);
      },
      'GET /containers/id-proxy/json': () => json(container('proxy', 'healthy')),
      'GET /images/img:1/json': () => json({ Id: 'sha256:img', RepoTags: ['img:1'], Config: { Labels: { built: 'yes' } } }),
    }),
    async (engine) => {
      const fake = engine as ApiEngine;
      const snap = await snapshot('p', ['proxy', 'claude-cli'], ['img:1', 'gone:1']);
      t.deepEqual(fake.calls, []);
      t.like(snap.services[0], { name: 'proxy', state: 'running', health: 'healthy', configHash: 'h-proxy', imageId: 'sha256:img' });
      t.like(snap.services[1], { name: 'claude-cli', state: 'missing' });
      t.deepEqual(snap.images, { 'img:1': { id: 'sha256:img', labels: { built: 'yes' } }, 'gone:1': undefined });
      t.deepEqual(snap.containers, [{ name: 'p-proxy-1', service: 'proxy', labels: container('proxy', 'healthy').Config.Labels }]);
    },
  );
});

test.serial('without a socket to ask, the same calls run the docker CLI', async (t) => {
  await withEngine(new ApiEngine('none').withContainers([{ service: 'proxy' }]), async (engine) => {
    const fake = engine as ApiEngine;
    const snap = await snapshot('p', ['proxy'], []);
    t.is(snap.services[0]!.state, 'running');
    t.true(fake.requests.length > 0);
    t.deepEqual(
      fake.calls.map((c) => c.argv.slice(0, 2).join(' ')),
      ['docker ps', 'docker inspect'],
    );
    await startContainers(['a', 'b']);
    t.is(fake.calls.at(-1)!.line, 'docker start a b');
  });
});

test.serial('starts go one by one in the order given; an engine error reads as the CLI failure would', async (t) => {
  await withEngine(
    new ApiEngine({
      'POST /containers/a/start': () => ({ status: 204, body: '' }),
      'POST /containers/b/start': () => ({ status: 304, body: '' }),
      'POST /containers/c/start': () => ({ status: 500, body: '{"message":"driver failed programming external connectivity"}' }),
    }),
    async (engine) => {
      const fake = engine as ApiEngine;
      await startContainers(['b', 'a']);
      t.deepEqual(fake.requests, ['POST /containers/b/start', 'POST /containers/a/start']);
      const error = await t.throwsAsync(startContainers(['c']));
      t.like(error, { name: 'ProcessError', stderr: 'Error response from daemon: driver failed programming external connectivity' });
      t.deepEqual(fake.calls, []);
    },
  );
});

test.serial("what up --no-start made, by service, newest first, from the API's list", async (t) => {
  await withEngine(
    new ApiEngine({
      'GET /containers/json': () =>
        json([
          { Id: 'new', Labels: { ...labels('proxy'), 'com.docker.compose.config-hash': 'h2' }, State: 'created' },
          { Id: 'old', Labels: { ...labels('proxy'), 'com.docker.compose.config-hash': 'h1' }, State: 'exited' },
        ]),
    }),
    async (engine) => {
      const fake = engine as ApiEngine;
      t.deepEqual([...(await configHashesByService('p'))], [['proxy', { id: 'new', service: 'proxy', hash: 'h2', state: 'created' }]]);
    },
  );
});

test.serial("the daemon's versions from GET /version", async (t) => {
  await withEngine(new ApiEngine({ 'GET /version': () => json({ Version: '26.1.5', ApiVersion: '1.45' }) }), async (engine) => {
    const fake = engine as ApiEngine;
    t.deepEqual(await daemonInfo(), { serverVersion: '26.1.5', apiVersion: '1.45' });
    t.deepEqual(fake.calls, []);
  });
});

test('an HTTP/1.x reply read to its end: status and body, a chunked one joined, anything else refused', (t) => {
  t.deepEqual(parseReply(Buffer.from('HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n[{"Id":"é"}]')), {
    status: 200,
    body: '[{"Id":"é"}]',
  });
  const chunked = Buffer.concat([
    Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n'),
    Buffer.from('5\r\n[{"a"\r\n'),
    Buffer.from(`${Buffer.byteLength(':"é"}]').toString(16)}\r\n:"é"}]\r\n0\r\n\r\n`),
  ]);
  t.deepEqual(parseReply(chunked), { status: 200, body: '[{"a":"é"}]' });
  t.deepEqual(parseReply(Buffer.from('HTTP/1.0 204 No Content\r\n\r\n')), { status: 204, body: '' });
  t.throws(() => parseReply(Buffer.from('SSH-2.0-OpenSSH\r\n')), { message: /not HTTP/ });
});
