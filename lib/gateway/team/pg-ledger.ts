/**
 * The ledger as the request path sees it, over Postgres: the same calls as
 * the SQLite Ledger (ledger.ts), without its threads, since the driver never
 * blocks the event loop. Rows are group-committed: record() queues a row and
 * a commit starts at once when none is running; rows recorded while one runs
 * go together in the next (at most 500 a commit). record() resolves once the
 * row is committed, and a relayed reply ends only then (exchange.ts), so a
 * replica killed outright loses no row of a reply a client received. A
 * failed commit keeps its rows and tries again, so a database restart delays
 * rows but loses none; close() commits the last batch.
 */
import type { MemberWithSpend, Ledger } from './ledger.js';
import { PostgresBackend } from './postgres.js';
import type { ReservationAsk, ReservationResult } from './reservation.js';
import type { LedgerRow, MemberRecord, UsageQuery, UsageRow } from './store.js';

/** What the team gateway needs of a ledger, whichever store holds it. */
export type TeamLedger = Pick<Ledger, 'record' | 'reserve' | 'release' | 'usage' | 'recent' | 'members' | 'close'> & {
  /** Seconds the oldest recorded row has waited for its commit (0: none). */
  lag?(): number;
};

export interface PostgresLedgerOptions {
  url: string;
  retentionDays: number;
  log: (line: string) => void;
  batchSize?: number;
}

/** Tokens remembered per replica; past this the memory starts again (a team has far fewer members). */
const KNOWN_TOKENS = 10_000;

/** A recorded row, waiting for its commit. */
interface Waiting {
  row: LedgerRow;
  at: number;
  committed: () => void;
}

export class PostgresLedger implements TeamLedger {
  private pending: Waiting[] = [];
  private inFlight: Waiting[] = [];
  /** A commit of the rows recorded in this turn of the event loop, about to start. */
  private soon: NodeJS.Immediate | undefined;
  /** The last commit queued; `running` while it (or one before it) has not finished. */
  private writing: Promise<void> = Promise.resolve();
  private running = false;
  /** Token hash to member, for tokens seen before (memberByTokenHash). */
  private readonly known = new Map<string, MemberRecord>();
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

  /** Queues a finished request's row; resolves once it is committed (never rejects). */
  record(row: LedgerRow): Promise<void> {
    return new Promise((committed) => {
      this.pending.push({ row, at: Date.now(), committed });
      if (this.pending.length >= (this.options.batchSize ?? 500)) void this.flush();
      // Rows that end in the same turn of the event loop share a commit; while one runs, the next waits for it.
      else if (!this.running && !this.soon) this.soon = setImmediate(() => void this.flush());
    });
  }

  /** Queues a commit of the waiting rows after the ones before it; resolves when it is done. */
  flush(): Promise<void> {
    if (this.soon) clearImmediate(this.soon);
    this.soon = undefined;
    if (this.pending.length === 0) return this.writing;
    const batch = this.pending;
    this.pending = [];
    this.running = true;
    const mine = this.writing.then(() => this.commit(batch));
    this.writing = mine;
    void mine.then(() => {
      if (this.writing !== mine) return;
      this.running = false;
      // The rows recorded while this commit ran.
      if (this.pending.length) void this.flush();
    });
    return mine;
  }

  private async commit(batch: Waiting[]): Promise<void> {
    this.inFlight = batch;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.backend.insert(batch.map((b) => b.row));
        break;
      } catch (error) {
        this.log(`ledger write of ${batch.length} rows failed (attempt ${attempt}; kept, trying again): ${(error as Error).message}`);
        if (this.closed && attempt >= 5) {
          this.log(`giving up on ${batch.length} rows at shutdown`);
          break;
        }
        await new Promise((r) => setTimeout(r, Math.min(5000, 100 * 2 ** attempt)));
      }
    }
    this.inFlight = [];
    for (const waiting of batch) waiting.committed();
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
    const result = await this.backend.reserve(ask);
    // Revoked (or its token replaced) on any replica: the cached lookup goes too.
    if (!result.ok && result.kind === 'no-member' && ask.tokenHash) this.known.delete(ask.tokenHash);
    return result;
  }

  /**
   * The member a token belongs to. A token seen before is answered from this
   * replica's memory, without a round trip: that is safe because the
   * reservation every request takes next admits only while the token is
   * still the member's active one (ReservationAsk.tokenHash), so a revoke made
   * on any replica is refused on the next request here too. Unknown tokens
   * are asked every time.
   */
  async memberByTokenHash(tokenHash: string): Promise<MemberRecord | undefined> {
    const cached = this.known.get(tokenHash);
    if (cached) return cached;
    const member = await this.backend.memberByTokenHash(tokenHash);
    if (member) {
      if (this.known.size >= KNOWN_TOKENS) this.known.clear();
      this.known.set(tokenHash, member);
    }
    return member;
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
