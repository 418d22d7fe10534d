/**
 * A ledger thread (ledger.ts). The writer owns every write: rows arrive in
 * batches and are committed here, and reservations are taken and released
 * here, so a slow disk never stalls the event loop that streams replies and
 * two writes never wait on each other's lock. The reader answers queries,
 * for the same reason. The writer prunes at start and then hourly, and
 * checkpoints the WAL every second: reservations taken on the event loop
 * (ledger.ts) commit on a connection that never checkpoints.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { ReservationAsk, ReservationResult } from './reservation.js';
import { LedgerStore, type LedgerRow } from './store.js';
import type { LedgerMessage, LedgerQuery, LedgerReply, LedgerRole, MemberWithSpend } from './ledger.js';

const { path, retentionDays, role } = workerData as { path: string; retentionDays: number; role: LedgerRole };
const store = new LedgerStore(path);
const port = parentPort!;

function answer(query: LedgerQuery): unknown {
  switch (query.kind) {
    case 'usage':
      return store.usage(query.query);
    case 'recent':
      return store.recent(query.limit);
    case 'members': {
      const now = Date.now();
      return store.members().map((m): MemberWithSpend => (m.revokedAt ? m : { ...m, spend: store.spendOf(m.name, now) }));
    }
  }
}

function prune(): void {
  if (retentionDays > 0) store.prune(Date.now() - retentionDays * 86_400_000);
}
/** PASSIVE: copies what no reader still needs, and never waits for or blocks a writer. */
function checkpoint(): void {
  try {
    store.db.exec('PRAGMA wal_checkpoint(PASSIVE)');
  } catch (error) {
    // Another process's checkpoint (the member CLI's) is running: the next second's will do.
    if (/locked|busy/i.test((error as Error).message)) return;
    port.postMessage({ id: 0, error: `checkpoint failed: ${(error as Error).message}` } satisfies LedgerReply);
  }
}
let pruning: NodeJS.Timeout | undefined;
let checkpoints: NodeJS.Timeout | undefined;
if (role === 'writer') {
  prune();
  pruning = setInterval(prune, 3_600_000);
  pruning.unref();
  checkpoints = setInterval(checkpoint, 1000);
  checkpoints.unref();
}

/** Rows and reservation in one commit; should the rows fail (a full disk), they are reported and the reservation tried alone. */
function reserve(rows: LedgerRow[], ask: ReservationAsk): ReservationResult {
  try {
    return store.settleAndReserve(rows, ask);
  } catch (error) {
    if (rows.length === 0) throw error;
    try {
      store.insert(rows);
    } catch (rowsError) {
      port.postMessage({
        id: 0,
        error: `ledger write of ${rows.length} rows failed: ${(rowsError as Error).message}`,
      } satisfies LedgerReply);
    }
    return store.reserve(ask);
  }
}

port.on('message', (message: LedgerMessage) => {
  if (message.t === 'rows' || message.t === 'release') {
    try {
      if (message.t === 'rows') store.insert(message.rows);
      else store.release(message.reservation);
    } catch (error) {
      // Id 0 answers no query: the main thread logs it (a full disk, say).
      const what = message.t === 'rows' ? `ledger write of ${message.rows.length} rows` : `release of reservation ${message.reservation}`;
      port.postMessage({ id: 0, error: `${what} failed: ${(error as Error).message}` } satisfies LedgerReply);
    }
    // Answered either way: the event loop counts the writes still on their way here (ledger.ts).
    port.postMessage({ id: message.id } satisfies LedgerReply);
    return;
  }
  let reply: LedgerReply;
  try {
    const value = message.t === 'query' ? answer(message.query) : message.t === 'reserve' ? reserve(message.rows, message.ask) : null;
    reply = { id: message.id, value };
  } catch (error) {
    reply = { id: message.id, error: (error as Error).message };
  }
  if (message.t === 'close') {
    if (pruning) clearInterval(pruning);
    if (checkpoints) clearInterval(checkpoints);
    store.close();
  }
  port.postMessage(reply);
});
