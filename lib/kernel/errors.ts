/**
 * Errors written for users. Every failure that reaches the CLI boundary is a
 * CctlError (or becomes one there), so the exit code and message are decided
 * where the failure is understood, not guessed at the top.
 */
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;
export const EXIT_INTERRUPTED = 130;

export class CctlError extends Error {
  /** What to do about it, printed after the message. */
  readonly hint: string | undefined;
  readonly exitCode: number;

  constructor(message: string, options: { hint?: string; exitCode?: number; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = 'CctlError';
    this.hint = options.hint;
    this.exitCode = options.exitCode ?? EXIT_FAILED;
  }
}

export class UsageError extends CctlError {
  constructor(message: string, hint?: string) {
    super(message, { hint, exitCode: EXIT_USAGE });
    this.name = 'UsageError';
  }
}

/** Raised when the user interrupts (Ctrl-C); the CLI exits 130 quietly. */
export class InterruptedError extends CctlError {
  constructor() {
    super('Interrupted.', { exitCode: EXIT_INTERRUPTED });
    this.name = 'InterruptedError';
  }
}

/** Under --json a failed run still leaves one document on stdout: {"ok":false,"error":{message,hint}}. */
export function failureJson(failure: unknown): string {
  const e = failure instanceof CctlError ? failure : new CctlError(String((failure as Error)?.message ?? failure));
  return `${JSON.stringify({ ok: false, error: { message: e.message, hint: e.hint } })}\n`;
}
