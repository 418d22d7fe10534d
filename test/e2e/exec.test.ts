/**
 * The exec family against a real stack: init → up, a usage fixture in the
 * home volume, then usage / exec / shell / monitor as a user runs them, and
 * the message when the stack is stopped. The image is built without the
 * monitor (no PyPI here), which is exactly the monitor-missing case.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { e2e } from '../helpers/e2e.js';
import { tempProject, removeProjectImages } from '../helpers/project.js';
import { CLI, cctl, e2eEnv, composeCommand } from '../helpers/cli.js';
import { run } from '../../lib/engine/runner.js';

const tmp = tempProject('exec');
const env = e2eEnv({ COMPOSE_PROJECT_NAME: tmp.name, CCTL_MONITOR: '0' });
const dc = (args: string[], input?: string) =>
  run([...composeCommand(), '-f', join(tmp.dir, 'compose.yaml'), '-p', tmp.name, '--profile', 'claude', ...args], {
    cwd: tmp.dir,
    env,
    input,
  });
const opts = { cwd: tmp.dir, env };

e2e.after.always(async () => {
  await dc(['down', '-v', '--timeout', '1']).catch(() => undefined);
  await removeProjectImages(tmp.name);
  tmp.cleanup();
});

/** Claude Code's usage lines: compact JSON, which is all ccusage accepts (it looks for the bytes "usage":{). */
const MINUTE = 60_000;
const now = Date.now();
const requests = [
  { ago: 30 * 60 * MINUTE, input: 5000, output: 9000, cacheWrite: 0, cacheRead: 0 }, // a finished block, 30 h ago
  { ago: 40 * MINUTE, input: 1000, output: 500, cacheWrite: 200, cacheRead: 100 },
  { ago: 20 * MINUTE, input: 2000, output: 700, cacheWrite: 0, cacheRead: 300 },
];
const jsonl = requests
  .map((r, i) =>
    JSON.stringify({
      type: 'assistant',
      sessionId: 'e2e-session',
      cwd: '/workspace',
      timestamp: new Date(now - r.ago).toISOString(),
      requestId: `req_e2e_${i}`,
      uuid: `uuid-e2e-${i}`,
      message: {
        id: `msg_e2e_${i}`,
        role: 'assistant',
        model: 'claude-sonnet-4-20250514',
        usage: {
          input_tokens: r.input,
          output_tokens: r.output,
          cache_creation_input_tokens: r.cacheWrite,
          cache_read_input_tokens: r.cacheRead,
        },
      },
    }),
  )
  .join('\n');
const sum = (rs: typeof requests) => ({
  inputTokens: rs.reduce((s, r) => s + r.input, 0),
  outputTokens: rs.reduce((s, r) => s + r.output, 0),
  cacheCreationTokens: rs.reduce((s, r) => s + r.cacheWrite, 0),
  cacheReadTokens: rs.reduce((s, r) => s + r.cacheRead, 0),
});

e2e.serial('init and up bring the stack to healthy', async (t) => {
  const init = await cctl(['init'], opts);
  t.is(init.exitCode, 0, init.stderr);
  const up = await cctl(['up', '--timeout', '900'], opts);
  t.is(up.exitCode, 0, up.stderr);
  // Written the way Claude Code would: into the config dir in the home volume.
  await dc(
    [
      'exec',
      '-T',
      'claude-cli',
      'sh',
      '-c',
      'mkdir -p "$CLAUDE_CONFIG_DIR/projects/-workspace" && cat > "$CLAUDE_CONFIG_DIR/projects/-workspace/e2e.jsonl"',
    ],
    `${jsonl}\n`,
  );
});

e2e.serial("usage daily --json: totals are the fixture's, and stdout is byte for byte ccusage's", async (t) => {
  const r = await cctl(['usage', 'daily', '--json', '--offline'], opts);
  t.is(r.exitCode, 0, r.stderr);
  const totals = (JSON.parse(r.stdout) as { totals: Record<string, number> }).totals;
  const want = sum(requests);
  t.like(totals, { ...want, totalTokens: want.inputTokens + want.outputTokens + want.cacheCreationTokens + want.cacheReadTokens });
  t.true(totals.totalCost! > 0);
  const raw = await dc(['exec', '-T', 'claude-cli', 'ccusage', 'claude', 'daily', '--json', '--offline']);
  t.is(r.stdout, raw.stdout);
  // The default report is daily.
  t.is((await cctl(['usage', '--json', '--offline'], opts)).stdout, raw.stdout);
});

e2e.serial('exec passes the exit status and stdin through', async (t) => {
  t.is((await cctl(['exec', '--', 'sh', '-c', 'exit 7'], opts)).exitCode, 7);
  const echoed = await cctl(['exec', '--', 'cat'], { ...opts, input: 'hi\n' });
  t.is(echoed.exitCode, 0, echoed.stderr);
  t.is(echoed.stdout, 'hi\n');
  // Flags after the command are the command's, quoting intact.
  const flags = await cctl(['exec', 'sh', '-c', 'printf "%s|" "$@"', 'x', '-f', 'a b', '--debug'], opts);
  t.is(flags.stdout, '-f|a b|--debug|');
});

e2e.serial('usage blocks --live --once prints the active block and exits 0', async (t) => {
  const r = await cctl(['usage', 'blocks', '--live', '--once', '--offline'], opts);
  t.is(r.exitCode, 0, r.stderr);
  const active = sum(requests.slice(1));
  const tokens = (active.inputTokens + active.outputTokens + active.cacheCreationTokens + active.cacheReadTokens).toLocaleString('en-US');
  t.is(r.stdout.trim().split('\n').length, 1);
  t.regex(r.stdout, new RegExp(`active block \\d\\d:\\d\\d-\\d\\d:\\d\\d, \\d+h \\d\\dm left: ${tokens} tokens`));
  // max = the finished block 30 hours ago.
  t.regex(r.stdout, /of limit 14,000\n$/);
});

e2e.serial('shell: a TTY session under tmux, a typed command read back, its exit status kept', async (t) => {
  const socket = `cctl-${tmp.name}`;
  const status = join(tmp.dir, 'shell-status');
  const script = join(tmp.dir, 'shell.sh');
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const exported = Object.entries(env)
    .filter(([k, v]) => v !== undefined && /^[A-Za-z_][A-Za-z0-9_]*$/.test(k))
    .map(([k, v]) => `export ${k}=${q(v!)}`);
  writeFileSync(
    script,
    [...exported, `cd ${q(tmp.dir)}`, `${q(process.execPath)} ${q(CLI)} shell`, `echo $? > ${q(status)}`, 'sleep 60', ''].join('\n'),
  );
  const tmux = (...args: string[]) => execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
  t.teardown(() => {
    try {
      tmux('kill-server');
    } catch {
      // already gone
    }
  });
  tmux('new-session', '-d', '-s', 'e2e', '-x', '120', '-y', '30', `sh ${q(script)}`);
  const pane = () => tmux('capture-pane', '-p', '-t', 'e2e');
  const waitFor = async (test: () => boolean, what: string) => {
    for (let i = 0; i < 100 && !test(); i++) await new Promise((r) => setTimeout(r, 200));
    if (!test()) t.fail(`timed out waiting for ${what}; screen:\n${pane()}`);
  };
  // A TTY means `tty` names a device; a pipe would print "not a tty".
  tmux('send-keys', '-t', 'e2e', 'echo "tty=$(tty) user=$(id -un) pwd=$(pwd) answer=$((6 * 7))"', 'Enter');
  await waitFor(() => /answer=42/.test(pane()), 'the typed command');
  t.regex(pane(), /tty=\/dev\/pts\/\d+ user=claude pwd=\/workspace answer=42/);
  tmux('send-keys', '-t', 'e2e', 'exit 5', 'Enter');
  await waitFor(() => existsSync(status) && readFileSync(status, 'utf8').trim() !== '', 'the shell to exit');
  t.is(readFileSync(status, 'utf8').trim(), '5');
});

e2e.serial('monitor on an image built without it: exit 1 with how to enable it, said once', async (t) => {
  const r = await cctl(['monitor'], opts);
  t.is(r.exitCode, 1);
  t.regex(r.stderr, /Usage Monitor is not installed in this image/);
  t.is(r.stderr.match(/cctl init --monitor && cctl up --build/g)?.length, 1, r.stderr);
  t.notRegex(r.stderr, /^cctl:/m);
  t.is(r.stdout, '');
});

e2e.serial('a stopped stack: the exec fails with how claude-cli ended and cctl up, compose\'s "not running" not repeated', async (t) => {
  await dc(['stop', '--timeout', '1', 'claude-cli']);
  const r = await cctl(['exec', '--', 'true'], opts);
  t.is(r.exitCode, 1);
  t.regex(
    r.stderr,
    /^cctl: claude-cli's container \S+ has exited with code \d+\.\nWhy: "cctl logs claude-cli"\. Start it again with "cctl up"\.$/m,
  );
  // Compose says "not running" (v2) or "No container found" (v1) on the inherited stderr; cctl adds, not repeats.
  t.true((r.stderr.match(/not running/g) ?? []).length <= 1, r.stderr);
  const live = await cctl(['usage', 'blocks', '--live', '--once'], opts);
  t.is(live.exitCode, 1);
  t.regex(live.stderr, /has exited[\s\S]*cctl up/);
  const status = await cctl(['status'], opts);
  t.is(status.exitCode, 1, 'status names a stopped claude-cli with a failing exit');
  t.regex(status.stderr, /^cctl: claude-cli has exited/m);
});
