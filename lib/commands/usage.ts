/**
 * `cctl usage [report] [args…]` runs `ccusage claude <report> args…` in
 * claude-cli: the Claude-only reports, whose stdout is exactly ccusage's (so
 * `--json | jq` works). `blocks --live` is the one thing answered here, since
 * ccusage 18 dropped it.
 */
import type { GlobalOptions } from '../argv.js';
import { UsageError } from '../errors.js';
import { execCapture, execInteractive, requireComposeFile } from '../exec.js';
import { configuredTokenLimit, parseLiveArgs, POLL_TIMEOUT_MS, runLiveView, type BlocksSource } from '../live-view.js';

export const REPORTS = ['daily', 'weekly', 'monthly', 'session', 'blocks'] as const;
export type Report = (typeof REPORTS)[number];
export const DEFAULT_REPORT: Report = 'daily';

/** The report and its args; a leading flag (`cctl usage --json`) means the default report. */
export function splitReport(args: readonly string[]): { report: Report; rest: string[] } {
  const [first, ...more] = args;
  if (first === undefined || first.startsWith('-')) return { report: DEFAULT_REPORT, rest: [...args] };
  if (!(REPORTS as readonly string[]).includes(first)) {
    throw new UsageError(`Unknown usage report "${first}".`, `Reports: ${REPORTS.join(', ')} (default ${DEFAULT_REPORT}). Example: cctl usage monthly --json`);
  }
  return { report: first as Report, rest: more };
}

export function ccusageCommand(report: Report, rest: readonly string[]): string[] {
  return ['ccusage', 'claude', report, ...rest];
}

export default async function usage(args: string[], globals: GlobalOptions): Promise<number> {
  const { report, rest } = splitReport(args);
  const live = report === 'blocks' ? parseLiveArgs(rest) : undefined;
  if (!live) return execInteractive(globals, { command: ccusageCommand(report, rest) });

  const project = requireComposeFile(globals);
  const limit = live.live.tokenLimit ?? configuredTokenLimit(project.file);
  const poll = (extra: string[]) => async (signal: AbortSignal) =>
    (await execCapture(globals, ccusageCommand('blocks', [...extra, '--json', ...live.rest]), { timeoutMs: POLL_TIMEOUT_MS, signal })).stdout;
  const source: BlocksSource = { active: poll(['--active']), all: poll([]) };
  return runLiveView(live.live, limit, source);
}
