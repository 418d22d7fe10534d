/** Networks: removed only when nothing uses them. */
import { ProcessError, run } from './runner.js';

/** Removes the network; false when it is missing or still in use (the user's own services may share it). */
export async function removeNetworkIfUnused(name: string): Promise<boolean> {
  try {
    await run(['docker', 'network', 'rm', name]);
    return true;
  } catch (error) {
    if (error instanceof ProcessError) return false;
    throw error;
  }
}
