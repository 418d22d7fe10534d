/**
 * The tokens a task used, by ccusage in the task's own claude-cli. Every task
 * shares the project's home volume (one login), and every one works in
 * /workspace, so Claude Code writes all their transcripts into the same
 * folder and ccusage alone cannot tell the tasks apart. Claude Code stamps
 * each transcript line with the git branch it ran on (`"gitBranch":"…"`):
 * the lines of the task's branch are copied into a throw-away folder, and
 * ccusage reads only that (CLAUDE_CONFIG_DIR), offline.
 */
import { execCapture } from '../../engine/compose-client.js';
import { CLI_SERVICE, type Project } from '../../project/locate.js';
import { projectInvocation } from '../compose.js';

export interface TaskTokens {
  input: number;
  output: number;
  cacheCreation: number;
  cacheRead: number;
  total: number;
  /** US dollars at ccusage's embedded prices. */
  cost: number;
}

// $1 is the exact bytes Claude Code writes for the branch (compact JSON), passed as an argument: never quoted into the script.
const SCRIPT = [
  'c="${CLAUDE_CONFIG_DIR:-$HOME/.claude}"',
  'd=$(mktemp -d) || exit 1',
  'mkdir -p "$d/projects/task"',
  'find "$c/projects" -name "*.jsonl" -type f -exec grep -hF -- "$1" {} + > "$d/projects/task/task.jsonl" 2>/dev/null',
  'CLAUDE_CONFIG_DIR="$d" ccusage claude daily --json --offline',
  's=$?',
  'rm -rf "$d"',
  'exit $s',
].join('\n');

/** The command run in the task's claude-cli (exported for the unit test: the branch stays an argument). */
export function tokensCommand(branch: string): string[] {
  return ['sh', '-c', SCRIPT, 'sh', `"gitBranch":${JSON.stringify(branch)}`];
}

/** ccusage's daily JSON (`{daily, totals}`) as a task's figures; no usage at all is zero, an unreadable answer undefined. */
export function parseTokens(stdout: string): TaskTokens | undefined {
  let doc: { totals?: Record<string, unknown>; daily?: unknown[] };
  try {
    doc = JSON.parse(stdout) as typeof doc;
  } catch {
    return undefined;
  }
  const totals = doc.totals ?? {};
  const n = (key: string) => (typeof totals[key] === 'number' ? (totals[key] as number) : 0);
  return {
    input: n('inputTokens'),
    output: n('outputTokens'),
    cacheCreation: n('cacheCreationTokens'),
    cacheRead: n('cacheReadTokens'),
    total: n('totalTokens'),
    cost: n('totalCost'),
  };
}

/** Tokens on the task's branch; undefined when the task's claude-cli does not answer (stopped, or ccusage failed). */
export async function taskTokens(task: Project, branch: string): Promise<TaskTokens | undefined> {
  try {
    const { stdout } = await execCapture(
      await projectInvocation(task),
      { service: CLI_SERVICE, command: tokensCommand(branch) },
      { timeoutMs: 30_000 },
    );
    return parseTokens(stdout);
  } catch {
    return undefined;
  }
}
