/**
 * `cctl gateway init`: the gateway folder written (or rewritten) from the
 * flags and what the folder already had: port, listen address, TLS, ledger
 * (SQLite, a Postgres URL, or a Postgres service of its own) and assets.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  currentLedger,
  LEDGER_URL_FILE,
  type LedgerChoice,
  METRICS_TOKEN_FILE,
  parseLedger,
  writeLedgerSecrets,
} from '../../project/gateway-ledger.js';
import { UsageError } from '../../kernel/errors.js';
import { assetsHash, readCaCert, syncAssets } from '../../project/assets.js';
import {
  ADMIN_TOKEN_FILE,
  checkListen,
  defaultListen,
  gatewayDir,
  gatewayImage,
  KEY_FILE,
  readGatewayMarker,
  writeGatewayFolder,
} from '../../project/team-gateway.js';
import { POSTGRES_PASSWORD_FILE, POSTGRES_SERVICE, postgresImage, type PostgresService } from '../../project/gateway-postgres.js';
import { gatewayAssets, gatewayProject } from '../../ops/team-gateway.js';
import { type Options, out, str } from './options.js';

export function init(dir: string, options: Options): number {
  const port = Number(str(options, 'port') ?? 3000);
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new UsageError(`--port must be a port number, not "${str(options, 'port')}".`);
  const retention = Number(str(options, 'retentionDays') ?? 400);
  if (!Number.isInteger(retention) || retention < 0)
    throw new UsageError('--retention-days must be a whole number of days (0 keeps every row).');
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
    out(
      `${JSON.stringify({ ok: true, dir, listen, tls, image, ledger: postgres ? 'postgres-service' : currentLedger(dir), ...(postgres ? { postgresImage: postgres.image } : {}), written: files.written, keyMissing: files.keyMissing })}\n`,
    );
    return 0;
  }
  out(`Team gateway folder: ${dir}\n`);
  out(`  listens on: ${bindText(listen, port, tls)}\n`);
  out(`  admin token: ${join(dir, ADMIN_TOKEN_FILE)} (the dashboard and "cctl usage --team" need it)\n`);
  out(`  metrics token: ${join(dir, METRICS_TOKEN_FILE)} (Prometheus scrapes /metrics with it)\n`);
  out(
    `  ledger: ${postgres ? `Postgres, the "${POSTGRES_SERVICE}" service (${postgres.image}; password in ${join(dir, POSTGRES_PASSWORD_FILE)})` : currentLedger(dir) === 'postgres' ? `Postgres (the URL is in ${join(dir, LEDGER_URL_FILE)})` : "SQLite, in the gateway's volume"}\n`,
  );
  out(
    files.keyMissing
      ? `  Anthropic key: put it in ${join(dir, KEY_FILE)}, then run "cctl gateway up".\n`
      : `  Anthropic key: ${join(dir, KEY_FILE)}\n`,
  );
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
    throw new UsageError(
      "--postgres-image names the image of the gateway's own Postgres service, which this folder does not have.",
      'Add the service with: cctl gateway init --ledger postgres --postgres-image IMAGE',
    );
  }
  if (!wanted) return undefined;
  if (image !== undefined) {
    if (!/^[a-z0-9][\w.\-/:@]*$/i.test(image))
      throw new UsageError(
        `--postgres-image must be an image name, not "${image}".`,
        'Examples: --postgres-image postgres:16, --postgres-image registry.example.com/db/postgres:15',
      );
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
export function bindText(listen: string, port: number, tls: boolean): string {
  const where = `${listen.includes(':') ? `[${listen}]` : listen}:${port}`;
  if (listen === '127.0.0.1' || listen === '::1')
    return `${where} (${tls ? 'https' : 'http'}, this machine only${tls ? '' : ': members reach it through a TLS reverse proxy here, or give it --tls-cert/--tls-key'})`;
  return `${where} (${tls ? 'https' : 'plain http: member tokens cross the network unencrypted'})`;
}
