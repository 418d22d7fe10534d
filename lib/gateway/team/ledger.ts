/**
 * The ledger as the request path sees it. Two threads own the database:
 * - the writer commits rows whenever the event loop cannot commit them
 *   itself, takes budget reservations likewise, and checkpoints the WAL;
 * - the reader answers the dashboard's and the admin API's queries, which
 *   can take tens of milliseconds over a big ledger, without holding up a
 *   reservation (SQLite's WAL lets it read while the writer commits).
 * The request path waits for two writes: its reservation, and its row,
 * since a relayed reply ends only once its row is committed (exchange.ts),
 * so a gateway killed outright loses no row of a reply a client received.
 * Both are tried first on the event loop, on a connection of its own that
 * never waits for a lock (busy timeout 0) and never checkpoints: when the
 * write lock is free, which is nearly always, the transaction is a write to
 * the WAL without an fsync, about 0.05 ms, instead of a round trip to the
 * writer thread that costs several times that on a busy machine
 * (bench/team-gateway.ts). Rows recorded in one turn of the event loop share
 * a commit, and a reservation commits the rows recorded before it in its own
 * transaction. When the lock is taken (a batch commit, the member CLI, a
 * stalled disk) the writer thread waits for it instead, so the event loop
 * never waits on the ledger. close() hands over the last rows and waits for
 * the commit, so a clean stop loses nothing.
 */
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { ReservationAsk, ReservationResult } from './reservation.js';
import { LedgerStore, type LedgerRow, type MemberRecord, type UsageQuery, type UsageRow } from './store.js';
import type { Spend } from './budgets.js';

export type LedgerQuery = { kind: 'usage'; query: UsageQuery } | { kind: 'recent'; limit: number } | { kind: 'members' };
export type LedgerMessage =
  /** Answered once committed (or reported as failed), so the event loop knows what is still on its way. */
  | { t: 'rows'; id: number; rows: LedgerRow[] }
  /** `rows` are the ones recorded before: written (settling theirs) in the reservation's transaction. */
  | { t: 'reserve'; id: number; ask: ReservationAsk; rows: LedgerRow[] }
  | { t: 'release'; id: number; reservation: number }
  /** Answered once every message before it is handled: rows recorded before a query are committed before it runs. */
  | { t: 'sync'; id: number }
  | { t: 'query'; id: number; query: LedgerQuery }
  | { t: 'close'; id: number };
export type LedgerReply = { id: number; value?: unknown; error?: string };
export type LedgerRole = 'writer' | 'reader';

/** A member as the admin API lists it: limits, and this day's and month's settled spend. */
export type MemberWithSpend = MemberRecord & { spend?: Spend };

export interface LedgerOptions {
  path: string;
  /** Request rows older than this are pruned; 0 keeps them for ever. */
  retentionDays: number;
  batchSize?: number;
  log: (line: string) => void;
}

type Ask =
  | { t: 'rows'; rows: LedgerRow[] }
  | { t: 'release'; reservation: number }
  | { t: 'reserve'; ask: ReservationAsk; rows: LedgerRow[] }
  | { t: 'sync' }
  | { t: 'query'; query: LedgerQuery }
  | { t: 'close' };

/**
 * One database thread. Should it ever die (a bug, an out-of-memory), its
 * open questions fail and a new one takes over, so the gateway keeps
 * recording instead of sending rows into a thread that is gone.
 */
class LedgerThread {
  private worker: Worker;
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  closing = false;

  constructor(
    private readonly role: LedgerRole,
    private readonly options: LedgerOptions,
    private readonly log: (message: string) => void,
  ) {
    this.worker = this.start();
  }

  private start(): Worker {
    // The worker is this module's sibling: ledger-worker.js when built, .ts under tsx.
    const here = fileURLToPath(import.meta.url);
    const worker = new Worker(new URL(`./ledger-worker${extname(here)}`, import.meta.url), {
      workerData: { path: this.options.path, retentionDays: this.options.retentionDays, role: this.role },
    });
    worker.on('message', (reply: LedgerReply) => {
      const waiter = this.waiting.get(reply.id);
      if (!waiter) {
        if (reply.error) this.log(reply.error);
        return;
      }
      this.waiting.delete(reply.id);
      if (reply.error) waiter.reject(new Error(reply.error));
      else waiter.resolve(reply.value);
    });
    worker.on('error', (error) => this.log(error.message));
    worker.on('exit', (code) => {
      if (this.closing) {
        for (const waiter of this.waiting.values()) waiter.reject(new Error('the ledger is closed'));
        this.waiting.clear();
        return;
      }
      this.log(
        `the ledger's ${this.role} thread stopped (exit ${code}); ${this.role === 'writer' ? 'rows it had not committed are lost; ' : ''}starting a new one`,
      );
      for (const waiter of this.waiting.values()) waiter.reject(new Error('the ledger restarted'));
      this.waiting.clear();
      this.worker = this.start();
    });
    return worker;
  }

  ask<T>(message: Ask): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.worker.postMessage({ ...message, id } as LedgerMessage);
    });
  }

  terminate(): Promise<number> {
    return this.worker.terminate();
  }
}

/** A recorded row, waiting for its commit. */
interface Waiting {
  row: LedgerRow;
  committed: () => void;
}
const rowsOf = (waiting: readonly Waiting[]) => waiting.map((w) => w.row);
const settle = (waiting: readonly Waiting[]) => {
  for (const w of waiting) w.committed();
};

export class Ledger {
  /** The writer thread (named `worker`, as the tests that kill it know it). */
  private readonly worker: LedgerThread;
  private readonly reader: LedgerThread;
  private pending: Waiting[] = [];
  /** A commit of the rows recorded in this turn of the event loop, about to start. */
  private soon: NodeJS.Immediate | undefined;
  private closed: Promise<void> | undefined;
  private readonly batchSize: number;
  /** The event loop's own connection, for reservations while the write lock is free (see the top of this file). */
  private readonly direct: LedgerStore;
  /** Writes handed to the writer thread and not yet answered: rows, releases, reservations with their rows. */
  private inTransit = 0;

  constructor(private readonly options: LedgerOptions) {
    this.batchSize = options.batchSize ?? 500;
    const log = (message: string) => this.options.log(JSON.stringify({ time: new Date().toISOString(), event: 'ledger-error', message }));
    this.worker = new LedgerThread('writer', options, log);
    this.reader = new LedgerThread('reader', options, log);
    this.direct = new LedgerStore(options.path);
    // Never wait for a lock on the event loop, and leave checkpoints (which
    // copy pages and fsync) to the writer thread, which runs them.
    this.direct.db.exec('PRAGMA busy_timeout = 0; PRAGMA wal_autocheckpoint = 0;');
  }

  /**
   * Records a finished request; a row that names a reservation settles it in
   * the same commit. Resolves once the row is committed, or once the writer
   * thread reported that it could not be (never rejects).
   */
  record(row: LedgerRow): Promise<void> {
    return new Promise((committed) => {
      this.pending.push({ row, committed });
      if (this.pending.length >= this.batchSize) this.flush();
      else this.soon ??= setImmediate(() => this.flush());
    });
  }

  /** Commits the waiting rows: here when the write lock is free and nothing is on its way to the writer thread, else there. */
  flush(): void {
    if (this.soon) clearImmediate(this.soon);
    this.soon = undefined;
    if (this.pending.length === 0) return;
    const waiting = this.pending;
    this.pending = [];
    if (!this.closed && this.inTransit === 0) {
      try {
        this.direct.insert(rowsOf(waiting));
        settle(waiting);
        return;
      } catch {
        // SQLITE_BUSY above all: the writer thread waits for the lock instead (the failed transaction was rolled back).
      }
    }
    const answered = () => settle(waiting);
    this.write({ t: 'rows', rows: rowsOf(waiting) }).then(answered, answered);
  }

  /** A write for the writer thread, counted until it is answered (or the thread is gone). */
  private write<T>(message: Ask): Promise<T> {
    this.inTransit += 1;
    const answered = this.worker.ask<T>(message);
    const done = () => (this.inTransit -= 1);
    answered.then(done, done);
    return answered;
  }

  /**
   * Admits a request or refuses it, atomically in the ledger (the rule is in
   * reservation.ts). Rows recorded before are committed in the same
   * transaction, so a request that just ended no longer counts as in flight.
   * Here when the write lock is free and nothing is on its way to the
   * writer thread (a row there may free the place this request needs, so it
   * must be committed first: the writer thread takes the reservation after
   * it, in order). Otherwise in the writer thread, also when the attempt
   * here failed: its transaction was rolled back, so the writer thread's
   * try, with its own error handling, commits nothing twice.
   */
  reserve(ask: ReservationAsk): Promise<ReservationResult> {
    if (this.soon) clearImmediate(this.soon);
    this.soon = undefined;
    const waiting = this.pending;
    this.pending = [];
    if (!this.closed && this.inTransit === 0) {
      try {
        const result = this.direct.settleAndReserve(rowsOf(waiting), ask);
        settle(waiting);
        return Promise.resolve(result);
      } catch {
        // SQLITE_BUSY above all: someone holds the write lock.
      }
    }
    const reserved = this.write<ReservationResult>({ t: 'reserve', ask, rows: rowsOf(waiting) });
    const answered = () => settle(waiting);
    reserved.then(answered, answered);
    return reserved;
  }

  /** For an admitted request that will leave no row. */
  release(reservation: number): void {
    this.flush();
    void this.write({ t: 'release', reservation }).catch(() => undefined);
  }

  private async query<T>(query: LedgerQuery): Promise<T> {
    // Rows recorded before a query are committed before it runs.
    this.flush();
    await this.worker.ask({ t: 'sync' });
    return this.reader.ask({ t: 'query', query });
  }

  usage(query: UsageQuery): Promise<UsageRow[]> {
    return this.query({ kind: 'usage', query });
  }
  recent(limit: number): Promise<LedgerRow[]> {
    return this.query({ kind: 'recent', limit });
  }
  /** Members with their settled spend for the current day and month. */
  members(): Promise<MemberWithSpend[]> {
    return this.query({ kind: 'members' });
  }

  /** Writes every recorded row, closes the database and ends both threads. */
  close(): Promise<void> {
    this.flush();
    const stop = async (thread: LedgerThread) => {
      thread.closing = true;
      await thread.ask({ t: 'close' }).catch(() => undefined);
      await thread.terminate();
    };
    this.closed ??= Promise.all([stop(this.worker), stop(this.reader)]).then(() => this.direct.close());
    return this.closed;
  }
}
