/** The build hash of each image cctl builds, over that image's own inputs (build.ts re-exports it). */
import { sep } from 'node:path';
import { assetsHash } from '../project/assets.js';
import type { Settings } from '../project/settings.js';

/**
 * One build hash per image, each over that image's own inputs only: a change to claude-cli's (its files,
 * packages, versions) rebuilds claude-cli and leaves the gateway container, and the egress log in it, alone.
 */
export interface ImageHashes {
  /** claude-cli's: the docker/ build folder and its build settings (written in the committed file). */
  cli: string;
  /** The built-in gateway's: its build folder (proxy/) and base image (written in the per-machine file). */
  gateway: string;
}

/** The build hashes of the two images from init's wanted build folders and the settings that reach each build. */
export function imageHashes(wanted: ReadonlyMap<string, Buffer>, s: Settings): ImageHashes {
  const part = (folder: string, settings: unknown[]) =>
    assetsHash(
      new Map([
        ...[...wanted].filter(([key]) => key.startsWith(`${folder}${sep}`)),
        ['settings', Buffer.from(JSON.stringify(settings))] as [string, Buffer],
      ]),
    );
  return {
    cli: part('docker', [s['base-image'], s['claude-version'], s['ccusage-version'], s['monitor-version'], s.monitor, s.packages]),
    gateway: part('proxy', [s['base-image']]),
  };
}
