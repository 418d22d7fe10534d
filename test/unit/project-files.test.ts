/** The files init writes besides the compose file: the build assets in .cctl/ and the secrets in the private folder. */
import test from 'ava';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PACKAGE_ROOT, syncAssets, wantedAssets } from '../../lib/project/assets.js';
import { ensureSecrets, parseEnvFile, proxyEnvFile } from '../../lib/project/secrets.js';
import { resolveSettings } from '../../lib/project/setting-layers.js';

function scratch(t: { teardown(fn: () => void): void }): { dir: string; env: NodeJS.ProcessEnv } {
  const root = mkdtempSync(join(tmpdir(), 'cctl-files-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const dir = join(root, 'project');
  mkdirSync(dir);
  // The private folder lives under $HOME: a home of the test's own.
  return { dir, env: { HOME: join(root, 'home') } };
}

const wanted = (entries: Record<string, string>) => new Map(Object.entries(entries).map(([k, v]) => [k, Buffer.from(v)]));

test('syncAssets adds, updates and removes only what differs, and says so', (t) => {
  const { dir } = scratch(t);
  const first = syncAssets(dir, wanted({ 'docker/Dockerfile': 'FROM a\n', 'docker/entrypoint.sh': '#!/bin/sh\n' }));
  t.deepEqual(first.map((c) => `${c.change} ${c.path}`).sort(), ['added .cctl/docker/Dockerfile', 'added .cctl/docker/entrypoint.sh']);
  t.is(statSync(join(dir, '.cctl/docker/entrypoint.sh')).mode & 0o777, 0o755);
  t.is(statSync(join(dir, '.cctl/docker/Dockerfile')).mode & 0o111, 0);
  t.deepEqual(syncAssets(dir, wanted({ 'docker/Dockerfile': 'FROM a\n', 'docker/entrypoint.sh': '#!/bin/sh\n' })), []);
  const second = syncAssets(dir, wanted({ 'docker/Dockerfile': 'FROM b\n' }));
  t.deepEqual(second.map((c) => `${c.change} ${c.path}`).sort(), ['removed .cctl/docker/entrypoint.sh', 'updated .cctl/docker/Dockerfile']);
  t.is(readFileSync(join(dir, '.cctl/docker/Dockerfile'), 'utf8'), 'FROM b\n');
  t.false(existsSync(join(dir, '.cctl/docker/entrypoint.sh')));
});

test('syncAssets leaves files outside docker/ and proxy/ alone', (t) => {
  const { dir } = scratch(t);
  mkdirSync(join(dir, '.cctl'), { recursive: true });
  writeFileSync(join(dir, '.cctl', 'notes.txt'), 'mine');
  syncAssets(dir, wanted({ 'docker/Dockerfile': 'FROM a\n' }));
  t.is(readFileSync(join(dir, '.cctl', 'notes.txt'), 'utf8'), 'mine');
});

test('ensureSecrets writes a client token outside the project, mode 0600, and keeps it on the next run', (t) => {
  const { dir, env } = scratch(t);
  const settings = resolveSettings({ stored: { auth: 'team-key' } });
  const first = ensureSecrets(dir, 'demo', settings, env);
  const file = proxyEnvFile('demo', env);
  t.true(first.written.includes(file));
  t.false(file.startsWith(dir));
  t.is(statSync(file).mode & 0o777, 0o600);
  const token = parseEnvFile(readFileSync(file, 'utf8')).get('CCTL_CLIENT_TOKEN');
  t.regex(token ?? '', /^[\w-]{32}$/);
  const again = ensureSecrets(dir, 'demo', settings, env);
  t.deepEqual(again.written, []);
  t.is(parseEnvFile(readFileSync(file, 'utf8')).get('CCTL_CLIENT_TOKEN'), token);
});

test('ensureSecrets takes the team key from the environment once, never replaces a key, and re-tightens modes', (t) => {
  const { dir, env } = scratch(t);
  const settings = resolveSettings({ stored: { auth: 'team-key' } });
  ensureSecrets(dir, 'demo', settings, { ...env, ANTHROPIC_API_KEY: 'sk-first' });
  const file = proxyEnvFile('demo', env);
  t.is(parseEnvFile(readFileSync(file, 'utf8')).get('ANTHROPIC_API_KEY'), 'sk-first');
  chmodSync(file, 0o644);
  ensureSecrets(dir, 'demo', settings, { ...env, ANTHROPIC_API_KEY: 'sk-second' });
  t.is(parseEnvFile(readFileSync(file, 'utf8')).get('ANTHROPIC_API_KEY'), 'sk-first');
  t.is(statSync(file).mode & 0o777, 0o600);
});

test('ensureSecrets writes no proxy secrets for an external gateway', (t) => {
  const { dir, env } = scratch(t);
  ensureSecrets(dir, 'demo', resolveSettings({ stored: { proxy: 'external', 'proxy-url': 'https://gw.example.com' } }), env);
  t.false(existsSync(proxyEnvFile('demo', env)));
});

test('without an extra CA, both build folders still have the certs/ their Dockerfiles copy', (t) => {
  const files = wantedAssets(undefined);
  for (const context of ['docker', 'proxy']) {
    t.true(
      readFileSync(join(PACKAGE_ROOT, 'docker', context === 'docker' ? 'Dockerfile' : 'proxy.Dockerfile'), 'utf8').includes('COPY certs/'),
    );
    t.true(
      [...files.keys()].some((k) => k.startsWith(`${context}/certs/`)),
      `${context}/certs/ is empty`,
    );
  }
});
