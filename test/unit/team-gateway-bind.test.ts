/**
 * The team gateway stays private until it has TLS (issue 20, item 7): where
 * `gateway init` publishes the port (127.0.0.1 without TLS, --listen to widen),
 * an image of the folder's own, what `status` says, folders of an older cctl
 * brought to the rule, and `usage --team` trusting a self-signed gateway
 * through --ca-cert / CCTL_CA_CERT.
 */
import test from 'ava';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { main } from '../../lib/cli.js';
import {
  gatewayComposeText,
  localGatewayAccess,
  upgradeGatewayFolder,
  writeGatewayFolder,
  type GatewaySetup,
} from '../../lib/project/team-gateway.js';
import { fetchTeamUsage, teamAccess } from '../../lib/ops/team-usage.js';
import { teamGatewayUrl } from '../../lib/project/team-member.js';
import { makeCertificate } from '../gateway/egress-fixtures.js';
import { FakeEngine, withEngine } from '../helpers/fake-engine.js';

const temps: string[] = [];
const temp = (name = 'gw') => {
  const dir = join(mkdtempSync(join(tmpdir(), 'cctl-gwbind-')), name);
  mkdirSync(dir);
  temps.push(dir);
  return dir;
};
test.after.always(() => {
  for (const dir of temps) rmSync(join(dir, '..'), { recursive: true, force: true });
});

/** Runs cctl in-process with the process fake; resolves with the exit code and what it printed. */
async function cctl(args: string[], fake = new FakeEngine()): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const [o, e] = [process.stdout.write.bind(process.stdout), process.stderr.write.bind(process.stderr)];
  process.stdout.write = ((chunk: string) => (out.push(String(chunk)), true)) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string) => (err.push(String(chunk)), true)) as typeof process.stderr.write;
  try {
    const code = await withEngine(fake, () => main(args));
    return { code, stdout: out.join(''), stderr: err.join('') };
  } finally {
    process.stdout.write = o;
    process.stderr.write = e;
  }
}

const compose = (dir: string) =>
  parse(readFileSync(join(dir, 'compose.yaml'), 'utf8')) as {
    services: { gateway: { ports: string[]; image: string } };
    'x-cctl-gateway': { listen: string };
  };

const pem = makeCertificate();
const certFiles = (dir: string) => {
  writeFileSync(join(dir, '..', 'tls.crt'), pem.cert);
  writeFileSync(join(dir, '..', 'tls.key'), pem.key);
  return ['--tls-cert', join(dir, '..', 'tls.crt'), '--tls-key', join(dir, '..', 'tls.key')];
};

test.serial(
  'without TLS, gateway init publishes on 127.0.0.1; --listen widens it and is kept; TLS publishes on every address',
  async (t) => {
    const dir = temp();
    const first = await cctl(['gateway', 'init', '--dir', dir, '--port', '8555']);
    t.is(first.code, 0, first.stderr);
    t.deepEqual(compose(dir).services.gateway.ports, ['127.0.0.1:8555:3000']);
    t.is(compose(dir)['x-cctl-gateway'].listen, '127.0.0.1');
    t.regex(first.stdout, /listens on: 127\.0\.0\.1:8555 \(http, this machine only/);

    t.is((await cctl(['gateway', 'init', '--dir', dir, '--port', '8555', '--listen', '10.0.0.5'])).code, 0);
    t.deepEqual(compose(dir).services.gateway.ports, ['10.0.0.5:8555:3000']);
    t.is((await cctl(['gateway', 'init', '--dir', dir, '--port', '8555'])).code, 0);
    t.deepEqual(compose(dir).services.gateway.ports, ['10.0.0.5:8555:3000'], 'an explicit --listen stays until changed');
    t.is((await cctl(['gateway', 'init', '--dir', dir, '--port', '8555', '--listen', '[::1]'])).code, 0);
    t.deepEqual(compose(dir).services.gateway.ports, ['[::1]:8555:3000']);

    const tls = temp();
    t.is((await cctl(['gateway', 'init', '--dir', tls, '--port', '8556', ...certFiles(tls)])).code, 0);
    t.deepEqual(compose(tls).services.gateway.ports, ['0.0.0.0:8556:3000']);
    t.is(localGatewayAccess(tls)?.url, 'https://127.0.0.1:8556');
  },
);

test.serial('a --listen that is not an address is refused, and nothing is written', async (t) => {
  const dir = temp();
  const bad = await cctl(['gateway', 'init', '--dir', dir, '--listen', 'everywhere']);
  t.is(bad.code, 2);
  t.regex(bad.stderr, /--listen needs an IP address of this machine, not "everywhere"/);
  t.throws(() => readFileSync(join(dir, 'compose.yaml')));
});

test.serial('each folder builds an image of its own, named after its project', async (t) => {
  const [a, b] = [temp('alpha-gw'), temp('beta-gw')];
  const env = process.env.COMPOSE_PROJECT_NAME;
  delete process.env.COMPOSE_PROJECT_NAME;
  try {
    t.is((await cctl(['gateway', 'init', '--dir', a])).code, 0);
    t.is((await cctl(['gateway', 'init', '--dir', b])).code, 0);
  } finally {
    if (env !== undefined) process.env.COMPOSE_PROJECT_NAME = env;
  }
  t.is(compose(a).services.gateway.image, 'cctl-alpha-gw-gateway:local');
  t.is(compose(b).services.gateway.image, 'cctl-beta-gw-gateway:local');
});

test.serial('gateway status prints the bind address, and --json carries it', async (t) => {
  const dir = temp();
  t.is((await cctl(['gateway', 'init', '--dir', dir, '--port', '8557'])).code, 0);
  const fake = new FakeEngine();
  fake.on(/^docker ps /, { stdout: '' });
  const text = await cctl(['gateway', 'status', '--dir', dir], fake);
  t.is(text.code, 0, text.stderr);
  t.regex(text.stdout, /Listens on 127\.0\.0\.1:8557 \(http, this machine only/);
  const json = JSON.parse((await cctl(['gateway', 'status', '--dir', dir, '--json'], fake)).stdout) as Record<string, unknown>;
  t.like(json, { listen: '127.0.0.1', port: 8557, tls: false, url: 'http://127.0.0.1:8557' });
});

test('a folder of an older cctl (shared image, every address over http) is brought to the rule by up', (t) => {
  const dir = temp();
  const setup: GatewaySetup = {
    port: 3100,
    upstream: 'https://api.anthropic.com',
    baseImage: 'b',
    retentionDays: 1,
    tls: false,
    buildHash: 'h',
    listen: '0.0.0.0',
    image: 'x',
  };
  writeGatewayFolder(dir, setup, {}, {});
  // What cctl wrote before: no listen line, "PORT:3000", the shared tag.
  const old = gatewayComposeText(setup)
    .replace(/\n {2}# The host address[^\n]*\n[^\n]*\n {2}listen: "0\.0\.0\.0"/, '')
    .replace('"0.0.0.0:3100:3000"', '"3100:3000"')
    .replace('image: x', 'image: cctl-team-gateway:local');
  writeFileSync(join(dir, 'compose.yaml'), old);
  t.deepEqual(upgradeGatewayFolder(dir, 'cctl-mine-gateway:local'), ['image cctl-mine-gateway:local', 'published on 127.0.0.1']);
  t.deepEqual(compose(dir).services.gateway.ports, ['127.0.0.1:3100:3000']);
  t.is(compose(dir).services.gateway.image, 'cctl-mine-gateway:local');
  t.deepEqual(upgradeGatewayFolder(dir, 'cctl-mine-gateway:local'), [], 'once only');
});

test('usage --team trusts a self-signed gateway only through --ca-cert / CCTL_CA_CERT', async (t) => {
  const server = https.createServer({ key: pem.key, cert: pem.cert }, (req, res) => {
    res.writeHead(req.headers.authorization === 'Bearer adm' ? 200 : 401, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ rows: [{ member: 'ann', requests: 1 }] }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const dir = temp();
  writeFileSync(join(dir, 'ca.pem'), pem.cert);

  const untrusted = await t.throwsAsync(fetchTeamUsage({ url, adminToken: 'adm' }, 'member'));
  t.regex(untrusted!.message, /did not answer \(DEPTH_ZERO_SELF_SIGNED_CERT\)/);
  t.regex((untrusted as Error & { hint?: string }).hint ?? '', /--ca-cert FILE \(or CCTL_CA_CERT=FILE\)/);

  const viaEnv = teamAccess({ gatewayUrl: url }, { CCTL_ADMIN_TOKEN: 'adm', CCTL_CA_CERT: join(dir, 'ca.pem') }, dir);
  t.deepEqual(await fetchTeamUsage(viaEnv, 'member'), [{ member: 'ann', requests: 1 }] as never);
  const viaFlag = teamAccess({ gatewayUrl: url, caCert: join(dir, 'ca.pem') }, { CCTL_ADMIN_TOKEN: 'adm' }, dir);
  t.is(viaFlag.caFile, join(dir, 'ca.pem'));
  t.is((await fetchTeamUsage(viaFlag, 'member')).length, 1);
  await t.throwsAsync(fetchTeamUsage({ url, adminToken: 'adm', caFile: join(dir, 'missing.pem') }, 'member'), {
    message: /--ca-cert: cannot read/,
  });
});

test('--team-gateway: http only to loopback, private or link-local addresses and single-label names; elsewhere https or --insecure-http', (t) => {
  for (const url of [
    'http://127.0.0.1:3000',
    'http://10.1.2.3:3000',
    'http://172.20.0.1:3000',
    'http://192.168.1.10',
    'http://169.254.10.1',
    'http://[::1]:3000',
    'http://[fd12::5]',
    'http://[fe80::1]:3000',
    'http://gateway:3000',
    'http://localhost:3000',
    'https://gw.example.com',
    'https://203.0.113.7',
  ]) {
    t.notThrows(() => teamGatewayUrl(url), url);
  }
  for (const url of [
    'http://gw.example.com',
    'http://203.0.113.7:3000',
    'http://8.8.8.8',
    'http://172.32.0.1',
    'http://[2001:db8::1]:3000',
    'http://gw.lan.:3000',
    'http://100.64.0.1',
  ]) {
    const error = t.throws(() => teamGatewayUrl(url), { message: /plain http to a host that is not on a private network/ }, url);
    t.regex((error as Error & { hint?: string }).hint ?? '', /https:\/\/[\s\S]*--tls-cert[\s\S]*--insecure-http/, url);
    t.is(teamGatewayUrl(url, true), url.replace(/\/$/, ''), `${url} with --insecure-http`);
  }
});

test.serial('cctl init refuses plain http to a public gateway before asking for a token, and --insecure-http alone', async (t) => {
  const dir = temp();
  const cwd = process.cwd();
  process.chdir(dir);
  try {
    const refused = await cctl(['init', '--team-gateway', 'http://gw.example.com:3000']);
    t.is(refused.code, 2);
    t.regex(refused.stderr, /plain http to a host that is not on a private network/);
    t.throws(() => readFileSync(join(dir, 'compose.yaml')), undefined, 'nothing written');
    const alone = await cctl(['init', '--insecure-http']);
    t.is(alone.code, 2);
    t.regex(alone.stderr, /--insecure-http goes with --team-gateway/);
  } finally {
    process.chdir(cwd);
  }
});
