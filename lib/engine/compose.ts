/**
 * Finding Compose, once. Users have the v2 plugin, standalone v2, or the
 * Python v1 (>= 1.28, the first release with profiles); cctl speaks to all
 * three through the same argv shape: command, prefix args, then verb args.
 */
import { CctlError } from '../kernel/errors.js';
import { ProcessError, run } from './runner.js';
import { forget, recall, remember } from './compose-cache.js';
import { daemonInfo, engineMajor, type DaemonInfo } from './daemon.js';

import type { ComposeCommand } from './compose-cache.js';
import { once } from '../kernel/once.js';
export type { ComposeCommand, ComposeFlavour } from './compose-cache.js';

const MIN_V1: readonly number[] = [1, 28, 0];

const INSTALL_COMPOSE_HINT =
  'Install Docker Compose v2 (the "docker compose" plugin, https://docs.docker.com/compose/install/) ' +
  'or, on Debian/Ubuntu, "apt-get install docker-compose". Set CCTL_COMPOSE="docker compose" or ' +
  'CCTL_COMPOSE=docker-compose to choose one explicitly.';

export function parseVersion(text: string): number[] | undefined {
  const match = /v?(\d+)\.(\d+)\.(\d+)/.exec(text);
  return match ? match.slice(1, 4).map(Number) : undefined;
}

export function compareVersions(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

async function probe(command: readonly string[]): Promise<string | undefined> {
  try {
    const { stdout } = await run([...command, 'version', '--short']);
    return stdout.trim();
  } catch (error) {
    if (error instanceof ProcessError) return undefined;
    throw error;
  }
}

function classify(command: readonly string[], version: string): ComposeCommand {
  const parsed = parseVersion(version);
  if (!parsed) {
    throw new CctlError(`Could not read the Compose version from "${command.join(' ')} version --short" (got "${version}").`, {
      hint: INSTALL_COMPOSE_HINT,
    });
  }
  const clean = parsed.join('.');
  if (command.length > 1) return { flavour: 'plugin', command, version: clean };
  if (parsed[0]! >= 2) return { flavour: 'standalone-v2', command, version: clean };
  if (compareVersions(parsed, MIN_V1) < 0) {
    throw new CctlError(`Compose ${clean} is too old: cctl needs profiles, which arrived in Compose 1.28.`, {
      hint: INSTALL_COMPOSE_HINT,
    });
  }
  return { flavour: 'v1', command, version: clean };
}

export async function detectCompose(env: NodeJS.ProcessEnv = process.env): Promise<ComposeCommand> {
  const forced = env.CCTL_COMPOSE?.trim();
  if (forced) {
    const command = forced.split(/\s+/);
    const version = await probe(command);
    if (version === undefined) {
      throw new CctlError(`CCTL_COMPOSE is "${forced}", but "${forced} version --short" failed.`, {
        hint: INSTALL_COMPOSE_HINT,
      });
    }
    return classify(command, version);
  }
  for (const command of [['docker', 'compose'], ['docker-compose']]) {
    const version = await probe(command);
    if (version !== undefined) return classify(command, version);
  }
  throw new CctlError('Docker Compose was not found (tried "docker compose" and "docker-compose").', {
    hint: INSTALL_COMPOSE_HINT,
  });
}

/** detectCompose(), answered from the on-disk cache when nothing it depends on changed (CCTL_COMPOSE_CACHE=0 turns it off). */
export async function cachedCompose(env: NodeJS.ProcessEnv = process.env, now = Date.now()): Promise<ComposeCommand> {
  if (env.CCTL_COMPOSE_CACHE === '0') return detectCompose(env);
  const hit = recall(env, now);
  if (hit) return hit;
  const engine = await detectCompose(env);
  remember(env, now, engine);
  return engine;
}

const detected = once(() => cachedCompose());

/** Detection runs at most once per process (a failure is not remembered), and rarely across processes. */
export const compose = (): Promise<ComposeCommand> => detected.get();

export const resetComposeDetection = (): void => detected.reset();

/** After the remembered command failed to start: forget it, so the next call detects. */
export function forgetCompose(env: NodeJS.ProcessEnv = process.env): void {
  forget(env);
  resetComposeDetection();
}

/**
 * One compose invocation's context, the same for every verb on a project
 * (compose-client.ts): which compose, which files, which project, which
 * profiles and which environment. invocationArgv() below is the one place a
 * compose argv is put together.
 */
export interface ComposeInvocation {
  /** Which compose, and how it starts (detection's answer): the v2 plugin, standalone v2, or v1. */
  engine: ComposeCommand;
  /** Each becomes `-f`, in order: the committed file first, then any override. */
  files: readonly string[];
  /** `-p`. */
  project: string;
  /** `--project-directory`, and the working folder of the call. */
  dir: string;
  /** Each becomes `--profile`. */
  profiles: readonly string[];
  /** The child's whole environment: nothing is added to it or taken from process.env. */
  env: NodeJS.ProcessEnv;
}

/** The args between the command and the verb, the same on v1 and v2. */
function prefix(inv: Pick<ComposeInvocation, 'dir' | 'files' | 'project' | 'profiles'>): string[] {
  return [
    '--project-directory',
    inv.dir,
    ...inv.files.flatMap((f) => ['-f', f]),
    '-p',
    inv.project,
    ...inv.profiles.flatMap((p) => ['--profile', p]),
  ];
}

/** command + prefix + verb args: the one place a compose argv is put together. */
export function invocationArgv(inv: Omit<ComposeInvocation, 'env'>, verbArgs: readonly string[]): string[] {
  return [...inv.engine.command, ...prefix(inv), ...verbArgs];
}

/** The prefix as the docker-compose package takes it (it adds the command itself). */
export function packagePrefix(inv: Omit<ComposeInvocation, 'env' | 'engine'>): string[] {
  return prefix(inv);
}

/** A project as the benches name it: one file, its folder and the project name. */
export interface ComposeTarget {
  file: string;
  dir: string;
  name: string;
}

/**
 * The argv cctl runs for these verb args, for the benches that time raw
 * Compose side by side with cctl (bench/): built by the client
 * (compose-client.ts), so both run the same command line.
 */
export function composeArgv(
  engine: ComposeCommand,
  target: ComposeTarget,
  args: readonly string[],
  profiles: readonly string[] = [],
): string[] {
  return invocationArgv({ engine, files: [target.file], project: target.name, dir: target.dir, profiles }, args);
}

/** The first engine major whose image inspect lacks ContainerConfig, which Compose v1 reads. */
const V1_LAST_ENGINE = 24;

/**
 * Compose v1 cannot drive Docker Engine 25 or newer: `up` dies with
 * `KeyError: 'ContainerConfig'` (https://github.com/docker/compose/issues/11742),
 * because engine 25 dropped that field from image inspect. Said plainly,
 * before anything starts, instead of passing a Python traceback through.
 */
export function unsupportedPair(engine: ComposeCommand, daemon: DaemonInfo): CctlError | undefined {
  const major = engineMajor(daemon);
  if (engine.flavour !== 'v1' || major === undefined || major <= V1_LAST_ENGINE) return undefined;
  const forced = process.env.CCTL_COMPOSE?.trim() ? ' (chosen by CCTL_COMPOSE)' : '';
  return new CctlError(
    `Compose ${engine.version} (v1, "${engine.command.join(' ')}")${forced} cannot drive Docker ${daemon.serverVersion}: ` +
      `engines 25 and newer removed a field it reads, and it fails with KeyError 'ContainerConfig' (docker/compose#11742).`,
    {
      hint:
        'Install the Compose v2 plugin ("docker compose": the docker-compose-plugin package from Docker\'s repository, ' +
        'or docker-compose-v2 / docker-compose 2.x from your distribution, https://docs.docker.com/compose/install/linux/). ' +
        `cctl prefers it whenever it is installed${forced ? '; then unset CCTL_COMPOSE' : ''}.`,
    },
  );
}

/** The daemon and Compose, asked together, refused up front when they cannot work as a pair (unsupportedPair). */
export async function checkedEngine(): Promise<{ daemon: DaemonInfo; engine: ComposeCommand }> {
  const [daemon, engine] = await Promise.all([daemonInfo(), compose()]);
  const broken = unsupportedPair(engine, daemon);
  if (broken) throw broken;
  return { daemon, engine };
}
