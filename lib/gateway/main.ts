/**
 * The built-in API gateway: the `proxy` service that Claude Code reaches at
 * ANTHROPIC_BASE_URL. It holds the team's credential so the workspace
 * container never sees it, streams both directions without buffering, and
 * writes one JSON line per request with the usage the response reported.
 *
 * A package of its own, Node builtins only (lib/gateway/tsconfig.json
 * enforces it): the compiled dist/gateway/*.js are copied as a folder into a
 * small image (docker/proxy.Dockerfile), with no node_modules.
 *
 *   node main.js          serve on $PORT (default 3000)
 *   node main.js health   probe http://127.0.0.1:$PORT/health, exit 0/1
 *
 * With CCTL_GATEWAY_MODE=team it is the team's shared gateway (team/): member
 * tokens instead of one client token, the usage ledger, the admin API and
 * the dashboard.
 */
import { readFileSync, realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { DEFAULTS, type GatewayConfig, GatewayConfigError, GATEWAY_VERSION, intFromEnv, loadConfig } from './config.js';
import { probeHealth } from './health.js';
import { logEvent, stdoutWriter } from './log.js';
import { GatewayMetrics, metricsToken } from './metrics-http.js';
import { createGateway } from './server.js';
import { isTeamMode, loadTeamConfig } from './team/config.js';
import { createTeamGateway, type TeamGateway } from './team/team.js';
import { formatRule } from './egress/grammar.js';

async function main(argv: string[]): Promise<void> {
  if (argv[0] === 'health') {
    let port: number;
    try {
      port = intFromEnv(process.env, 'PORT', DEFAULTS.port, 1, 65535);
    } catch (error) {
      process.stderr.write(`gateway health: ${(error as Error).message}\n`);
      process.exit(1);
    }
    // A team gateway with its own certificate (CCTL_TLS_CERT_FILE) answers HTTPS only.
    process.exit(await probeHealth(port, 3000, !!process.env.CCTL_TLS_CERT_FILE?.trim()));
  }
  if (argv.length > 0) {
    process.stderr.write('usage: node main.js [health]\n');
    process.exit(2);
  }

  let config: GatewayConfig;
  let team: TeamGateway | undefined;
  let metrics: GatewayMetrics | undefined;
  try {
    config = loadConfig();
    if (isTeamMode(process.env)) team = await createTeamGateway(loadTeamConfig(), config.teamCredential!, stdoutWriter);
    const token = metricsConfig();
    // The metrics count what the log lines say, so they see the lines on their way out.
    const ledger = team?.ledger;
    if (token)
      metrics = new GatewayMetrics({ token, ...(ledger ? { ledger, ...(ledger.lag ? { ledgerLag: () => ledger.lag!() } : {}) } : {}) });
    if (metrics) config = { ...config, log: metrics.observe(config.log ?? stdoutWriter) };
  } catch (error) {
    if (!(error instanceof GatewayConfigError)) throw error;
    process.stderr.write(`gateway: ${error.message}\n`);
    process.exit(2);
  }
  const gateway = createGateway(config, team);
  metrics?.attach(gateway.server);
  const port = await gateway.listen();
  logEvent(stdoutWriter, 'listening', {
    port,
    version: GATEWAY_VERSION,
    mode: team ? 'team' : config.authMode,
    upstream: config.upstreamUrl.origin + config.upstreamUrl.pathname.replace(/\/+$/, ''),
    egress: config.egress
      ? { allow: config.egress.allow.map(formatRule), sources: config.egress.sources.cidrs, refused: config.egress.sources.refused }
      : 'off',
  });

  // As PID 1 in a container, Node gets no default SIGTERM handling; without
  // these `docker stop` would wait its full timeout and then SIGKILL.
  const stop = (signal: string) => {
    logEvent(stdoutWriter, 'stopping', { signal });
    // The ledger closes last: every request that finished has its row committed.
    void gateway
      .close(8000)
      .then(() => team?.close())
      .then(() => process.exit(0));
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

function metricsConfig(): string | undefined {
  try {
    return metricsToken(process.env, (file) => readFileSync(file, 'utf8'));
  } catch (error) {
    throw new GatewayConfigError((error as Error).message);
  }
}

function isEntryPoint(): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return import.meta.url === pathToFileURL(realpathSync(entry)).href;
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    process.stderr.write(`gateway: ${(error as Error)?.stack ?? String(error)}\n`);
    process.exit(1);
  });
}
