/**
 * `cctl gateway init|up|status|logs|down|backup|restore|member …`: the team gateway on a
 * server. The folder is --dir, else this one when it is a gateway folder, else
 * ./team-gateway. Task lists, JSON and exit codes as the workspace verbs.
 */
import { mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import type { OptionsFor } from './declarations/verbs.js';
import { currentLedger, LEDGER_URL_FILE, type LedgerChoice, METRICS_TOKEN_FILE, parseLedger, writeLedgerSecrets } from '../project/gateway-ledger.js';
import { CctlError, failureJson, InterruptedError, UsageError } from '../kernel/errors.js';
import { assetsHash, readCaCert, syncAssets } from '../project/assets.js';
import {
  ADMIN_TOKEN_FILE, checkListen, defaultListen, gatewayDir, gatewayImage, KEY_FILE, localGatewayAccess, readGatewayMarker, requireGatewayFolder, writeGatewayFolder,
} from '../project/team-gateway.js';
import { POSTGRES_PASSWORD_FILE, POSTGRES_SERVICE, postgresImage, type PostgresService } from '../project/gateway-postgres.js';
import {
  backupLedger, gatewayAssets, gatewayDown, gatewayServices, gatewayLogs, gatewayProject, gatewayStatus, gatewayUpTasks, ledgerVolumes, memberCommand, restoreLedger, type GatewayContext,
} from '../ops/team-gateway.js';
import { canPrompt, confirmOnTerminal } from '../ui/prompt.js';
import { presentation, taskList } from '../ui/tasks.js';
import { formatTable, servicesTable } from '../ui/table.js';
import { onStack, stackAction } from './gateway/swarm.js';

type Options = OptionsFor<'gateway'> & Record<string, unknown>;

const ACTIONS = ['init', 'up', 'deploy', 'status', 'logs', 'down', 'backup', 'restore', 'member', 'migrate'] as const;
const BUDGET_FLAGS = ['dailyTokens', 'monthlyTokens', 'dailyCost', 'monthlyCost', 'maxInFlight'] as const;
const out = (text: string) => void process.stdout.write(text);

function str(options: Options, key: string): string | undefined {
  const v = options[key];
  return v === undefined || v === false ? undefined : String(Array.isArray(v) ? v[v.length - 1] : v);
}

function init(dir: string, options: Options): number {
  const port = Number(str(options, 'port') ?? 3000);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new UsageError(`--port must be a port number, not "${str(options, 'port')}".`);
  const retention = Number(str(options, 'retentionDays') ?? 400);
  if (!Number.isInteger(retention) || retention < 0) throw new UsageError('--retention-days must be a whole number of days (0 keeps every row).');
  const tlsCert = str(options, 'tlsCert');
  const tlsKey = str(options, 'tlsKey');
  // Re-running init without the TLS flags keeps TLS on: the files stay in secrets/.
  const tls = !!(tlsCert || tlsKey) || readGatewayMarker(dir)?.tls === true;
  const listen = listenFor(dir, tls, str(options, 'listen'));
  const image = gatewayImage(gatewayProject(dir).name);
  const ledger = parseLedger(str(options, 'ledger'));
  const postgres = postgresFor(dir, ledger, str(options, 'postgresImage'));
  mkdirSync(dir, { recursive: true });
  const caFile = str(options, 'caCert') ?? process.env.CCTL_CA_CERT;
  const assets = gatewayAssets(dir, caFile ? readCaCert(process.cwd(), caFile) : undefined, postgres?.build === true);
  syncAssets(dir, assets);
  const files = writeGatewayFolder(
    dir,
    {
      port,
      upstream: str(options, 'upstream') ?? 'https://api.anthropic.com',
      baseImage: str(options, 'baseImage') ?? process.env.CCTL_BASE_IMAGE ?? 'node:22-bookworm-slim',
      retentionDays: retention,
      tls,
      buildHash: assetsHash(assets),
      listen,
      image,
      ledger: ledger?.kind ?? currentLedger(dir),
      ...(postgres ? { postgres } : {}),
    },
    { keyFile: str(options, 'keyFile'), tlsCert, tlsKey },
  );
  files.written.push(...writeLedgerSecrets(dir, ledger));
  if (options.json) {
    out(`${JSON.stringify({ ok: true, dir, listen, tls, image, ledger: postgres ? 'postgres-service' : currentLedger(dir), ...(postgres ? { postgresImage: postgres.image } : {}), written: files.written, keyMissing: files.keyMissing })}\n`);
    return 0;
  }
  out(`Team gateway folder: ${dir}\n`);
  out(`  listens on: ${bindText(listen, port, tls)}\n`);
  out(`  admin token: ${join(dir, ADMIN_TOKEN_FILE)} (the dashboard and "cctl usage --team" need it)\n`);
  out(`  metrics token: ${join(dir, METRICS_TOKEN_FILE)} (Prometheus scrapes /metrics with it)\n`);
  out(`  ledger: ${postgres ? `Postgres, the "${POSTGRES_SERVICE}" service (${postgres.image}; password in ${join(dir, POSTGRES_PASSWORD_FILE)})` : currentLedger(dir) === 'postgres' ? `Postgres (the URL is in ${join(dir, LEDGER_URL_FILE)})` : 'SQLite, in the gateway\'s volume'}\n`);
  out(files.keyMissing ? `  Anthropic key: put it in ${join(dir, KEY_FILE)}, then run "cctl gateway up".\n` : `  Anthropic key: ${join(dir, KEY_FILE)}\n`);
  out(`Next: cctl gateway up${dir === gatewayDir(undefined) ? '' : ` --dir ${dir}`}, then cctl gateway member add NAME\n`);
  return 0;
}

/**
 * The folder's own Postgres service: added by --ledger postgres (built here
 * from Debian's postgresql, or the team's --postgres-image), kept when init
 * runs again without --ledger, dropped for sqlite or a URL of the team's own.
 */
function postgresFor(dir: string, ledger: LedgerChoice | undefined, image: string | undefined): PostgresService | undefined {
  const current = readGatewayMarker(dir)?.postgres;
  const wanted = ledger ? ledger.service === true : current !== undefined;
  if (image !== undefined && !wanted) {
    throw new UsageError('--postgres-image names the image of the gateway\'s own Postgres service, which this folder does not have.', 'Add the service with: cctl gateway init --ledger postgres --postgres-image IMAGE');
  }
  if (!wanted) return undefined;
  if (image !== undefined) {
    if (!/^[a-z0-9][\w.\-/:@]*$/i.test(image)) throw new UsageError(`--postgres-image must be an image name, not "${image}".`, 'Examples: --postgres-image postgres:16, --postgres-image registry.example.com/db/postgres:15');
    return { image, build: false };
  }
  return current && ledger === undefined ? current : { image: postgresImage(gatewayProject(dir).name), build: true };
}

/**
 * --listen when given; else what the folder had, unless that was only the
 * default for its TLS state (so adding TLS later widens it as TLS allows).
 */
function listenFor(dir: string, tls: boolean, flag: string | undefined): string {
  if (flag !== undefined) return checkListen(flag);
  const marker = readGatewayMarker(dir);
  if (marker?.listen && marker.listen !== defaultListen(marker.tls)) return marker.listen;
  return defaultListen(tls);
}

/** One line on where the gateway can be reached from, and how safely. */
function bindText(listen: string, port: number, tls: boolean): string {
  const where = `${listen.includes(':') ? `[${listen}]` : listen}:${port}`;
  if (listen === '127.0.0.1' || listen === '::1') return `${where} (${tls ? 'https' : 'http'}, this machine only${tls ? '' : ': members reach it through a TLS reverse proxy here, or give it --tls-cert/--tls-key'})`;
  return `${where} (${tls ? 'https' : 'plain http: member tokens cross the network unencrypted'})`;
}

async function up(dir: string, options: Options): Promise<number> {
  requireGatewayFolder(dir);
  const timeout = Number(str(options, 'timeout') ?? 120);
  if (!Number.isFinite(timeout) || timeout <= 0) throw new UsageError(`--timeout must be a number of seconds, not "${str(options, 'timeout')}".`);
  const json = options.json === true;
  const abort = new AbortController();
  const onSigint = () => abort.abort();
  process.on('SIGINT', onSigint);
  const ctx: GatewayContext = { project: gatewayProject(dir), built: false };
  try {
    const mode = presentation(json);
    await taskList(gatewayUpTasks({ build: options.build === true, live: mode === 'live', timeoutMs: timeout * 1000, signal: abort.signal }), mode).run(ctx);
  } catch (error) {
    const failure = abort.signal.aborted ? new InterruptedError() : error;
    if (json) out(failureJson(failure));
    throw failure;
  } finally {
    process.off('SIGINT', onSigint);
  }
  if (json) out(`${JSON.stringify({ ok: true, dir, built: ctx.built, services: ctx.services }, null, 2)}\n`);
  else out(servicesTable(ctx.services ?? []));
  return 0;
}

function budgetArgs(options: Options): string[] {
  return BUDGET_FLAGS.flatMap((key) => {
    const v = str(options, key);
    return v === undefined ? [] : [`--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`, v];
  });
}

/** How the new member connects: this server's name and port, over https unless the gateway is on a private network. */
function memberHint(dir: string): string {
  const marker = readGatewayMarker(dir);
  const listen = marker?.listen ?? '0.0.0.0';
  const local = listen === '127.0.0.1' || listen === '::1';
  const any = listen === '0.0.0.0' || listen === '::';
  const host = any ? hostname() : listen.includes(':') ? `[${listen}]` : listen;
  const url = `${marker?.tls ? 'https' : 'http'}://${host}:${marker?.port ?? 3000}`;
  const reach = local
    ? 'The gateway listens on 127.0.0.1 only (no TLS yet): put a TLS reverse proxy in front and give members its https:// URL, or re-run "cctl gateway init" with --tls-cert/--tls-key.\n'
    : '';
  const ca = marker?.tls ? ' (with a self-signed certificate, add --ca-cert FILE with the gateway\'s certificate)' : '';
  return `${reach}On their machine, in their project${ca}:\n  CCTL_MEMBER_TOKEN=<token> cctl init --team-gateway ${local ? 'https://YOUR-TLS-PROXY' : url}\n`;
}

async function member(dir: string, args: string[], options: Options): Promise<number> {
  requireGatewayFolder(dir);
  const [verb, name] = args;
  const project = gatewayProject(dir);
  if (verb === 'list') {
    const { members } = JSON.parse(await memberCommand(project, ['list'])) as { members: { name: string; createdAt: number; revokedAt?: number; dailyTokens?: number; monthlyTokens?: number; dailyCost?: number; monthlyCost?: number; maxInFlight?: number }[] };
    if (options.json) out(`${JSON.stringify({ members }, null, 2)}\n`);
    else {
      const budget = (m: (typeof members)[number]) =>
        [m.dailyTokens && `${m.dailyTokens} tokens/day`, m.monthlyTokens && `${m.monthlyTokens} tokens/month`, m.dailyCost && `$${m.dailyCost}/day`, m.monthlyCost && `$${m.monthlyCost}/month`, m.maxInFlight && `${m.maxInFlight} in flight`].filter(Boolean).join(', ') || '-';
      out(formatTable([['MEMBER', 'STATE', 'ADDED', 'BUDGET'], ...members.map((m) => [m.name, m.revokedAt ? 'revoked' : 'active', new Date(m.createdAt).toISOString().slice(0, 10), budget(m)])]));
    }
    return 0;
  }
  if (!name || !['add', 'revoke', 'budget'].includes(verb ?? '')) {
    throw new UsageError('cctl gateway member needs add NAME, list, revoke NAME or budget NAME.', 'Example: cctl gateway member add alice --daily-tokens 2000000');
  }
  const stdout = await memberCommand(project, [verb!, name, ...(verb === 'revoke' ? [] : budgetArgs(options))]);
  if (verb === 'add') {
    const token = stdout.trim();
    if (options.json) out(`${JSON.stringify({ ok: true, member: name, token })}\n`);
    else {
      out(`Added ${name}. Their member token (shown once; only its hash is stored):\n\n  ${token}\n\n`);
      out(memberHint(dir));
    }
  } else if (options.json) out(`${JSON.stringify({ ok: true, member: name, action: verb })}\n`);
  else out(verb === 'revoke' ? `Revoked ${name}: their next request gets 401.\n` : `Budgets of ${name} updated.\n`);
  return 0;
}

/**
 * `migrate --from sqlite`: the running gateway (which has the volume, the
 * Postgres URL and both drivers) copies its old SQLite ledger into Postgres
 * and checks the copy (gateway/team/migrate.ts); printed as the two sides.
 */
async function migrate(dir: string, options: Options): Promise<number> {
  requireGatewayFolder(dir);
  if (str(options, 'from') !== 'sqlite') {
    throw new UsageError(`cctl gateway migrate needs --from sqlite${str(options, 'from') ? `, not --from ${str(options, 'from')}` : ''}.`, 'It copies the SQLite ledger in the gateway\'s volume into the Postgres ledger the gateway now uses.');
  }
  if (currentLedger(dir) !== 'postgres') {
    throw new CctlError('This gateway keeps its ledger in SQLite: there is no Postgres ledger to copy it into.', {
      hint: 'First: cctl gateway init --ledger postgres (or --ledger postgres://USER:PASSWORD@HOST/DB), then cctl gateway up, then cctl gateway migrate --from sqlite.',
    });
  }
  const report = JSON.parse(await memberCommand(gatewayProject(dir), ['migrate', '--from', 'sqlite'])) as { ok: boolean; source: Record<string, number>; target: Record<string, number> };
  if (options.json) out(`${JSON.stringify(report, null, 2)}\n`);
  else {
    out(formatTable([['', 'SQLITE', 'POSTGRES'], ...Object.keys(report.source).map((k) => [k, String(report.source[k]), String(report.target[k])])]));
    out('Copied and checked: the row counts and totals are equal. The SQLite file stays in the volume, unused.\n');
  }
  return 0;
}

async function down(dir: string, options: Options): Promise<number> {
  requireGatewayFolder(dir);
  const project = gatewayProject(dir);
  const volumes = ledgerVolumes(project);
  const volume = volumes.join(' and ');
  if (options.volumes && !options.yes) {
    const what = `the ledger volume${volumes.length > 1 ? 's' : ''} ${volume}: every member, budget and request row`;
    if (!canPrompt()) throw new UsageError(`--volumes deletes ${what}; add --yes to confirm in a script.`, 'Keep a copy first: cctl gateway backup');
    if (!(await confirmOnTerminal(`This deletes ${what}.`, 'Delete it?'))) throw new CctlError('Nothing was deleted.');
  }
  const deleted = await gatewayDown(project, { volumes: options.volumes === true });
  const stopped = gatewayServices(dir);
  const what = `Stopped the team gateway${stopped.length > 1 ? ' and its Postgres' : ''}.`;
  if (options.json) out(`${JSON.stringify({ ok: true, stopped, removed: deleted })}\n`);
  else if (!options.volumes) out(`${what} The ledger volume${volumes.length > 1 ? 's' : ''} ${volume} ${volumes.length > 1 ? 'are' : 'is'} kept.\n`);
  else out(`${what} ${deleted.length ? `Deleted ${deleted.join(' and ')}.` : `There was no ledger volume ${volume} to delete.`}\n`);
  return 0;
}

/** `backup [FILE]`: the ledger volume as a .tar.gz, by default in the folder's backups/ (0700: it holds token hashes). */
async function backup(dir: string, file: string | undefined, options: Options): Promise<number> {
  requireGatewayFolder(dir);
  const result = await backupLedger(gatewayProject(dir), file ? resolve(file) : undefined);
  if (options.json) out(`${JSON.stringify({ ok: true, ...result })}\n`);
  else out(`Saved ${result.volume} (${result.entries} entries, ${Math.max(1, Math.round(result.bytes / 1024))} KiB) to ${result.file}\n`);
  if (result.changedWhileReading) process.stderr.write('Note: the ledger changed while it was read (the gateway is running); stop it first ("cctl gateway down") for a consistent copy.\n');
  return 0;
}

/** `restore FILE [--force]`: a ledger backup back into the volume (refused while the gateway runs). */
async function restore(dir: string, file: string | undefined, options: Options): Promise<number> {
  requireGatewayFolder(dir);
  if (!file) throw new UsageError('cctl gateway restore needs the backup file.', 'Example: cctl gateway restore backups/ledger-20250101-120000.tar.gz');
  const result = await restoreLedger(gatewayProject(dir), file, options.force === true);
  if (options.json) out(`${JSON.stringify({ ok: true, ...result })}\n`);
  else out(`Restored ${result.entries} entries from ${result.file} into ${result.volume}${result.created ? ' (new volume)' : ''}.\nNext: cctl gateway up\n`);
  return 0;
}

export default async function gateway(args: string[], options: Options): Promise<number> {
  const [action, ...rest] = args;
  if (!action || !(ACTIONS as readonly string[]).includes(action)) {
    throw new UsageError(`cctl gateway needs one of ${ACTIONS.join(', ')}${action ? `, not "${action}"` : ''}.`, 'Start with: cctl gateway init --key-file FILE');
  }
  const dir = gatewayDir(str(options, 'dir'));
  if (onStack(action, dir)) return stackAction(action, dir, options);
  switch (action) {
    case 'init':
      return init(dir, options);
    case 'up':
      return up(dir, options);
    case 'status': {
      requireGatewayFolder(dir);
      const services = await gatewayStatus(gatewayProject(dir));
      const marker = readGatewayMarker(dir);
      const listen = marker?.listen ?? '0.0.0.0';
      if (options.json) out(`${JSON.stringify({ dir, listen, port: marker?.port, tls: marker?.tls === true, url: localGatewayAccess(dir)?.url, services }, null, 2)}\n`);
      else out(`${servicesTable(services)}Listens on ${bindText(listen, marker?.port ?? 3000, marker?.tls === true)}\n`);
      return 0;
    }
    case 'logs': {
      requireGatewayFolder(dir);
      const tail = str(options, 'tail');
      if (tail !== undefined && !/^\d+$/.test(tail)) throw new UsageError(`--tail needs a number of lines, not "${tail}".`);
      return gatewayLogs(gatewayProject(dir), { follow: options.follow === true, tail: tail === undefined ? undefined : Number(tail) });
    }
    case 'down':
      return down(dir, options);
    case 'backup':
      return backup(dir, rest[0], options);
    case 'restore':
      return restore(dir, rest[0], options);
    case 'migrate':
      return migrate(dir, options);
    default:
      return member(dir, rest, options);
  }
}
