/**
 * One JSON log line per tunnel, proxied request or denial. Its shape is part
 * of the contract (docs/CONTRACT.md): `cctl egress` reads these lines back
 * from `docker logs`. Never a payload, a path or a header: only who, where,
 * how much and how long.
 */
import { type LogWriter, msSince } from '../log.js';
import { type Destination, entryFor } from './grammar.js';
import type { DenialReason } from './decide.js';

export interface EgressLog {
  time: string;
  event: 'egress';
  kind: 'connect' | 'http';
  decision: 'allowed' | 'denied';
  /** Denied only: why. */
  reason?: DenialReason;
  host?: string;
  port?: number;
  /** The allow-list entry that would let this destination through (`cctl init --allow <entry>`). */
  entry?: string;
  /** The address the name resolved to: the one dialled, or the one refused (reason `address`). */
  address?: string;
  /** The client's address. */
  source?: string;
  /** Plain-HTTP requests only. */
  method?: string;
  /** What the client was answered: 200 for an established tunnel, the relayed status for plain HTTP. */
  status: number;
  /** Bytes from the client to the destination, and back. */
  bytesUp: number;
  bytesDown: number;
  durationMs: number;
  /** Why an allowed connection failed or ended abnormally. */
  error?: string;
}

export class EgressRecord {
  private readonly startHr = process.hrtime.bigint();
  private readonly line: EgressLog;
  private written = false;

  constructor(
    private readonly write: LogWriter,
    kind: EgressLog['kind'],
    source: string | undefined,
    method?: string,
  ) {
    this.line = {
      time: new Date().toISOString(),
      event: 'egress',
      kind,
      decision: 'allowed',
      status: 0,
      bytesUp: 0,
      bytesDown: 0,
      durationMs: 0,
    };
    if (source) this.line.source = source;
    if (method) this.line.method = method;
  }

  destination(destination: Destination): void {
    this.line.host = destination.host;
    this.line.port = destination.port;
    this.line.entry = entryFor(destination);
  }

  set address(address: string) {
    this.line.address = address;
  }

  denied(reason: DenialReason, status: number): void {
    this.line.decision = 'denied';
    this.line.reason = reason;
    this.line.status = status;
  }

  set status(status: number) {
    this.line.status = status;
  }

  set error(error: string) {
    this.line.error ??= error;
  }

  /** Writes the line once, with the byte counts known at the end. */
  finish(bytesUp: number, bytesDown: number): void {
    if (this.written) return;
    this.written = true;
    this.line.bytesUp = bytesUp;
    this.line.bytesDown = bytesDown;
    this.line.durationMs = msSince(this.startHr);
    // The documented key order, whatever order the facts came in.
    const l = this.line;
    this.write(
      JSON.stringify({
        time: l.time,
        event: l.event,
        kind: l.kind,
        decision: l.decision,
        reason: l.reason,
        host: l.host,
        port: l.port,
        entry: l.entry,
        address: l.address,
        source: l.source,
        method: l.method,
        status: l.status,
        bytesUp: l.bytesUp,
        bytesDown: l.bytesDown,
        durationMs: l.durationMs,
        error: l.error,
      } satisfies EgressLog),
    );
  }
}
