/**
 * A fresh stack, as a new user has it right after the first `cctl up`: a new
 * home volume and no Claude session yet. Every usage command answers with an
 * empty report and exit 0 (ccusage needs $CLAUDE_CONFIG_DIR/projects to
 * exist, which the image and its entrypoint create), the live view shows no
 * failed refresh, and the next steps name only what this stack has.
 */
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { e2e } from '../helpers/e2e.js';
import { tempProject, removeProjectImages } from '../helpers/project.js';
import { cctl, composeCommand, e2eEnv } from '../helpers/cli.js';
import { run } from '../../lib/engine/runner.js';

const tmp = tempProject('fresh');
// The monitor is off (no PyPI here), which is also what the next-steps check needs.
const env = e2eEnv({ COMPOSE_PROJECT_NAME: tmp.name, CCTL_MONITOR: '0' });
const opts = { cwd: tmp.dir, env };
const dc = (args: string[]) =>
  run([...composeCommand(), '-f', join(tmp.dir, 'compose.yaml'), '-p', tmp.name, '--profile', 'claude', ...args], { cwd: tmp.dir, env });

e2e.after.always(async () => {
  await dc(['down', '-v', '--timeout', '1']).catch(() => undefined);
  await removeProjectImages(tmp.name);
  tmp.cleanup();
});

const ZERO_TOTALS = { inputTokens: 0, outputTokens: 0, cacheCreationTokens: 0, cacheReadTokens: 0, totalTokens: 0 };

e2e.serial('the first up on a new volume: healthy, and the next steps leave out the monitor it lacks', async (t) => {
  await t.throwsAsync(run(['docker', 'volume', 'inspect', `${tmp.name}_claude-home`]), undefined, 'the volume is new');
  const up = await cctl(['up', '--timeout', '900'], opts);
  t.is(up.exitCode, 0, up.stderr);
  t.notRegex(up.stdout, /cctl monitor/);
  t.regex(up.stdout, /cctl usage blocks --live/);
  t.regex(up.stdout, /cctl usage daily/);
});

e2e.serial('usage daily on a fresh stack: exit 0 and an empty report, not "No valid Claude data directories"', async (t) => {
  const r = await cctl(['usage', 'daily', '--offline'], opts);
  t.is(r.exitCode, 0, r.stderr);
  t.notRegex(r.stdout + r.stderr, /No valid Claude data directories/);
});

for (const [report, key] of [
  ['daily', 'daily'],
  ['weekly', 'weekly'],
  ['monthly', 'monthly'],
  ['session', 'sessions'],
] as const) {
  e2e.serial(`usage ${report} --json on a fresh stack: a valid, empty document`, async (t) => {
    const r = await cctl(['usage', report, '--json', '--offline'], opts);
    t.is(r.exitCode, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as Record<string, unknown> & { totals: Record<string, number> };
    t.deepEqual(doc[key], []);
    t.like(doc.totals, ZERO_TOTALS);
    t.is(Math.abs(doc.totals.totalCost!), 0);
  });
}

e2e.serial('usage blocks --json and the live view: no blocks, and no failed refresh', async (t) => {
  const blocks = await cctl(['usage', 'blocks', '--json', '--offline'], opts);
  t.is(blocks.exitCode, 0, blocks.stderr);
  t.deepEqual(JSON.parse(blocks.stdout), { blocks: [] });
  const live = await cctl(['usage', 'blocks', '--live', '--once', '--offline'], opts);
  t.is(live.exitCode, 0, live.stderr);
  t.notRegex(live.stdout + live.stderr, /fail/i);
  t.regex(live.stdout, /no active block/i);
});

e2e.serial("usage statusline answers Claude Code's hook on a fresh stack", async (t) => {
  const hook = {
    session_id: 'fresh-session',
    transcript_path: '/home/claude/.claude/projects/-workspace/fresh-session.jsonl',
    cwd: '/workspace',
    model: { id: 'claude-sonnet-4-20250514', display_name: 'Sonnet 4' },
    workspace: { current_dir: '/workspace', project_dir: '/workspace' },
  };
  const r = await cctl(['usage', 'statusline', '--offline'], { ...opts, input: JSON.stringify(hook) });
  t.is(r.exitCode, 0, r.stderr);
  t.regex(r.stdout, /Sonnet 4/);
  t.regex(r.stdout, /No active block/);
});

/** The claude services' container ids, by service. */
async function containerIds(): Promise<Record<string, string>> {
  const { stdout } = await run([
    'docker',
    'ps',
    '--no-trunc',
    '--filter',
    `label=com.docker.compose.project=${tmp.name}`,
    '--format',
    '{{.Label "com.docker.compose.service"}} {{.ID}}',
  ]);
  return Object.fromEntries(
    stdout
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => l.split(' ') as [string, string]),
  );
}

async function upJson(): Promise<{ path: string; built: string[]; services: Array<{ name: string; health: string }> }> {
  const r = await cctl(['up', '--json', '--timeout', '300'], opts);
  if (r.exitCode !== 0) throw new Error(`up failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as { path: string; built: string[]; services: Array<{ name: string; health: string }> };
}

/** Re-tags the proxy image with one more label, as a rebuild outside cctl would. */
async function retagProxy(label: string): Promise<void> {
  const image = `cctl-${tmp.name}-proxy:local`;
  await run(['docker', 'build', '-q', '-t', image, '-'], { input: `FROM ${image}\nLABEL ${label}\n` });
}

e2e.serial('up with nothing changed takes the short path: same containers, all healthy, no compose up', async (t) => {
  const before = await containerIds();
  t.deepEqual(Object.keys(before).sort(), ['claude-cli', 'proxy']);
  const doc = await upJson();
  t.is(doc.path, 'current');
  t.deepEqual(
    doc.services.map((s) => [s.name, s.health]),
    [
      ['claude-cli', 'healthy'],
      ['proxy', 'healthy'],
    ],
  );
  t.deepEqual(await containerIds(), before);
});

e2e.serial('a changed compose file goes the full way, and the next up is short again', async (t) => {
  const file = join(tmp.dir, 'compose.yaml');
  appendFileSync(file, '# a note the team added\n');
  t.is((await upJson()).path, 'full');
  t.is((await upJson()).path, 'current');
});

e2e.serial('an image rebuilt outside cctl: up recreates its container on the new image', async (t) => {
  const before = await containerIds();
  await retagProxy('dev.cctl.test.rebuilt=1');
  const doc = await upJson();
  t.is(doc.path, 'start');
  const after = await containerIds();
  // (Compose recreates claude-cli too, as it depends on the proxy.)
  t.not(after.proxy, before.proxy);
  t.deepEqual(
    doc.services.map((s) => [s.name, s.health]),
    [
      ['claude-cli', 'healthy'],
      ['proxy', 'healthy'],
    ],
  );
  t.is((await upJson()).path, 'current');
});

e2e.serial('a stale image (another build hash) goes the full way and is rebuilt', async (t) => {
  await retagProxy('dev.cctl.build-hash=stale');
  const doc = await upJson();
  t.is(doc.path, 'full');
  t.deepEqual(doc.built, ['proxy']);
});

e2e.serial('a stopped stack starts without init or build', async (t) => {
  t.is((await cctl(['down'], opts)).exitCode, 0);
  const doc = await upJson();
  t.is(doc.path, 'start');
  t.deepEqual(
    doc.services.map((s) => [s.name, s.health]),
    [
      ['claude-cli', 'healthy'],
      ['proxy', 'healthy'],
    ],
  );
});

e2e.serial('a stopped claude-cli starts again, and the text says init and build were skipped', async (t) => {
  const id = (await dc(['ps', '-q', 'claude-cli'])).stdout.trim();
  t.truthy(id, 'claude-cli has a container');
  await run(['docker', 'stop', id]);
  const r = await cctl(['up'], opts);
  t.is(r.exitCode, 0, r.stderr);
  const out = r.stdout + r.stderr;
  t.regex(out, /unchanged since the last cctl up/);
  t.notRegex(out, /Compose file is current|Images are current/);
  t.is((await run(['docker', 'inspect', '--format', '{{.State.Running}}', id])).stdout.trim(), 'true');
});
