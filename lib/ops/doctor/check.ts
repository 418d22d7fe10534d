/**
 * What every doctor check shares: its result (pass, warn or fail, with what
 * to do), and the context the checks run in, where the early ones leave what
 * the later ones need (the daemon, the stored settings), so a check whose
 * prerequisite failed says so instead of piling up errors.
 */
import type { DaemonInfo } from '../../engine/daemon.js';
import { CctlError } from '../../kernel/errors.js';
import type { Project } from '../../project/locate.js';
import type { Settings } from '../../project/settings.js';
import type { ServiceState } from '../stack.js';

export type CheckStatus = 'pass' | 'warn' | 'fail';
export interface CheckResult {
  name: string;
  status: CheckStatus;
  detail: string;
  fix?: string;
}

export interface DoctorContext {
  project: Project;
  env: NodeJS.ProcessEnv;
  /** The results so far, in order. */
  checks: CheckResult[];
  /** Set by the daemon check when the daemon answered. */
  daemon?: DaemonInfo;
  /** Set by the compose-file check when the compose file could be read. */
  settings?: Settings;
}

/** One check: its results (none when it does not apply), appended in order. */
export type Check = (ctx: DoctorContext) => Promise<CheckResult[]>;

export const pass = (name: string, detail: string): CheckResult => ({ name, status: 'pass', detail });
export const warn = (name: string, detail: string, fix?: string): CheckResult => ({ name, status: 'warn', detail, fix });
export const fail = (name: string, detail: string, fix?: string): CheckResult => ({ name, status: 'fail', detail, fix });

export function fromError(name: string, error: unknown): CheckResult {
  if (error instanceof CctlError) return fail(name, error.message, error.hint);
  return fail(name, (error as Error)?.message ?? String(error));
}

export const needDaemon = (name: string): CheckResult => warn(name, 'not checked: the daemon is not reachable');

/** Say which of the two is missing: naming the daemon when only the file is unreadable sends the user the wrong way. */
export const unchecked = (ctx: DoctorContext, name: string): CheckResult =>
  ctx.daemon ? warn(name, 'not checked: the compose file could not be read') : needDaemon(name);

/** "has exited with code 137", "is dead". */
export function stoppedText(state: ServiceState): string {
  return state.state === 'exited' ? `has exited${state.exitCode === undefined ? '' : ` with code ${state.exitCode}`}` : `is ${state.state}`;
}
