/**
 * The one process runner. Every docker and compose call in cctl goes through
 * `run` (capture) or `runInteractive` (inherited stdio), so `--debug` can show
 * each command line and tests can swap the seam with `setRunner`.
 */
import { spawn } from 'node:child_process';
import { tail } from '../kernel/text.js';
import { engineSocket, httpEngine, type EngineReply, type EngineRequest } from './engine-http.js';

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Written to the child's stdin, then closed. */
  input?: string | Buffer;
  /** Kill the child after this many milliseconds. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Capture mode: also hand each output chunk here as it arrives (progress display). */
  onOutput?: (chunk: string) => void;
  /**
   * Interactive mode: the child's stdout passes through this filter on its way
   * to ours (stdin and stderr stay inherited); each call gets the next chunk.
   */
  stdoutFilter?: () => (chunk: string) => string;
}

export interface RunResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export class ProcessError extends Error {
  readonly command: readonly string[];
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;

  constructor(command: readonly string[], result: RunResult, reason?: string) {
    const detail = reason ?? (tail(result.stderr, 3, '\n') || `exit code ${result.exitCode}`);
    super(`${command.join(' ')} failed: ${detail}`);
    this.name = 'ProcessError';
    this.command = command;
    this.exitCode = result.exitCode;
    this.stdout = result.stdout;
    this.stderr = result.stderr;
  }
}

/** The seam: tests replace it with a fake that records argv. */
export interface Runner {
  /** Buffers output. Rejects with ProcessError on a non-zero exit or a spawn failure. */
  capture(command: readonly string[], options?: RunOptions): Promise<RunResult>;
  /** Inherits stdio and resolves with the exit status (the code, or 128+signal). */
  interactive(command: readonly string[], options?: RunOptions): Promise<number>;
  /**
   * A request to the engine's API on its local socket (engine-http.ts); undefined when there is none to
   * use, and then the caller runs the docker CLI instead. A runner without it always gets the CLI.
   */
  engine?(request: EngineRequest): Promise<EngineReply | undefined>;
}

let debug = process.env.CCTL_DEBUG === '1';
export function setDebug(on: boolean): void {
  debug = on;
}
export function isDebug(): boolean {
  return debug;
}

function trace(command: readonly string[]): void {
  if (debug) process.stderr.write(`+ ${command.map(quoteArg).join(' ')}\n`);
}

export function quoteArg(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** The shell convention for a child's status: its code, or 128 + the signal number. */
export function exitStatus(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  // node:os only now: a child killed by a signal is rare, and the hot path loads no module it can skip.
  if (signal) return 128 + (process.getBuiltinModule('node:os').constants.signals[signal] ?? 0);
  return 1;
}

const SPAWN_FAILED = 127;

export const processRunner: Runner = {
  capture(command, options = {}) {
    trace(command);
    const [file, ...args] = command;
    return new Promise((resolve, reject) => {
      const child = spawn(file!, args, {
        cwd: options.cwd,
        env: options.env ?? process.env,
        stdio: ['pipe', 'pipe', 'pipe'],
        signal: options.signal,
        timeout: options.timeoutMs,
      });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout.on('data', (c: Buffer) => {
        out.push(c);
        options.onOutput?.(c.toString('utf8'));
      });
      child.stderr.on('data', (c: Buffer) => {
        err.push(c);
        options.onOutput?.(c.toString('utf8'));
      });
      let spawnError: Error | undefined;
      child.on('error', (e) => {
        spawnError = e;
      });
      // The child may exit before reading stdin; that is not our failure.
      child.stdin.on('error', () => {});
      child.stdin.end(options.input ?? '');
      child.on('close', (code, signal) => {
        const result: RunResult = {
          exitCode: spawnError ? SPAWN_FAILED : exitStatus(code, signal),
          stdout: Buffer.concat(out).toString('utf8'),
          stderr: Buffer.concat(err).toString('utf8'),
        };
        if (spawnError) reject(new ProcessError(command, result, spawnError.message));
        else if (result.exitCode !== 0) reject(new ProcessError(command, result));
        else resolve(result);
      });
    });
  },

  engine(request) {
    const socket = debug ? engineSocket() : undefined;
    if (socket) process.stderr.write(`+ ${request.method} ${request.path} (engine API on ${socket})\n`);
    return httpEngine(request);
  },

  interactive(command, options = {}) {
    trace(command);
    const [file, ...args] = command;
    return new Promise((resolve, reject) => {
      const filter = options.stdoutFilter?.();
      const child = spawn(file!, args, {
        cwd: options.cwd,
        env: options.env ?? process.env,
        stdio: ['inherit', filter ? 'pipe' : 'inherit', 'inherit'],
      });
      if (filter) {
        child.stdout!.setEncoding('utf8');
        child.stdout!.on('data', (chunk: string) => process.stdout.write(filter(chunk)));
      }
      // The terminal sends SIGINT to the whole foreground group, so the child
      // already has it; we only must not die first. SIGTERM is sent to us
      // alone (kill, timeout), so pass it on.
      const onSigint = () => {};
      const onSigterm = () => child.kill('SIGTERM');
      const onSighup = () => child.kill('SIGHUP');
      process.on('SIGINT', onSigint);
      process.on('SIGTERM', onSigterm);
      process.on('SIGHUP', onSighup);
      const cleanup = () => {
        process.off('SIGINT', onSigint);
        process.off('SIGTERM', onSigterm);
        process.off('SIGHUP', onSighup);
      };
      child.on('error', (e) => {
        cleanup();
        reject(new ProcessError(command, { exitCode: SPAWN_FAILED, stdout: '', stderr: '' }, e.message));
      });
      child.on('close', (code, signal) => {
        cleanup();
        resolve(exitStatus(code, signal));
      });
    });
  },
};

let current: Runner = processRunner;

export function setRunner(runner: Runner): Runner {
  const previous = current;
  current = runner;
  return previous;
}

/** One engine API request through the seam; undefined: use the docker CLI (no local socket, or a runner without one). */
export function engineRequest(request: EngineRequest): Promise<EngineReply | undefined> {
  return current.engine ? current.engine(request) : Promise.resolve(undefined);
}

export function run(command: readonly string[], options?: RunOptions): Promise<RunResult> {
  return current.capture(command, options);
}

/**
 * A call that a library spawns by itself (the docker-compose package): traced
 * like every other call, and answered by the fake when a test holds the seam,
 * so the fake still sees every process cctl starts.
 */
export function runThrough(command: readonly string[], spawnIt: () => Promise<RunResult>, options?: RunOptions): Promise<RunResult> {
  if (current !== processRunner) return current.capture(command, options);
  trace(command);
  return spawnIt();
}

export function runInteractive(command: readonly string[], options?: RunOptions): Promise<number> {
  return current.interactive(command, options);
}

/** Like run, but a non-zero exit resolves with its code and output instead of rejecting (a spawn failure still rejects). */
export async function runSettled(command: readonly string[], options?: RunOptions): Promise<RunResult> {
  try {
    return await run(command, options);
  } catch (error) {
    if (error instanceof ProcessError) return { exitCode: error.exitCode, stdout: error.stdout, stderr: error.stderr };
    throw error;
  }
}
