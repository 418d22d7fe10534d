/**
 * The terminal as a full-screen view takes it (like top): the alternate
 * screen without a cursor or line wrap, keys read in raw mode, the keys that
 * quit, a frame drawn over the last one, and the one way to put all of it
 * back, whatever the way out is. The streams are passed in, so a test can
 * watch every byte.
 */

export interface TerminalOutput {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
  on?(event: 'resize', fn: () => void): unknown;
  off?(event: 'resize', fn: () => void): unknown;
}
export interface TerminalInput {
  isTTY?: boolean;
  setRawMode?(on: boolean): unknown;
  on(event: 'data', fn: (chunk: Buffer | string) => void): unknown;
  off(event: 'data', fn: (chunk: Buffer | string) => void): unknown;
  resume(): unknown;
  pause(): unknown;
}
/** The process's signals and its 'exit' event (process itself, or a test's stand-in). */
export interface Signals {
  on(signal: NodeJS.Signals | 'exit', fn: () => void): unknown;
  off(signal: NodeJS.Signals | 'exit', fn: () => void): unknown;
}

/** Keys that quit a full-screen view, with the exit code each means (Ctrl-C: 128 + SIGINT). */
export const QUIT_KEYS: Readonly<Record<string, number>> = { q: 0, Q: 0, '\x03': 130 };

// Alternate screen + hidden cursor + no auto-wrap (long lines are clipped, so the frame never scrolls).
const ENTER = '\x1b[?1049h\x1b[?25l\x1b[?7l';
const LEAVE = '\x1b[?7h\x1b[?25h\x1b[?1049l';

/** A frame over the last one: from the top left, each line cleared to its end, the rest of the screen cleared. */
export function frameText(lines: readonly string[]): string {
  return `\x1b[H${lines.join('\x1b[K\n')}\x1b[K\x1b[J`;
}

/**
 * Takes the terminal: the alternate screen, and raw-mode keys to `onKey`
 * when the input is a terminal. Returns the undo, which an 'exit' hook also
 * runs if something ends the process first; running it twice is harmless.
 */
export function takeTerminal(out: TerminalOutput, input: TerminalInput, signals: Signals, onKey: (key: string) => void): () => void {
  const raw = Boolean(input.isTTY && input.setRawMode);
  const onData = (chunk: Buffer | string) => {
    for (const key of String(chunk)) onKey(key);
  };
  let restored = false;
  const restore = () => {
    if (restored) return;
    restored = true;
    if (raw) {
      input.off('data', onData);
      input.setRawMode!(false);
      input.pause();
    }
    signals.off('exit', restore);
    out.write(LEAVE);
  };
  out.write(ENTER);
  signals.on('exit', restore);
  if (raw) {
    input.setRawMode!(true);
    input.on('data', onData);
    input.resume();
  }
  return restore;
}
