/**
 * The build assets copied into the project (.cctl/docker and .cctl/proxy), so
 * the compose file builds with plain Compose, without cctl installed.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CctlError } from '../kernel/errors.js';
import { listFiles, mkdirInside, readInside, removeInside, writeInside } from '../kernel/fs.js';
import { ASSETS_DIR } from './model.js';

/** The installed cctl package root (works from dist/ and, under tsx, from lib/). */
export const PACKAGE_ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const CA_FILE_NAME = 'extra-ca.crt';

export interface AssetChange {
  path: string;
  change: 'added' | 'updated' | 'removed';
}

/** What each asset folder should contain: relative path → contents. */
export function wantedAssets(caPem: Buffer | undefined): Map<string, Buffer> {
  const wanted = new Map<string, Buffer>();
  const dockerDir = join(PACKAGE_ROOT, 'docker');
  const gatewayDist = join(PACKAGE_ROOT, 'dist', 'gateway');
  if (!existsSync(join(dockerDir, 'Dockerfile'))) {
    throw new CctlError(`cctl's image files are missing from ${dockerDir}.`, { hint: 'Reinstall cctl.' });
  }
  if (!existsSync(join(gatewayDist, 'main.js'))) {
    throw new CctlError(`The built proxy gateway is missing from ${gatewayDist}.`, {
      hint: 'Run "npm run build" in the cctl package (npm install does it).',
    });
  }
  for (const f of listFiles(dockerDir)) {
    // docker/postgres/ is the team gateway's Postgres image (postgresAssets), never a project's.
    if (f.startsWith(`postgres${sep}`) || f.startsWith(`gateway-front${sep}`)) continue;
    if (f === 'proxy.Dockerfile') wanted.set(join('proxy', 'Dockerfile'), readFileSync(join(dockerDir, f)));
    else wanted.set(join('docker', f), readFileSync(join(dockerDir, f)));
  }
  // The gateway package's compiled modules, folder and all (the proxy image copies gateway/).
  for (const f of listFiles(gatewayDist))
    if (f.endsWith('.js')) wanted.set(join('proxy', 'gateway', f), readFileSync(join(gatewayDist, f)));
  // Both Dockerfiles COPY certs/, which must exist even without an extra CA:
  // docker/ has its README from the package; the gateway's folder gets a copy.
  wanted.set(join('proxy', 'certs', 'README'), readFileSync(join(dockerDir, 'certs', 'README')));
  if (caPem) {
    wanted.set(join('docker', 'certs', CA_FILE_NAME), caPem);
    wanted.set(join('proxy', 'certs', CA_FILE_NAME), caPem);
  }
  return wanted;
}

/**
 * The build folder of the team gateway's own Postgres image (postgres/ in
 * the gateway folder's .cctl): its Dockerfile, entrypoint and certs/, with the
 * extra CA when there is one (apt fetches the package through the same proxy).
 */
export function postgresAssets(caPem: Buffer | undefined): Map<string, Buffer> {
  const dir = join(PACKAGE_ROOT, 'docker', 'postgres');
  const wanted = new Map<string, Buffer>();
  for (const f of listFiles(dir)) wanted.set(join('postgres', f), readFileSync(join(dir, f)));
  wanted.set(join('postgres', 'certs', 'README'), readFileSync(join(PACKAGE_ROOT, 'docker', 'certs', 'README')));
  if (caPem) wanted.set(join('postgres', 'certs', CA_FILE_NAME), caPem);
  return wanted;
}

/**
 * The build folder of a swarm-deployed gateway's HAProxy front (front/ in the
 * gateway folder's .cctl, `cctl gateway deploy --swarm`), with the extra CA as
 * for Postgres.
 */
export function frontAssets(caPem: Buffer | undefined): Map<string, Buffer> {
  const dir = join(PACKAGE_ROOT, 'docker', 'gateway-front');
  const wanted = new Map<string, Buffer>();
  for (const f of listFiles(dir)) wanted.set(join('front', f), readFileSync(join(dir, f)));
  wanted.set(join('front', 'certs', 'README'), readFileSync(join(PACKAGE_ROOT, 'docker', 'certs', 'README')));
  if (caPem) wanted.set(join('front', 'certs', CA_FILE_NAME), caPem);
  return wanted;
}

/** A short hash over the assets; it changes whenever a rebuild is due. */
export function assetsHash(wanted: Map<string, Buffer>): string {
  const h = createHash('sha256');
  for (const key of [...wanted.keys()].sort()) h.update(key).update('\0').update(wanted.get(key)!).update('\0');
  return h.digest('hex').slice(0, 12);
}

/**
 * Makes the docker/ and proxy/ build folders match `wanted`, and says what
 * changed. Both live in .cctl/ unless `proxyDir` puts the gateway's build
 * folder elsewhere: for a project, the private folder, because anything in
 * claude-cli can write .cctl/ and the gateway image holds the team key.
 */
/**
 * The build folders, made (empty) before anything is resolved: Compose v1
 * checks that each build context exists when it resolves a file (`config`),
 * and the trust check resolves cctl's rendering before syncAssets fills them.
 */
export function ensureBuildContexts(projectDir: string, proxyDir: string): void {
  mkdirInside(projectDir, join(projectDir, ASSETS_DIR, 'docker'));
  mkdirInside(dirname(proxyDir), proxyDir);
}

export function syncAssets(projectDir: string, wanted: Map<string, Buffer>, proxyDir?: string): AssetChange[] {
  const root = join(projectDir, ASSETS_DIR);
  const folder = (sub: string) => (sub === 'proxy' && proxyDir ? proxyDir : join(root, sub));
  // What a path is written under: the project (claude-cli's to write, so never through a link), or the private folder.
  const top = (sub: string) => (sub === 'proxy' && proxyDir ? proxyDir : projectDir);
  const shown = (sub: string, rel: string) => (sub === 'proxy' && proxyDir ? join(proxyDir, rel) : join(ASSETS_DIR, sub, rel));
  const changes: AssetChange[] = [];
  for (const [key, data] of wanted) {
    const [sub, ...rest] = key.split('/');
    const rel = rest.join('/');
    const target = join(folder(sub!), rel);
    const current = readInside(top(sub!), target);
    if (current?.equals(data)) continue;
    changes.push({ path: shown(sub!, rel), change: current ? 'updated' : 'added' });
    writeInside(top(sub!), target, data, { mode: rel.endsWith('.sh') ? 0o755 : 0o644 });
  }
  for (const sub of ['docker', 'proxy', 'postgres']) {
    for (const f of listFiles(folder(sub))) {
      if (wanted.has(join(sub, f))) continue;
      changes.push({ path: shown(sub, f), change: 'removed' });
      removeInside(top(sub), join(folder(sub), f));
    }
  }
  // The gateway's build folder an older cctl kept in the project goes (it is rebuilt from the private one).
  const legacy = join(root, 'proxy');
  if (proxyDir && existsSync(legacy)) {
    changes.push({ path: join(ASSETS_DIR, 'proxy'), change: 'removed' });
    removeInside(projectDir, legacy, { recursive: true });
  }
  return changes;
}

export function readCaCert(projectDir: string, setting: string): Buffer | undefined {
  if (!setting) return undefined;
  const file = join(projectDir, setting);
  const abs = setting.startsWith('/') ? setting : file;
  let data: Buffer;
  try {
    if (setting.startsWith('/')) {
      if (!statSync(abs).isFile()) throw new Error('not a file');
      data = readFileSync(abs);
    } else {
      // In the project: read without following a link (claude-cli may have made .cctl/docker one to a folder
      // of the user's); a link is refused with kernel/inside.ts's message, which names it.
      const inside = readInside(projectDir, file);
      if (!inside) throw new Error(`no such file: ${file}`);
      data = inside;
    }
  } catch (error) {
    if (error instanceof CctlError) throw error;
    throw new CctlError(`The extra CA file "${setting}" cannot be read: ${(error as Error).message}.`, {
      hint: 'Point --ca-cert (or CCTL_CA_CERT) at a readable PEM bundle, or set it to "" to turn the feature off.',
    });
  }
  const certs = data.toString('latin1').match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g);
  if (!certs) {
    throw new CctlError(`The extra CA file "${setting}" holds no PEM certificate (-----BEGIN CERTIFICATE-----).`, {
      hint: 'Convert it with "openssl x509 -inform der -in FILE -out FILE.pem" and point --ca-cert at the .pem.',
    });
  }
  // Only the certificates go into the project (and so into claude-cli's /workspace):
  // a bundle that also holds a private key must not carry it along.
  return Buffer.from(`${certs.join('\n')}\n`, 'latin1');
}

/** Where init copies the extra CA in the project (committed with the rest of .cctl/docker). */
export const CA_IN_PROJECT = `${ASSETS_DIR}/docker/certs/${CA_FILE_NAME}`;

export interface CaSource {
  /** The certificates to build with, when there is a CA. */
  pem?: Buffer;
  /** The ca-cert value the committed file stores: never a host path. */
  stored: string;
  /** Said to the user when the file named a host path that this machine lacks. */
  note?: string;
}

/**
 * The extra CA and how the committed file names it. A path in the project is
 * kept as it is. A host path (absolute, or outside the project, as in
 * CCTL_CA_CERT=/etc/ssl/...) is read here, its certificates are copied to
 * .cctl/docker/certs/ (syncAssets), and the file stores that copy's path, so a
 * teammate's clone builds with the same CA without having the host file. A
 * file an older cctl wrote with a host path that this machine lacks falls back
 * to the copy, and says so.
 */
export function caCertSource(projectDir: string, setting: string): CaSource {
  if (!setting) return { stored: '' };
  const rel = relative(projectDir, resolve(projectDir, setting));
  if (!isAbsolute(setting) && !rel.startsWith('..') && !isAbsolute(rel)) return { pem: readCaCert(projectDir, setting), stored: setting };
  try {
    return { pem: readCaCert(projectDir, setting), stored: CA_IN_PROJECT };
  } catch (error) {
    if (!existsSync(join(projectDir, CA_IN_PROJECT))) throw error;
    return {
      pem: readCaCert(projectDir, CA_IN_PROJECT),
      stored: CA_IN_PROJECT,
      note: `The extra CA file ${setting} is not on this machine; the project's copy ${CA_IN_PROJECT} is used (and the compose file now names it).`,
    };
  }
}

export function relativeToProject(projectDir: string, file: string): string {
  const rel = relative(projectDir, file);
  return rel.startsWith('..') ? file : rel;
}
