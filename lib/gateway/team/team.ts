/**
 * Team mode as the server's passes see it: `admit` replaces the authenticate
 * pass for the Messages API (member token in, real key out), and the pass it
 * returns reserves the request's estimate against the member's budgets and
 * in-flight cap once the body is in (reservation.ts). `serve` answers the
 * admin API and the dashboard. Each admitted request leaves one ledger row
 * once its usage is known, and that row settles its reservation.
 */
import { type ApiErrorType, GatewayFailure } from '../api-error.js';
import type { Refusal } from '../authenticate.js';
import { boundedText, MODEL_NAME_LIMIT, PROJECT_NAME_LIMIT } from '../bounds.js';
import type { TeamCredential } from '../config.js';
import type { Exchange } from '../exchange.js';
import type { Headers } from '../headers.js';
import { logEvent, type LogWriter, type RequestLog } from '../log.js';
import { serveAdmin } from './admin.js';
import type { TeamConfig } from './config.js';
import { serveDashboard } from './dashboard.js';
import { Ledger } from './ledger.js';
import { PostgresLedger, type TeamLedger } from './pg-ledger.js';
import { presentedToken, tokenHash } from './members.js';
import { estimateCost, WEB_SEARCH_PRICE } from './pricing.js';
import { type Estimate, estimateRequest, FREE, requestFacts } from './reservation.js';
import { LedgerStore, type LedgerRow, type MemberRecord } from './store.js';
import { Uploads } from './uploads.js';

/** The member's local gateway names the project in this header; it never goes upstream. */
export const PROJECT_HEADER = 'x-cctl-project';

/** A member's request, authenticated; `reserve` admits it against budgets once its body is in. */
export interface MemberPass {
  member: string;
  /** The token checked before the body is read (Postgres: asked once, then remembered): a stranger's body is never buffered. */
  ready(): Promise<Refusal | undefined>;
  /** A refusal, or undefined when admitted (the reservation is then the exchange's). */
  reserve(body: Buffer, billed: boolean): Promise<Refusal | undefined>;
}

export interface TeamGateway {
  /** Answers /dashboard and /admin/api/*; false for any other path. */
  serve(exchange: Exchange, target: URL): boolean;
  /** For an API request: a refusal, or the member's pass with the real credential set on `outgoing`. */
  admit(exchange: Exchange, outgoing: Headers): Refusal | MemberPass;
  readonly ledger: TeamLedger;
  /** Certificate and key, when the team gateway serves HTTPS itself. */
  readonly tls?: { cert: Buffer; key: Buffer };
  close(): Promise<void>;
}

function projectOf(headers: Headers): string {
  const value = headers[PROJECT_HEADER];
  const text = boundedText((Array.isArray(value) ? value[0] : value)?.trim() ?? '', PROJECT_NAME_LIMIT).trim();
  return text || '(none)';
}

/**
 * The ledger row for a finished exchange: counts exactly as the upstream
 * reported them, or, when a successful reply's usage could not be read, the
 * request's maximum (`charge`, its reservation estimate), flagged; a stream
 * cut after message_start keeps its input and cache counts, which are final.
 */
export function rowOf(entry: RequestLog, member: string, project: string, time: number, charge?: Estimate): LedgerRow {
  const usage = entry.usage ?? {};
  const row: LedgerRow = {
    time,
    member,
    project: boundedText(project, PROJECT_NAME_LIMIT),
    model: entry.model === undefined ? '(unknown)' : boundedText(entry.model, MODEL_NAME_LIMIT),
    status: entry.status,
    durationMs: entry.durationMs,
    inputTokens: usage.input_tokens ?? 0,
    outputTokens: usage.output_tokens ?? 0,
    cacheCreationTokens: usage.cache_creation_input_tokens ?? 0,
    cacheReadTokens: usage.cache_read_input_tokens ?? 0,
    cost: 0,
  };
  const searches = (usage.web_search_requests ?? 0) * WEB_SEARCH_PRICE;
  row.cost = estimateCost(row.model, row) + searches;
  if (entry.usageUnread && charge) {
    row.usageUnread = true;
    // A cancelled answer keeps message_start's counts: charged as the body's bytes at the cache-write price, a
    // 200 KB Sonnet request (mostly cache reads, worth cents) cost $1.23, and every Esc cost that much.
    const exactInput = usage.input_tokens !== undefined;
    if (!exactInput) Object.assign(row, { inputTokens: charge.inputTokens, cacheCreationTokens: 0, cacheReadTokens: 0 });
    row.outputTokens = Math.max(row.outputTokens, charge.outputTokens);
    row.cost = exactInput ? estimateCost(row.model, row) + searches : charge.cost;
  }
  const error = entry.error ?? entry.errorType ?? (entry.usageUnread ? `usage unread: ${entry.usageUnread}` : undefined);
  if (error) row.error = error.slice(0, 300);
  return row;
}

/**
 * Where member tokens are looked up, so that a revoke counts at once: SQLite
 * answers synchronously from a reader connection on every request, before
 * the body is read; Postgres (shared by replicas) answers asynchronously,
 * also before the body is read (ready()), from the replica's memory for a
 * token seen before: the reservation then admits only while the token is
 * still active, in the same round trip.
 */
type Lookup =
  | { sync: (hash: string) => MemberRecord | undefined; close(): void }
  | { async: (hash: string) => Promise<MemberRecord | undefined>; close(): void };

export async function createTeamGateway(
  config: TeamConfig,
  credential: TeamCredential,
  write: LogWriter,
  now: () => number = Date.now,
): Promise<TeamGateway> {
  let ledger: TeamLedger;
  let lookup: Lookup;
  if (config.ledgerUrl) {
    const pg = await PostgresLedger.open({ url: config.ledgerUrl, retentionDays: config.retentionDays, log: write });
    ledger = pg;
    lookup = { async: (hash) => pg.memberByTokenHash(hash), close: () => {} };
  } else {
    const reader = new LedgerStore(config.ledgerPath);
    ledger = new Ledger({ path: config.ledgerPath, retentionDays: config.retentionDays, log: write });
    lookup = { sync: (hash) => reader.memberByTokenHash(hash), close: () => reader.close() };
  }
  const uploads = new Uploads();
  const unknownToken =
    'This team gateway does not accept this member token: it was revoked or never issued here. Ask your team admin for a new one ("cctl gateway member add NAME").';

  /**
   * A refusal. `final` ones cannot be fixed by trying again (a revoked
   * token, a spent budget): `x-should-retry: false` is the header the
   * Anthropic SDKs obey before their own rules; without it Claude Code
   * retries a 401 about ten times, backing off for minutes, before it tells
   * the member anything. A request refused because others are in flight is
   * worth retrying, and Claude Code does so by itself.
   */
  const refuse = (
    exchange: Exchange,
    status: number,
    type: ApiErrorType,
    message: string,
    reason: string,
    options: { retryAfter?: number; final?: boolean } = {},
  ): Refusal => {
    if (options.final !== false) exchange.res.setHeader('x-should-retry', 'false');
    if (options.retryAfter !== undefined) exchange.res.setHeader('retry-after', String(options.retryAfter));
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
      void serveAdmin(exchange.req, exchange.res, target, { adminToken: config.adminToken, ledger });
      return true;
    },
    admit(exchange, outgoing) {
      const token = presentedToken(exchange.req.headers);
      if (!token) {
        return refuse(
          exchange,
          401,
          'authentication_error',
          'No member token. Your local gateway sends it: run "cctl init --team-gateway URL" with the token your team admin gave you.',
          'no member token',
        );
      }
      const hash = tokenHash(token);
      // undefined until the asynchronous lookup has answered (Postgres).
      let member: MemberRecord | undefined;
      if ('sync' in lookup) {
        member = lookup.sync(hash);
        if (!member) return refuse(exchange, 401, 'authentication_error', unknownToken, 'member token rejected');
      }
      let uploaded = () => {};
      exchange.res.once('close', () => uploaded());
      const project = projectOf(exchange.req.headers);
      const started = now();
      let reservation: number | undefined;
      let charge: Estimate | undefined;
      let logged = false;
      // Set before admission, so that a refusal is a ledger row too (it counts as an error).
      // The promise is the row's commit: a relayed reply ends only after it (exchange.ts).
      exchange.onLogged = (entry) => {
        logged = true;
        // A request whose token was never looked up (it left while its body came in) leaves no row, as an unknown token leaves none.
        if (!member) return undefined;
        const row = rowOf(entry, member.name, project, started, charge);
        if (reservation !== undefined) row.reservation = reservation;
        return ledger.record(row);
      };

      delete outgoing[PROJECT_HEADER];
      delete outgoing.authorization;
      delete outgoing['x-api-key'];
      if (credential.kind === 'api-key') outgoing['x-api-key'] = credential.value;
      else outgoing.authorization = `Bearer ${credential.value}`;

      return {
        get member() {
          return member?.name ?? '';
        },
        async ready() {
          if (!member && 'async' in lookup) {
            try {
              member = await lookup.async(hash);
            } catch (error) {
              return refuse(
                exchange,
                503,
                'api_error',
                'The team gateway could not reach its ledger to check the member token; try again shortly.',
                `member lookup failed: ${(error as Error).message}`,
                { final: false, retryAfter: 2 },
              );
            }
          }
          if (!member || exchange.res.destroyed)
            return refuse(exchange, 401, 'authentication_error', unknownToken, 'member token rejected');
          const place = uploads.take(hash, member.maxInFlight ?? config.maxInFlight);
          if (typeof place === 'number') {
            const message = `Member "${member.name}" has ${place} request bodies still uploading, the most this gateway holds at once; try again when one is in.`;
            return refuse(exchange, 429, 'rate_limit_error', message, `${member.name}: ${place} bodies uploading`, {
              final: false,
              retryAfter: 1,
            });
          }
          uploaded = place;
          return undefined;
        },
        async reserve(body, billed) {
          uploaded();
          if (!member) return refuse(exchange, 401, 'authentication_error', unknownToken, 'member token rejected');
          const facts = billed ? requestFacts(body) : {};
          const estimate = billed ? estimateRequest(facts.model, facts.maxTokens, body.length) : FREE;
          let result;
          try {
            result = await ledger.reserve({
              member: member.name,
              tokenHash: hash,
              time: now(),
              estimate,
              defaultMaxInFlight: config.maxInFlight,
            });
          } catch (error) {
            return refuse(
              exchange,
              503,
              'api_error',
              'The team gateway could not reach its ledger to check the budget; try again shortly.',
              `reservation failed: ${(error as Error).message}`,
              { final: false, retryAfter: 2 },
            );
          }
          if (result.ok) {
            // The client left while the ledger answered: its row is written already, without this reservation.
            if (logged) ledger.release(result.id);
            reservation = result.id;
            charge = estimate;
            return undefined;
          }
          if (result.kind === 'no-member') {
            // Revoked or replaced since the lookup (on Postgres, a replica's remembered lookup: pg-ledger.ts).
            // Forgotten, so that the refusal leaves no row, as an unknown token leaves none on either store.
            member = undefined;
            return refuse(exchange, 401, 'authentication_error', unknownToken, 'member token rejected');
          }
          if (result.kind === 'in-flight') {
            return refuse(
              exchange,
              429,
              'rate_limit_error',
              `Member "${member.name}" has ${result.count} requests in flight, the most this gateway allows at once; try again when one ends (a team admin can change it with "cctl gateway member budget --max-in-flight").`,
              `${member.name}: ${result.cap} requests in flight`,
              { final: false, retryAfter: 1 },
            );
          }
          const over = result.refusal;
          if (over.kind === 'held') {
            return refuse(exchange, 429, 'rate_limit_error', over.message, `${member.name}: ${over.limit} held by requests in flight`, {
              final: false,
              retryAfter: 2,
            });
          }
          return refuse(exchange, 429, 'rate_limit_error', over.message, `${member.name}: ${over.limit} reached`, {
            retryAfter: Math.ceil((over.resetsAt.getTime() - now()) / 1000),
          });
        },
      };
    },
    async close() {
      await ledger.close();
      lookup.close();
      logEvent(write, 'ledger-closed');
    },
  };
}
