/**
 * `cctl up` when nothing changed since the last successful one. The full path
 * parses the compose file, merges the model, hashes the build files, asks the
 * daemon its version, inspects each image and runs `compose up -d`: about a
 * second of work whose answer is "nothing to do". Here the answer comes from
 * a record of the last up (project/up-record.ts), one hash of what init reads,
 * and the engine's list and inspect of the containers and images (on its own
 * socket when it is local, engine/engine-api.ts), so a stack that is up and
 * current costs a fraction of that.
 *
 * The checks are the same ones that decide the full path's work:
 *   - the fingerprint (compose file bytes, CCTL_* settings, cctl's image files,
 *     the project's .cctl folder) is the one recorded: init would change nothing;
 *   - each built image carries the recorded build hash: no build is due;
 *   - each service's container is the one the last up left (its config-hash
 *     label), runs and is healthy on the image its tag names now, and Compose
 *     computes the same configuration for it as then (`compose config
 *     --hash`, which sees interpolation and env files): `compose up -d`
 *     would leave it as it is.
 * A changed file or a stale image fails one of them and goes the full way.
 * When only the containers are missing or out of date, the caller starts
 * them without the init and build steps.
 */
import { snapshot, type LabelledContainer } from '../../engine/containers.js';
import { readUpRecord, type UpRecord } from '../../project/up-record.js';
import { CLI_SERVICE } from '../../project/locate.js';
import type { Project } from '../../project/locate.js';
import { BUILD_HASH_LABEL } from '../build.js';
import { claudeServices, isReady, type ServiceState } from '../stack.js';
import { compose } from '../../engine/compose.js';
import { writeMachineFile, type MachineFile } from '../machine-file.js';
import { fingerprintNow } from './record.js';

export type ShortPath =
  /** Up, healthy and current: nothing to do. */
  | { kind: 'current'; record: UpRecord; services: ServiceState[]; machine: MachineFile }
  /** Files and images current; the containers need starting (or recreating) only. */
  | { kind: 'start'; record: UpRecord; machine: MachineFile; containers: LabelledContainer[] };

/**
 * The short path this project may take, or undefined for the full one. Engine failures propagate (the daemon message).
 * `containers: false` (a task): only the files and images are asked about; the project's own containers are not
 * its business, so the Compose call that compares their configuration is not made ('start' stands for "current").
 */
export async function shortPath(project: Project, options: { containers?: boolean } = {}): Promise<ShortPath | undefined> {
  const record = readUpRecord(project);
  if (!record?.configHashes || record.gatewayBuildHash === undefined) return undefined;
  // Remembered (engine/compose-cache.ts): a few stat calls, no spawn.
  const engine = await compose();
  if (record.fingerprint !== fingerprintNow(project, record, engine)) return undefined;
  const images = Object.values(record.images);
  // This machine's file (identity, agent socket, binds) is made alongside the engine's answer; a new one means a start.
  const [snap, machine] = await Promise.all([
    snapshot(project.name, claudeServices(record.settings), images),
    // The engine's start_interval support as the last up found it (no daemon call here); Compose v1 never gets it.
    writeMachineFile(project, record.settings, record.gatewayBuildHash, process.env, {
      strictAgent: true,
      startInterval: record.startInterval === undefined ? undefined : record.startInterval && engine.flavour !== 'v1',
    }),
  ]);
  // Each image carries its own build hash: claude-cli's, or the gateway's.
  const built = (service: string) => (service === CLI_SERVICE ? record.buildHash : record.gatewayBuildHash);
  if (Object.entries(record.images).some(([service, name]) => snap.images[name]?.labels[BUILD_HASH_LABEL] !== built(service)))
    return undefined;
  if (options.containers === false) return { kind: 'start', record, machine, containers: snap.containers };
  // A new machine file changes the services' config hashes: the start could not check them against the record.
  if (machine.changed) return undefined;
  const onCurrentImage = (s: (typeof snap.services)[number]) => {
    const image = record.images[s.name];
    return image === undefined || s.imageId === snap.images[image]?.id;
  };
  // Each container is the one the last up left (same label), running and healthy on today's image...
  const asLeft = (s: (typeof snap.services)[number]) =>
    isReady(s) && onCurrentImage(s) && s.configHash === record.configHashes[s.name]?.label;
  if (!snap.services.every(asLeft) || machine.changed) return { kind: 'start', record, machine, containers: snap.containers };
  const services = snap.services.map(({ imageId: _id, configHash: _hash, ...state }) => state);
  return { kind: 'current', record, services, machine };
}
