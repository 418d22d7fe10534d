/**
 * The ledger as the request path sees it: record() only pushes a row onto an
 * array. Rows go to the writer thread in batches (every 50 ms, or sooner when
 * 500 are waiting), and close() hands over the last batch and waits for the
 * commit, so a clean stop loses nothing.
 */
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { LedgerRow, MemberRecord, UsageQuery, UsageRow } from './store.js';

export type LedgerQuery = { kind: 'usage'; query: UsageQuery } | { kind: 'recent'; limit: number } | { kind: 'members' };
export type LedgerMessage =
  | { t: 'rows'; rows: LedgerRow[] }
  | { t: 'query'; id: number; query: LedgerQuery }
  | { t: 'close'; id: number };
export type LedgerReply = { id: number; value?: unknown; error?: string };

export interface LedgerOptions {
  path: string;
  /** Request rows older than this are pruned; 0 keeps them for ever. */
  retentionDays: number;
  flushMs?: number;
  batchSize?: number;
  log: (line: string) => void;
}

export class Ledger {
  private worker: Worker;
  private pending: LedgerRow[] = [];
  private timer: NodeJS.Timeout | undefined;
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  private closed: Promise<void> | undefined;
  private readonly flushMs: number;
  private readonly batchSize: number;

  constructor(private readonly options: LedgerOptions) {
    this.flushMs = options.flushMs ?? 50;
    this.batchSize = options.batchSize ?? 500;
    this.worker = this.start();
  }

  private log(message: string): void {
    this.options.log(JSON.stringify({ time: new Date().toISOString(), event: 'ledger-error', message }));
  }

  /**
   * Starts the writer thread. Should it ever die (a bug, an out-of-memory),
   * its open questions fail and a new one takes over, so the gateway keeps
   * recording instead of sending rows into a thread that is gone.
   */
  private start(): Worker {
    // The worker is this module's sibling: ledger-worker.js when built, .ts under tsx.
    const here = fileURLToPath(import.meta.url);
    const worker = new Worker(new URL(`./ledger-worker${extname(here)}`, import.meta.url), {
      workerData: { path: this.options.path, retentionDays: this.options.retentionDays },
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
      if (this.closed) return;
      this.log(`the ledger's writer thread stopped (exit ${code}); rows it had not committed are lost; starting a new one`);
      for (const waiter of this.waiting.values()) waiter.reject(new Error('the ledger restarted'));
      this.waiting.clear();
      this.worker = this.start();
    });
    return worker;
  }

  record(row: LedgerRow): void {
    this.pending.push(row);
    if (this.pending.length >= this.batchSize) this.flush();
    else if (!this.timer) {
      this.timer = setTimeout(() => this.flush(), this.flushMs);
      this.timer.unref();
    }
  }

  /** Hands the waiting rows to the writer thread. */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.length === 0) return;
    const rows = this.pending;
    this.pending = [];
    this.worker.postMessage({ t: 'rows', rows } satisfies LedgerMessage);
  }

  private ask<T>(message: { t: 'query'; query: LedgerQuery } | { t: 'close' }): Promise<T> {
    // Rows recorded before a query are written before it is answered: the
    // worker handles messages in order.
    this.flush();
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.worker.postMessage({ ...message, id } as LedgerMessage);
    });
  }

  usage(query: UsageQuery): Promise<UsageRow[]> {
    return this.ask({ t: 'query', query: { kind: 'usage', query } });
  }
  recent(limit: number): Promise<LedgerRow[]> {
    return this.ask({ t: 'query', query: { kind: 'recent', limit } });
  }
  members(): Promise<MemberRecord[]> {
    return this.ask({ t: 'query', query: { kind: 'members' } });
  }

  /** Writes every recorded row, closes the database and ends the thread. */
  close(): Promise<void> {
    this.closed ??= this.ask<void>({ t: 'close' }).then(
      () => this.worker.terminate().then(() => undefined),
      () => this.worker.terminate().then(() => undefined),
    );
    return this.closed;
  }
}
