/**
 * The compose client: every compose call cctl makes is one typed verb here,
 * and every one takes the same invocation (which compose, which files, which
 * project, which profiles, which environment). Callers say what they want
 * done; only this file knows the argv. That keeps the calls `up` makes and
 * the `config` the trust check reads identical by construction: same files,
 * same project name, same environment.
 *
 * Loaded on the hot path (`cctl usage daily` is `exec` here), so it imports
 * the runner and nothing heavy: the YAML parser (v1's `config`) and the
 * docker-compose package (build, validate) load only inside those verbs.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BuildRequest } from './compose-lib.js';
import { invocationArgv, type ComposeInvocation } from './compose.js';
import { run, runInteractive, type RunOptions, type RunResult } from './runner.js';

export { invocationArgv, type ComposeInvocation } from './compose.js';
export type { BuildRequest } from './compose-lib.js';

/** Options of the process, not of compose: cancelling and time limits. */
export type CallOptions = Pick<RunOptions, 'signal' | 'timeoutMs' | 'onOutput'>;

function capture(
  inv: ComposeInvocation,
  verbArgs: readonly string[],
  options: CallOptions & Pick<RunOptions, 'input'> = {},
): Promise<RunResult> {
  return run(invocationArgv(inv, verbArgs), { ...options, cwd: inv.dir, env: inv.env });
}

function inherit(inv: ComposeInvocation, verbArgs: readonly string[], stdoutFilter?: () => (chunk: string) => string): Promise<number> {
  return runInteractive(invocationArgv(inv, verbArgs), { cwd: inv.dir, env: inv.env, ...(stdoutFilter ? { stdoutFilter } : {}) });
}

const CLEAR_LINE = '\x1b[2K';

/**
 * A stdout filter that drops ESC[2K (erase line). Compose 2.25 to 2.26 put it
 * before every log line even with `--ansi never` (docker/compose#11727), which
 * breaks `cctl logs | jq` and greps. A sequence split across two chunks is
 * held back until the next one.
 */
export function dropClearLine(): (chunk: string) => string {
  let held = '';
  return (chunk) => {
    const text = (held + chunk).split(CLEAR_LINE).join('');
    const keep = [3, 2, 1].find((n) => text.endsWith(CLEAR_LINE.slice(0, n))) ?? 0;
    held = text.slice(text.length - keep);
    return text.slice(0, text.length - keep);
  };
}

/**
 * Top-level flags that keep Compose's colours and terminal control sequences
 * (ESC[2K line erasing) out of output that goes to a pipe. v2 and v1 since
 * 1.28, cctl's oldest, both take `--ansi never`; v1's older `--no-ansi` prints
 * a deprecation warning.
 */
export const NO_ANSI: readonly string[] = ['--ansi', 'never'];

// ---- lifecycle ----------------------------------------------------------

export interface UpRequest {
  services: readonly string[];
  /** `--no-build`: images are cctl's business (built before, with their own checks). Default true. */
  noBuild?: boolean;
  /** `--no-start`: create (or recreate) the containers only; the caller checks them, then starts them by id. */
  noStart?: boolean;
}

/** `up -d [--no-build] services…` (or `up --no-start …`); rejects with a ProcessError carrying Compose's output. */
export async function up(inv: ComposeInvocation, request: UpRequest, options: CallOptions = {}): Promise<void> {
  const build = request.noBuild === false ? [] : ['--no-build'];
  await capture(inv, ['up', ...(request.noStart ? ['--no-start'] : ['-d']), ...build, ...request.services], options);
}

/** `down --timeout N`: the whole project. Volumes are kept (no -v): cctl never deletes data by this path. */
export async function down(inv: ComposeInvocation, request: { timeoutSeconds: number }, options: CallOptions = {}): Promise<void> {
  await capture(inv, ['down', '--timeout', String(request.timeoutSeconds)], options);
}

/** `stop --timeout N services…`. */
export async function stop(
  inv: ComposeInvocation,
  request: { services: readonly string[]; timeoutSeconds: number },
  options: CallOptions = {},
): Promise<void> {
  await capture(inv, ['stop', '--timeout', String(request.timeoutSeconds), ...request.services], options);
}

/** `rm -f services…`: stopped containers of these services only (anonymous volumes stay). */
export async function remove(inv: ComposeInvocation, request: { services: readonly string[] }, options: CallOptions = {}): Promise<void> {
  await capture(inv, ['rm', '-f', ...request.services], options);
}

// ---- exec -----------------------------------------------------------------

export interface ExecRequest {
  service: string;
  /** The command inside the container. */
  command: readonly string[];
  /** Allocate a TTY; without one, `-T` (a TTY on a pipe fails or mangles output). */
  tty: boolean;
  /** `-w`; omitted means the image's WORKDIR. */
  workdir?: string;
}

/** The verb args of an exec: `exec [-T] [-w dir] service cmd…`. */
export function execVerb(request: ExecRequest): string[] {
  return ['exec', ...(request.tty ? [] : ['-T']), ...(request.workdir ? ['-w', request.workdir] : []), request.service, ...request.command];
}

/** Inherited stdio; resolves with the child's status (its code, or 128+signal), whatever it is. */
export function exec(inv: ComposeInvocation, request: ExecRequest): Promise<number> {
  return inherit(inv, execVerb(request));
}

/** Captured output, always without a TTY; a non-zero status rejects with a ProcessError. */
export function execCapture(inv: ComposeInvocation, request: Omit<ExecRequest, 'tty'>, options: CallOptions = {}): Promise<RunResult> {
  return capture(inv, execVerb({ ...request, tty: false }), options);
}

// ---- logs -------------------------------------------------------------------

export interface LogsRequest {
  services: readonly string[];
  follow?: boolean;
  /** Lines from the end of each service's log. */
  tail?: number;
  /** false: `--ansi never`, no terminal control sequences (the output goes to a pipe or a file). */
  ansi?: boolean;
}

/** Logs to the user's terminal (inherited stdio); resolves with Compose's status. */
export function logs(inv: ComposeInvocation, request: LogsRequest): Promise<number> {
  return inherit(
    inv,
    [
      ...(request.ansi === false ? NO_ANSI : []),
      'logs',
      ...(request.follow ? ['--follow'] : []),
      ...(request.tail !== undefined ? [`--tail=${request.tail}`] : []),
      ...request.services,
    ],
    request.ansi === false ? dropClearLine : undefined,
  );
}

/** Logs as text for a parser: `logs --no-color` (Compose's line prefixes stay; the parser skips them). */
export async function readLogs(
  inv: ComposeInvocation,
  request: { services: readonly string[] },
  options: CallOptions = {},
): Promise<string> {
  return (await capture(inv, ['logs', '--no-color', ...request.services], options)).stdout;
}

// ---- the model ----------------------------------------------------------------

/** The resolved model as Compose prints it: interpolated, merged, with extends and include applied. */
export type ComposeModel = Record<string, unknown> & {
  name?: string;
  services?: Record<string, Record<string, unknown>>;
  networks?: Record<string, Record<string, unknown> | null>;
  volumes?: Record<string, Record<string, unknown> | null>;
  secrets?: Record<string, Record<string, unknown>>;
  configs?: Record<string, Record<string, unknown>>;
};

/**
 * `config`: the model Compose will run, resolved with exactly this
 * invocation's files, project, profiles and environment. v2 prints JSON on
 * request (`--format json`). v1 (1.29) has no `--format` and prints YAML; it
 * is parsed here, as YAML 1.1 would read it where that matters for Compose's
 * output (v1 quotes every ambiguous scalar, so core schema suffices). The two
 * differ in shape in places (v1 keeps short `ports`/`volumes` strings where
 * v2 prints long objects), which the reader of the model must allow for.
 */
export async function config(inv: ComposeInvocation, options: CallOptions & ConfigSource = {}): Promise<ComposeModel> {
  // `input` stands in for the first file, the same project folder resolving its relative paths: piped on v2
  // (`-f -`); v1 reads `-` only as the sole file, so there it is a private copy of the text.
  const first = options.input === undefined ? undefined : inv.engine.flavour === 'v1' ? privateFile('input.yaml', options.input) : '-';
  const from = first === undefined ? inv : { ...inv, files: [first, ...inv.files.slice(1)] };
  const envFile = options.withoutDotEnv ? ['--env-file', privateFile('empty.env', '')] : [];
  if (inv.engine.flavour === 'v1' || options.yaml) {
    // v1 reads the text from its private copy; v2 asked for YAML takes it on stdin, as for JSON.
    const { stdout } = await capture(
      from,
      [...envFile, 'config', ...(options.services ?? [])],
      inv.engine.flavour === 'v1' ? { ...options, input: undefined } : options,
    );
    const { parse } = await import('yaml');
    return asModel(parse(stdout), `${inv.engine.flavour} config`);
  }
  const { stdout } = await capture(from, [...envFile, 'config', '--format', 'json', ...(options.services ?? [])], options);
  const model = asModel(JSON.parse(stdout), 'config --format json');
  printed.set(model, stdout);
  return model;
}

/** Each JSON model config() returned, with the text Compose printed (compose-hash.ts reads the text). */
const printed = new WeakMap<ComposeModel, string>();

/** The text `config --format json` printed for this model; undefined for v1's or a YAML model. */
export function printedJson(model: ComposeModel): string | undefined {
  return printed.get(model);
}

/** What `config` reads besides the invocation's files: a text in place of the first, another env file than .env. */
export interface ConfigSource {
  /** Read in place of the first compose file (a text not yet written, or cctl's own rendering). */
  input?: string;
  /** Read no .env at all (Compose reads the project's .env unless told another file). */
  withoutDotEnv?: boolean;
  /**
   * v2: the model in YAML, not JSON. Compose 2.26 cannot print some models as JSON (a `build.ssh`
   * entry: "json: error calling MarshalJSON for type types.SSHKey") but prints them as YAML; the two
   * differ in small ways (null or absent), so a comparison reads both sides the same way.
   */
  yaml?: boolean;
  /** Only these services (and what they need): cctl's own, printable as JSON when another service's build.ssh is not. */
  services?: readonly string[];
}

let privateDir: string | undefined;
let written = 0;

/**
 * A file of this text in a private temporary folder, made once per process
 * and removed at exit. Compose v1 needs real files where v2 takes stdin and
 * `/dev/null`: it refuses an env file that is not a regular file ("/dev/null
 * is not a file") and reads `-f -` only when it is the sole file.
 */
function privateFile(name: string, text: string): string {
  if (!privateDir) {
    // node:os only here: the exec verbs, on the hot path, never come this way.
    const dir = (privateDir = mkdtempSync(join(process.getBuiltinModule('node:os').tmpdir(), 'cctl-config-')));
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
  const file = join(privateDir, `${++written}-${name}`);
  writeFileSync(file, text, { mode: 0o600 });
  return file;
}

function asModel(value: unknown, what: string): ComposeModel {
  if (!value || typeof value !== 'object' || Array.isArray(value))
    throw new Error(`compose ${what} printed no model (got ${JSON.stringify(value)?.slice(0, 80)})`);
  return value as ComposeModel;
}

/**
 * `config --hash '*'`: Compose's own hash of each service's configuration
 * (what it compares to a container's config-hash label to decide a
 * recreate). Both v1 (1.29) and v2 print `service hash` lines.
 */
export async function configHashes(inv: ComposeInvocation, options: CallOptions = {}): Promise<Map<string, string>> {
  const { stdout } = await capture(inv, ['config', '--hash', '*'], options);
  return new Map(
    stdout
      .split('\n')
      .map((line) => line.trim().split(/\s+/))
      .filter((parts): parts is [string, string] => parts.length === 2),
  );
}

// ---- through the docker-compose package (engine/compose-lib.ts) -----------------------

/**
 * `build [--no-cache] services…`; a failure is a CctlError whose cause (a ProcessError) holds the whole output.
 * With `model`, that text is the only compose file (`-f -`, v1 and v2 alike) and no .env is read.
 */
export async function build(inv: ComposeInvocation, request: Omit<BuildRequest, 'model'> & { model?: string }): Promise<RunResult> {
  const lib = await import('./compose-lib.js');
  const { model, ...rest } = request;
  return lib.buildServices(inv, model === undefined ? rest : { ...rest, model: { text: model, envFile: privateFile('empty.env', '') } });
}

/**
 * `config -q` on a compose file's text before it is written over the
 * committed one: piped as the only file (`-f -`; the invocation's files are
 * not read), with the project directory, name, profiles and environment of
 * the invocation, so relative paths and variables resolve as they will.
 * Resolves when Compose accepts it; otherwise a CctlError with Compose's words.
 */
export async function validate(inv: ComposeInvocation, text: string): Promise<void> {
  const lib = await import('./compose-lib.js');
  return lib.validateConfig(inv, text);
}
