/**
 * The log pass: one JSON line per request on stdout, and one per gateway
 * event. The shapes are part of the contract with cctl (docs/CONTRACT.md):
 * `cctl logs` shows them and `cctl egress` reads them back.
 */
import type { Usage } from './response-tap.js';

/** One line per API request; it has no `event` field, which tells it from the others. */
export interface RequestLog {
  time: string;
  method: string;
  /** Path only: the query string is left out so nothing secret can leak through it. */
  path: string;
  status: number;
  durationMs: number;
  /** Until the upstream's response headers arrived. */
  upstreamMs?: number;
  bytesIn: number;
  bytesOut: number;
  model?: string;
  usage?: Usage;
  stopReason?: string;
  errorType?: string;
  /** The upstream's request-id header, which Anthropic support asks for. */
  requestId?: string;
  /** Present (2) only when a pooled socket failed before carrying a byte of the request, so it was sent again. */
  attempts?: number;
  /** Set when the exchange did not complete; says why. */
  error?: string;
  /** The client went away before the response was complete. */
  aborted?: true;
  /** Why a successful Messages reply's usage could not be read; team mode then charges the request's maximum. */
  usageUnread?: string;
}

export type LogWriter = (line: string) => void;

export const stdoutWriter: LogWriter = (line) => void process.stdout.write(`${line}\n`);

/** A gateway event (listening, client-error, egress, ...): `time` and `event` first, then the facts. */
export function logEvent(write: LogWriter, event: string, fields: Record<string, unknown> = {}): void {
  write(JSON.stringify({ time: new Date().toISOString(), event, ...fields }));
}

/** Milliseconds since a process.hrtime.bigint() reading, to the microsecond. */
export function msSince(startHr: bigint): number {
  return Math.round((Number(process.hrtime.bigint() - startHr) / 1e6) * 1000) / 1000;
}
