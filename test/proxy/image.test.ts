/**
 * The proxy image on a real engine: built from docker/proxy.Dockerfile and the
 * compiled gateway exactly as `cctl init` lays out .cctl/proxy/, on the
 * stand-in base image. A fake upstream container of our own speaks HTTPS with
 * a certificate from a throwaway CA, which proves the extra-CA feature both
 * ways: trusted with certs/extra-ca.crt, refused (502) without it.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BASE_IMAGE, e2e } from '../helpers/e2e.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const gatewayDist = join(root, 'dist', 'gateway');

const docker = (...args: string[]) =>
  execFileSync('docker', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000 }).trim();
const quietly = (...args: string[]) => {
  try {
    docker(...args);
  } catch {
    /* already gone */
  }
};

const FAKE_UPSTREAM = `
const https = require('https'), fs = require('fs');
https.createServer({ key: fs.readFileSync('/tls/key.pem'), cert: fs.readFileSync('/tls/cert.pem') }, (req, res) => {
  let body = '';
  req.on('data', (d) => (body += d));
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ type: 'message', model: 'fake-tls', usage: { input_tokens: 1, output_tokens: 2 },
      seen: { path: req.url, apiKey: req.headers['x-api-key'] || null, authorization: req.headers.authorization || null } }));
  });
}).listen(8443);
`;

async function waitHealthy(container: string, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let status = '';
  while (Date.now() < deadline) {
    status = docker('inspect', '-f', '{{.State.Health.Status}}', container);
    if (status === 'healthy' || status === 'unhealthy') return status;
    await new Promise((r) => setTimeout(r, 500));
  }
  return status;
}

async function post(hostPort: string, headers: Record<string, string>): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`http://${hostPort}/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ model: 'claude-e2e', max_tokens: 1, messages: [] }),
    signal: AbortSignal.timeout(15_000),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

e2e('the proxy image builds, runs as non-root, turns healthy, injects the team key, and trusts the extra CA', async (t) => {
  t.true(existsSync(join(gatewayDist, 'main.js')), `${gatewayDist}/main.js is missing; npm test builds it (npm run build)`);
  const id = randomBytes(4).toString('hex');
  const work = mkdtempSync(join(tmpdir(), 'cctl-proxy-image-'));
  const network = `cctl-test-proxy-${id}`;
  const upstream = `cctl-test-upstream-${id}`;
  const images = [`cctl-test-proxy-${id}:ca`, `cctl-test-proxy-${id}:noca`];
  const containers = [upstream, `cctl-test-gw-ca-${id}`, `cctl-test-gw-noca-${id}`];
  t.teardown(() => {
    for (const c of containers) quietly('rm', '-f', c);
    quietly('network', 'rm', network);
    for (const i of images) quietly('image', 'rm', '-f', i);
    rmSync(work, { recursive: true, force: true });
  });

  // A throwaway CA, and the upstream's certificate signed by it.
  const tls = join(work, 'tls');
  mkdirSync(tls);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe', cwd: tls });
  openssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
    '-days',
    '2',
    '-subj',
    '/CN=cctl test CA',
  );
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'key.pem', '-out', 'req.csr', '-subj', `/CN=${upstream}`);
  writeFileSync(join(tls, 'ext.cnf'), `subjectAltName=DNS:${upstream}\n`);
  openssl(
    'x509',
    '-req',
    '-in',
    'req.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'cert.pem',
    '-days',
    '2',
    '-extfile',
    'ext.cnf',
  );
  chmodSync(join(tls, 'key.pem'), 0o644);
  writeFileSync(join(tls, 'upstream.js'), FAKE_UPSTREAM);

  // Two build contexts, laid out as .cctl/proxy/: one with the CA, one without.
  for (const [tag, withCa] of [
    [images[0]!, true],
    [images[1]!, false],
  ] as const) {
    const ctx = join(work, withCa ? 'ctx-ca' : 'ctx-noca');
    mkdirSync(join(ctx, 'certs'), { recursive: true });
    copyFileSync(join(root, 'docker', 'proxy.Dockerfile'), join(ctx, 'Dockerfile'));
    cpSync(gatewayDist, join(ctx, 'gateway'), { recursive: true });
    writeFileSync(join(ctx, 'certs', 'README'), 'extra CA goes here\n');
    if (withCa) copyFileSync(join(tls, 'ca.pem'), join(ctx, 'certs', 'extra-ca.crt'));
    docker('build', '-q', '--build-arg', `BASE_IMAGE=${BASE_IMAGE}`, '-t', tag, ctx);
  }

  const secrets = join(work, 'secrets');
  mkdirSync(secrets);
  writeFileSync(join(secrets, 'team-key'), 'sk-ant-e2e-team-key\n');
  chmodSync(join(secrets, 'team-key'), 0o644); // read by uid 65534 in the container

  docker('network', 'create', network);
  docker('run', '-d', '--name', upstream, '--network', network, '-v', `${tls}:/tls:ro`, BASE_IMAGE, 'node', '/tls/upstream.js');

  const startGateway = (name: string, image: string) => {
    docker(
      'run',
      '-d',
      '--name',
      name,
      '--network',
      network,
      '-p',
      '127.0.0.1::3000',
      '-e',
      `CCTL_UPSTREAM_URL=https://${upstream}:8443`,
      '-e',
      'CCTL_CLIENT_TOKEN=e2e-client-token',
      '-e',
      'ANTHROPIC_API_KEY_FILE=/run/secrets/team-key',
      '-v',
      `${secrets}:/run/secrets:ro`,
      image,
    );
    return docker('port', name, '3000/tcp').split('\n')[0]!;
  };

  const withCa = containers[1]!;
  const hostPort = startGateway(withCa, images[0]!);
  t.is(await waitHealthy(withCa, 60_000), 'healthy');
  t.is(docker('exec', withCa, 'id', '-u'), '65534');

  const health = (await (await fetch(`http://${hostPort}/health`, { signal: AbortSignal.timeout(5000) })).json()) as Record<
    string,
    unknown
  >;
  t.like(health, { status: 'ok', mode: 'team-key' });

  const ok = await post(hostPort, { authorization: 'Bearer e2e-client-token' });
  t.is(ok.status, 200);
  t.deepEqual(ok.body.seen, { path: '/v1/messages', apiKey: 'sk-ant-e2e-team-key', authorization: null });

  const denied = await post(hostPort, { authorization: 'Bearer not-the-token' });
  t.is(denied.status, 401);

  // Without the extra CA the same upstream is refused, in the Anthropic shape.
  const noCa = containers[2]!;
  const noCaPort = startGateway(noCa, images[1]!);
  t.is(await waitHealthy(noCa, 60_000), 'healthy');
  const refused = await post(noCaPort, { authorization: 'Bearer e2e-client-token' });
  t.is(refused.status, 502);
  t.regex(String((refused.body.error as { message: string }).message), /UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED|CERT/);

  // One log line per request, with usage and without the key.
  const logs = docker('logs', withCa);
  t.regex(logs, /"path":"\/v1\/messages","status":200/);
  t.regex(logs, /"usage":\{"input_tokens":1,"output_tokens":2\}/);
  t.false(logs.includes('sk-ant-e2e-team-key'));
  t.false(logs.includes('e2e-client-token'));

  // SIGTERM is handled (node is PID 1): the stop is quick and clean.
  const started = Date.now();
  docker('stop', '-t', '20', withCa);
  t.true(Date.now() - started < 10_000, 'stopped well before the kill timeout');
  t.is(docker('inspect', '-f', '{{.State.ExitCode}}', withCa), '0');
});
