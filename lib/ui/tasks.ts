/**
 * listr2 task lists: a live list on a terminal, plain lines in CI or a pipe,
 * nothing at all under --json (stdout then holds one JSON document).
 */
import { Listr, LISTR_LOGGER_STDERR_LEVELS, ListrLogger, ListrLogLevels, type ListrTask, type LoggerFieldOptions } from 'listr2';

export type Presentation = 'live' | 'plain' | 'silent';

export function presentation(json: boolean, stream: NodeJS.WriteStream = process.stdout, env = process.env): Presentation {
  if (json) return 'silent';
  return stream.isTTY && !env.CI ? 'live' : 'plain';
}

/**
 * The simple renderer prints a failed task's error after its title
 * ("[FAILED: ...]"), and cctl reports it right after with its hint
 * (failure-report.ts), so every failure stood twice. The task line says which step
 * failed ("✖ Start the claude profile [FAILED]"); the message is said once.
 */
class TitleOfFailure extends ListrLogger {
  override log(level: string, message: string | unknown[], options?: LoggerFieldOptions): void {
    const suffix = options?.suffix;
    if (level === ListrLogLevels.FAILED && typeof suffix === 'object' && !Array.isArray(suffix) && typeof suffix.field === 'string') {
      options = { ...options, suffix: { ...suffix, field: ListrLogLevels.FAILED } };
    }
    super.log(level, message as string, options);
  }
}

export function taskList<Ctx extends object>(tasks: ListrTask<Ctx>[], mode: Presentation) {
  const logger = mode === 'plain' ? new TitleOfFailure({ useIcons: true, toStderr: LISTR_LOGGER_STDERR_LEVELS }) : undefined;
  return new Listr<Ctx>(tasks, {
    renderer: mode === 'live' ? 'default' : mode === 'plain' ? 'simple' : 'silent',
    fallbackRenderer: 'simple',
    rendererOptions: { collapseSubtasks: false, showErrorMessage: false, ...(logger ? { logger } : {}) },
    exitOnError: true,
    // cctl handles Ctrl-C itself: it stops waiting and exits 130.
    registerSignalListeners: false,
  } as never);
}
