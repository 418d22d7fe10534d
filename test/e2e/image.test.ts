/**
 * The claude-cli image, built for real from docker/ on the stand-in base:
 * pinned tools, the claude user, entrypoint routes, the health check, the
 * home volume and ccusage over a usage fixture.
 *
 * One build per run of this file (test.before). The context is a temporary
 * copy of docker/ with the machine's CA bundle as certs/extra-ca.crt, which
 * is exactly how a team behind a TLS-inspecting proxy builds. The image tag
 * is fixed, so the engine's layer cache makes reruns fast.
 */
import test from 'ava';
import { cpSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { e2e, missing, BASE_IMAGE } from '../helpers/e2e.js';
import { run, ProcessError, type RunResult } from '../../lib/engine/runner.js';
import { scratchDir } from '../helpers/scratch.js';

const IMAGE = process.env.CCTL_TEST_IMAGE ?? 'cctl-test-image:e2e';
const dockerDir = fileURLToPath(new URL('../../docker/', import.meta.url));
const dockerfile = readFileSync(join(dockerDir, 'Dockerfile'), 'utf8');

/** The Dockerfile's own defaults are the pins the image must carry. */
function pin(name: string): string {
  const match = new RegExp(`^ARG ${name}=(\\S+)$`, 'm').exec(dockerfile);
  if (!match) throw new Error(`docker/Dockerfile declares no default for ${name}`);
  return match[1]!;
}
const CLAUDE_CODE_VERSION = pin('CLAUDE_CODE_VERSION');
const CCUSAGE_VERSION = pin('CCUSAGE_VERSION');

const caFile = [process.env.CCTL_TEST_CA_CERT, process.env.NODE_EXTRA_CA_CERTS].find((f): f is string => !!f && existsSync(f));

/** Runs and returns the result whatever the exit code. */
async function attempt(command: string[], input?: string): Promise<RunResult> {
  try {
    return await run(command, { input, timeoutMs: 120_000 });
  } catch (error) {
    if (error instanceof ProcessError) return error;
    throw error;
  }
}

/** `docker run --rm` of the test image; no network, so nothing can reach out. */
function dockerRun(args: string[], options: { env?: Record<string, string>; input?: string } = {}) {
  const env = Object.entries(options.env ?? {}).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
  const stdin = options.input === undefined ? [] : ['-i'];
  return attempt(['docker', 'run', '--rm', '--network', 'none', ...stdin, ...env, ...args], options.input);
}

const volumes: string[] = [];
function volumeName(purpose: string): string {
  const name = `cctl-e2e-image-${purpose}-${randomBytes(3).toString('hex')}`;
  volumes.push(name);
  return name;
}

test.before(async (t) => {
  if (missing) return;
  const context = scratchDir('cctl-image-');
  try {
    cpSync(dockerDir, context, { recursive: true });
    rmSync(join(context, 'certs', 'extra-ca.crt'), { force: true });
    if (caFile) cpSync(caFile, join(context, 'certs', 'extra-ca.crt'));
    else t.log('no CCTL_TEST_CA_CERT / NODE_EXTRA_CA_CERTS: building without an extra CA');
    const started = Date.now();
    await run(
      [
        'docker',
        'build',
        '--build-arg',
        `BASE_IMAGE=${BASE_IMAGE}`,
        '--build-arg',
        'INSTALL_MONITOR=0',
        '--build-arg',
        'CCTL_BUILD_HASH=e2e',
        '-t',
        IMAGE,
        context,
      ],
      // The docker client on PATH here has no buildx; the classic builder is
      // the one that works everywhere. DOCKER_BUILDKIT=1 in the environment
      // still selects BuildKit where it exists.
      { env: { ...process.env, DOCKER_BUILDKIT: process.env.DOCKER_BUILDKIT ?? '0' }, timeoutMs: 20 * 60_000 },
    );
    t.log(`built ${IMAGE} on ${BASE_IMAGE} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  } finally {
    rmSync(context, { recursive: true, force: true });
  }
});

test.after.always(async () => {
  for (const volume of volumes) await attempt(['docker', 'volume', 'rm', '-f', volume]);
});

e2e('claude and ccusage report the pinned versions, and the labels say so', async (t) => {
  const claude = await dockerRun([IMAGE, 'claude', '--version']);
  t.is(claude.exitCode, 0, claude.stderr);
  t.is(claude.stdout.trim().split(/\s/)[0], CLAUDE_CODE_VERSION);

  const ccusage = await dockerRun([IMAGE, 'ccusage', '--version']);
  t.is(ccusage.exitCode, 0, ccusage.stderr);
  t.is(ccusage.stdout.trim(), `ccusage ${CCUSAGE_VERSION}`);

  const { stdout } = await run(['docker', 'image', 'inspect', '--format', '{{json .Config.Labels}}', IMAGE]);
  const labels = JSON.parse(stdout) as Record<string, string>;
  t.like(labels, {
    'dev.cctl.claude-code': CLAUDE_CODE_VERSION,
    'dev.cctl.ccusage': CCUSAGE_VERSION,
    'dev.cctl.monitor': 'off',
    'dev.cctl.base-image': BASE_IMAGE,
    'dev.cctl.build-hash': 'e2e',
    'org.opencontainers.image.base.name': BASE_IMAGE,
  });
});

e2e('runs as claude (1001:1001) with the contract environment, and the node user is gone', async (t) => {
  const script = [
    'id -u',
    'id -g',
    'id -un',
    'pwd',
    'echo "$HOME"',
    'echo "$CLAUDE_CONFIG_DIR"',
    'echo "$CLAUDE_HOME"',
    'echo "$ANTHROPIC_BASE_URL"',
    'grep -c "^node:" /etc/passwd /etc/group || true',
    'stat -c "%u:%g %a" /home/claude /home/claude/.claude /workspace',
    'test -e /home/node && echo home-node-left || echo no-home-node',
  ].join('; ');
  const { stdout, exitCode, stderr } = await dockerRun([IMAGE, 'sh', '-c', script]);
  t.is(exitCode, 0, stderr);
  t.deepEqual(stdout.trim().split('\n'), [
    '1001',
    '1001',
    'claude',
    '/workspace',
    '/home/claude',
    '/home/claude/.claude',
    '/home/claude/.claude',
    'http://proxy:3000',
    '/etc/passwd:0',
    '/etc/group:0',
    '1001:1001 755',
    '1001:1001 700',
    '1001:1001 755',
    'no-home-node',
  ]);
});

e2e('TZ is honoured (tzdata is present)', async (t) => {
  const { stdout } = await dockerRun([IMAGE, 'date', '-d', '@0', '+%H:%M %Z'], { env: { TZ: 'Asia/Tokyo' } });
  t.is(stdout.trim(), '09:00 JST');
});

e2e('the extra CA is in the system store and NODE_EXTRA_CA_CERTS points at it', async (t) => {
  if (!caFile) {
    t.pass('no extra CA was given to this build');
    return;
  }
  const pem = readFileSync(caFile, 'utf8');
  const certs = pem.match(/-----BEGIN CERTIFICATE-----/g)?.length ?? 0;
  const firstLine = pem.split('-----BEGIN CERTIFICATE-----')[1]!.trim().split('\n')[0]!;
  const script =
    'ls /usr/local/share/ca-certificates/cctl-extra-ca-*.crt | wc -l; echo "$NODE_EXTRA_CA_CERTS"; grep -cF -- "$1" "$NODE_EXTRA_CA_CERTS"';
  const { stdout, exitCode, stderr } = await dockerRun([IMAGE, 'sh', '-c', script, 'sh', firstLine]);
  t.is(exitCode, 0, stderr);
  const [installed, bundle, hits] = stdout.trim().split('\n');
  t.is(Number(installed), certs);
  t.is(bundle, '/etc/ssl/certs/ca-certificates.crt');
  t.true(Number(hits) >= 1);
});

e2e('the runtime carries no package caches, compilers or second Claude binary', async (t) => {
  const script = [
    'for d in /root/.npm /home/claude/.npm /root/.cache/pip /tmp/npm-cache; do test -e "$d" && echo "left: $d"; done',
    'test -n "$(ls -A /var/lib/apt/lists 2>/dev/null | grep -v "^lock$\\|^partial$")" && echo "left: apt lists"',
    'test -n "$(ls -A /var/cache/apt/archives 2>/dev/null | grep -v "^lock$\\|^partial$")" && echo "left: apt archives"',
    'test -n "$(ls -A /var/cache/apk 2>/dev/null)" && echo "left: apk cache"',
    'for c in cc gcc g++ make; do command -v "$c" >/dev/null && echo "compiler: $c"; done',
    'find /opt -name "claude-code-linux-*" -maxdepth 6 | sed "s/^/duplicate: /"',
    'true',
  ].join('; ');
  const { stdout, exitCode, stderr } = await dockerRun(['--user', 'root', IMAGE, 'sh', '-c', script]);
  t.is(exitCode, 0, stderr);
  t.is(stdout.trim(), '');
});

e2e('the workbench tools are there for claude: git, ssh, ssh-add, curl, less, ps', async (t) => {
  const tools = ['git', 'ssh', 'ssh-add', 'curl', 'less', 'ps'];
  const script = `for c in ${tools.join(' ')}; do command -v "$c" >/dev/null || echo "missing: $c"; done; git --version`;
  const { stdout, exitCode, stderr } = await dockerRun([IMAGE, 'sh', '-c', script]);
  t.is(exitCode, 0, stderr);
  t.regex(stdout, /^git version \d/, stdout);
});

e2e('no argument, claude and -flags go to Claude Code through claude-wrapper.sh', async (t) => {
  // Without a TTY or a prompt, Claude Code itself refuses at once: proof that
  // the real binary ran, with no request made (and no network to make one).
  const bare = await dockerRun([IMAGE], { env: { CCTL_DEBUG: '1' }, input: '' });
  t.regex(bare.stderr, /^entrypoint: claude$/m);
  t.regex(
    bare.stderr,
    /^claude-wrapper: cwd=\/workspace CLAUDE_CONFIG_DIR=\/home\/claude\/\.claude ANTHROPIC_BASE_URL=http:\/\/proxy:3000$/m,
  );
  t.regex(bare.stderr, /Input must be provided/);

  for (const argv of [['claude', '--version'], ['--version']]) {
    const r = await dockerRun(['-w', '/', IMAGE, ...argv], { env: { CCTL_DEBUG: '1' } });
    t.is(r.exitCode, 0, r.stderr);
    t.regex(r.stderr, /^entrypoint: claude$/m);
    // The wrapper moved from / to the workspace.
    t.regex(r.stderr, /^claude-wrapper: cwd=\/workspace /m);
    t.is(r.stdout.trim().split(/\s/)[0], CLAUDE_CODE_VERSION);
  }
});

e2e('monitor and its aliases reach monitor-wrapper.sh, which says the monitor is off', async (t) => {
  for (const word of ['monitor', 'claude-monitor', 'cmonitor', 'ccmonitor', 'ccm']) {
    const r = await dockerRun([IMAGE, word, '--plan', 'max5'], { env: { CCTL_DEBUG: '1' } });
    t.is(r.exitCode, 1, word);
    t.regex(r.stderr, /^entrypoint: monitor$/m, word);
    t.regex(r.stderr, /not installed in this image/, word);
    t.regex(r.stderr, /cctl init --monitor && cctl up --build/, word);
  }
  // `monitor` is also on PATH for `docker exec claude-cli monitor`.
  const direct = await dockerRun(['--entrypoint', 'monitor', IMAGE]);
  t.is(direct.exitCode, 1);
  t.regex(direct.stderr, /cctl init --monitor && cctl up --build/);
});

e2e('ccusage and usage go to ccusage', async (t) => {
  for (const word of ['ccusage', 'usage']) {
    const r = await dockerRun([IMAGE, word, '--version'], { env: { CCTL_DEBUG: '1' } });
    t.is(r.exitCode, 0, r.stderr);
    t.regex(r.stderr, /^entrypoint: ccusage$/m);
    t.is(r.stdout.trim(), `ccusage ${CCUSAGE_VERSION}`);
  }
});

e2e('shell, bash and sh start shells; other words run as commands', async (t) => {
  const shell = await dockerRun([IMAGE, 'shell', '-c', 'echo "login:$0:$(id -un)"'], { env: { CCTL_DEBUG: '1' } });
  t.is(shell.exitCode, 0, shell.stderr);
  t.regex(shell.stderr, /^entrypoint: shell$/m);
  t.is(shell.stdout.trim(), 'login:bash:claude');

  const bash = await dockerRun([IMAGE, 'bash', '-c', 'echo "${BASH_VERSION:+bash}"']);
  t.is(bash.stdout.trim(), 'bash');
  const sh = await dockerRun([IMAGE, 'sh', '-c', 'echo "$((6 * 7))"']);
  t.is(sh.stdout.trim(), '42');

  const command = await dockerRun([IMAGE, 'printf', '%s-%s', 'a b', 'c'], { env: { CCTL_DEBUG: '1' } });
  t.is(command.exitCode, 0, command.stderr);
  t.regex(command.stderr, /^entrypoint: command$/m);
  t.is(command.stdout, 'a b-c');

  const status = await dockerRun([IMAGE, 'sh', '-c', 'exit 7']);
  t.is(status.exitCode, 7);
  const unknown = await dockerRun([IMAGE, 'no-such-tool-here']);
  t.is(unknown.exitCode, 127);
});

e2e('idle keeps the container up and stops promptly on SIGTERM, without an init', async (t) => {
  const name = `cctl-e2e-idle-${randomBytes(3).toString('hex')}`;
  t.teardown(() => attempt(['docker', 'rm', '-f', name]).then(() => undefined));
  await run(['docker', 'run', '-d', '--network', 'none', '--name', name, IMAGE, 'idle']);
  const alive = await run(['docker', 'exec', name, 'ccusage', '--version']);
  t.is(alive.stdout.trim(), `ccusage ${CCUSAGE_VERSION}`);

  const started = Date.now();
  await run(['docker', 'stop', '-t', '20', name]);
  const seconds = (Date.now() - started) / 1000;
  t.log(`docker stop took ${seconds.toFixed(2)} s`);
  t.true(seconds < 5, `stop took ${seconds} s: SIGTERM was ignored until the kill`);
  const { stdout } = await run(['docker', 'inspect', '--format', '{{.State.ExitCode}}', name]);
  t.is(stdout.trim(), '0');
});

e2e('healthcheck passes with a home volume and fails, saying why, without one', async (t) => {
  const volume = volumeName('health');
  const ok = await dockerRun(['-v', `${volume}:/home/claude`, IMAGE, 'healthcheck'], { env: { CCTL_DEBUG: '1' } });
  t.is(ok.exitCode, 0, ok.stderr);
  t.regex(ok.stderr, /^entrypoint: healthcheck$/m);
  t.is(ok.stdout.trim(), 'ok');

  const bare = await dockerRun([IMAGE, 'healthcheck']);
  t.is(bare.exitCode, 1);
  t.regex(bare.stderr, /\/home\/claude is not a mounted volume/);

  // A home owned by someone else (e.g. a volume first used with another UID).
  const foreign = await dockerRun(['-v', `${volume}:/home/claude`, '--user', '4321', IMAGE, 'healthcheck']);
  t.is(foreign.exitCode, 1);
  t.regex(foreign.stderr, /not writable by uid 4321/);
});

e2e("the engine's health check turns healthy under idle with the home volume", async (t) => {
  const volume = volumeName('engine-health');
  const name = `cctl-e2e-health-${randomBytes(3).toString('hex')}`;
  t.teardown(() => attempt(['docker', 'rm', '-f', name]).then(() => undefined));
  await run(['docker', 'run', '-d', '--network', 'none', '--name', name, '-v', `${volume}:/home/claude`, IMAGE, 'idle']);
  let status = '';
  // start_period 5 s, interval 10 s: the first probe runs within ~10 s.
  for (let i = 0; i < 40 && status !== 'healthy'; i++) {
    status = (await run(['docker', 'inspect', '--format', '{{.State.Health.Status}}', name])).stdout.trim();
    if (status !== 'healthy') await new Promise((r) => setTimeout(r, 500));
  }
  t.is(status, 'healthy');
});

e2e('a fresh home volume belongs to claude and its files survive container re-creation', async (t) => {
  const volume = volumeName('persist');
  const mount = ['-v', `${volume}:/home/claude`];
  const owners = await dockerRun([...mount, IMAGE, 'stat', '-c', '%u:%g %n', '/home/claude', '/home/claude/.claude']);
  t.is(owners.stdout.trim(), '1001:1001 /home/claude\n1001:1001 /home/claude/.claude');

  const write = await dockerRun([
    ...mount,
    IMAGE,
    'sh',
    '-c',
    'echo "{\\"login\\":1}" > "$CLAUDE_CONFIG_DIR/.claude.json" && echo kept > ~/notes.txt',
  ]);
  t.is(write.exitCode, 0, write.stderr);
  const read = await dockerRun([...mount, IMAGE, 'sh', '-c', 'cat "$CLAUDE_CONFIG_DIR/.claude.json" ~/notes.txt']);
  t.is(read.stdout, '{"login":1}\nkept\n');
});

e2e('a fresh volume has projects/, so ccusage prints an empty report; a volume without it gets it back, owned by claude', async (t) => {
  const volume = volumeName('projects');
  const mount = ['-v', `${volume}:/home/claude`];
  const statProjects = ['stat', '-c', '%u:%g %n', '/home/claude/.claude/projects'];
  const fresh = await dockerRun([...mount, IMAGE, ...statProjects]);
  t.is(fresh.stdout.trim(), '1001:1001 /home/claude/.claude/projects', fresh.stderr);
  const report = await dockerRun([...mount, IMAGE, 'ccusage', 'claude', 'daily', '--json', '--offline']);
  t.is(report.exitCode, 0, report.stderr);
  t.deepEqual((JSON.parse(report.stdout) as { daily: unknown[] }).daily, []);

  // As in a volume made by an image that did not seed projects/: the
  // entrypoint adds it at the next start, whoever the container runs as.
  for (const user of ['claude', 'root']) {
    const removed = await dockerRun([...mount, '--user', 'root', '--entrypoint', 'rm', IMAGE, '-r', '/home/claude/.claude/projects']);
    t.is(removed.exitCode, 0, removed.stderr);
    const back = await dockerRun([...mount, '--user', user, IMAGE, ...statProjects]);
    t.is(back.stdout.trim(), '1001:1001 /home/claude/.claude/projects', `as ${user}: ${back.stderr}`);
  }
});

e2e('ccusage claude daily --json --offline totals a compact JSONL fixture in the volume', async (t) => {
  interface Usage {
    input_tokens: number;
    output_tokens: number;
    cache_creation_input_tokens: number;
    cache_read_input_tokens: number;
  }
  const entries: Array<{ day: string; model: string; usage: Usage }> = [
    {
      day: '2025-03-10',
      model: 'claude-sonnet-4-5-20250929',
      usage: { input_tokens: 1200, output_tokens: 340, cache_creation_input_tokens: 500, cache_read_input_tokens: 8000 },
    },
    {
      day: '2025-03-10',
      model: 'claude-opus-4-1-20250805',
      usage: { input_tokens: 90, output_tokens: 410, cache_creation_input_tokens: 0, cache_read_input_tokens: 1500 },
    },
    {
      day: '2025-03-11',
      model: 'claude-sonnet-4-5-20250929',
      usage: { input_tokens: 7, output_tokens: 13, cache_creation_input_tokens: 21, cache_read_input_tokens: 0 },
    },
  ];
  // The shape Claude Code writes: one compact JSON object per line (ccusage
  // looks for the literal bytes "usage":{), with ids it de-duplicates on.
  const lines = entries.map((e, i) =>
    JSON.stringify({
      type: 'assistant',
      sessionId: 'fixture-session',
      cwd: '/workspace',
      uuid: `00000000-0000-4000-8000-00000000000${i}`,
      timestamp: `${e.day}T12:00:00.000Z`,
      requestId: `req_fixture_${i}`,
      message: {
        id: `msg_fixture_${i}`,
        type: 'message',
        role: 'assistant',
        model: e.model,
        content: [{ type: 'text', text: 'ok' }],
        usage: e.usage,
      },
    }),
  );
  // A user turn has no usage and must not count.
  lines.splice(
    1,
    0,
    JSON.stringify({
      type: 'user',
      sessionId: 'fixture-session',
      timestamp: '2025-03-10T11:59:00.000Z',
      message: { role: 'user', content: 'hi' },
    }),
  );
  t.true(lines.filter((l) => l.includes('"usage":{')).length === entries.length);

  const volume = volumeName('usage');
  const mount = ['-v', `${volume}:/home/claude`];
  const dir = '/home/claude/.claude/projects/-workspace';
  const write = await dockerRun([...mount, IMAGE, 'sh', '-c', `mkdir -p ${dir} && cat > ${dir}/fixture-session.jsonl`], {
    input: lines.join('\n') + '\n',
  });
  t.is(write.exitCode, 0, write.stderr);

  const report = await dockerRun([...mount, IMAGE, 'ccusage', 'claude', 'daily', '--json', '--offline']);
  t.is(report.exitCode, 0, report.stderr);
  const parsed = JSON.parse(report.stdout) as {
    daily: Array<{ date: string; inputTokens: number; totalTokens: number }>;
    totals: { inputTokens: number; outputTokens: number; cacheCreationTokens: number; cacheReadTokens: number; totalTokens: number };
  };
  const sum = (pick: (u: Usage) => number) => entries.reduce((n, e) => n + pick(e.usage), 0);
  const expected = {
    inputTokens: sum((u) => u.input_tokens),
    outputTokens: sum((u) => u.output_tokens),
    cacheCreationTokens: sum((u) => u.cache_creation_input_tokens),
    cacheReadTokens: sum((u) => u.cache_read_input_tokens),
  };
  t.like(parsed.totals, {
    ...expected,
    totalTokens: expected.inputTokens + expected.outputTokens + expected.cacheCreationTokens + expected.cacheReadTokens,
  });
  t.deepEqual(
    parsed.daily.map((d) => [d.date, d.inputTokens]),
    [
      ['2025-03-10', 1290],
      ['2025-03-11', 7],
    ],
  );
});
