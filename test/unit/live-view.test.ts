import test from 'ava';
import { EventEmitter } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderFrame, renderLine } from '../../lib/ui/live-render.js';
import { activeBlock, maxPreviousTokens, parseBlocks } from '../../lib/ops/ccusage-blocks.js';
import { configuredTokenLimit, MAX_FAILURES, parseLiveArgs, runLiveView, type BlocksSource, type LiveIO } from '../../lib/ops/live-view.js';
import { scratchDir } from '../helpers/scratch.js';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/ccusage-20.0.24/${name}`, import.meta.url), 'utf8');
const ACTIVE = fixture('blocks-active.json');
const ALL = fixture('blocks-all.json');
const NONE = fixture('blocks-none.json');
// Ten minutes after the fixture's last request, inside its 13:00-18:00 block.
const NOW = new Date('2026-11-25T13:34:40Z');
const UTC = { now: NOW, timeZone: 'UTC' };

test('the active block and the max of finished blocks come from real ccusage output', (t) => {
  const block = activeBlock(parseBlocks(ACTIVE))!;
  t.is(block.totalTokens, 4800);
  t.is(activeBlock(parseBlocks(NONE)), undefined);
  // The gap block and the active one do not count towards max.
  t.is(maxPreviousTokens(parseBlocks(ALL)), 14000);
  t.is(activeBlock(parseBlocks(ALL))!.id, block.id);
});

test('ccusage output that is not the blocks JSON is an error that quotes it', (t) => {
  t.throws(() => parseBlocks('Error: no data\n'), { message: /did not print JSON: Error: no data/ });
  t.throws(() => parseBlocks('{"daily":[]}'), { message: /without a "blocks" list/ });
});

test('frame: the block, tokens, cost, burn rate, projection and limit', (t) => {
  const block = activeBlock(parseBlocks(ACTIVE));
  const lines = renderFrame(block, { ...UTC, limit: { tokens: 14000, source: 'max' }, columns: 100, intervalSeconds: 5 });
  t.deepEqual(lines, [
    'Claude usage · active 5-hour block',
    '',
    '  Block      2026-11-25 13:00 → 18:00  (0h 34m elapsed, 4h 25m left)',
    '  Tokens     4,800  (input 3,000 · output 1,200 · cache write 200 · cache read 400)',
    '  Cost       $0.03',
    '  Burn rate  240 tokens/min · $0.08/hour',
    '  Projected  67,680 tokens · $0.39 by 18:00',
    '  Limit      [██████████████░░░░░░░░░░░░░░░░░░░░░░░░░░] 34.3% of 14,000 (max of previous blocks)',
    '             projected to exceed the limit (483.4%)',
    '  Models     claude-sonnet-4-20250514',
    '',
    'Updated 13:34:40 · every 5s · q or Ctrl-C to quit',
  ]);
});

test('frame: colour only when asked, and by level', (t) => {
  const block = activeBlock(parseBlocks(ACTIVE));
  const plain = renderFrame(block, { ...UTC, limit: { tokens: 5000, source: 'set' } }).join('\n');
  t.false(plain.includes('\x1b['));
  const colored = renderFrame(block, { ...UTC, limit: { tokens: 5000, source: 'set' }, color: true }).join('\n');
  t.true(colored.includes('\x1b[33m[')); // 96% used: warning
  t.true(colored.includes('\x1b[31mprojected to exceed')); // over
});

test('frame: no active block, and max with nothing to compare', (t) => {
  t.deepEqual(renderFrame(undefined, { ...UTC, error: 'timed out' }), [
    'Claude usage · no active block',
    '',
    '  No Claude Code requests in the last 5 hours. A new 5-hour block starts with the next one.',
    '',
    '  Last refresh failed: timed out',
    '',
    'Updated 13:34:40 · q or Ctrl-C to quit',
  ]);
  const lines = renderFrame(activeBlock(parseBlocks(ACTIVE)), { ...UTC, limit: { tokens: 0, source: 'max' } });
  t.true(lines.includes('  Limit      max: no finished block yet to compare with'));
});

test('line: one line per refresh with the same facts', (t) => {
  const block = activeBlock(parseBlocks(ACTIVE));
  t.is(
    renderLine(block, { ...UTC, limit: { tokens: 48000, source: 'set' } }),
    '2026-11-25 13:34:40 active block 13:00-18:00, 4h 25m left: 4,800 tokens, $0.03, 240 tokens/min, projected 67,680 tokens $0.39, 10.0% of limit 48,000',
  );
  t.is(renderLine(undefined, UTC), '2026-11-25 13:34:40 no active block');
});

test('clock times follow the time zone', (t) => {
  const block = activeBlock(parseBlocks(ACTIVE));
  t.regex(renderLine(block, { now: NOW, timeZone: 'Asia/Tokyo' }), /^2026-11-25 22:34:40 active block 22:00-03:00/);
});

test('--live is intercepted with its own flags; everything else is left for ccusage', (t) => {
  t.is(parseLiveArgs(['--json', '--breakdown']), undefined);
  t.deepEqual(parseLiveArgs(['--live', '--interval', '2', '--offline', '--token-limit=max', '--json', '-z', 'UTC']), {
    live: { intervalSeconds: 2, once: false, tokenLimit: 'max' },
    rest: ['--offline', '-z', 'UTC'],
  });
  t.like(parseLiveArgs(['--once', '--live', '-t', '500000', '--interval=0.5'])!.live, {
    once: true,
    tokenLimit: '500000',
    intervalSeconds: 0.5,
  });
  for (const bad of [['--interval', '0'], ['--interval', 'soon'], ['--interval'], ['--token-limit', 'lots'], ['-t', '-5']]) {
    t.throws(() => parseLiveArgs(['--live', ...bad]), { message: /--interval|--token-limit|-t/ }, bad.join(' '));
  }
});

test('token limit default: CCTL_TOKEN_LIMIT, then x-cctl in the compose file, then max', (t) => {
  const dir = scratchDir('cctl-live-');
  const file = join(dir, 'compose.yaml');
  writeFileSync(file, 'services: {}\nx-cctl:\n  token-limit: 250000\n');
  t.is(configuredTokenLimit(file, {}), '250000');
  t.is(configuredTokenLimit(file, { CCTL_TOKEN_LIMIT: 'max' }), 'max');
  writeFileSync(file, 'services: {}\n');
  t.is(configuredTokenLimit(file, {}), 'max');
  writeFileSync(file, 'x-cctl:\n  token-limit: plenty\n');
  t.throws(() => configuredTokenLimit(file, {}), { message: /"token-limit" in .*\(x-cctl\) must be a token count above 0/ });
  // 0 is refused here as init refuses it: one check, in the settings.
  writeFileSync(file, 'x-cctl:\n  token-limit: 0\n');
  t.throws(() => configuredTokenLimit(file, {}), { message: /token count above 0/ });
  t.throws(() => configuredTokenLimit(file, { CCTL_TOKEN_LIMIT: '0' }), { message: /CCTL_TOKEN_LIMIT/ });
});

/** A terminal (or a pipe) made of events, to drive the loop without a real one. */
function fakeIO(tty: boolean) {
  const written: string[] = [];
  const input = Object.assign(new EventEmitter(), {
    isTTY: tty,
    raw: [] as boolean[],
    setRawMode(on: boolean) {
      input.raw.push(on);
    },
    resume() {},
    pause() {},
  });
  const signals = new EventEmitter();
  const out = Object.assign(new EventEmitter(), { isTTY: tty, columns: 100, write: (s: string) => written.push(s) });
  const io: LiveIO = { out, input, signals, now: () => NOW, env: { NO_COLOR: '1' } };
  return { io, written, input, signals };
}

/** Polls a condition instead of sleeping a fixed time, so a loaded machine cannot make the test flaky. */
async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !condition(); i++) await new Promise((r) => setTimeout(r, 10));
  if (!condition()) throw new Error('condition not reached in 5 s');
}

function source(
  active: Array<string | Error>,
  calls: { active: number; all: number } = { active: 0, all: 0 },
): BlocksSource & { calls: typeof calls } {
  return {
    calls,
    async active() {
      const next = active[Math.min(calls.active++, active.length - 1)]!;
      if (next instanceof Error) throw next;
      return next;
    },
    async all() {
      calls.all++;
      return ALL;
    },
  };
}

test('--once without a terminal prints one line and exits 0', async (t) => {
  const { io, written, signals } = fakeIO(false);
  const src = source([ACTIVE]);
  t.is(await runLiveView({ intervalSeconds: 5, once: true }, 'max', src, io), 0);
  t.is(written.length, 1);
  t.regex(written[0]!, /active block .* 4,800 tokens, .* 34\.3% of limit 14,000\n$/);
  t.is(signals.listenerCount('SIGINT'), 0);
});

test('on a terminal: alternate screen, raw keys, q quits and everything is put back', async (t) => {
  const { io, written, input, signals } = fakeIO(true);
  const src = source([NONE, ACTIVE]);
  const done = runLiveView({ intervalSeconds: 0.01, once: false }, '1000000', src, io);
  await until(() => written.some((w) => w.includes('0.5% of 1,000,000')));
  input.emit('data', Buffer.from('x'));
  input.emit('data', Buffer.from('q'));
  t.is(await done, 0);
  t.true(src.calls.active >= 2);
  t.is(src.calls.all, 0); // a number limit never needs the full history
  t.true(written[0]!.startsWith('\x1b[?1049h\x1b[?25l'));
  t.true(written.some((w) => w.includes('no active block')));
  t.true(written.some((w) => w.includes('0.5% of 1,000,000')));
  t.is(written.at(-1), '\x1b[?7h\x1b[?25h\x1b[?1049l');
  t.deepEqual(input.raw, [true, false]);
  t.is(input.listenerCount('data'), 0);
  for (const event of ['SIGINT', 'SIGTERM', 'exit']) t.is(signals.listenerCount(event), 0, event);
});

test('Ctrl-C as a raw key and SIGINT as a signal both quit with 130; SIGTERM with 143', async (t) => {
  for (const [how, code] of [
    ['key', 130],
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    const { io, input, signals, written } = fakeIO(how === 'key');
    const done = runLiveView({ intervalSeconds: 60, once: false }, 'max', source([ACTIVE]), io);
    await until(() => written.some((w) => w.includes('4,800')));
    if (how === 'key') input.emit('data', '\x03');
    else signals.emit(how);
    t.is(await done, code, how);
    if (how === 'key') t.deepEqual(input.raw, [true, false]);
    t.is(written.filter((w) => w.includes('4,800')).length, 1, 'one refresh, then quit without waiting 60s');
  }
});

test('failed polls are shown, then end the loop after a bounded number in a row', async (t) => {
  const { io, written } = fakeIO(false);
  const flaky = source([new Error('compose timed out'), ACTIVE, ...Array<Error>(MAX_FAILURES).fill(new Error('gone'))]);
  await t.throwsAsync(runLiveView({ intervalSeconds: 0.01, once: false }, '5000', flaky, io), { message: 'gone' });
  t.is(flaky.calls.active, 2 + MAX_FAILURES);
  t.regex(written[0]!, /no active block \(last refresh failed: compose timed out\)/);
  t.regex(written[1]!, /4,800 tokens/);
});

test('--once fails at once when the poll fails', async (t) => {
  const { io } = fakeIO(false);
  await t.throwsAsync(runLiveView({ intervalSeconds: 5, once: true }, 'max', source([new Error('not running')]), io), {
    message: 'not running',
  });
});
