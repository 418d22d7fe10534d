/**
 * The onboarding script: clean under shellcheck, written only when it
 * changes, and its steps checked against stand-in docker, compose and cctl
 * commands on a PATH of their own (the e2e test runs it for real).
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ONBOARD_SCRIPT, onboardScript, writeOnboardScript } from '../../lib/project/onboard.js';
import { defaults } from '../../lib/project/settings.js';
import { SHELLCHECK_INSTALL, withTool } from '../helpers/tools.js';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

function scratch(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'cctl-onboard-unit-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

withTool('shellcheck', SHELLCHECK_INSTALL)('the template file and the generated script are clean under shellcheck', (t) => {
  const template = fileURLToPath(new URL('../../templates/onboard.sh', import.meta.url));
  const file = spawnSync('shellcheck', ['-s', 'sh', template], { encoding: 'utf8' });
  t.is(file.status, 0, file.stdout);
  const result = spawnSync('shellcheck', ['-s', 'sh', '-'], { input: onboardScript(), encoding: 'utf8' });
  t.is(result.status, 0, result.stdout);
  // It can fail: the template with its here-document left open is refused.
  const broken = spawnSync('shellcheck', ['-s', 'sh', '-'], {
    input: readFileSync(template, 'utf8').replace('__NEXT_STEPS__\nEOF\n', '__NEXT_STEPS__EOF\n'),
    encoding: 'utf8',
  });
  t.not(broken.status, 0);
});

test('the package ships the template, and the rendering fills every placeholder', (t) => {
  const files = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { files: string[] }).files;
  t.true(files.includes('templates/'));
  const text = onboardScript('1.2.3', [], '@acme/cctl');
  t.notRegex(text, /__[A-Z_]+__/);
  t.regex(text, /^CCTL_SOURCE='@acme\/cctl'$/m);
  t.regex(text, /\nNext steps:\nEOF\n$/);
});

test('the script pins the cctl version that wrote it', (t) => {
  t.regex(onboardScript(), new RegExp(`^CCTL_VERSION=${pkg.version.replace(/\./g, '\\.')}$`, 'm'));
  t.notRegex(onboardScript(), /__CCTL_VERSION__/);
  t.regex(onboardScript('9.8.7'), /^CCTL_VERSION=9\.8\.7$/m);
});

test('writeOnboardScript writes once, mode 0755, and again only when the file differs', (t) => {
  const dir = scratch(t);
  t.is(writeOnboardScript(dir), ONBOARD_SCRIPT);
  const file = join(dir, ONBOARD_SCRIPT);
  t.is(statSync(file).mode & 0o777, 0o755);
  t.is(readFileSync(file, 'utf8'), onboardScript());
  const before = statSync(file).mtimeMs;
  t.is(writeOnboardScript(dir), undefined);
  t.is(statSync(file).mtimeMs, before);
  writeFileSync(file, '#!/bin/sh\necho edited\n');
  t.is(writeOnboardScript(dir), ONBOARD_SCRIPT);
  t.is(readFileSync(file, 'utf8'), onboardScript());
});

// --- the script's steps, against stand-ins ---------------------------------

interface Stubs {
  project: string;
  bin: string;
  state: string;
  log: string;
}

function stub(dir: string, name: string, body: string): void {
  writeFileSync(join(dir, name), `#!/bin/sh\n${body}\n`);
  chmodSync(join(dir, name), 0o755);
}

/**
 * A project holding the script, and a bin folder with only the tools the
 * script may use: real sed, awk & co. by symlink, stand-in docker, compose
 * and cctl. The cctl stand-in keeps the stack state in a file: doctor fails
 * until up has run, as the real one does before the first start.
 */
function setup(t: { teardown(fn: () => void): void }, options: { docker?: boolean } = {}): Stubs {
  const root = scratch(t);
  const project = join(root, 'project');
  const bin = join(root, 'bin');
  mkdirSync(project);
  mkdirSync(bin);
  writeOnboardScript(project);
  writeFileSync(join(project, 'compose.yaml'), 'services: {}\n');
  for (const tool of ['sh', 'sed', 'awk', 'cksum', 'find', 'sort', 'dirname', 'cat', 'wc', 'head']) {
    const found = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim();
    if (found) symlinkSync(found, join(bin, tool));
  }
  symlinkSync(process.execPath, join(bin, 'node'));
  const state = join(root, 'state');
  const log = join(root, 'log');
  if (options.docker !== false) {
    stub(
      bin,
      'docker',
      [
        'case "$1 $2" in',
        '  "version --format") [ "$STUB_DAEMON" = down ] && { echo "Cannot connect" >&2; exit 1; }; echo 24.0.7 ;;',
        '  "compose version") [ -n "$STUB_PLUGIN" ] || exit 1; echo "$STUB_PLUGIN" ;;',
        '  *) exit 0 ;;',
        'esac',
      ].join('\n'),
    );
  }
  stub(bin, 'docker-compose', 'echo "${STUB_V1:-1.29.2}"');
  stub(
    join(root),
    'cctl',
    [
      `echo "$*" >>'${log}'`,
      'case "$1" in',
      `  --version) echo "cctl/${pkg.version} linux-x64 node-v20" ;;`,
      `  status) if [ -f '${state}' ]; then h=healthy; else h=none; s=missing; fi; echo "{\\"services\\":[{\\"name\\":\\"claude-cli\\",\\"state\\":\\"\${s:-running}\\",\\"health\\":\\"$h\\"}]}" ;;`,
      `  doctor) [ -f '${state}' ] || { echo "fail: image missing"; exit 1; }; [ "$STUB_DOCTOR" != fail ] ;;`,
      `  up) [ "$STUB_UP" = fail ] && { echo "build failed" >&2; exit 1; }; : >'${state}' ;;`,
      'esac',
    ].join('\n'),
  );
  return { project, bin, state, log };
}

function onboard(s: Stubs, args: string[], env: Record<string, string> = {}) {
  return spawnSync(join(s.project, ONBOARD_SCRIPT), args, {
    cwd: tmpdir(),
    env: { PATH: s.bin, HOME: dirname(s.bin), CCTL: join(dirname(s.bin), 'cctl'), ...env },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

test('first run: prerequisites, doctor (failures expected), up, doctor again, next steps', (t) => {
  const s = setup(t);
  const r = onboard(s, ['--yes']);
  t.is(r.status, 0, r.stderr + r.stdout);
  t.regex(r.stdout, /Docker 24\.0\.7, Compose 1\.29\.2 \(docker-compose\), Node \d+\.\d+\.\d+/);
  t.regex(r.stdout, /fail until the\s+first start/);
  t.regex(r.stdout, /Done: the Claude environment is up and healthy/);
  t.regex(r.stdout, /cctl claude +start Claude Code; the first time, log in with \/login/);
  t.regex(r.stdout, /cctl usage daily/);
  t.regex(r.stdout, /cctl monitor/);
  t.deepEqual(readFileSync(s.log, 'utf8').trim().split('\n'), ['--version', 'status --json', 'doctor', 'up', 'doctor']);
});

test('second run: says nothing changed, and needs no --yes', (t) => {
  const s = setup(t);
  t.is(onboard(s, ['--yes']).status, 0);
  const again = onboard(s, []);
  t.is(again.status, 0, again.stderr);
  t.regex(again.stdout, /Nothing to do: the environment was already healthy and current/);
});

test('a changed file makes the run report work done, not a no-op', (t) => {
  const s = setup(t);
  t.is(onboard(s, ['--yes']).status, 0);
  // Stand-in for "cctl up" rewriting the compose file.
  const cctl = join(dirname(s.bin), 'cctl');
  writeFileSync(cctl, readFileSync(cctl, 'utf8').replace('  up) ', `  up) echo "x-changed: 1" >>'${join(s.project, 'compose.yaml')}'; `));
  const again = onboard(s, []);
  t.is(again.status, 0, again.stderr);
  t.regex(again.stdout, /Done: the Claude environment is up and healthy/);
});

test('failures name their step and exit non-zero', (t) => {
  const s = setup(t);
  const down = onboard(s, ['--yes'], { STUB_DAEMON: 'down', DOCKER_HOST: 'unix:///nowhere.sock' });
  t.is(down.status, 1);
  t.regex(down.stderr, /step "prerequisites" failed: the Docker engine is not reachable at unix:\/\/\/nowhere\.sock/);

  const old = onboard(s, ['--yes'], { STUB_V1: '1.27.4' });
  t.is(old.status, 1);
  t.regex(old.stderr, /step "prerequisites" failed: Compose 1\.27\.4 is too old/);

  const oldNode = setup(t);
  rmSync(join(oldNode.bin, 'node'));
  stub(oldNode.bin, 'node', 'echo 20.18.3');
  const node = onboard(oldNode, ['--yes']);
  t.is(node.status, 1);
  t.regex(node.stderr, /step "prerequisites" failed: Node 20\.18\.3 is too old: cctl needs 20\.19\.0 or later/);

  const up = onboard(s, ['--yes'], { STUB_UP: 'fail' });
  t.is(up.status, 1);
  t.regex(up.stderr, /step "up" failed: cctl up failed/);
  t.false(existsSync(s.state));

  t.is(onboard(s, ['--yes']).status, 0);
  const doctor = onboard(s, ['--yes'], { STUB_DOCTOR: 'fail' });
  t.is(doctor.status, 1);
  t.regex(doctor.stderr, /step "doctor" failed: cctl doctor found problems with a running environment/);
});

test('a Compose v2 plugin is preferred and accepted at any 2.x', (t) => {
  const s = setup(t);
  const r = onboard(s, ['--yes'], { STUB_PLUGIN: '2.24.5' });
  t.is(r.status, 0, r.stderr);
  t.regex(r.stdout, /Compose 2\.24\.5 \(docker compose\)/);
});

test('missing docker, and no terminal to ask on without --yes, are named', (t) => {
  const s = setup(t, { docker: false });
  const r = onboard(s, ['--yes']);
  t.is(r.status, 1);
  t.regex(r.stderr, /step "prerequisites" failed: docker is not installed/);

  const withDocker = setup(t);
  const ask = onboard(withDocker, []);
  t.is(ask.status, 1);
  t.regex(ask.stderr, /step "up" failed: no terminal to ask "Build the image .*"; run again with --yes/);
  t.false(existsSync(withDocker.state));
});

test('without cctl and with no source named, the script stops with the install hint and runs no npx', (t) => {
  const s = setup(t);
  stub(s.bin, 'npx', `echo "npx $*" >>'${s.log}'; exit 99`);
  const r = onboard(s, ['--yes'], { CCTL: '' });
  t.is(r.status, 1);
  t.regex(r.stderr, /step "cctl" failed: cctl [\d.]+ is not on PATH, and this project names no source to install it from/);
  t.regex(r.stderr, /cctl init --set cctl-source=@your-team\/cctl/);
  // The suggested command keeps its quotes, so it pastes as printed (the shell once ate them).
  t.regex(r.stderr, /CCTL="node \/\S+\/src\/cctl\/bin\/cctl\.js" sh scripts\/onboard\.sh --yes/);
  t.regex(r.stderr, /cctl's README, "Installing cctl", lists the ways/);
  t.false(existsSync(s.log) && readFileSync(s.log, 'utf8').includes('npx'), 'npx never ran');
  t.notRegex(onboardScript(), /cctl@\$CCTL_VERSION|npx --yes cctl@/);
});

test('without cctl, a source the project names (cctl-source) is fetched with npx, after asking or with --yes', (t) => {
  const s = setup(t);
  writeOnboardScript(s.project, { ...defaults(), 'cctl-source': '@team/cctl' });
  const cctl = join(dirname(s.bin), 'cctl');
  // npx stand-in: records its package argument, then behaves as cctl.
  stub(s.bin, 'npx', `echo "npx $1 $2" >>'${s.log}'; shift 2; exec '${cctl}' "$@"`);
  const env = { CCTL: '' };
  const ask = onboard(s, [], env);
  t.is(ask.status, 1);
  t.regex(
    ask.stderr,
    /step "cctl" failed: no terminal to ask "cctl [\d.]+ is not installed\. Fetch it with npx from @team\/cctl@[\d.]+\?"/,
  );

  const r = onboard(s, ['--yes'], env);
  t.is(r.status, 0, r.stderr);
  t.true(readFileSync(s.log, 'utf8').includes(`npx --yes @team/cctl@${pkg.version}`));
  t.regex(r.stdout, /"cctl" stands for: npx --yes @team\/cctl@[\d.]+\. To have the word itself: npm install -g @team\/cctl@/);

  // A source the user names in the environment wins.
  const other = onboard(s, ['--yes'], { ...env, CCTL_PACKAGE: '@other/cctl@1.2.3' });
  t.is(other.status, 0, other.stderr);
  t.true(readFileSync(s.log, 'utf8').includes('npx --yes @other/cctl@1.2.3'));
});

test('options: --help prints the usage, an unknown option exits 2', (t) => {
  const s = setup(t);
  const help = onboard(s, ['--help']);
  t.is(help.status, 0);
  t.regex(help.stdout, /scripts\/onboard\.sh --yes +never asks/);
  const bad = onboard(s, ['--nope']);
  t.is(bad.status, 2);
  t.regex(bad.stderr, /unknown option "--nope"/);
});
