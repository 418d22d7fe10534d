/** Task lists asserted by title, not by position (as np's test/_helpers/listr.js does). */
import type { Listr } from 'listr2';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyList = Listr<any, any, any>;

/** Each task's final title and state. */
export function taskStates(list: AnyList): Record<string, string> {
  return Object.fromEntries(list.tasks.map((task) => [String(task.title), String(task.state)]));
}

/** The state of the one task whose final title matches; fails when none or several match. */
export function stateOf(list: AnyList, title: string | RegExp): string {
  const found = list.tasks.filter((task) => (typeof title === 'string' ? task.title === title : title.test(String(task.title))));
  if (found.length !== 1) throw new Error(`${found.length} tasks match ${String(title)}: ${list.tasks.map((t) => t.title).join(' | ')}`);
  return String(found[0]!.state);
}
