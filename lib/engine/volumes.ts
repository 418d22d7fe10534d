/** Named volumes: exists, who uses them, create, remove. */
import { dockerFailure } from './docker.js';
import { ProcessError, run } from './runner.js';

// Engines word a missing volume two ways: 20.10 'get NAME: no such volume', 26 (rm and inspect) 'volume NAME not found'.
const NO_SUCH_VOLUME = /no such volume|volume \S+ not found/i;

export async function volumeExists(volume: string): Promise<boolean> {
  try {
    await run(['docker', 'volume', 'inspect', volume]);
    return true;
  } catch (error) {
    if (error instanceof ProcessError && NO_SUCH_VOLUME.test(error.stderr)) return false;
    throw dockerFailure(error, `Inspecting the volume ${volume}`);
  }
}

/** Running containers that have the volume mounted. */
export async function volumeUsers(volume: string): Promise<string[]> {
  try {
    const { stdout } = await run(['docker', 'ps', '--filter', `volume=${volume}`, '--format', '{{.Names}}']);
    return stdout.split('\n').filter(Boolean);
  } catch (error) {
    throw dockerFailure(error, 'Listing containers');
  }
}

export async function createVolume(volume: string, labels: Readonly<Record<string, string>> = {}): Promise<void> {
  try {
    await run(['docker', 'volume', 'create', ...Object.entries(labels).flatMap(([k, v]) => ['--label', `${k}=${v}`]), volume]);
  } catch (error) {
    throw dockerFailure(error, `Creating the volume ${volume}`);
  }
}

/** Removes the volume; false when there was none. */
export async function removeVolume(volume: string): Promise<boolean> {
  try {
    await run(['docker', 'volume', 'rm', volume]);
    return true;
  } catch (error) {
    if (error instanceof ProcessError && NO_SUCH_VOLUME.test(error.stderr)) return false;
    throw dockerFailure(error, `Removing the volume ${volume}`);
  }
}
