/**
 * The egress proxy's lookups, remembered briefly (egress/dns-cache.ts): an
 * answer is reused until it is CCTL_EGRESS_DNS_CACHE_SECONDS old, askers at
 * the same moment share one lookup, a failure is not remembered, and the
 * cache holds answers, never decisions: a remembered answer is checked again
 * on every tunnel. The resolver and the clock are the test's own; nothing is
 * dialled but the test's own server on 127.0.0.1.
 */
import test from 'ava';
import net from 'node:net';
import type { EgressNet } from '../../lib/gateway/egress/address-check.js';
import { egressFromEnv } from '../../lib/gateway/egress/config.js';
import { cachedResolve, DEFAULT_DNS_CACHE_SECONDS } from '../../lib/gateway/egress/dns-cache.js';
import { connect, startEcho, startEgressGateway } from './egress-fixtures.js';

/** A resolver that counts its lookups, answering from a table (or failing for names not in it). */
function countingResolver(names: Record<string, string[]>) {
  const lookups: string[] = [];
  let release: (() => void) | undefined;
  let held = false;
  const resolve = async (host: string) => {
    lookups.push(host);
    if (held) await new Promise<void>((r) => (release = r));
    const answer = names[host.toLowerCase()];
    if (!answer) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
    return answer;
  };
  return { resolve, lookups, hold: () => (held = true), release: () => ((held = false), release?.()) };
}

test('an answer is reused until it is older than the TTL, then looked up again', async (t) => {
  let now = 1_000;
  const r = countingResolver({ 'registry.npmjs.org': ['104.16.1.35'] });
  const resolve = cachedResolve(r.resolve, { ttlMs: 10_000, maxNames: 10, now: () => now });
  t.deepEqual(await resolve('registry.npmjs.org'), ['104.16.1.35']);
  now += 9_999;
  t.deepEqual(await resolve('Registry.NPMjs.org'), ['104.16.1.35'], 'names are case-insensitive');
  t.is(r.lookups.length, 1);
  now += 1;
  await resolve('registry.npmjs.org');
  t.is(r.lookups.length, 2, 'looked up again once the answer is 10 s old');
});

test('askers at the same moment share one lookup', async (t) => {
  const r = countingResolver({ 'github.com': ['140.82.121.4'] });
  const resolve = cachedResolve(r.resolve, { ttlMs: 10_000, maxNames: 10 });
  r.hold();
  const answers = Promise.all(Array.from({ length: 20 }, () => resolve('github.com')));
  r.release();
  t.deepEqual(
    await answers,
    Array.from({ length: 20 }, () => ['140.82.121.4']),
  );
  t.deepEqual(r.lookups, ['github.com']);
});

test('a failed lookup is not remembered: the next asker looks up again', async (t) => {
  const names: Record<string, string[]> = {};
  const r = countingResolver(names);
  const resolve = cachedResolve(r.resolve, { ttlMs: 10_000, maxNames: 10 });
  await t.throwsAsync(resolve('late.example'), { message: /ENOTFOUND/ });
  names['late.example'] = ['10.0.0.9'];
  t.deepEqual(await resolve('late.example'), ['10.0.0.9']);
  t.is(r.lookups.length, 2);
});

test('the cache holds a bounded number of names, dropping the oldest; TTL 0 turns it off', async (t) => {
  const names = Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`n${i}.example`, [`10.0.0.${i}`]]));
  const r = countingResolver(names);
  const resolve = cachedResolve(r.resolve, { ttlMs: 10_000, maxNames: 3 });
  for (const name of Object.keys(names)) await resolve(name);
  await resolve('n4.example');
  await resolve('n2.example');
  t.is(r.lookups.length, 5, 'the three newest are remembered');
  await resolve('n0.example');
  t.is(r.lookups.length, 6, 'the oldest was dropped');

  const off = countingResolver(names);
  const uncached = cachedResolve(off.resolve, { ttlMs: 0, maxNames: 3 });
  await uncached('n1.example');
  await uncached('n1.example');
  t.is(off.lookups.length, 2);
  t.is(DEFAULT_DNS_CACHE_SECONDS, 10);
  t.is(egressFromEnv({ CCTL_EGRESS_ALLOW: '' }) !== undefined, true);
  t.throws(() => egressFromEnv({ CCTL_EGRESS_ALLOW: '', CCTL_EGRESS_DNS_CACHE_SECONDS: 'soon' }), {
    message: /CCTL_EGRESS_DNS_CACHE_SECONDS must be a whole number/,
  });
});

test('a remembered answer is checked on every tunnel: refused each time without a dial, allowed once the list names the address', async (t) => {
  const echo = await startEcho();
  const r = countingResolver({ 'svc.test': ['127.0.0.1'] });
  const dialled: string[] = [];
  const fake: EgressNet = {
    resolve: cachedResolve(r.resolve, { ttlMs: 10_000, maxNames: 10 }),
    connect(options) {
      dialled.push(`${options.host}:${options.port}`);
      return net.connect(options);
    },
    ownAddresses: () => new Set(['172.18.0.2']),
  };
  const start = async (allow: string) =>
    startEgressGateway(allow, {}, { egress: { ...egressFromEnv({ CCTL_EGRESS_ALLOW: allow })!, net: fake } });
  const refusing = await start(`svc.test:${echo.port}`);
  t.teardown(() => Promise.all([refusing.gateway.close(100), echo.close()]));
  for (let i = 0; i < 3; i++) {
    const answer = await connect(refusing.port, `svc.test:${echo.port}`);
    t.is(answer.status, 403, `tunnel ${i + 1}`);
    t.regex(answer.body, /resolves to 127\.0\.0\.1, a loopback address/);
  }
  t.deepEqual(dialled, [], 'a refused address is never dialled, remembered or not');
  t.deepEqual(r.lookups, ['svc.test'], 'one lookup for the three tunnels');

  const allowing = await start(`svc.test:${echo.port},127.0.0.1:${echo.port}`);
  t.teardown(() => allowing.gateway.close(100));
  const tunnel = await connect(allowing.port, `svc.test:${echo.port}`);
  t.is(tunnel.status, 200);
  tunnel.socket!.destroy();
  t.deepEqual(dialled, [`127.0.0.1:${echo.port}`]);
});
