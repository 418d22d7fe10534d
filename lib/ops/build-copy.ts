/**
 * claude-cli's image is built from a private copy of its checked build inputs, never from the project.
 *
 * `up` hashes claude-cli's build inputs (build.ts imageHashes, over init's `wanted`: cctl's docker/ files,
 * the team's fragment spliced in, .cctl/docker/local/), and Compose builds much later. Everything in the
 * project is claude-cli's to write, and claude-cli sees each host read of a file in its access time, so it
 * can swap .cctl/docker/entrypoint.sh the instant after init read it: the image would hold the swapped file
 * under the checked hash, and a later up would find it current. So init writes the very bytes it hashed into
 * the private folder (`docker/` there, next to the gateway's `proxy/`), the per-machine file names that copy
 * as claude-cli's build context (project/machine-file.ts), and before a build the copy is hashed again and
 * must give the checked hash. The project's .cctl/docker stays, for plain `docker compose build` on the
 * committed file alone.
 */
import { join } from 'node:path';
import { CctlError } from '../kernel/errors.js';
import { listFiles, mkdirInside, readInside, removeInside, writeInside } from '../kernel/fs.js';
import { CLI_SERVICE, type Project } from '../project/locate.js';
import { cliBuildCopy, privateDir } from '../project/private-dir.js';
import type { Settings } from '../project/settings.js';
import { imageHashes, type ImageHashes } from './image-hashes.js';

/** The copy's folder, made (empty) before anything resolves the project: Compose v1 refuses a missing build context. */
export function ensureBuildCopy(project: Pick<Project, 'name'>, env: NodeJS.ProcessEnv = process.env): string {
  const root = privateDir(project.name, env);
  const dir = cliBuildCopy(project.name, env);
  mkdirInside(root, dir);
  return dir;
}

/** Makes the copy hold exactly init's `docker/` files (the hashed bytes, from memory); nothing is written through a link. */
export function syncBuildCopy(
  project: Pick<Project, 'name'>,
  wanted: ReadonlyMap<string, Buffer>,
  env: NodeJS.ProcessEnv = process.env,
): void {
  const root = privateDir(project.name, env);
  const dir = ensureBuildCopy(project, env);
  const mine = new Map([...wanted].filter(([key]) => key.startsWith('docker/')).map(([key, data]) => [key.slice('docker/'.length), data]));
  for (const [rel, data] of mine) {
    const file = join(dir, rel);
    if (readInside(root, file)?.equals(data)) continue;
    writeInside(root, file, data, { mode: rel.endsWith('.sh') ? 0o755 : 0o644, exactMode: true });
  }
  for (const rel of listFiles(dir)) if (!mine.has(rel)) removeInside(root, join(dir, rel));
}

/** The build inputs as the private folder holds them now: claude-cli's copy and the gateway's folder. */
function copiedInputs(project: Pick<Project, 'name'>, env: NodeJS.ProcessEnv): Map<string, Buffer> {
  const root = privateDir(project.name, env);
  const out = new Map<string, Buffer>();
  for (const [sub, dir] of [
    ['docker', cliBuildCopy(project.name, env)],
    ['proxy', join(root, 'proxy')],
  ] as const) {
    for (const rel of listFiles(dir)) out.set(join(sub, rel), readInside(root, join(dir, rel)) ?? Buffer.alloc(0));
  }
  return out;
}

/**
 * Just before a build: the private copies hashed again must give the hashes the check took. A difference
 * (another cctl run writing the copy meanwhile, a hand edit) builds nothing.
 */
export function assertBuildCopies(
  project: Pick<Project, 'name'>,
  settings: Settings,
  checked: ImageHashes,
  services: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): void {
  const now = imageHashes(copiedInputs(project, env), settings);
  const differs = services.filter((s) => (s === CLI_SERVICE ? now.cli !== checked.cli : now.gateway !== checked.gateway));
  if (differs.length === 0) return;
  throw new CctlError(
    `The private copy of the build files of ${differs.join(', ')} (in ${privateDir(project.name, env)}) is not what cctl checked, so nothing was built.`,
    { hint: 'Another cctl command may have written it meanwhile: run "cctl up" (or "cctl build") again, one at a time.' },
  );
}
