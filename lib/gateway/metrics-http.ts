/**
 * GET /metrics on either gateway, behind a token of its own
 * (CCTL_METRICS_TOKEN or _FILE; not the admin token, so a monitoring system
 * that holds it can read counters but no member's requests). Without a token
 * the route does not exist (404, as any unknown path).
 *
 * What it counts, and from where:
 * - this process: API requests in flight, their latency, the answers the
 *   gateway gave itself (budget and other refusals), upstream errors, and the
 *   local gateway's egress decisions by host. These come from the log lines
 *   every request and tunnel already writes (their shape is a contract,
 *   docs/CONTRACT.md), so no pass of the request path changes for metrics.
 * - the ledger (team mode): requests, the four kinds of tokens and cost by
 *   member and model, read from the daily roll-up on each scrape. The ledger
 *   is shared by every replica, so any replica reports the team's totals, and
 *   they are the ledger's figures exactly.
 */
import type http from 'node:http';
import { sameSecret } from './authenticate.js';
import type { LogWriter } from './log.js';
import { Counter, Registry, type Labels } from './metrics.js';
import { requestTarget } from './route.js';

export const METRICS_PATH = '/metrics';
/** Denied hosts are chosen by whoever runs in the workspace: past this many, new hosts count as "(other)". */
export const MAX_EGRESS_HOSTS = 200;
const LATENCY_BOUNDS = [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

/** The ledger's roll-up, as the metrics read it (the team gateway's ledger answers it). */
export interface LedgerTotalsSource {
  usage(query: { by: ('member' | 'model')[] }): Promise<
    {
      member?: string;
      model?: string;
      requests: number;
      errors: number;
      inputTokens: number;
      outputTokens: number;
      cacheCreationTokens: number;
      cacheReadTokens: number;
      cost: number;
    }[]
  >;
}

export interface MetricsOptions {
  token: string;
  ledger?: LedgerTotalsSource;
  /** Seconds the oldest recorded row has waited for its commit (0 when none waits). */
  ledgerLag?: () => number;
}

function routeLabel(path: string): string {
  return path === '/v1/messages' ? 'messages' : path === '/v1/messages/count_tokens' ? 'count_tokens' : 'other';
}

export class GatewayMetrics {
  readonly registry = new Registry();
  private readonly inFlight = this.registry.gauge('cctl_gateway_requests_in_flight', 'API requests this gateway process is handling now.');
  private readonly latency = this.registry.histogram(
    'cctl_gateway_request_duration_seconds',
    'Time from request to the end of the reply (streams included), by route.',
    LATENCY_BOUNDS,
  );
  private readonly answered = this.registry.counter('cctl_gateway_requests_total', 'API requests this process finished, by status code.');
  private readonly budgetRefusals = this.registry.counter(
    'cctl_gateway_budget_refusals_total',
    'Requests the gateway refused with 429 itself (a budget or the in-flight cap), not the upstream.',
  );
  private readonly refusals = this.registry.counter(
    'cctl_gateway_refusals_total',
    'Requests the gateway answered itself with a 4xx (bad token, unknown route, too large, budget), by status.',
  );
  private readonly upstreamErrors = this.registry.counter(
    'cctl_gateway_upstream_errors_total',
    'Upstream failures: a 5xx or 429 from the upstream (status), or no answer at all (status="none").',
  );
  private readonly egress = this.registry.counter(
    'cctl_egress_connections_total',
    'Egress tunnels and proxied requests, by decision and destination host.',
  );
  private readonly egressHosts = new Set<string>();

  constructor(private readonly options: MetricsOptions) {
    if (options.ledgerLag) {
      const lag = this.registry.gauge(
        'cctl_ledger_write_lag_seconds',
        'How long the oldest recorded request row has waited for its commit (0: none waiting).',
      );
      this.registry.onCollect(() => lag.set(options.ledgerLag!()));
    }
    if (options.ledger) this.registry.dynamic(() => ledgerFamilies(options.ledger!));
  }

  /** A log writer that counts what each line says, then passes it on unchanged. */
  observe(write: LogWriter): LogWriter {
    return (line) => {
      write(line);
      try {
        this.count(JSON.parse(line) as Record<string, unknown>);
      } catch {
        // Not JSON: nothing to count.
      }
    };
  }

  private count(line: Record<string, unknown>): void {
    if (line.event === 'egress') {
      const host = typeof line.host === 'string' ? line.host : '(none)';
      if (this.egressHosts.size < MAX_EGRESS_HOSTS) this.egressHosts.add(host);
      this.egress.inc({ decision: String(line.decision), host: this.egressHosts.has(host) ? host : '(other)' });
      return;
    }
    if (line.event !== undefined || typeof line.status !== 'number' || typeof line.path !== 'string' || !line.path.startsWith('/v1'))
      return;
    const status = line.status;
    this.answered.inc({ code: String(status) });
    const fromUpstream = typeof line.upstreamMs === 'number';
    if (fromUpstream && (status >= 500 || status === 429)) this.upstreamErrors.inc({ status: String(status) });
    else if (!fromUpstream && status >= 502 && status <= 504) this.upstreamErrors.inc({ status: 'none' });
    else if (!fromUpstream && status >= 400 && status < 500 && status !== 499) {
      this.refusals.inc({ code: String(status) });
      if (status === 429) this.budgetRefusals.inc();
    }
  }

  /**
   * Wraps the gateway's request handler: /metrics is answered before routing,
   * and every API request is counted in flight until its reply closes.
   */
  attach(server: http.Server): void {
    const handlers = server.listeners('request') as ((req: http.IncomingMessage, res: http.ServerResponse) => void)[];
    server.removeAllListeners('request');
    server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
      const path = requestTarget(req.url).pathname;
      if (path === METRICS_PATH && !/^[a-z]+:\/\//i.test(req.url ?? '')) {
        void this.serve(req, res);
        return;
      }
      if (path.startsWith('/v1')) this.track(res, routeLabel(path));
      for (const handler of handlers) handler.call(server, req, res);
    });
  }

  private track(res: http.ServerResponse, route: string): void {
    const started = process.hrtime.bigint();
    this.inFlight.add(1);
    res.once('close', () => {
      this.inFlight.add(-1);
      this.latency.observe(Number(process.hrtime.bigint() - started) / 1e9, { route });
    });
  }

  async serve(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
    if (!match?.[1] || !sameSecret(match[1], this.options.token)) {
      res.writeHead(401, { 'content-type': 'text/plain; charset=utf-8', 'www-authenticate': 'Bearer' });
      res.end('The metrics need the metrics token as Authorization: Bearer (CCTL_METRICS_TOKEN_FILE; not the admin token).\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET', 'content-type': 'text/plain; charset=utf-8' });
      res.end('Use GET /metrics.\n');
      return;
    }
    try {
      const body = await this.registry.render();
      res.writeHead(200, {
        'content-type': 'text/plain; version=0.0.4; charset=utf-8',
        'content-length': Buffer.byteLength(body),
        'cache-control': 'no-store',
      });
      res.end(req.method === 'HEAD' ? undefined : body);
    } catch (error) {
      res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(`The ledger could not answer: ${(error as Error).message}\n`);
    }
  }
}

/** Totals by member and model since the ledger began: monotonic, as retention prunes request rows, never the roll-up. */
async function ledgerFamilies(ledger: LedgerTotalsSource): Promise<Counter[]> {
  const requests = new Counter('cctl_ledger_requests_total', 'Requests recorded in the ledger (every replica), by member and model.');
  const errors = new Counter('cctl_ledger_errors_total', 'Recorded requests that ended with a status of 400 or more, by member and model.');
  const tokens = new Counter(
    'cctl_ledger_tokens_total',
    'Tokens recorded in the ledger, by member, model and kind (input, output, cache_creation, cache_read).',
  );
  const cost = new Counter('cctl_ledger_cost_usd_total', 'Estimated cost recorded in the ledger, in US dollars, by member and model.');
  for (const row of await ledger.usage({ by: ['member', 'model'] })) {
    const labels: Labels = { member: row.member ?? '', model: row.model ?? '' };
    requests.inc(labels, row.requests);
    errors.inc(labels, row.errors);
    tokens.inc({ ...labels, kind: 'input' }, row.inputTokens);
    tokens.inc({ ...labels, kind: 'output' }, row.outputTokens);
    tokens.inc({ ...labels, kind: 'cache_creation' }, row.cacheCreationTokens);
    tokens.inc({ ...labels, kind: 'cache_read' }, row.cacheReadTokens);
    cost.inc(labels, row.cost);
  }
  return [requests, errors, tokens, cost];
}

/** The metrics token from CCTL_METRICS_TOKEN or the file CCTL_METRICS_TOKEN_FILE names; undefined when neither is set. */
export function metricsToken(env: Record<string, string | undefined>, readFile: (path: string) => string): string | undefined {
  const direct = env.CCTL_METRICS_TOKEN?.trim();
  const file = env.CCTL_METRICS_TOKEN_FILE?.trim();
  if (direct && file) throw new Error('Set CCTL_METRICS_TOKEN or CCTL_METRICS_TOKEN_FILE, not both.');
  const token = direct || (file ? readFile(file).trim() : undefined);
  if (token !== undefined && token.length < 16) throw new Error('The metrics token (CCTL_METRICS_TOKEN) must be at least 16 characters.');
  return token;
}
