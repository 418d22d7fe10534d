/**
 * `cctl usage blocks --live`: ccusage 18 removed its live view, so this one
 * polls `ccusage claude blocks --active --json` and redraws. On a terminal it
 * takes the alternate screen (like top), reads q / Ctrl-C in raw mode, and
 * puts everything back on the way out, whatever the way out is. Without a
 * terminal it prints one line per refresh. Polls are bounded in time, and
 * repeated failures end the loop instead of spinning.
 */
import { readStoredSettings } from '../project/compose-file.js';
import { UsageError } from '../kernel/errors.js';
import { findProject } from '../project/locate.js';
import { envName } from '../project/settings.js';
import { coerce } from '../project/setting-layers.js';
import { activeBlock, maxPreviousTokens, parseBlocks, renderFrame, renderLine, type Block, type TokenLimit } from '../ui/live-render.js';

export interface LiveOptions {
  intervalSeconds: number;
  once: boolean;
  /** A token count or "max"; undefined falls back to the settings. */
  tokenLimit?: string;
}

export const DEFAULT_INTERVAL_SECONDS = 5;
const MIN_INTERVAL_SECONDS = 0.5;
/** Consecutive failed polls before the view gives up and says why. */
export const MAX_FAILURES = 3;
export const POLL_TIMEOUT_MS = 30_000;

/** Flags the view adds itself; a second copy from the user would only confuse ccusage. */
const OWN_CCUSAGE_FLAGS = new Set(['--json', '-j', '--active', '-a']);

/**
 * Takes the view's own flags out of `blocks` args. Undefined when there is
 * no --live, so everything passes to ccusage untouched.
 */
export function parseLiveArgs(args: readonly string[]): { live: LiveOptions; rest: string[] } | undefined {
  if (!args.includes('--live')) return undefined;
  const live: LiveOptions = { intervalSeconds: DEFAULT_INTERVAL_SECONDS, once: false };
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    const value = () => {
      const v = eq > 0 ? arg.slice(eq + 1) : args[++i];
      if (v === undefined || v === '') throw new UsageError(`${name} needs a value.`);
      return v;
    };
    if (name === '--live') continue;
    else if (name === '--once') live.once = true;
    else if (name === '--interval') live.intervalSeconds = parseInterval(value());
    else if (name === '--token-limit' || name === '-t') live.tokenLimit = checkTokenLimit(value(), name);
    else if (!OWN_CCUSAGE_FLAGS.has(arg)) rest.push(arg);
  }
  return { live, rest };
}

function parseInterval(text: string): number {
  const seconds = Number(text);
  if (!Number.isFinite(seconds) || seconds < MIN_INTERVAL_SECONDS) {
    throw new UsageError(`--interval must be a number of seconds, at least ${MIN_INTERVAL_SECONDS}, not "${text}".`);
  }
  return seconds;
}

/** The one check of a token limit is the setting's own (settings.ts), whichever way the value came. */
function checkTokenLimit(text: string, where: string): string {
  return coerce('token-limit', text, where);
}

/**
 * The limit when no flag gives one: CCTL_TOKEN_LIMIT, then `x-cctl.token-limit`
 * in the compose file, then "max" (the settings' default).
 */
export function configuredTokenLimit(composeFile: string, env: NodeJS.ProcessEnv = process.env): string {
  const name = envName('token-limit');
  if (env[name]) return checkTokenLimit(env[name]!, name);
  let stored: string | undefined;
  try {
    stored = readStoredSettings(findProject({ file: composeFile }))['token-limit'];
  } catch (error) {
    // A bad value in the file is reported here (the settings checked it); an unreadable
    // file fails the poll itself with compose's message, so the limit is not the place for that.
    if (error instanceof UsageError) throw error;
  }
  return stored ?? 'max';
}

/** Where the JSON comes from: two ccusage calls, abortable so q quits without waiting for a slow poll. */
export interface BlocksSource {
  active(signal: AbortSignal): Promise<string>;
  /** Every block, for `max`. */
  all(signal: AbortSignal): Promise<string>;
}

interface Output {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
  on?(event: 'resize', fn: () => void): unknown;
  off?(event: 'resize', fn: () => void): unknown;
}
interface Input {
  isTTY?: boolean;
  setRawMode?(on: boolean): unknown;
  on(event: 'data', fn: (chunk: Buffer | string) => void): unknown;
  off(event: 'data', fn: (chunk: Buffer | string) => void): unknown;
  resume(): unknown;
  pause(): unknown;
}
interface Signals {
  on(signal: NodeJS.Signals | 'exit', fn: () => void): unknown;
  off(signal: NodeJS.Signals | 'exit', fn: () => void): unknown;
}

export interface LiveIO {
  out: Output;
  input: Input;
  signals: Signals;
  now(): Date;
  env: NodeJS.ProcessEnv;
}

function processIO(): LiveIO {
  return { out: process.stdout, input: process.stdin, signals: process, now: () => new Date(), env: process.env };
}

const QUIT_KEYS: Record<string, number> = { q: 0, Q: 0, '\x03': 130 };
const QUIT_SIGNALS: Array<[NodeJS.Signals, number]> = [
  ['SIGINT', 130],
  ['SIGTERM', 143],
  ['SIGHUP', 129],
];

// Alternate screen + hidden cursor + no auto-wrap (long lines are clipped, so the frame never scrolls).
const ENTER = '\x1b[?1049h\x1b[?25l\x1b[?7l';
const LEAVE = '\x1b[?7h\x1b[?25h\x1b[?1049l';

/** The terminal state the view changes, and the one way to undo all of it. */
function takeTerminal(io: LiveIO, onKey: (key: string) => void): () => void {
  const { out, input } = io;
  const raw = Boolean(input.isTTY && input.setRawMode);
  const onData = (chunk: Buffer | string) => {
    for (const key of String(chunk)) onKey(key);
  };
  // If something kills the process mid-loop, the 'exit' hook still restores the screen.
  let restored = false;
  const restore = () => {
    if (restored) return;
    restored = true;
    if (raw) {
      input.off('data', onData);
      input.setRawMode!(false);
      input.pause();
    }
    io.signals.off('exit', restore);
    out.write(LEAVE);
  };
  out.write(ENTER);
  io.signals.on('exit', restore);
  if (raw) {
    input.setRawMode!(true);
    input.on('data', onData);
    input.resume();
  }
  return restore;
}

const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e)).split('\n')[0]!;

/**
 * Runs the view until q, Ctrl-C, a signal, `--once`, or MAX_FAILURES failed
 * polls in a row. Resolves with the exit code: 0 for q and --once, 128+signal
 * for Ctrl-C (130) and signals, like the other commands of this family.
 */
export async function runLiveView(options: LiveOptions, limitSetting: string, source: BlocksSource, io: LiveIO = processIO()): Promise<number> {
  const screen = Boolean(io.out.isTTY) && !options.once;
  const abort = new AbortController();
  let code: number | undefined;
  let wake = () => {};
  const stop = (c: number) => {
    if (code !== undefined) return;
    code = c;
    abort.abort();
    wake();
  };
  const handlers = QUIT_SIGNALS.map(([sig, c]) => [sig, () => stop(c)] as const);
  for (const [sig, fn] of handlers) io.signals.on(sig, fn);

  let block: Block | undefined;
  let error: string | undefined;
  let limit: TokenLimit | undefined;
  const draw = () => {
    const frame = { now: io.now(), limit, columns: io.out.columns, error, intervalSeconds: options.intervalSeconds };
    if (screen) {
      const color = !io.env.NO_COLOR;
      io.out.write(`\x1b[H${renderFrame(block, { ...frame, color }).join('\x1b[K\n')}\x1b[K\x1b[J`);
    } else if (io.out.isTTY) {
      // --once on a terminal: the full frame, printed once, without the quit hint.
      io.out.write(`${renderFrame(block, { ...frame, intervalSeconds: undefined }).slice(0, -2).join('\n')}\n`);
    } else {
      io.out.write(`${renderLine(block, frame)}\n`);
    }
  };
  const restore = screen ? takeTerminal(io, (key) => key in QUIT_KEYS && stop(QUIT_KEYS[key]!)) : undefined;
  if (screen) io.out.on?.('resize', draw);

  try {
    // `max` is the biggest finished block; it only changes when a block ends, so it is fetched then.
    let limitFor: string | undefined = '';
    const refreshLimit = async (activeId: string | undefined) => {
      if (limitSetting !== 'max') {
        limit = { tokens: Number(limitSetting), source: 'set' };
      } else if (activeId !== limitFor) {
        limit = { tokens: maxPreviousTokens(parseBlocks(await source.all(abort.signal))), source: 'max' };
        limitFor = activeId;
      }
    };
    let failures = 0;
    while (code === undefined) {
      try {
        block = activeBlock(parseBlocks(await source.active(abort.signal)));
        await refreshLimit(block?.id);
        error = undefined;
        failures = 0;
      } catch (e) {
        if (code !== undefined) break;
        if (options.once || ++failures >= MAX_FAILURES) throw e;
        error = errorText(e);
      }
      draw();
      if (options.once || code !== undefined) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, options.intervalSeconds * 1000);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  } finally {
    if (screen) io.out.off?.('resize', draw);
    restore?.();
    for (const [sig, fn] of handlers) io.signals.off(sig, fn);
  }
  return code ?? 0;
}
