/**
 * The team gateway's folder on the server: a small compose project that
 * `cctl gateway init` writes and the other `cctl gateway` verbs drive.
 *
 *   compose.yaml     the gateway service, the ledger volume, the secrets
 *                    (its text: gateway-compose.ts)
 *   .cctl/proxy/     the image's build context (the compiled gateway package)
 *   secrets/         mode 0700: anthropic-api-key, admin-token, tls.crt/tls.key
 *
 * The secret files are 0644 inside a 0700 folder: Compose mounts file
 * secrets as they are (no uid or mode outside Swarm), the gateway runs as
 * nobody, and the folder keeps every other host user out. The real key
 * reaches the container as a file, never through argv or the environment.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { isIP, isIPv6 } from 'node:net';
import { join, resolve } from 'node:path';
import { CctlError, UsageError } from '../kernel/errors.js';
import { mkdirInside, writeInside } from '../kernel/fs.js';
import {
  ADMIN_TOKEN_FILE,
  DEFAULT_GATEWAY_DIR,
  GATEWAY_MARKER,
  KEY_FILE,
  type GatewaySetup,
  gatewayComposeText,
  publishedPort,
} from './gateway-compose.js';
import { postgresOf, type PostgresService } from './gateway-postgres.js';

export {
  ADMIN_TOKEN_FILE,
  DEFAULT_GATEWAY_DIR,
  GATEWAY_MARKER,
  GATEWAY_SERVICE,
  gatewayComposeText,
  type GatewaySetup,
  KEY_FILE,
  LEDGER_VOLUME,
} from './gateway-compose.js';

/**
 * Where the port is published when --listen is not given: plain HTTP carries
 * member and admin tokens in the clear, so without TLS only this machine may
 * connect (a reverse proxy here, or an SSH tunnel); with TLS, every address.
 */
export function defaultListen(tls: boolean): string {
  return tls ? '0.0.0.0' : '127.0.0.1';
}

/** --listen ADDR: an IP address of this machine (brackets around IPv6 optional), normalised. */
export function checkListen(text: string): string {
  const address = text.trim().replace(/^\[(.*)\]$/, '$1');
  if (!isIP(address)) {
    throw new UsageError(
      `--listen needs an IP address of this machine, not "${text}".`,
      'Examples: --listen 0.0.0.0 (every address), --listen 192.168.1.10, --listen 127.0.0.1 (the default without TLS).',
    );
  }
  return address.toLowerCase();
}

/**
 * The image tag of the gateway in a folder whose Compose project is `projectName`:
 * two gateways on one engine (two teams, or a test beside a real one) never
 * build over each other's image.
 */
export function gatewayImage(projectName: string): string {
  return `cctl-${projectName}-gateway:local`;
}

/** What the folder's compose.yaml says: port, TLS, the listen address, the image and its Postgres service (undefined for fields an older cctl did not write). */
export function readGatewayMarker(
  dir: string,
): { port?: number; tls: boolean; listen?: string; image?: string; postgres?: PostgresService } | undefined {
  const file = join(dir, 'compose.yaml');
  if (!existsSync(file)) return undefined;
  const text = readFileSync(file, 'utf8');
  const port = /\n {2}port: (\d+)/.exec(text)?.[1];
  return {
    ...(port ? { port: Number(port) } : {}),
    tls: /\n {2}tls: true/.test(text),
    ...(/\n {2}listen: (\S+)/.exec(text) ? { listen: /\n {2}listen: (\S+)/.exec(text)![1]!.replace(/^"|"$/g, '') } : {}),
    ...(/\n {4}image: (\S+)/.exec(text) ? { image: /\n {4}image: (\S+)/.exec(text)![1]! } : {}),
    ...(postgresOf(text) ? { postgres: postgresOf(text)! } : {}),
  };
}

/** `--dir`, else this folder when it is a gateway folder, else ./team-gateway. */
export function gatewayDir(dir: string | undefined, cwd = process.cwd()): string {
  if (dir) return resolve(cwd, dir);
  const here = join(cwd, 'compose.yaml');
  if (existsSync(here) && readFileSync(here, 'utf8').includes(`\n${GATEWAY_MARKER}:`)) return resolve(cwd);
  return resolve(cwd, DEFAULT_GATEWAY_DIR);
}

export function requireGatewayFolder(dir: string): string {
  const file = join(dir, 'compose.yaml');
  if (!existsSync(file) || !readFileSync(file, 'utf8').includes(`\n${GATEWAY_MARKER}:`)) {
    throw new CctlError(`${dir} is not a team gateway folder (no compose.yaml with ${GATEWAY_MARKER}).`, {
      hint: 'Create one with "cctl gateway init" (it writes ./team-gateway), or point at it with --dir.',
    });
  }
  return file;
}

export interface GatewayFiles {
  written: string[];
  /** True when the key file is still empty: up refuses until it is filled. */
  keyMissing: boolean;
}

/**
 * Writes compose.yaml and the secrets folder. An existing admin token and key
 * are kept (re-running init never locks anyone out); `keyFile` and the
 * runner's ANTHROPIC_API_KEY fill an empty key file.
 */
export function writeGatewayFolder(
  dir: string,
  setup: GatewaySetup,
  source: { keyFile?: string; tlsCert?: string; tlsKey?: string },
  env = process.env,
): GatewayFiles {
  const written: string[] = [];
  const secrets = join(dir, 'secrets');
  // The folder's files are written as in a project: never through a link (kernel/inside.ts).
  mkdirInside(dir, secrets, { mode: 0o700 });
  const compose = join(dir, 'compose.yaml');
  const text = gatewayComposeText(setup);
  if (!existsSync(compose) || readFileSync(compose, 'utf8') !== text) {
    writeInside(dir, compose, text);
    written.push(compose);
  }
  const put = (rel: string, value: string) => {
    // 0644 whatever the umask: the gateway (nobody) reads it through the mount.
    writeInside(dir, join(dir, rel), value, { mode: 0o644, exactMode: true });
    written.push(join(dir, rel));
  };
  const has = (rel: string) => existsSync(join(dir, rel)) && readFileSync(join(dir, rel), 'utf8').trim() !== '';
  if (!has(ADMIN_TOKEN_FILE)) put(ADMIN_TOKEN_FILE, `${randomBytes(32).toString('base64url')}\n`);
  // An explicit --key-file always wins; the runner's ANTHROPIC_API_KEY only fills an empty file.
  if (source.keyFile) put(KEY_FILE, `${readOrFail(source.keyFile, '--key-file').trim()}\n`);
  else if (!has(KEY_FILE) && env.ANTHROPIC_API_KEY?.trim()) put(KEY_FILE, `${env.ANTHROPIC_API_KEY.trim()}\n`);
  else if (!existsSync(join(dir, KEY_FILE))) put(KEY_FILE, '');
  if (setup.tls) {
    for (const [from, rel, flag] of [
      [source.tlsCert, join('secrets', 'tls.crt'), '--tls-cert'],
      [source.tlsKey, join('secrets', 'tls.key'), '--tls-key'],
    ] as const) {
      if (from) {
        const pem = readOrFail(from, flag);
        const want = flag === '--tls-cert' ? /-----BEGIN CERTIFICATE-----/ : /-----BEGIN [A-Z ]*PRIVATE KEY-----/;
        if (!want.test(pem)) throw new CctlError(`${flag}: ${from} holds no PEM ${flag === '--tls-cert' ? 'certificate' : 'private key'}.`);
        writeInside(dir, join(dir, rel), pem, { mode: 0o644, exactMode: true });
        written.push(join(dir, rel));
      } else if (!existsSync(join(dir, rel))) {
        throw new CctlError(`TLS needs both --tls-cert and --tls-key (${flag} is missing).`, {
          hint: 'Or leave both out and put the gateway behind a TLS reverse proxy (see the guide).',
        });
      }
    }
  }
  return { written, keyMissing: !readFileSync(join(dir, KEY_FILE), 'utf8').trim() };
}

function readOrFail(file: string, flag: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new CctlError(`${flag}: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? error}).`);
  }
}

export function gatewayKeyMissing(dir: string): boolean {
  const file = join(dir, KEY_FILE);
  return !existsSync(file) || !readFileSync(file, 'utf8').trim();
}

/** The admin token and where this gateway listens, from its folder (for `cctl usage --team` on the server). */
export function localGatewayAccess(dir: string): { url: string; adminToken: string } | undefined {
  const marker = readGatewayMarker(dir);
  const tokenFile = join(dir, ADMIN_TOKEN_FILE);
  if (!marker?.port || !existsSync(tokenFile)) return undefined;
  // Published on every address, it is reached here on loopback; on one address, there.
  const listen = !marker.listen || marker.listen === '0.0.0.0' || marker.listen === '::' ? '127.0.0.1' : marker.listen;
  const host = isIPv6(listen) ? `[${listen}]` : listen;
  return { url: `${marker.tls ? 'https' : 'http'}://${host}:${marker.port}`, adminToken: readFileSync(tokenFile, 'utf8').trim() };
}

/** Sets the build hash in compose.yaml (after an upgrade of cctl); true when it changed. */
export function setGatewayBuildHash(dir: string, hash: string): boolean {
  const file = join(dir, 'compose.yaml');
  const text = readFileSync(file, 'utf8');
  // Every image cctl builds in the folder (the gateway, and its Postgres) carries the one hash.
  const next = text.replace(/CCTL_BUILD_HASH: "[^"]*"/g, `CCTL_BUILD_HASH: "${hash}"`);
  if (next === text) return false;
  writeInside(dir, file, next);
  return true;
}

/**
 * Brings a folder written by an older cctl up to the current rules: its
 * shared image tag becomes the folder's own, and a port published on every
 * address over plain HTTP moves to 127.0.0.1 (widen it again, knowingly,
 * with "cctl gateway init --listen ADDR"). Returns what changed, for the
 * task list to say.
 */
export function upgradeGatewayFolder(dir: string, image: string): string[] {
  const file = join(dir, 'compose.yaml');
  let text = readFileSync(file, 'utf8');
  const changes: string[] = [];
  if (/\n {4}image: cctl-team-gateway:local\n/.test(text)) {
    text = text.replace(/\n {4}image: cctl-team-gateway:local\n/, `\n    image: ${image}\n`);
    changes.push(`image ${image}`);
  }
  const marker = readGatewayMarker(dir);
  if (marker && marker.listen === undefined && marker.port) {
    const listen = defaultListen(marker.tls);
    text = text
      .replace(/\n {2}tls: (true|false)\n/, `\n  tls: $1\n  listen: "${listen}"\n`)
      .replace(new RegExp(`\\n {6}- "${marker.port}:3000"`), `\n      - "${publishedPort(listen, marker.port)}"`);
    changes.push(`published on ${listen}`);
  }
  if (changes.length) writeInside(dir, file, text);
  return changes;
}
