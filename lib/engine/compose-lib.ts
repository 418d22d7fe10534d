/**
 * The calls that go through the docker-compose package (npm), and only these:
 * building images and validating a compose file with `config`. Both are slow
 * by nature, so the package's costs vanish in them: it buffers all output and
 * resolves 500 ms after the child exits. Everything a user waits on (exec,
 * the health wait, status, up, logs) stays on the runner: the package's exec
 * always adds -T and captures, and its ps cannot read Compose v1.
 *
 * The package spawns by itself. `runThrough` traces its argv for --debug and
 * hands that same argv to a fake when a test holds the runner seam; the argv
 * is built here to match what the package runs (executable, its options,
 * `compose`, our prefix args, the verb). Its rejections are plain objects
 * ({exitCode, out, err}); they become ProcessErrors and then CctlErrors here.
 */
import type { IDockerComposeOptions, IDockerComposeResult } from 'docker-compose';
import { CctlError } from '../kernel/errors.js';
import { dockerFailure } from './docker.js';
import type { ComposeCommand } from './compose-cache.js';
import { packagePrefix, type ComposeInvocation } from './compose.js';
import { ProcessError, runThrough, type RunResult } from './runner.js';

type Executable = NonNullable<IDockerComposeOptions['executable']>;

/** How the package should start this compose, or undefined when it cannot (a CCTL_COMPOSE it has no shape for). */
function executableFor(engine: ComposeCommand): Executable | undefined {
  const [file, ...rest] = engine.command;
  if (!file) return undefined;
  if (rest.length === 0) return { standalone: true, executablePath: file };
  // The package always appends `compose` after the executable's own options.
  if (rest[rest.length - 1] !== 'compose') return undefined;
  return { executablePath: file, options: rest.slice(0, -1) };
}

function isLibraryResult(value: unknown): value is IDockerComposeResult {
  return typeof value === 'object' && value !== null && 'exitCode' in value && 'out' in value && 'err' in value;
}

export interface LibraryCall {
  engine: ComposeCommand;
  /** The verb and its args, as they follow the prefix. */
  verb: string;
  args: readonly string[];
  /** Compose's args before the verb. */
  prefix: readonly string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Piped as the compose file (`-f -`). */
  input?: string;
  onOutput?: (chunk: string) => void;
  /** What is being done, for the error message. */
  what: string;
}

async function call(
  c: LibraryCall,
  viaPackage: (lib: typeof import('docker-compose'), options: IDockerComposeOptions) => Promise<IDockerComposeResult>,
): Promise<RunResult> {
  const file = c.input === undefined ? [] : ['-f', '-'];
  const argv = [...c.engine.command, ...c.prefix, ...file, c.verb, ...c.args];
  const executable = executableFor(c.engine);
  const spawnIt = async (): Promise<RunResult> => {
    // Loaded here: only builds and validation pay for it.
    const lib = await import('docker-compose');
    const result = await viaPackage(lib, {
      cwd: c.cwd,
      env: c.env,
      executable,
      composeOptions: [...c.prefix],
      configAsString: c.input,
      callback: c.onOutput ? (chunk) => c.onOutput!(chunk.toString('utf8')) : undefined,
    });
    return { exitCode: result.exitCode ?? 0, stdout: result.out, stderr: result.err };
  };
  try {
    if (!executable) {
      throw new CctlError(
        `${c.what} needs Compose started as "docker [options] compose" or as one program; "${c.engine.command.join(' ')}" is neither.`,
        {
          hint: 'Set CCTL_COMPOSE to "docker compose" or to the path of docker-compose.',
        },
      );
    }
    return await runThrough(argv, spawnIt, { cwd: c.cwd, env: c.env, input: c.input, onOutput: c.onOutput });
  } catch (error) {
    if (error instanceof CctlError) throw error;
    if (isLibraryResult(error)) {
      const failed = new ProcessError(argv, { exitCode: error.exitCode ?? 1, stdout: error.out, stderr: error.err });
      throw dockerFailure(failed, c.what);
    }
    if (error instanceof ProcessError) throw dockerFailure(error, c.what);
    // The spawn itself failed (ENOENT): the package rejects with a plain Error.
    throw dockerFailure(
      new ProcessError(argv, { exitCode: 127, stdout: '', stderr: '' }, (error as Error)?.message ?? String(error)),
      c.what,
    );
  }
}

export interface BuildRequest {
  services: readonly string[];
  noCache?: boolean;
  /**
   * The model to build from, piped as the only compose file (`-f -`) in place of the invocation's files, and
   * read with `envFile` instead of the project's .env: the build then reads no file of the project's.
   */
  model?: { text: string; envFile: string };
  onOutput?: (chunk: string) => void;
}

/** `compose build [--no-cache] services…`; a failure is a CctlError whose cause (a ProcessError) holds the whole output. */
export async function buildServices(inv: ComposeInvocation, request: BuildRequest): Promise<RunResult> {
  const options = request.noCache ? ['--no-cache'] : [];
  return call(
    {
      engine: inv.engine,
      verb: 'build',
      args: [...options, ...request.services],
      prefix: request.model ? [...packagePrefix({ ...inv, files: [] }), '--env-file', request.model.envFile] : packagePrefix(inv),
      cwd: inv.dir,
      env: inv.env,
      input: request.model?.text,
      onOutput: request.onOutput,
      what: `Building ${request.services.join(', ')}`,
    },
    (lib, o) =>
      request.services.length === 1
        ? lib.buildOne(request.services[0]!, { ...o, commandOptions: options })
        : lib.buildMany([...request.services], { ...o, commandOptions: options }),
  );
}

/**
 * `compose config -q` on a file's text before it is written (piped as the
 * only file, `-f -`, with the project directory set, so relative paths
 * resolve as they will). Resolves when Compose accepts it; otherwise a
 * CctlError with Compose's words.
 */
export async function validateConfig(inv: ComposeInvocation, text: string): Promise<void> {
  await call(
    {
      engine: inv.engine,
      verb: 'config',
      args: ['-q'],
      prefix: packagePrefix({ ...inv, files: [] }),
      cwd: inv.dir,
      env: inv.env,
      input: text,
      what: 'Checking the compose file with "compose config"',
    },
    (lib, o) => lib.config({ ...o, commandOptions: ['-q'] }),
  );
}
