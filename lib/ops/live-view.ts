/**
 * `cctl usage blocks --live`: ccusage 18 removed its live view, so this one
 * polls `ccusage claude blocks --active --json` (read by ccusage-blocks.ts)
 * and redraws. On a terminal it takes the screen (ui/terminal.ts: alternate
 * screen, q / Ctrl-C in raw mode, everything put back on the way out), and
 * draws ui/live-render.ts's frame. Without a terminal it prints one line per
 * refresh. Polls are bounded in time, and
 * repeated failures end the loop instead of spinning.
 */
import { readStoredSettings } from '../project/compose-file.js';
import { UsageError } from '../kernel/errors.js';
import { findProject } from '../project/locate.js';
import { envName } from '../project/settings.js';
import { coerce } from '../project/setting-layers.js';
import { renderFrame, renderLine, type Block, type TokenLimit } from '../ui/live-render.js';
import { frameText, QUIT_KEYS, takeTerminal, type Signals, type TerminalInput, type TerminalOutput } from '../ui/terminal.js';
import { activeBlock, maxPreviousTokens, parseBlocks } from './ccusage-blocks.js';

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

export interface LiveIO {
  out: TerminalOutput;
  input: TerminalInput;
  signals: Signals;
  now(): Date;
  env: NodeJS.ProcessEnv;
}

function processIO(): LiveIO {
  return { out: process.stdout, input: process.stdin, signals: process, now: () => new Date(), env: process.env };
}

const QUIT_SIGNALS: Array<[NodeJS.Signals, number]> = [
  ['SIGINT', 130],
  ['SIGTERM', 143],
  ['SIGHUP', 129],
];

const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e)).split('\n')[0]!;

/**
 * Runs the view until q, Ctrl-C, a signal, `--once`, or MAX_FAILURES failed
 * polls in a row. Resolves with the exit code: 0 for q and --once, 128+signal
 * for Ctrl-C (130) and signals, like the other commands of this family.
 */
export async function runLiveView(
  options: LiveOptions,
  limitSetting: string,
  source: BlocksSource,
  io: LiveIO = processIO(),
): Promise<number> {
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
      io.out.write(frameText(renderFrame(block, { ...frame, color })));
    } else if (io.out.isTTY) {
      // --once on a terminal: the full frame, printed once, without the quit hint.
      io.out.write(
        `${renderFrame(block, { ...frame, intervalSeconds: undefined })
          .slice(0, -2)
          .join('\n')}\n`,
      );
    } else {
      io.out.write(`${renderLine(block, frame)}\n`);
    }
  };
  const restore = screen ? takeTerminal(io.out, io.input, io.signals, (key) => key in QUIT_KEYS && stop(QUIT_KEYS[key]!)) : undefined;
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
