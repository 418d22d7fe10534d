/**
 * An answer asked for at most once per process: the first call starts it,
 * later calls share it. A failure is not remembered, so a retry after the
 * user fixed something (started the daemon, installed Compose) can succeed.
 */
export interface Once<T> {
  get(): Promise<T>;
  /** Forget the answer (tests, or after the remembered one proved wrong). */
  reset(): void;
}

export function once<T>(ask: () => Promise<T>): Once<T> {
  let memo: Promise<T> | undefined;
  return {
    get() {
      if (!memo) {
        const started = ask();
        memo = started;
        started.catch(() => {
          if (memo === started) memo = undefined;
        });
      }
      return memo;
    },
    reset() {
      memo = undefined;
    },
  };
}
