/**
 * `cctl gateway deploy --swarm` without an engine: the refusals (not a swarm,
 * a worker, one listen address, several replicas on SQLite) through the one
 * process fake, and the stack file rendered from the folder's compose.yaml.
 * The stack on a real swarm is test/e2e/team-swarm.test.ts.
 */
import test from 'ava';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { main } from '../../lib/cli.js';
import { stackText } from '../../lib/project/gateway-stack.js';
import { FakeEngine, withEngine } from '../helpers/fake-engine.js';

const temps: string[] = [];
test.after.always(() => {
  for (const d of temps) rmSync(d, { recursive: true, force: true });
});
const folder = () => {
  const d = join(mkdtempSync(join(tmpdir(), 'cctl-swarm-unit-')), 'gw');
  temps.push(join(d, '..'));
  return d;
};

async function cli(fake: FakeEngine, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  const writeErr = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((c: string) => (out.push(String(c)), true)) as typeof process.stdout.write;
  process.stderr.write = ((c: string) => (err.push(String(c)), true)) as typeof process.stderr.write;
  try {
    const code = await withEngine(fake, () => main(['gateway', ...args]));
    return { code, stdout: out.join(''), stderr: err.join('') };
  } finally {
    process.stdout.write = write;
    process.stderr.write = writeErr;
  }
}

test.serial(
  'deploy --swarm on an engine outside a swarm, or on a worker, is refused with how to make a manager; nothing is deployed',
  async (t) => {
    const dir = folder();
    t.is((await cli(new FakeEngine(), ['init', '--ledger', 'postgres', '--listen', '0.0.0.0', '--dir', dir])).code, 0);
    for (const [answer, said] of [
      ['inactive false host1', /not part of a swarm \(Swarm: inactive\)[\s\S]*docker swarm init --advertise-addr/],
      ['active false host1', /a swarm worker, not a manager[\s\S]*docker node promote/],
    ] as const) {
      const fake = new FakeEngine();
      fake.on('docker info --format', { stdout: `${answer}\n` });
      const r = await cli(fake, ['deploy', '--swarm', '--dir', dir]);
      t.is(r.code, 1);
      t.regex(r.stderr, said);
      t.false(
        fake.calls.some((c) => c.line.includes('stack deploy')),
        'nothing deployed',
      );
    }
    const noFlag = await cli(new FakeEngine(), ['deploy', '--dir', dir]);
    t.is(noFlag.code, 2);
    t.regex(noFlag.stderr, /needs --swarm/);
  },
);

const HAPROXY = { replicas: 3, nodeHostname: 'node-a', front: 'haproxy', deployId: 'deploy-1' } as const;

test.serial(
  'the stack: replicas found by DNS behind a HAProxy front on the port, start-first updates, Postgres pinned and by DNS, Swarm secrets named by content',
  async (t) => {
    const dir = folder();
    t.is((await cli(new FakeEngine(), ['init', '--ledger', 'postgres', '--listen', '0.0.0.0', '--port', '3456', '--dir', dir])).code, 0);
    const doc = parse(stackText(dir, 'gw', HAPROXY)) as Record<string, any>;
    t.is(doc.version, '3.8');
    const gw = doc.services.gateway;
    t.is(gw.build, undefined);
    t.is(gw.restart, undefined);
    t.is(gw.depends_on, undefined);
    t.is(gw.ports, undefined, 'the front publishes the port, not the replicas');
    t.like(gw.deploy, {
      replicas: 3,
      endpoint_mode: 'dnsrr',
      update_config: { order: 'start-first', parallelism: 1, failure_action: 'rollback' },
    });
    t.deepEqual(gw.labels, { 'dev.cctl.deploy': 'deploy-1' });
    const front = doc.services.front;
    t.is(front.image, 'cctl-gw-front:local');
    t.deepEqual(front.ports, [{ target: 3000, published: 3456, protocol: 'tcp', mode: 'host' }]);
    t.like(front.deploy, { mode: 'global', update_config: { order: 'stop-first' } });
    t.is(front.environment, undefined, 'no TLS: HAProxy speaks HTTP to the gateways');
    t.like(doc.services.postgres.deploy, { replicas: 1, endpoint_mode: 'dnsrr', placement: { constraints: ['node.hostname == node-a'] } });
    t.deepEqual(doc.services.postgres.volumes, ['postgres:/var/lib/postgresql/data']);
    t.regex(doc.secrets.anthropic_api_key.name, /^gw_anthropic_api_key_[0-9a-f]{12}$/);
    t.is(doc.secrets.anthropic_api_key.file, './secrets/anthropic-api-key');
    const before = doc.secrets.admin_token.name as string;
    writeFileSync(join(dir, 'secrets', 'admin-token'), 'another-admin-token-0123456789\n');
    const again = parse(stackText(dir, 'gw', { ...HAPROXY, deployId: 'deploy-2' })) as Record<string, any>;
    t.not(again.secrets.admin_token.name, before, 'a changed secret is a new Swarm secret (they cannot change)');
    t.deepEqual(
      again.services.gateway.labels,
      { 'dev.cctl.deploy': 'deploy-2' },
      'each deploy changes the task template: a rolling update',
    );
    t.is(doc['x-cctl-gateway'], undefined);
  },
);

test.serial(
  '--front mesh: the replicas publish through the routing mesh, no HAProxy; refused on a kernel without IPVS, before anything is built',
  async (t) => {
    const dir = folder();
    t.is((await cli(new FakeEngine(), ['init', '--ledger', 'postgres', '--listen', '0.0.0.0', '--port', '3456', '--dir', dir])).code, 0);
    const doc = parse(stackText(dir, 'gw', { ...HAPROXY, front: 'mesh' })) as Record<string, any>;
    t.deepEqual(doc.services.gateway.ports, [{ target: 3000, published: 3456, protocol: 'tcp', mode: 'ingress' }]);
    t.is(doc.services.gateway.deploy.endpoint_mode, undefined);
    t.is(doc.services.front, undefined);
    const fake = new FakeEngine();
    fake.on('docker info --format', { stdout: 'active true host1\n' });
    fake.on(/ test -d \/sys\/module\/ip_vs$/, { exitCode: 1 });
    const r = await cli(fake, ['deploy', '--swarm', '--front', 'mesh', '--dir', dir]);
    t.is(r.code, 1);
    t.regex(r.stderr, /kernel has no IPVS[\s\S]*routing mesh[\s\S]*--front haproxy/);
    t.false(
      fake.calls.some((c) => /build|stack deploy/.test(c.line)),
      'nothing built or deployed',
    );
    const bad = await cli(new FakeEngine(), ['deploy', '--swarm', '--front', 'nginx', '--dir', dir]);
    t.is(bad.code, 2);
    t.regex(bad.stderr, /--front must be haproxy or mesh, not "nginx"/);
  },
);

test.serial('a folder on one address, or several replicas on SQLite, is refused before anything is deployed', async (t) => {
  const local = folder();
  t.is((await cli(new FakeEngine(), ['init', '--ledger', 'postgres', '--dir', local])).code, 0);
  const fake = new FakeEngine();
  fake.on('docker info --format', { stdout: 'active true host1\n' });
  const one = await cli(fake, ['deploy', '--swarm', '--dir', local]);
  t.is(one.code, 1);
  t.regex(one.stderr, /published on 127\.0\.0\.1 only[\s\S]*every address of the node[\s\S]*--listen 0\.0\.0\.0/);
  const sqlite = folder();
  t.is((await cli(new FakeEngine(), ['init', '--listen', '0.0.0.0', '--dir', sqlite])).code, 0);
  const many = await cli(fake, ['deploy', '--swarm', '--replicas', '3', '--dir', sqlite]);
  t.is(many.code, 1);
  t.regex(many.stderr, /3 replicas cannot share[\s\S]*--ledger postgres/);
  t.false(fake.calls.some((c) => c.line.includes('stack deploy')));
});
