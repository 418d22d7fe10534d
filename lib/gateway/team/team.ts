/**
 * Team mode as the server's passes see it: `admit` replaces the authenticate
 * pass for /v1 (member token in, real key out, budget checked), `serve`
 * answers the admin API and the dashboard, and each admitted request leaves
 * one ledger row once its usage is known.
 */
import { type ApiErrorType, GatewayFailure } from '../api-error.js';
import type { Refusal } from '../authenticate.js';
import type { TeamCredential } from '../config.js';
import type { Exchange } from '../exchange.js';
import type { Headers } from '../headers.js';
import { logEvent, type LogWriter, type RequestLog } from '../log.js';
import { serveAdmin } from './admin.js';
import { SpendMeter } from './budgets.js';
import type { TeamConfig } from './config.js';
import { serveDashboard } from './dashboard.js';
import { Ledger } from './ledger.js';
import { presentedToken, tokenHash } from './members.js';
import { estimateCost } from './pricing.js';
import { dayOf, LedgerStore, type LedgerRow } from './store.js';

/** The member's local gateway names the project in this header; it never goes upstream. */
export const PROJECT_HEADER = 'x-cctl-project';

export interface TeamGateway {
  /** Answers /dashboard and /admin/api/*; false for any other path. */
  serve(exchange: Exchange, target: URL): boolean;
  /** For an API request: a refusal, or undefined with the real credential set on `outgoing`. */
  admit(exchange: Exchange, outgoing: Headers): Refusal | undefined;
  readonly ledger: Ledger;
  /** Certificate and key, when the team gateway serves HTTPS itself. */
  readonly tls?: { cert: Buffer; key: Buffer };
  close(): Promise<void>;
}

function projectOf(headers: Headers): string {
  const value = headers[PROJECT_HEADER];
  const text = (Array.isArray(value) ? value[0] : value)?.trim() ?? '';
  return /^[\x20-\x7e]{1,100}$/.test(text) ? text : '(none)';
}

/** The ledger row for a finished exchange: counts exactly as the upstream reported them. */
export function rowOf(entry: RequestLog, member: string, project: string, time: number): LedgerRow {
  const usage = entry.usage ?? {};
  const row: LedgerRow = {
    time,
    member,
    project,
    model: entry.model ?? '(unknown)',
    status: entry.status,
    durationMs: entry.durationMs,
    inputTokens: usage.input_tokens ?? 0,
    outputTokens: usage.output_tokens ?? 0,
    cacheCreationTokens: usage.cache_creation_input_tokens ?? 0,
    cacheReadTokens: usage.cache_read_input_tokens ?? 0,
    cost: 0,
  };
  row.cost = estimateCost(row.model, row);
  const error = entry.error ?? entry.errorType;
  if (error) row.error = error.slice(0, 300);
  return row;
}

export function createTeamGateway(config: TeamConfig, credential: TeamCredential, write: LogWriter, now: () => number = Date.now): TeamGateway {
  // The reader connection on the request path: one indexed lookup per
  // request, so `member revoke` (another connection) counts at once.
  const reader = new LedgerStore(config.ledgerPath);
  const ledger = new Ledger({ path: config.ledgerPath, retentionDays: config.retentionDays, log: write });
  const meter = new SpendMeter(now);
  // Budgets continue where they were: this month's spend so far, per member and day.
  const today = dayOf(now());
  for (const row of reader.usage({ by: ['day', 'member'], since: `${today.slice(0, 7)}-01` })) {
    meter.add({ member: row.member!, time: Date.parse(`${row.day}T12:00:00Z`), cost: row.cost, inputTokens: row.inputTokens,
      outputTokens: row.outputTokens, cacheCreationTokens: row.cacheCreationTokens, cacheReadTokens: row.cacheReadTokens });
  }

  /**
   * A refusal that trying again cannot fix (a revoked token, a spent budget).
   * `x-should-retry: false` is the header the Anthropic SDKs obey before their
   * own rules; without it Claude Code retries a 401 about ten times, backing
   * off for minutes, before it tells the member anything.
   */
  const refuse = (exchange: Exchange, status: number, type: ApiErrorType, message: string, reason: string, retryAfter?: number): Refusal => {
    exchange.res.setHeader('x-should-retry', 'false');
    if (retryAfter !== undefined) exchange.res.setHeader('retry-after', String(retryAfter));
    return { reason, failure: new GatewayFailure(status, type, message) };
  };

  return {
    ledger,
    ...(config.tls ? { tls: config.tls } : {}),
    serve(exchange, target) {
      if (target.pathname === '/dashboard' || target.pathname === '/dashboard/') {
        exchange.entry.bytesOut = serveDashboard(exchange.req, exchange.res);
        return true;
      }
      if (!target.pathname.startsWith('/admin/api/')) return false;
      void serveAdmin(exchange.req, exchange.res, target, { adminToken: config.adminToken, ledger, meter });
      return true;
    },
    admit(exchange, outgoing) {
      const token = presentedToken(exchange.req.headers);
      if (!token) {
        return refuse(exchange, 401, 'authentication_error', 'No member token. Your local gateway sends it: run "cctl init --team-gateway URL" with the token your team admin gave you.', 'no member token');
      }
      const member = reader.memberByTokenHash(tokenHash(token));
      if (!member) {
        return refuse(exchange, 401, 'authentication_error', 'This team gateway does not accept this member token: it was revoked or never issued here. Ask your team admin for a new one ("cctl gateway member add NAME").', 'member token rejected');
      }
      const project = projectOf(exchange.req.headers);
      const started = now();
      // Set before the budget check, so that a refusal is a ledger row too (it counts as an error).
      exchange.onLogged = (entry) => {
        const row = rowOf(entry, member.name, project, started);
        meter.add(row);
        ledger.record(row);
      };
      const over = meter.check(member.name, member);
      if (over) return refuse(exchange, 429, 'rate_limit_error', over.message, `${member.name}: ${over.limit} reached`, Math.ceil((over.resetsAt.getTime() - now()) / 1000));

      delete outgoing[PROJECT_HEADER];
      delete outgoing.authorization;
      delete outgoing['x-api-key'];
      if (credential.kind === 'api-key') outgoing['x-api-key'] = credential.value;
      else outgoing.authorization = `Bearer ${credential.value}`;

      return undefined;
    },
    async close() {
      await ledger.close();
      reader.close();
      logEvent(write, 'ledger-closed');
    },
  };
}
