/**
 * The image's shell scripts: POSIX sh clean under shellcheck, executable, and
 * the monitor wrapper's flag defaults (the monitor itself cannot be installed
 * where PyPI is unreachable, so its argv is checked against a stand-in
 * executable through CCTL_MONITOR_BIN).
 */
import test from 'ava';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run, ProcessError, type RunResult } from '../../lib/engine/runner.js';
import { SHELLCHECK_INSTALL, withTool } from '../helpers/tools.js';

const dockerDir = fileURLToPath(new URL('../../docker/', import.meta.url));
const scripts = readdirSync(dockerDir)
  .filter((f) => f.endsWith('.sh'))
  .map((f) => join(dockerDir, f));

async function attempt(command: string[], env: NodeJS.ProcessEnv): Promise<RunResult> {
  try {
    return await run(command, { env });
  } catch (error) {
    if (error instanceof ProcessError) return error;
    throw error;
  }
}

test('docker/ holds the four scripts the contract names', (t) => {
  t.deepEqual(scripts.map((s) => s.slice(dockerDir.length)).sort(), [
    'claude-wrapper.sh',
    'entrypoint.sh',
    'healthcheck.sh',
    'monitor-wrapper.sh',
  ]);
});

test('every script is executable and parses as sh', async (t) => {
  for (const script of scripts) {
    t.true((statSync(script).mode & 0o111) !== 0, `${script} is not executable`);
    const parsed = await attempt(['sh', '-n', script], process.env);
    t.is(parsed.exitCode, 0, `${script}: ${parsed.stderr}`);
  }
});

withTool('shellcheck', SHELLCHECK_INSTALL)('shellcheck finds nothing in docker/*.sh as POSIX sh', async (t) => {
  const result = await attempt(['shellcheck', '--shell=sh', '--severity=style', ...scripts], process.env);
  t.is(result.exitCode, 0, result.stdout + result.stderr);
});

test('monitor-wrapper.sh adds CLAUDE_PLAN and TZ as defaults that flags override', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cctl-monitor-wrapper-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const fake = join(dir, 'claude-monitor');
  writeFileSync(fake, '#!/bin/sh\nfor a in "$@"; do printf "%s\\n" "$a"; done\necho "HOME=$HOME"\n');
  chmodSync(fake, 0o755);
  const home = join(dir, 'home');
  mkdirSync(home);
  const wrapper = join(dockerDir, 'monitor-wrapper.sh');
  const base = { PATH: process.env.PATH, HOME: home, CCTL_MONITOR_BIN: fake };

  const withDefaults = await attempt(['sh', wrapper, '--refresh-rate', '5'], { ...base, CLAUDE_PLAN: 'max5', TZ: 'Europe/Warsaw' });
  t.is(withDefaults.exitCode, 0, withDefaults.stderr);
  t.deepEqual(withDefaults.stdout.trim().split('\n'), [
    '--timezone',
    'Europe/Warsaw',
    '--plan',
    'max5',
    '--refresh-rate',
    '5',
    `HOME=${home}`,
  ]);

  const overridden = await attempt(['sh', wrapper, '--plan=pro', '--timezone', 'UTC'], {
    ...base,
    CLAUDE_PLAN: 'max5',
    TZ: 'Europe/Warsaw',
  });
  t.deepEqual(overridden.stdout.trim().split('\n'), ['--plan=pro', '--timezone', 'UTC', `HOME=${home}`]);

  const none = await attempt(['sh', wrapper], base);
  t.deepEqual(none.stdout.trim().split('\n'), [`HOME=${home}`]);
});

test('monitor-wrapper.sh gives the monitor a private home when $HOME is not writable', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cctl-monitor-home-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const fake = join(dir, 'claude-monitor');
  writeFileSync(fake, '#!/bin/sh\necho "$HOME"\nreadlink "$HOME/.claude"\n');
  chmodSync(fake, 0o755);
  // A home that does not exist is unwritable even for root, who runs CI here.
  const result = await attempt(['sh', join(dockerDir, 'monitor-wrapper.sh')], {
    PATH: process.env.PATH,
    HOME: join(dir, 'missing-home'),
    TMPDIR: dir,
    CCTL_MONITOR_BIN: fake,
    CLAUDE_CONFIG_DIR: '/data/.claude',
  });
  t.is(result.exitCode, 0, result.stderr);
  const [home, link] = result.stdout.trim().split('\n');
  t.true(home!.startsWith(join(dir, 'monitor-home.')), home);
  t.is(link, '/data/.claude');
  t.regex(result.stderr, /is not writable/);
});

test('monitor-wrapper.sh explains how to get the monitor when it is not installed', async (t) => {
  const result = await attempt(['sh', join(dockerDir, 'monitor-wrapper.sh')], {
    PATH: process.env.PATH,
    HOME: tmpdir(),
    CCTL_MONITOR_BIN: '/nonexistent/claude-monitor',
  });
  t.is(result.exitCode, 1);
  t.regex(result.stderr, /INSTALL_MONITOR=0/);
  t.regex(result.stderr, /cctl init --monitor && cctl up --build/);
  // `cctl monitor` users are on the host (cctl usage …); plain-compose users are in the container (ccusage …).
  t.regex(result.stderr, /cctl usage blocks --active/);
  t.regex(result.stderr, /ccusage blocks --active inside the claude-cli container/);
});
