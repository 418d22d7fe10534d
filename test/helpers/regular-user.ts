/**
 * Tests that must run cctl as a regular user (not root, not UID 1001, in the
 * docker group). Under root (CI) they switch to the user `dev` that .ci/run
 * creates; run by such a user already (`npm test` from a developer's shell),
 * they run as that user and change nothing.
 */
import { execFileSync } from 'node:child_process';
import { chownSync } from 'node:fs';

const uid = process.getuid?.() ?? 0;
const asRoot = uid === 0;

/** The regular user's UID: dev's 1500 under root, else the invoking user's own. */
export const REGULAR_UID = asRoot ? 1500 : uid;

/** argv prefix that runs a command as the regular user. */
export const asRegularUser: readonly string[] = asRoot ? ['setpriv', '--reuid=dev', '--regid=dev', '--init-groups'] : [];

/** Hands a folder tree to the regular user (a no-op when that user made it). */
export function giveToRegularUser(dir: string): void {
  if (asRoot) execFileSync('chown', ['-R', `${REGULAR_UID}:${REGULAR_UID}`, dir]);
}

/** Hands one file to the regular user. */
export function giveFileToRegularUser(file: string): void {
  if (asRoot) chownSync(file, REGULAR_UID, REGULAR_UID);
}
