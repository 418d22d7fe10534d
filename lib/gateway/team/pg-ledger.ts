/**
 * The ledger as the request path sees it, over Postgres: the same calls as
 * the SQLite Ledger (ledger.ts), without its threads, since the driver never
 * blocks the event loop. record() pushes a row onto an array; batches are
 * committed one at a time, in order (every 50 ms, or sooner when 500 wait).
 * A failed commit keeps its rows and tries again, so a database restart
 * delays rows but loses none; close() commits the last batch.
 */
import type { MemberWithSpend, Ledger } from './ledger.js';
import { PostgresBackend } from './postgres.js';
import type { ReservationAsk, ReservationResult } from './reservation.js';
import type { LedgerRow, UsageQuery, UsageRow } from './store.js';

/** What the team gateway needs of a ledger, whichever store holds it. */
export type TeamLedger = Pick<Ledger, 'record' | 'reserve' | 'release' | 'usage' | 'recent' | 'members' | 'close'> & {
  /** Seconds the oldest recorded row has waited for its commit (0: none). */
  lag?(): number;
};

export interface PostgresLedgerOptions {
  url: string;
  retentionDays: number;
  log: (line: string) => void;
  flushMs?: number;
  batchSize?: number;
}

export class PostgresLedger implements TeamLedger {
  private pending: { row: LedgerRow; at: number }[] = [];
  private inFlight: { row: LedgerRow; at: number }[] = [];
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();
  private closed: Promise<void> | undefined;
  private readonly pruning: NodeJS.Timeout | undefined;

  private constructor(
    readonly backend: PostgresBackend,
    private readonly options: PostgresLedgerOptions,
  ) {
    if (options.retentionDays > 0) {
      const prune = () =>
        void backend
          .prune(Date.now() - options.retentionDays * 86_400_000)
          .catch((error: Error) => this.log(`pruning failed: ${error.message}`));
      prune();
      this.pruning = setInterval(prune, 3_600_000);
      this.pruning.unref();
    }
  }

  /** Connects (waiting up to a minute for the database: replicas may start first) and migrates. */
  static async open(options: PostgresLedgerOptions): Promise<PostgresLedger> {
    const backend = await PostgresBackend.open(options.url, {
      connectWithinMs: 60_000,
      log: (message) => options.log(JSON.stringify({ time: new Date().toISOString(), event: 'ledger-waiting', message })),
    });
    return new PostgresLedger(backend, options);
  }

  private log(message: string): void {
    this.options.log(JSON.stringify({ time: new Date().toISOString(), event: 'ledger-error', message }));
  }

  record(row: LedgerRow): void {
    this.pending.push({ row, at: Date.now() });
    if (this.pending.length >= (this.options.batchSize ?? 500)) this.flush();
    else if (!this.timer) {
      this.timer = setTimeout(() => this.flush(), this.options.flushMs ?? 50);
      this.timer.unref();
    }
  }

  /** Queues a commit of the waiting rows after the ones before it; resolves when it is done. */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.length === 0) return this.writing;
    const batch = this.pending;
    this.pending = [];
    this.writing = this.writing.then(() => this.commit(batch));
    return this.writing;
  }

  private async commit(batch: { row: LedgerRow; at: number }[]): Promise<void> {
    this.inFlight = batch;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.backend.insert(batch.map((b) => b.row));
        this.inFlight = [];
        return;
      } catch (error) {
        this.log(`ledger write of ${batch.length} rows failed (attempt ${attempt}; kept, trying again): ${(error as Error).message}`);
        if (this.closed && attempt >= 5) {
          this.log(`giving up on ${batch.length} rows at shutdown`);
          return;
        }
        await new Promise((r) => setTimeout(r, Math.min(5000, 100 * 2 ** attempt)));
      }
    }
  }

  lag(): number {
    const oldest = this.inFlight[0]?.at ?? this.pending[0]?.at;
    return oldest === undefined ? 0 : (Date.now() - oldest) / 1000;
  }

  /**
   * The member's own waiting rows are committed first: a request that just
   * ended must no longer count as in flight (as the SQLite writer thread
   * does by taking messages in order). Other members' rows do not wait.
   */
  async reserve(ask: ReservationAsk): Promise<ReservationResult> {
    if (this.pending.some((p) => p.row.member === ask.member) || this.inFlight.some((p) => p.row.member === ask.member)) await this.flush();
    return this.backend.reserve(ask);
  }

  release(reservation: number): void {
    void this.backend
      .release(reservation)
      .catch((error: Error) => this.log(`release of reservation ${reservation} failed (it expires by itself): ${error.message}`));
  }

  /** Rows recorded before a query are committed before it runs. */
  async usage(query: UsageQuery): Promise<UsageRow[]> {
    await this.flush();
    return this.backend.usage(query);
  }
  async recent(limit: number): Promise<LedgerRow[]> {
    await this.flush();
    return this.backend.recent(limit);
  }
  async members(): Promise<MemberWithSpend[]> {
    await this.flush();
    const now = Date.now();
    return Promise.all(
      (await this.backend.members()).map(async (m) => (m.revokedAt ? m : { ...m, spend: await this.backend.spendOf(m.name, now) })),
    );
  }

  close(): Promise<void> {
    this.closed ??= (async () => {
      if (this.pruning) clearInterval(this.pruning);
      await this.flush();
      await this.backend.close();
    })();
    return this.closed;
  }
}
