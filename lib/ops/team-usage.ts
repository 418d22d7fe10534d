/**
 * `cctl usage --team`: the team's figures from the team gateway's admin API.
 * Where the gateway is: --gateway-url / CCTL_TEAM_GATEWAY_URL, else the
 * gateway folder on this machine (the server itself). The admin token:
 * CCTL_ADMIN_TOKEN, else that folder's secrets/admin-token. A gateway with a
 * self-signed (or private CA's) certificate is trusted through --ca-cert FILE
 * or CCTL_CA_CERT, on top of Node's own roots.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { rootCertificates } from 'node:tls';
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
  throw new UsageError(
    `Unknown team report "${word}".`,
    `Team reports: ${Object.keys(TEAM_REPORTS).join(', ')} (default daily). Example: cctl usage --team member --json`,
  );
}

export function teamAccess(
  options: { gatewayUrl?: string; dir?: string; caCert?: string },
  env = process.env,
  cwd = process.cwd(),
): { url: string; adminToken: string; caFile?: string } {
  const local = localGatewayAccess(gatewayDir(options.dir ?? env.CCTL_GATEWAY_DIR, cwd));
  const url = options.gatewayUrl ?? env.CCTL_TEAM_GATEWAY_URL ?? local?.url;
  const adminToken = env.CCTL_ADMIN_TOKEN?.trim() || local?.adminToken;
  if (!url || !adminToken) {
    throw new CctlError('cctl usage --team needs the team gateway and its admin token.', {
      hint: 'Run it on the gateway server (in or above its folder), or set CCTL_TEAM_GATEWAY_URL and CCTL_ADMIN_TOKEN (or pass --gateway-url).',
    });
  }
  const caFile = options.caCert ?? (env.CCTL_CA_CERT || undefined);
  return { url: url.replace(/\/+$/, ''), adminToken, ...(caFile ? { caFile } : {}) };
}

/** Node's roots plus the PEM in --ca-cert / CCTL_CA_CERT, or undefined (Node's defaults) when neither is given. */
export function trustedCas(caFile: string | undefined): string[] | undefined {
  if (!caFile) return undefined;
  let pem: string;
  try {
    pem = readFileSync(caFile, 'utf8');
  } catch (error) {
    throw new CctlError(`--ca-cert: cannot read ${caFile} (${(error as NodeJS.ErrnoException).code ?? error}).`, {
      hint: "Point --ca-cert (or CCTL_CA_CERT) at the gateway's certificate or its CA, in PEM.",
    });
  }
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new CctlError(`--ca-cert: ${caFile} holds no PEM certificate.`);
  return [...rootCertificates, pem];
}

const TLS_TRUST_ERRORS = /SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|CERT_UNTRUSTED|ALTNAME/;

function get(
  url: string,
  headers: Record<string, string>,
  ca: string[] | undefined,
  timeoutMs: number,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const client = url.startsWith('https:') ? https : http;
    const req = client.get(url, { headers, timeout: timeoutMs, ...(ca ? { ca } : {}) }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
    req.on('error', reject);
  });
}

/** GET /admin/api/usage grouped for the report; errors say whose fault it is. */
export async function fetchTeamUsage(
  access: { url: string; adminToken: string; caFile?: string },
  report: TeamReport,
  timeoutMs = 10_000,
): Promise<TeamUsageRow[]> {
  const url = `${access.url}/admin/api/usage?by=${TEAM_REPORTS[report]}`;
  let response: { status: number; body: string };
  try {
    response = await get(url, { authorization: `Bearer ${access.adminToken}` }, trustedCas(access.caFile), timeoutMs);
  } catch (error) {
    if (error instanceof CctlError) throw error;
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    const trust = TLS_TRUST_ERRORS.test(code);
    throw new CctlError(`The team gateway at ${access.url} did not answer (${code}).`, {
      hint: trust
        ? `Its certificate is not trusted here. For a self-signed gateway pass its certificate: --ca-cert FILE (or CCTL_CA_CERT=FILE)${access.caFile ? `; ${access.caFile} did not vouch for it (and the certificate must name the host in the URL)` : ''}.`
        : 'Check the URL, and "cctl gateway status" on the server.',
      cause: error,
    });
  }
  if (response.status === 401) {
    throw new CctlError(`The team gateway at ${access.url} refused the admin token.`, {
      hint: "Use the token in the gateway folder's secrets/admin-token (CCTL_ADMIN_TOKEN).",
    });
  }
  if (response.status < 200 || response.status > 299)
    throw new CctlError(`The team gateway answered ${response.status}: ${response.body.slice(0, 300)}`);
  return (JSON.parse(response.body) as { rows: TeamUsageRow[] }).rows;
}

const n = (v: number) => v.toLocaleString('en-US');

/** ccusage's columns, with the report's own first column, and a total line. */
export function teamUsageTable(report: TeamReport, rows: readonly TeamUsageRow[]): string[][] {
  const key = TEAM_REPORTS[report];
  const head = { day: 'Date', month: 'Month', member: 'Member', model: 'Model' }[key];
  const line = (first: string, r: Omit<TeamUsageRow, 'day' | 'month' | 'member' | 'model'>) => [
    first,
    n(r.inputTokens),
    n(r.outputTokens),
    n(r.cacheCreationTokens),
    n(r.cacheReadTokens),
    n(r.totalTokens),
    `$${r.cost.toFixed(2)}`,
    n(r.requests),
  ];
  const total = rows.reduce(
    (t, r) => ({
      requests: t.requests + r.requests,
      errors: t.errors + r.errors,
      inputTokens: t.inputTokens + r.inputTokens,
      outputTokens: t.outputTokens + r.outputTokens,
      cacheCreationTokens: t.cacheCreationTokens + r.cacheCreationTokens,
      cacheReadTokens: t.cacheReadTokens + r.cacheReadTokens,
      totalTokens: t.totalTokens + r.totalTokens,
      cost: t.cost + r.cost,
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
