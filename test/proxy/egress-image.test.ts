/**
 * Egress through the proxy image on a real engine, in the topology of an
 * isolated stack: a client container on an internal network whose only way
 * out is the gateway, and a destination (an HTTPS echo with a throwaway
 * certificate, as allowed.test and denied.test) on an outer network that
 * only the gateway shares. Sources are `auto`, read from the container's
 * real interfaces.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
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

const DESTINATION = `
const tls = require('tls'), fs = require('fs');
tls.createServer({ key: fs.readFileSync('/tls/key.pem'), cert: fs.readFileSync('/tls/cert.pem') }, (s) => { s.on('error', () => {}); s.pipe(s); }).listen(8443);
`;

// Runs in the client container: CONNECT through the gateway to each name, TLS inside, and a direct try.
const CLIENT = `
const http = require('http'), tls = require('tls'), net = require('net'), fs = require('fs');
const ca = fs.readFileSync('/tls/cert.pem');
const connect = (target) => new Promise((resolve) => {
  const req = http.request({ host: 'proxy', port: 3000, method: 'CONNECT', path: target, timeout: 10000 });
  req.on('connect', (res, socket, head) => {
    if (res.statusCode !== 200) {
      let body = head.toString();
      socket.on('data', (d) => (body += d));
      socket.on('close', () => resolve({ status: res.statusCode, body }));
      return;
    }
    const s = tls.connect({ socket, servername: target.split(':')[0], ca }, () => {
      s.write('ping through the tunnel');
      s.once('data', (d) => { resolve({ status: 200, echo: d.toString(), authorized: s.authorized }); s.destroy(); });
    });
    s.on('error', (e) => resolve({ status: 200, error: e.message }));
  });
  req.on('timeout', () => req.destroy(new Error('timeout')));
  req.on('error', (e) => resolve({ error: e.message }));
  req.end();
});
const direct = () => new Promise((resolve) => {
  const s = net.connect({ host: 'allowed.test', port: 8443, timeout: 3000 });
  s.on('connect', () => { resolve('connected'); s.destroy(); });
  s.on('timeout', () => { resolve('timeout'); s.destroy(); });
  s.on('error', (e) => resolve(e.code));
});
(async () => {
  console.log(JSON.stringify({ allowed: await connect('allowed.test:8443'), denied: await connect('denied.test:8443'), direct: await direct() }));
})();
`;

/** CONNECT from this (host) process through the published port; resolves with the status line. */
function connectFromHost(hostPort: string, target: string): Promise<string> {
  const [host, port] = hostPort.split(':');
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), host);
    let got = '';
    socket.setTimeout(10_000, () => socket.destroy(new Error('no answer')));
    socket.on('data', (d) => (got += d.toString()));
    socket.on('close', () => resolve(got.split('\r\n')[0] ?? ''));
    socket.on('error', reject);
    socket.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n\r\n`);
  });
}

e2e(
  'egress on the proxy image: an internal client reaches an allowed host only through CONNECT, a denied one gets 403, and every decision is logged',
  async (t) => {
    t.true(existsSync(join(gatewayDist, 'main.js')), `${gatewayDist}/main.js is missing; npm test builds it (npm run build)`);
    const id = randomBytes(4).toString('hex');
    const work = mkdtempSync(join(tmpdir(), 'cctl-egress-image-'));
    const inner = `cctl-test-egress-inner-${id}`;
    const outer = `cctl-test-egress-outer-${id}`;
    const image = `cctl-test-egress-proxy-${id}:local`;
    const [gateway, destination, client] = [`cctl-test-egress-gw-${id}`, `cctl-test-egress-dest-${id}`, `cctl-test-egress-client-${id}`];
    t.teardown(() => {
      for (const c of [client, gateway, destination]) quietly('rm', '-f', c);
      quietly('network', 'rm', inner);
      quietly('network', 'rm', outer);
      quietly('image', 'rm', '-f', image);
      rmSync(work, { recursive: true, force: true });
    });

    const tls = join(work, 'tls');
    mkdirSync(tls);
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=allowed.test',
        '-addext',
        'subjectAltName=DNS:allowed.test,DNS:denied.test',
        '-keyout',
        join(tls, 'key.pem'),
        '-out',
        join(tls, 'cert.pem'),
      ],
      { stdio: 'pipe' },
    );
    chmodSync(join(tls, 'key.pem'), 0o644);
    writeFileSync(join(tls, 'destination.js'), DESTINATION);
    writeFileSync(join(tls, 'client.js'), CLIENT);

    const ctx = join(work, 'ctx');
    mkdirSync(join(ctx, 'certs'), { recursive: true });
    copyFileSync(join(root, 'docker', 'proxy.Dockerfile'), join(ctx, 'Dockerfile'));
    cpSync(gatewayDist, join(ctx, 'gateway'), { recursive: true });
    writeFileSync(join(ctx, 'certs', 'README'), 'extra CA goes here\n');
    docker('build', '-q', '--build-arg', `BASE_IMAGE=${BASE_IMAGE}`, '-t', image, ctx);

    docker('network', 'create', '--internal', inner);
    docker('network', 'create', outer);
    docker(
      'run',
      '-d',
      '--name',
      destination,
      '--network',
      outer,
      '--network-alias',
      'allowed.test',
      '--network-alias',
      'denied.test',
      '-v',
      `${tls}:/tls:ro`,
      BASE_IMAGE,
      'node',
      '/tls/destination.js',
    );
    // Both networks are attached before the gateway starts, as Compose does, so `auto` sees both.
    docker(
      'create',
      '--name',
      gateway,
      '--network',
      inner,
      '--network-alias',
      'proxy',
      '-p',
      '127.0.0.1::3000',
      '-e',
      'CCTL_EGRESS_ALLOW=allowed.test:8443',
      image,
    );
    docker('network', 'connect', outer, gateway);
    docker('start', gateway);
    const deadline = Date.now() + 60_000;
    while (docker('inspect', '-f', '{{.State.Health.Status}}', gateway) !== 'healthy' && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 500));
    t.is(docker('inspect', '-f', '{{.State.Health.Status}}', gateway), 'healthy');

    const out = docker(
      'run',
      '--rm',
      '--name',
      client,
      '--network',
      inner,
      '--cap-drop',
      'ALL',
      '-v',
      `${tls}:/tls:ro`,
      BASE_IMAGE,
      'node',
      '/tls/client.js',
    );
    const result = JSON.parse(out.split('\n').pop()!) as Record<string, Record<string, unknown> | string>;
    t.like(result.allowed as object, { status: 200, echo: 'ping through the tunnel', authorized: true });
    t.like(result.denied as object, { status: 403 });
    t.regex(
      String((result.denied as { body: string }).body),
      /denied\.test:8443 is not on this stack's egress allow-list[\s\S]*cctl init --allow denied\.test:8443/,
    );
    t.not(result.direct, 'connected', 'the internal network has no way out but the gateway');

    // From the host, through the published port: Docker relays it from the outer network's
    // gateway address, which `auto` refuses.
    const hostPort = docker('port', gateway, '3000/tcp').split('\n')[0]!;
    t.regex(await connectFromHost(hostPort, 'allowed.test:8443'), /^HTTP\/1\.1 403/);

    const lines = docker('logs', gateway)
      .split('\n')
      .filter((l) => l.includes('"event":"egress"'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    // A tunnel is logged when it closes, so its line may come after the denial that followed it: match, not index.
    t.is(lines.length, 3, JSON.stringify(lines));
    const allowed = lines.find((l) => l.decision === 'allowed');
    t.like(allowed, { kind: 'connect', host: 'allowed.test', port: 8443, status: 200 });
    t.true((allowed?.bytesUp as number) > 0 && (allowed?.bytesDown as number) > 0);
    t.like(
      lines.find((l) => l.reason === 'not-allowed'),
      { decision: 'denied', host: 'denied.test', entry: 'denied.test:8443' },
    );
    t.like(
      lines.find((l) => l.reason === 'source'),
      { decision: 'denied' },
    );
    t.log(
      `listening: ${docker('logs', gateway)
        .split('\n')
        .find((l) => l.includes('"listening"'))}`,
    );
  },
);
