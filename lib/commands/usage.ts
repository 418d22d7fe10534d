/**
 * `cctl usage [report] [args…]` runs `ccusage claude <report> args…` in
 * claude-cli: the Claude-only reports, whose stdout is exactly ccusage's (so
 * `--json | jq` works). `blocks --live` is the one thing answered here, since
 * ccusage 18 dropped it.
 */
import type { GlobalOptions } from '../kernel/argv.js';
import { UsageError } from '../kernel/errors.js';
import { execCapture, execInteractive, requireComposeFile } from '../ops/exec.js';

// statusline reads Claude Code's status-line hook JSON on stdin (ccusage 20): `cctl usage statusline < hook.json`.
export const REPORTS = ['daily', 'weekly', 'monthly', 'session', 'blocks', 'statusline'] as const;
export type Report = (typeof REPORTS)[number];
export const DEFAULT_REPORT: Report = 'daily';

/** The report and its args; a leading flag (`cctl usage --json`) means the default report. */
export function splitReport(args: readonly string[]): { report: Report; rest: string[] } {
  const [first, ...more] = args;
  if (first === undefined || first.startsWith('-')) return { report: DEFAULT_REPORT, rest: [...args] };
  if (!(REPORTS as readonly string[]).includes(first)) {
    throw new UsageError(
      `Unknown usage report "${first}".`,
      `Reports: ${REPORTS.join(', ')} (default ${DEFAULT_REPORT}). Example: cctl usage monthly --json`,
    );
  }
  return { report: first as Report, rest: more };
}

export function ccusageCommand(report: Report, rest: readonly string[]): string[] {
  return ['ccusage', 'claude', report, ...rest];
}

export default async function usage(args: string[], globals: GlobalOptions): Promise<number> {
  if (args.includes('--team')) return team(args.filter((a) => a !== '--team'));
  const { report, rest } = splitReport(args);
  if (report === 'blocks' && rest.includes('--live')) return live(rest, globals);
  return execInteractive(globals, { command: ccusageCommand(report, rest) });
}

/** Loaded only for --live: the view and its YAML reader cost ~30 ms of start-up that plain reports should not pay. */
async function live(args: string[], globals: GlobalOptions): Promise<number> {
  const { configuredTokenLimit, parseLiveArgs, POLL_TIMEOUT_MS, runLiveView } = await import('../ops/live-view.js');
  const { live: options, rest } = parseLiveArgs(args)!;
  const project = requireComposeFile(globals);
  const limit = options.tokenLimit ?? configuredTokenLimit(project.file);
  const poll = (extra: string[]) => async (signal: AbortSignal) =>
    (await execCapture(globals, ccusageCommand('blocks', [...extra, '--json', ...rest]), { timeoutMs: POLL_TIMEOUT_MS, signal })).stdout;
  const source = { active: poll(['--active']), all: poll([]) };
  return runLiveView(options, limit, source);
}

/** `--team [daily|monthly|member|model] [--json] [--gateway-url URL] [--ca-cert FILE]`: the team gateway's ledger (ops/team-usage.ts). */
async function team(args: string[]): Promise<number> {
  const { fetchTeamUsage, teamAccess, teamReportOf, teamUsageTable } = await import('../ops/team-usage.js');
  const { formatTable } = await import('../ui/table.js');
  const values: Record<string, string | undefined> = {};
  const rest: string[] = [];
  for (let i = 0; i < args.length; i += 1) {
    const a = args[i]!;
    if (a === '--gateway-url' || a === '--ca-cert') {
      if (args[i + 1] === undefined) throw new UsageError(`${a} needs a value.`);
      values[a] = args[(i += 1)];
    } else rest.push(a);
  }
  const unknown = rest.filter((a) => a.startsWith('-') && a !== '--json');
  if (unknown.length)
    throw new UsageError(
      `cctl usage --team does not take ${unknown.join(' ')}.`,
      'It takes a report (daily, monthly, member, model), --json, --gateway-url URL and --ca-cert FILE.',
    );
  const report = teamReportOf(rest.find((a) => !a.startsWith('-')));
  const rows = await fetchTeamUsage(teamAccess({ gatewayUrl: values['--gateway-url'], caCert: values['--ca-cert'] }), report);
  if (rest.includes('--json')) process.stdout.write(`${JSON.stringify({ report, rows }, null, 2)}\n`);
  else process.stdout.write(formatTable(teamUsageTable(report, rows)));
  return 0;
}
