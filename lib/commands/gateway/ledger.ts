/**
 * The gateway's ledger: `down` (and --volumes, which deletes it), `backup`,
 * `restore` and `migrate --from sqlite`.
 */
import { resolve } from 'node:path';
import { CctlError, UsageError } from '../../kernel/errors.js';
import { currentLedger } from '../../project/gateway-ledger.js';
import { requireGatewayFolder } from '../../project/team-gateway.js';
import { backupLedger, gatewayDown, ledgerVolumes, restoreLedger } from '../../ops/gateway-ledger.js';
import { gatewayProject, gatewayStatus, memberCommand } from '../../ops/team-gateway.js';
import { canPrompt, confirmOnTerminal } from '../../ui/prompt.js';
import { formatTable } from '../../ui/table.js';
import { type Options, out, str } from './options.js';

/**
 * `migrate --from sqlite`: the running gateway (which has the volume, the
 * Postgres URL and both drivers) copies its old SQLite ledger into Postgres
 * and checks the copy (gateway/team/migrate.ts); printed as the two sides.
 */
export async function migrate(dir: string, options: Options): Promise<number> {
  requireGatewayFolder(dir);
  if (str(options, 'from') !== 'sqlite') {
    throw new UsageError(
      `cctl gateway migrate needs --from sqlite${str(options, 'from') ? `, not --from ${str(options, 'from')}` : ''}.`,
      "It copies the SQLite ledger in the gateway's volume into the Postgres ledger the gateway now uses.",
    );
  }
  if (currentLedger(dir) !== 'postgres') {
    throw new CctlError('This gateway keeps its ledger in SQLite: there is no Postgres ledger to copy it into.', {
      hint: 'First: cctl gateway init --ledger postgres (or --ledger postgres://USER:PASSWORD@HOST/DB), then cctl gateway up, then cctl gateway migrate --from sqlite.',
    });
  }
  const report = JSON.parse(await memberCommand(gatewayProject(dir), ['migrate', '--from', 'sqlite'])) as {
    ok: boolean;
    source: Record<string, number>;
    target: Record<string, number>;
  };
  if (options.json) out(`${JSON.stringify(report, null, 2)}\n`);
  else {
    out(
      formatTable([
        ['', 'SQLITE', 'POSTGRES'],
        ...Object.keys(report.source).map((k) => [k, String(report.source[k]), String(report.target[k])]),
      ]),
    );
    out('Copied and checked: the row counts and totals are equal. The SQLite file stays in the volume, unused.\n');
  }
  return 0;
}

export async function down(dir: string, options: Options): Promise<number> {
  requireGatewayFolder(dir);
  const project = gatewayProject(dir);
  const volumes = ledgerVolumes(project);
  const volume = volumes.join(' and ');
  if (options.volumes && !options.yes) {
    const what = `the ledger volume${volumes.length > 1 ? 's' : ''} ${volume}: every member, budget and request row`;
    if (!canPrompt())
      throw new UsageError(`--volumes deletes ${what}; add --yes to confirm in a script.`, 'Keep a copy first: cctl gateway backup');
    if (!(await confirmOnTerminal(`This deletes ${what}.`, 'Delete it?'))) throw new CctlError('Nothing was deleted.');
  }
  // What runs is asked first, so the report names only what this run stopped.
  const stopped = (await gatewayStatus(project)).filter((s) => s.state !== 'missing').map((s) => s.name);
  const deleted = await gatewayDown(project, { volumes: options.volumes === true });
  const what = stopped.length
    ? `Stopped the team gateway${stopped.includes('postgres') ? ' and its Postgres' : ''}.`
    : 'No gateway container was running.';
  if (options.json) out(`${JSON.stringify({ ok: true, stopped, removed: deleted })}\n`);
  else if (!options.volumes)
    out(`${what} The ledger volume${volumes.length > 1 ? 's' : ''} ${volume} ${volumes.length > 1 ? 'are' : 'is'} kept.\n`);
  else out(`${what} ${deleted.length ? `Deleted ${deleted.join(' and ')}.` : `There was no ledger volume ${volume} to delete.`}\n`);
  return 0;
}

/** `backup [FILE]`: the ledger volume as a .tar.gz, by default in the folder's backups/ (0700: it holds token hashes). */
export async function backup(dir: string, file: string | undefined, options: Options): Promise<number> {
  requireGatewayFolder(dir);
  const result = await backupLedger(gatewayProject(dir), file ? resolve(file) : undefined);
  if (options.json) out(`${JSON.stringify({ ok: true, ...result })}\n`);
  else out(`Saved ${result.volume} (${result.entries} entries, ${Math.max(1, Math.round(result.bytes / 1024))} KiB) to ${result.file}\n`);
  if (result.changedWhileReading)
    process.stderr.write(
      'Note: the ledger changed while it was read (the gateway is running); stop it first ("cctl gateway down") for a consistent copy.\n',
    );
  return 0;
}

/** `restore FILE [--force]`: a ledger backup back into the volume (refused while the gateway runs). */
export async function restore(dir: string, file: string | undefined, options: Options): Promise<number> {
  requireGatewayFolder(dir);
  if (!file)
    throw new UsageError(
      'cctl gateway restore needs the backup file.',
      'Example: cctl gateway restore backups/ledger-20250101-120000.tar.gz',
    );
  const result = await restoreLedger(gatewayProject(dir), file, options.force === true);
  if (options.json) out(`${JSON.stringify({ ok: true, ...result })}\n`);
  else
    out(
      `Restored ${result.entries} entries from ${result.file} into ${result.volume}${result.created ? ' (new volume)' : ''}.\nNext: cctl gateway up\n`,
    );
  return 0;
}
