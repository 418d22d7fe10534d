/**
 * One request and its response, as the passes see them: the log entry they
 * fill in, the request body as it streams, and the log line written once the
 * response has closed.
 */
import type http from 'node:http';
import { type GatewayFailure, sendError } from './api-error.js';
import { boundedText, MODEL_NAME_LIMIT } from './bounds.js';
import { logEvent, type LogWriter, msSince, type RequestLog } from './log.js';
import { RequestBody } from './request-body.js';
import type { ResponseTap } from './response-tap.js';

/** The longest a relayed reply's end waits for its ledger row's commit. */
export const END_HOLD_LIMIT_MS = 10_000;

export class Exchange {
  readonly entry: RequestLog;
  readonly body = new RequestBody();
  readonly startHr = process.hrtime.bigint();
  private tap: ResponseTap | undefined;
  private logged = false;
  /**
   * Called with the finished entry right after its log line (team mode's
   * ledger row). When it returns a promise (the row's commit), a relayed
   * reply's end waits for it: see endAfterRow().
   */
  onLogged: ((entry: RequestLog) => void | Promise<void>) | undefined;
  /** A Messages call, which the upstream bills: a successful reply must carry usage the gateway can read. */
  billed = false;
  /** The request was sent upstream (forward.ts): from then on the upstream may be billing it. */
  forwarded = false;

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
    res.on('close', () => void this.writeLog());
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

  /** Team mode: a reply relayed from upstream ends only once its ledger row is committed. */
  get holdsEnd(): boolean {
    return this.onLogged !== undefined;
  }

  /**
   * The whole reply has been relayed except its end (forward.ts holds it
   * back): the log line and the ledger row are written now, and this
   * resolves once the row is committed, so a client never holds a complete
   * reply whose row a crash of this process could still lose. A ledger that
   * cannot commit within END_HOLD_LIMIT_MS (a database down) does not keep
   * the reply waiting longer: the row stays queued and is committed later.
   */
  async endAfterRow(): Promise<void> {
    const committed = this.writeLog(true);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), END_HOLD_LIMIT_MS)));
    const settled = committed.then(
      () => 'answered' as const,
      () => 'answered' as const,
    );
    const outcome = await Promise.race([settled, late]);
    clearTimeout(timer);
    if (outcome === 'late')
      logEvent(this.write, 'ledger-slow', { message: `a reply was ended before its row was committed (waited ${END_HOLD_LIMIT_MS} ms)` });
  }

  /** `ending`: called by endAfterRow, the reply complete but for its end; otherwise once the response has closed. */
  private writeLog(ending = false): Promise<void> {
    if (this.logged) return Promise.resolve();
    this.logged = true;
    const { entry, res } = this;
    // 499 is nginx's "client closed request": nothing was sent, so there is
    // no real status to report.
    entry.status = res.headersSent ? res.statusCode : 499;
    entry.durationMs = msSince(this.startHr);
    entry.bytesIn = this.body.bytes;
    if (!ending && !res.writableFinished && !entry.error) entry.aborted = true;
    // A passing health probe every few seconds would bury the requests that
    // matter; a failing one is still worth a line.
    if (entry.path === '/health' && entry.status === 200) return Promise.resolve();
    const emit = (): Promise<void> => {
      if (entry.model !== undefined) entry.model = boundedText(entry.model, MODEL_NAME_LIMIT);
      this.write(JSON.stringify(entry));
      return this.onLogged?.(entry) ?? Promise.resolve();
    };
    if (!this.tap) {
      // No response reached us (refused, aborted, failed): the request still
      // says which model it wanted.
      entry.model ??= this.body.model(this.req.complete);
      // Left after it went upstream: the upstream may have billed it, the gateway never saw how much.
      if (this.billed && this.forwarded && entry.status === 499) entry.usageUnread = 'the client left before the reply';
      return emit();
    }
    const tap = this.tap;
    return new Promise<void>((resolve) =>
      tap.finish((facts) => {
        entry.model = facts.model ?? this.body.model(this.req.complete);
        if (facts.usage) entry.usage = facts.usage;
        if (facts.stopReason) entry.stopReason = facts.stopReason;
        if (facts.errorType) entry.errorType = facts.errorType;
        // A billed reply whose usage the gateway could not read is flagged, and
        // team mode charges it at the request's maximum (never at zero).
        if (this.billed && entry.status >= 200 && entry.status < 300 && (!facts.usage || facts.unreadable)) {
          entry.usageUnread = facts.unreadable ?? 'the reply carried no usage';
        }
        resolve(emit());
      }),
    );
  }
}
