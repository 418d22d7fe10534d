/**
 * `cctl usage --team`: the team's figures from the team gateway's admin API.
 * Where the gateway is: --gateway-url / CCTL_TEAM_GATEWAY_URL, else the
 * gateway folder on this machine (the server itself). The admin token:
 * CCTL_ADMIN_TOKEN, else that folder's secrets/admin-token.
 */
import { CctlError, UsageError } from '../kernel/errors.js';
import { gatewayDir, localGatewayAccess } from '../project/team-gateway.js';

export const TEAM_REPORTS = { daily: 'day', monthly: 'month', member: 'member', model: 'model' } as const;
export type TeamReport = keyof typeof TEAM_REPORTS;

export interface TeamUsageRow {
  day?: string;
  month?: string;
  member?: string;
  model?: string;
  requests: number;
  errors: number;
  inputTokens: number;
  outputTokens: number;
  cacheCreationTokens: number;
  cacheReadTokens: number;
  totalTokens: number;
  cost: number;
}

export function teamReportOf(word: string | undefined): TeamReport {
  if (word === undefined) return 'daily';
  if (word in TEAM_REPORTS) return word as TeamReport;
  throw new UsageError(`Unknown team report "${word}".`, `Team reports: ${Object.keys(TEAM_REPORTS).join(', ')} (default daily). Example: cctl usage --team member --json`);
}

export function teamAccess(options: { gatewayUrl?: string; dir?: string }, env = process.env, cwd = process.cwd()): { url: string; adminToken: string } {
  const local = localGatewayAccess(gatewayDir(options.dir ?? env.CCTL_GATEWAY_DIR, cwd));
  const url = options.gatewayUrl ?? env.CCTL_TEAM_GATEWAY_URL ?? local?.url;
  const adminToken = env.CCTL_ADMIN_TOKEN?.trim() || local?.adminToken;
  if (!url || !adminToken) {
    throw new CctlError('cctl usage --team needs the team gateway and its admin token.', {
      hint: 'Run it on the gateway server (in or above its folder), or set CCTL_TEAM_GATEWAY_URL and CCTL_ADMIN_TOKEN (or pass --gateway-url).',
    });
  }
  return { url: url.replace(/\/+$/, ''), adminToken };
}

/** GET /admin/api/usage grouped for the report; errors say whose fault it is. */
export async function fetchTeamUsage(access: { url: string; adminToken: string }, report: TeamReport, timeoutMs = 10_000): Promise<TeamUsageRow[]> {
  const url = `${access.url}/admin/api/usage?by=${TEAM_REPORTS[report]}`;
  let response: Response;
  try {
    response = await fetch(url, { headers: { authorization: `Bearer ${access.adminToken}` }, signal: AbortSignal.timeout(timeoutMs) });
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
    throw new CctlError(`The team gateway at ${access.url} did not answer (${cause}).`, { hint: 'Check the URL, and "cctl gateway status" on the server.', cause: error });
  }
  if (response.status === 401) {
    throw new CctlError(`The team gateway at ${access.url} refused the admin token.`, { hint: 'Use the token in the gateway folder\'s secrets/admin-token (CCTL_ADMIN_TOKEN).' });
  }
  if (!response.ok) throw new CctlError(`The team gateway answered ${response.status}: ${(await response.text()).slice(0, 300)}`);
  return ((await response.json()) as { rows: TeamUsageRow[] }).rows;
}

const n = (v: number) => v.toLocaleString('en-US');

/** ccusage's columns, with the report's own first column, and a total line. */
export function teamUsageTable(report: TeamReport, rows: readonly TeamUsageRow[]): string[][] {
  const key = TEAM_REPORTS[report];
  const head = { day: 'Date', month: 'Month', member: 'Member', model: 'Model' }[key];
  const line = (first: string, r: Omit<TeamUsageRow, 'day' | 'month' | 'member' | 'model'>) => [
    first, n(r.inputTokens), n(r.outputTokens), n(r.cacheCreationTokens), n(r.cacheReadTokens), n(r.totalTokens), `$${r.cost.toFixed(2)}`, n(r.requests),
  ];
  const total = rows.reduce(
    (t, r) => ({
      requests: t.requests + r.requests, errors: t.errors + r.errors, inputTokens: t.inputTokens + r.inputTokens, outputTokens: t.outputTokens + r.outputTokens,
      cacheCreationTokens: t.cacheCreationTokens + r.cacheCreationTokens, cacheReadTokens: t.cacheReadTokens + r.cacheReadTokens, totalTokens: t.totalTokens + r.totalTokens, cost: t.cost + r.cost,
    }),
    { requests: 0, errors: 0, inputTokens: 0, outputTokens: 0, cacheCreationTokens: 0, cacheReadTokens: 0, totalTokens: 0, cost: 0 },
  );
  const table = [
    [head, 'Input', 'Output', 'Cache Create', 'Cache Read', 'Total Tokens', 'Cost (USD)', 'Requests'],
    ...rows.map((r) => line(String(r[key] ?? ''), r)),
    line('Total', total),
  ];
  // Figures right-aligned, as ccusage prints them: each column padded to its widest cell.
  const widths = table[0]!.map((_, i) => Math.max(...table.map((r) => r[i]!.length)));
  return table.map((r) => r.map((cell, i) => (i === 0 ? cell : cell.padStart(widths[i]!))));
}
