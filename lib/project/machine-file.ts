/**
 * The per-machine compose file: everything that differs between teammates'
 * machines, kept out of the committed file so that file is the same bytes
 * whoever renders it, on any engine and Compose.
 *
 * It lives in the project's private folder (~/.config/cctl/projects/<name>/,
 * outside the project tree) and cctl passes it as a second `-f` to every
 * Compose call (ops/compose.ts, projectFiles). Compose merges it over the
 * committed file: maps key by key (healthcheck, build.args, environment,
 * labels), volumes by their target, env_file as a list. Plain Compose on the
 * committed file alone runs without it (docs/GUIDE.md says what is missing).
 *
 * What goes here:
 *   - claude's UID/GID (build args) and the image tag that carries them: an
 *     image built for one UID never serves another;
 *   - the health-check timing this engine supports (start_interval needs
 *     engine 25 and Compose 2.20.2; v1 rejects the key);
 *   - the SSH agent's socket and the git identity;
 *   - the private folder's paths: the secrets (env_file), the gateway's
 *     build folder, and claude-cli's build context (a copy of the checked
 *     inputs, ops/build-copy.ts), so a fresh clone validates with plain
 *     `compose config` and a build reads nothing of the project's;
 *   - the owner labels (a shared engine tells whose stack it is);
 *   - read-only binds over files the host runs without review
 *     (protected-paths.ts).
 * Every value is written literally, with `$` doubled, so Compose interpolates
 * nothing from it: no variable of a project `.env` can reach these keys.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { CLI_SERVICE } from './locate.js';
import { gatewayService, imageName, type PlainMap } from './model.js';
import type { Settings } from './settings.js';
import { SSH_SOCKET_IN_CONTAINER } from './workbench.js';
import type { Bind } from './protected-paths.js';

import { CLI_BUILD_COPY } from './private-dir.js';

export { MACHINE_FILE, machineFilePath } from './private-dir.js';

/** Labels on cctl's containers that name the host user whose stack it is. */
export const OWNER_UID_LABEL = 'dev.cctl.owner.uid';
export const OWNER_USER_LABEL = 'dev.cctl.owner.user';
export const OWNER_HOST_LABEL = 'dev.cctl.owner.host';

export interface Ids {
  uid: number;
  gid: number;
}

/** The ids the committed file builds claude with: plain Compose on its own, and the fallback under root. */
export const DEFAULT_IDS: Ids = { uid: 1001, gid: 1001 };

/** The host user cctl runs as, for the owner labels. */
export interface Owner {
  uid: number;
  user: string;
  host: string;
}

export interface MachineFacts {
  /** The build assets' hash (model.ts), which the gateway's build here carries as claude-cli's does in the committed file. */
  buildHash: string;
  /** The host's time zone, unless the tz setting fixes one for the team. */
  timeZone: string;
  /** claude's ids in the image (ops/machine-file.ts: the host user's, or the project folder's owner under root). */
  ids: Ids;
  owner: Owner;
  /** Engine >= 25 and Compose v2 >= 2.20.2: poll fast while starting, rarely after. */
  startInterval: boolean;
  /** The host side of the SSH agent socket, when one is forwarded. */
  sshSocket?: string;
  git: { name?: string; email?: string };
  /** Absolute path of the private folder (secrets, the gateway's build folder). */
  privateDir: string;
  /** Read-only binds over the files the host runs (and the folders that pin them). */
  binds: Bind[];
  /** With the devcontainer setting: the labels by which the Dev Containers CLI finds claude-cli (host paths). */
  devcontainer?: { localFolder: string; configFile: string };
}

/** The Dev Containers CLI's labels for a container it attaches to (its `exec`, and an editor's later sessions, look it up by them). */
export const DEVCONTAINER_LABELS = { localFolder: 'devcontainer.local_folder', configFile: 'devcontainer.config_file' } as const;

/**
 * claude-cli's image on this machine: the UID and GID are part of its name,
 * so an image built for UID 1500 is never reused by a user with UID 1600
 * (claude could not write /workspace there, and the SSH agent refuses it).
 */
export function cliImageName(project: string, ids: Ids): string {
  return `cctl-${project}-${CLI_SERVICE}:local-u${ids.uid}-g${ids.gid}`;
}

/**
 * The ids claude gets. The host user's own; under root, the owner of the
 * project folder (the Dev Containers CLI's updateRemoteUserUID does the same),
 * so files made in /workspace belong to whoever owns the project; a folder
 * root owns keeps the image's 1001 (Claude Code refuses to run as root).
 */
export function claudeIds(
  projectDir: string,
  self: { uid?: number; gid?: number } = { uid: process.getuid?.(), gid: process.getgid?.() },
): Ids {
  if (self.uid === undefined || self.gid === undefined) return DEFAULT_IDS;
  if (self.uid !== 0) return { uid: self.uid, gid: self.gid };
  try {
    const st = statSync(projectDir);
    if (st.uid !== 0) return { uid: st.uid, gid: st.gid };
  } catch {
    // An unreadable folder: the image's default.
  }
  return DEFAULT_IDS;
}

/** The image cctl runs for `service` on this machine: claude-cli's names the ids it was built for. */
export function machineImageName(project: { name: string; dir: string }, service: string): string {
  return service === CLI_SERVICE ? cliImageName(project.name, claudeIds(project.dir)) : imageName(project.name, service);
}

/** Compose interpolates `$` in every value of every file: doubled, it is a literal `$`. */
function literal(value: string): string {
  return value.replace(/\$/g, '$$$$');
}

function bindSpec(b: Bind): string {
  return `${literal(b.source)}:${b.target}${b.readOnly ? ':ro' : ''}`;
}

/** The health-check keys this engine adds over the committed timing (model.ts). */
export function healthTiming(startInterval: boolean): PlainMap {
  // Engine 25 added start_interval: poll every 250 ms while starting, then
  // rarely. The first check runs one start_interval after the start, so it is
  // most of a warm start's wait (1 s: 2.0 s to all-healthy here; 250 ms: 1.15 s).
  // Elsewhere the committed 2 s interval holds throughout; the check is cheap.
  return startInterval ? { interval: '30s', start_interval: '250ms' } : {};
}

/** The per-machine file as a plain map, for `s` and this machine's facts. */
export function renderMachine(s: Settings, project: string, facts: MachineFacts): PlainMap {
  const labels: PlainMap = {
    [OWNER_UID_LABEL]: String(facts.owner.uid),
    [OWNER_USER_LABEL]: literal(facts.owner.user),
    [OWNER_HOST_LABEL]: literal(facts.owner.host),
  };
  const timing = healthTiming(facts.startInterval);
  const secret = (file: 'proxy.env' | 'client.env') => literal(join(facts.privateDir, file));

  const environment: PlainMap = {};
  if (!s.tz) environment.TZ = literal(facts.timeZone);
  if (facts.git.name) {
    environment.GIT_AUTHOR_NAME = literal(facts.git.name);
    environment.GIT_COMMITTER_NAME = literal(facts.git.name);
  }
  if (facts.git.email) {
    environment.GIT_AUTHOR_EMAIL = literal(facts.git.email);
    environment.GIT_COMMITTER_EMAIL = literal(facts.git.email);
  }
  const volumes: string[] = [];
  if (facts.sshSocket) {
    environment.SSH_AUTH_SOCK = SSH_SOCKET_IN_CONTAINER;
    volumes.push(bindSpec({ source: facts.sshSocket, target: SSH_SOCKET_IN_CONTAINER, readOnly: false }));
  }
  volumes.push(...facts.binds.map(bindSpec));

  const cliLabels: PlainMap = { ...labels };
  if (facts.devcontainer) {
    cliLabels[DEVCONTAINER_LABELS.localFolder] = literal(facts.devcontainer.localFolder);
    cliLabels[DEVCONTAINER_LABELS.configFile] = literal(facts.devcontainer.configFile);
  }
  const cli: PlainMap = {
    image: cliImageName(project, facts.ids),
    // Built from the private copy of the checked inputs (ops/build-copy.ts), not from the project's .cctl/docker.
    build: {
      context: literal(join(facts.privateDir, CLI_BUILD_COPY)),
      args: { CLAUDE_UID: String(facts.ids.uid), CLAUDE_GID: String(facts.ids.gid) },
    },
    labels: cliLabels,
  };
  if (Object.keys(timing).length) cli.healthcheck = timing;
  if (Object.keys(environment).length) cli.environment = environment;
  if (volumes.length) cli.volumes = volumes;
  if (s.auth === 'team-key' && s.proxy === 'builtin') cli.env_file = [secret('client.env')];

  const services: PlainMap = { [CLI_SERVICE]: cli };
  if (s.proxy !== 'external') {
    const gateway: PlainMap = { labels };
    if (s.proxy === 'builtin') {
      // The gateway image holds the team key: it is built from the private folder, never from the project.
      gateway.build = {
        context: literal(join(facts.privateDir, 'proxy')),
        args: { BASE_IMAGE: s['base-image'], CCTL_BUILD_HASH: facts.buildHash },
      };
    }
    gateway.env_file = [secret('proxy.env')];
    if (Object.keys(timing).length) gateway.healthcheck = timing;
    services[gatewayService(s)] = gateway;
  }
  return { services };
}

/** The first lines of the file: what it is, and that cctl rewrites it. */
export function machineFileHeader(committed: string): string {
  return [
    '# Written by cctl for this machine and user: not for the repository, and',
    '# rewritten by every "cctl up". cctl passes it to Compose after the',
    `# project's file (${committed}); by hand:`,
    `#   docker compose -f ${committed} -f <this file> --profile claude ...`,
    '',
  ].join('\n');
}

/** The gateway image name is the same everywhere (it holds no UID); re-exported for callers that name both. */
export { imageName };
