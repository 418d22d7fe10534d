/**
 * listr2 task lists: a live list on a terminal, plain lines in CI or a pipe,
 * nothing at all under --json (stdout then holds one JSON document).
 */
import { Listr, type ListrTask } from 'listr2';

export type Presentation = 'live' | 'plain' | 'silent';

export function presentation(json: boolean, stream: NodeJS.WriteStream = process.stdout, env = process.env): Presentation {
  if (json) return 'silent';
  return stream.isTTY && !env.CI ? 'live' : 'plain';
}

export function taskList<Ctx extends object>(tasks: ListrTask<Ctx>[], mode: Presentation) {
  return new Listr<Ctx>(tasks, {
    renderer: mode === 'live' ? 'default' : mode === 'plain' ? 'simple' : 'silent',
    fallbackRenderer: 'simple',
    rendererOptions: { collapseSubtasks: false, showErrorMessage: false },
    exitOnError: true,
    // cctl handles Ctrl-C itself: it stops waiting and exits 130.
    registerSignalListeners: false,
  } as never);
}
