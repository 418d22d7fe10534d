/**
 * One request and its response, as the passes see them: the log entry they
 * fill in, the request body as it streams, and the log line written once the
 * response has closed.
 */
import type http from 'node:http';
import { type GatewayFailure, sendError } from './api-error.js';
import { boundedText, MODEL_NAME_LIMIT } from './bounds.js';
import { type LogWriter, msSince, type RequestLog } from './log.js';
import { RequestBody } from './request-body.js';
import type { ResponseTap } from './response-tap.js';

export class Exchange {
  readonly entry: RequestLog;
  readonly body = new RequestBody();
  readonly startHr = process.hrtime.bigint();
  private tap: ResponseTap | undefined;
  private logged = false;
  /** Called with the finished entry right after its log line (team mode's ledger row). */
  onLogged: ((entry: RequestLog) => void) | undefined;
  /** A Messages call, which the upstream bills: a successful reply must carry usage the gateway can read. */
  billed = false;

  constructor(
    readonly req: http.IncomingMessage,
    readonly res: http.ServerResponse,
    private readonly write: LogWriter,
  ) {
    this.entry = {
      time: new Date().toISOString(),
      method: req.method ?? 'GET',
      path: '/',
      status: 0,
      durationMs: 0,
      bytesIn: 0,
      bytesOut: 0,
    };
    // A reset mid-upload or mid-write surfaces as 'close' too, which is
    // where the cleanup happens; unhandled, these would crash the process.
    req.on('error', () => {});
    res.on('error', () => {});
    res.on('close', () => this.writeLog());
  }

  /** The gateway answers itself; `reason`, when given, is what the log says went wrong. */
  answer(failure: GatewayFailure, options: { reason?: string; closeConnection?: boolean } = {}): void {
    if (options.reason) this.entry.error = options.reason;
    this.entry.bytesOut = sendError(this.res, failure.status, failure.type, failure.message, options.closeConnection);
  }

  /** The response's usage will be read from this tap when the log line is written. */
  readUsageFrom(tap: ResponseTap): void {
    this.tap = tap;
  }

  private writeLog(): void {
    if (this.logged) return;
    this.logged = true;
    const { entry, res } = this;
    // 499 is nginx's "client closed request": nothing was sent, so there is
    // no real status to report.
    entry.status = res.headersSent ? res.statusCode : 499;
    entry.durationMs = msSince(this.startHr);
    entry.bytesIn = this.body.bytes;
    if (!res.writableFinished && !entry.error) entry.aborted = true;
    // A passing health probe every few seconds would bury the requests that
    // matter; a failing one is still worth a line.
    if (entry.path === '/health' && entry.status === 200) return;
    const emit = () => {
      if (entry.model !== undefined) entry.model = boundedText(entry.model, MODEL_NAME_LIMIT);
      this.write(JSON.stringify(entry));
      this.onLogged?.(entry);
    };
    if (!this.tap) {
      // No response reached us (refused, aborted, failed): the request still
      // says which model it wanted.
      entry.model ??= this.body.model(this.req.complete);
      emit();
      return;
    }
    this.tap.finish((facts) => {
      entry.model = facts.model ?? this.body.model(this.req.complete);
      if (facts.usage) entry.usage = facts.usage;
      if (facts.stopReason) entry.stopReason = facts.stopReason;
      if (facts.errorType) entry.errorType = facts.errorType;
      // A billed reply whose usage the gateway could not read is flagged, and
      // team mode charges it at the request's maximum (never at zero).
      if (this.billed && entry.status >= 200 && entry.status < 300 && (!facts.usage || facts.unreadable)) {
        entry.usageUnread = facts.unreadable ?? 'the reply carried no usage';
      }
      emit();
    });
  }
}
