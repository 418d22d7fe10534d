/** cctl update against a registry of our own on loopback: newest installable, refusals, --check. */
import test from 'ava';
import { createServer, type Server } from 'node:http';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { assertInstallable, ccusageTool, claudeTool, compareVersions, newestInstallable } from '../../lib/ops/registry.js';
import { main } from '../../lib/cli.js';
import { scratchDir } from '../helpers/scratch.js';

const packuments: Record<string, { 'dist-tags': Record<string, string>; versions: Record<string, object> }> = {
  '@anthropic-ai/claude-code': {
    'dist-tags': { latest: '2.1.340' },
    versions: { '2.1.300': {}, '2.1.339': {}, '2.1.340': {}, '2.2.0-beta.1': {} },
  },
  // The newest binary lags one release behind, as on a mirror.
  '@anthropic-ai/claude-code-linux-x64': { 'dist-tags': {}, versions: { '2.1.300': {}, '2.1.339': {} } },
  ccusage: { 'dist-tags': { latest: '20.0.26' }, versions: { '18.0.0': {}, '20.0.24': {}, '20.0.26': {} } },
  '@ccusage/ccusage-linux-x64': { 'dist-tags': {}, versions: { '18.0.0': {}, '20.0.24': {} } },
};

let server: Server;
let env: NodeJS.ProcessEnv;
test.before(async () => {
  server = createServer((req, res) => {
    const name = decodeURIComponent(req.url!.slice(1));
    const body = packuments[name];
    res.writeHead(body ? 200 : 404, { 'content-type': 'application/json' }).end(JSON.stringify(body ?? { error: 'not found' }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  env = { npm_config_registry: `http://127.0.0.1:${port}/`, CCTL_PYPI_JSON_URL: `http://127.0.0.1:${port}/pypi` };
});
test.after.always(() => server.close());

test('versions compare by number, not as text', (t) => {
  t.true(compareVersions('2.1.300', '2.1.339') < 0);
  t.true(compareVersions('2.10.0', '2.9.9') > 0);
  t.is(compareVersions('20.0.24', '20.0.24'), 0);
});

test('the newest version whose Linux binary is served, never a prerelease', async (t) => {
  t.is(await newestInstallable(claudeTool(false, 'x64'), env), '2.1.339');
  t.is(await newestInstallable(ccusageTool('x64'), env), '20.0.24');
});

test('a version that does not exist, lacks its binary, or is too old is refused', async (t) => {
  await t.throwsAsync(assertInstallable(claudeTool(false, 'x64'), '9.9.9', env), { message: /Claude Code 9\.9\.9 does not exist/ });
  await t.throwsAsync(assertInstallable(claudeTool(false, 'x64'), '2.1.340', env), { message: /Linux binary .* is not served/ });
  await t.throwsAsync(assertInstallable(ccusageTool('x64'), '18.0.0', env), { message: /older than 19/ });
  await t.notThrowsAsync(assertInstallable(claudeTool(false, 'x64'), '2.1.300', env));
});

test('update --check reports old against new and exits 1; an unknown version is refused before anything is written', async (t) => {
  const dir = scratchDir('cctl-update-');
  const file = join(dir, 'compose.yaml');
  writeFileSync(file, 'services: {}\nx-cctl:\n  claude-version: "2.1.300"\n  ccusage-version: "20.0.24"\n  monitor: false\n');
  const saved = { ...process.env };
  const writes: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  Object.assign(process.env, env);
  process.stdout.write = ((chunk: string) => (writes.push(String(chunk)), true)) as typeof process.stdout.write;
  try {
    t.is(process.arch === 'x64' ? await main(['-f', file, 'update', '--check']) : 1, 1);
    if (process.arch === 'x64')
      t.regex(writes.join(''), /Claude Code\s+2\.1\.300\s+2\.1\.339\s+update\nccusage\s+20\.0\.24\s+20\.0\.24\s+current/);
    writes.length = 0;
    // A pin newer than the one asked for: labelled a downgrade, and --check (is there anything newer?) passes.
    writeFileSync(file, 'services: {}\nx-cctl:\n  claude-version: "2.1.339"\n  ccusage-version: "20.0.24"\n  monitor: false\n');
    if (process.arch === 'x64') {
      t.is(await main(['-f', file, 'update', '--check', '--claude-version', '2.1.300']), 0);
      t.regex(writes.join(''), /Claude Code\s+2\.1\.339\s+2\.1\.300\s+downgrade\n/);
    }
    writeFileSync(file, 'services: {}\nx-cctl:\n  claude-version: "2.1.300"\n  ccusage-version: "20.0.24"\n  monitor: false\n');
    writes.length = 0;
    t.is(await main(['-f', file, 'update', '--claude-version', '9.9.9']), 1);
    t.is(
      readFileSync(file, 'utf8'),
      'services: {}\nx-cctl:\n  claude-version: "2.1.300"\n  ccusage-version: "20.0.24"\n  monitor: false\n',
    );
  } finally {
    process.stdout.write = write;
    process.env = saved;
  }
});
