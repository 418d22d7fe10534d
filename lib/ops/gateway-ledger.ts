/**
 * The team gateway's ledger volumes: `gateway down` (which keeps them unless
 * asked), and the SQLite ledger's volume to and from a .tar.gz, by the same
 * helper containers and checks as the home volume's backup (ops/backup/):
 * tar runs in the gateway's own image, as root with no network, so neither
 * the image's user (65534) nor a missing image name gets in the way, as the
 * plain docker command did.
 */
import { chmodSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { explainDockerError } from '../engine/docker.js';
import { removeVolume } from '../engine/volumes.js';
import * as composeClient from '../engine/compose-client.js';
import { CctlError } from '../kernel/errors.js';
import { currentLedger } from '../project/gateway-ledger.js';
import { POSTGRES_VOLUME } from '../project/gateway-postgres.js';
import type { Project } from '../project/locate.js';
import { LEDGER_VOLUME, readGatewayMarker } from '../project/team-gateway.js';
import { backupStamp, backupVolume } from './backup/backup.js';
import { restoreVolume } from './backup/restore.js';
import { projectInvocation } from './compose.js';
import { gatewayImageOf } from './team-gateway.js';

/** The ledger's volume: Compose names it <project>_ledger (the folder's compose file sets no top-level name:). */
export function ledgerVolume(project: Project): string {
  return `${project.name}_${LEDGER_VOLUME}`;
}

/** Every volume that holds the ledger: the SQLite one, and Postgres's data when the folder runs its own Postgres. */
export function ledgerVolumes(project: Project): string[] {
  return [ledgerVolume(project), ...(readGatewayMarker(project.dir)?.postgres ? [`${project.name}_${POSTGRES_VOLUME}`] : [])];
}

/**
 * `compose down`: the gateway (and its Postgres); the ledger volumes are kept
 * unless `volumes`. Resolves with the volumes that were there and were deleted.
 */
export async function gatewayDown(project: Project, options: { volumes?: boolean } = {}): Promise<string[]> {
  try {
    await composeClient.down(await projectInvocation(project), { timeoutSeconds: 10 });
  } catch (error) {
    throw explainDockerError(error);
  }
  if (options.volumes !== true) return [];
  const deleted: string[] = [];
  for (const volume of ledgerVolumes(project)) if (await removeVolume(volume)) deleted.push(volume);
  return deleted;
}

/** The default name of a ledger backup, in the gateway folder's backups/. */
export function ledgerBackupName(now = new Date()): string {
  return `ledger-${backupStamp(now)}.tar.gz`;
}

/** backup and restore copy the SQLite ledger's volume; a Postgres ledger is backed up the Postgres way. */
function sqliteLedgerOnly(project: Project, action: string): void {
  if (currentLedger(project.dir) === 'postgres') {
    throw new CctlError(`cctl gateway ${action} copies the SQLite ledger's volume, and this gateway keeps its ledger in Postgres.`, {
      hint: 'Use pg_dump and pg_restore against that database (for the Postgres service in the gateway folder: docker compose exec postgres pg_dump ...).',
    });
  }
}

/** Into FILE, or by default the gateway folder's backups/ (0700, as secrets/: the ledger holds token hashes). */
export function backupLedger(project: Project, file: string | undefined) {
  sqliteLedgerOnly(project, 'backup');
  if (file === undefined) {
    const backups = join(project.dir, 'backups');
    mkdirSync(backups, { recursive: true, mode: 0o700 });
    chmodSync(backups, 0o700);
    file = join(backups, ledgerBackupName());
  }
  return backupVolume({ volume: ledgerVolume(project), image: gatewayImageOf(project), file, owner: project.name, verb: 'cctl gateway' });
}

export function restoreLedger(project: Project, file: string, force: boolean) {
  sqliteLedgerOnly(project, 'restore');
  return restoreVolume({
    volume: ledgerVolume(project),
    image: gatewayImageOf(project),
    file,
    owner: project.name,
    force,
    verb: 'cctl gateway',
    volumeLabels: { 'com.docker.compose.project': project.name, 'com.docker.compose.volume': LEDGER_VOLUME },
  });
}
