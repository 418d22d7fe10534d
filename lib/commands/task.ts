/**
 * `cctl task new|list|exec|claude|rm`: parallel Claude sessions, one per git
 * worktree, each with its own stack. The use cases are ops/task/; this file
 * parses the arguments and prints (text, or JSON with --json).
 */
import type { OptionsFor } from './declarations/verbs.js';
import { stripDoubleDash } from '../kernel/argv.js';
import { UsageError } from '../kernel/errors.js';
import { locateProject } from '../project/locate.js';
import { WORKSPACE } from '../ops/exec.js';
import { execInTask } from '../ops/task/exec.js';
import { listTasks, type TaskSummary } from '../ops/task/list.js';
import { checkTaskName } from '../ops/task/names.js';
import { newTask } from '../ops/task/new.js';
import { removeTask } from '../ops/task/rm.js';
import { formatTable } from '../ui/table.js';

type Options = OptionsFor<'task'>;

const ACTIONS = ['new', 'list', 'exec', 'claude', 'rm'] as const;
const out = (text: string) => void process.stdout.write(text);
const CLAUDE_WRAPPER = 'claude-wrapper.sh';

export default async function task(args: string[], options: Options): Promise<number> {
  const [action, ...rest] = args;
  const dash = rest.indexOf('--');
  const positional = dash < 0 ? rest : rest.slice(0, dash);
  const command = dash < 0 ? [] : stripDoubleDash(rest.slice(dash));
  if (!action || !(ACTIONS as readonly string[]).includes(action)) {
    throw new UsageError(
      action ? `"${action}" is not a task action.` : 'cctl task needs an action.',
      `Use one of: ${ACTIONS.join(', ')}. Run "cctl task --help" for examples.`,
    );
  }
  const project = locateProject(options);
  if (action === 'list') return list(await listTasks(project), options);
  const name = checkTaskName(positional[0], action);
  if (action === 'new') {
    const timeout = Number(options.timeout ?? 120);
    if (!Number.isFinite(timeout) || timeout <= 0) throw new UsageError(`--timeout must be a number of seconds, not "${options.timeout}".`);
    const made = await newTask(project, { name, from: options.from, branch: options.branch, timeoutMs: timeout * 1000 });
    if (options.json) return (out(`${JSON.stringify(made, null, 2)}\n`), 0);
    out(`Task ${made.name}: branch ${made.branch}, worktree ${made.worktree}, stack ${made.composeProject} healthy.\n`);
    out(`Next: cctl task claude ${name}   (or: cctl task exec ${name} -- git status)\n`);
    return 0;
  }
  if (action === 'rm') {
    const removed = await removeTask(project, name, { force: options.force === true });
    if (options.json) return (out(`${JSON.stringify(removed, null, 2)}\n`), 0);
    const kept = removed.branch ? ` Branch ${removed.branch} and its commits are kept (git branch -D ${removed.branch} deletes it).` : '';
    const lost = removed.discarded.length ? ` ${removed.discarded.length} uncommitted change(s) discarded.` : '';
    out(`Task ${name} removed: stack down, worktree gone.${lost}${kept}\n`);
    return 0;
  }
  if (action === 'claude')
    return execInTask(project, name, { command: [CLAUDE_WRAPPER, ...positional.slice(1), ...command], workdir: WORKSPACE });
  if (command.length === 0)
    throw new UsageError('cctl task exec needs a command after "--".', `Example: cctl task exec ${name} -- git status`);
  return execInTask(project, name, { command, workdir: WORKSPACE });
}

function list(tasks: TaskSummary[], options: Options): number {
  if (options.json) return (out(`${JSON.stringify(tasks, null, 2)}\n`), 0);
  if (tasks.length === 0) return (out('No tasks. Start one with "cctl task new NAME".\n'), 0);
  const rows = tasks.map((t) => [
    t.name,
    t.branch ?? '(detached)',
    t.state,
    t.health,
    t.lastActivity ?? '-',
    t.tokens ? String(t.tokens.total) : '-',
    t.worktree,
  ]);
  out(formatTable([['TASK', 'BRANCH', 'STATE', 'HEALTH', 'LAST ACTIVITY', 'TOKENS', 'WORKTREE'], ...rows]));
  return 0;
}
