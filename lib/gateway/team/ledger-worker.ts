/**
 * A ledger thread (ledger.ts). The writer owns every write: rows arrive in
 * batches and are committed here, and reservations are taken and released
 * here, so a slow disk never stalls the event loop that streams replies and
 * two writes never wait on each other's lock. The reader answers queries,
 * for the same reason. The writer prunes at start and then hourly.
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
let pruning: NodeJS.Timeout | undefined;
if (role === 'writer') {
  prune();
  pruning = setInterval(prune, 3_600_000);
  pruning.unref();
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
      port.postMessage({ id: 0, error: `ledger write of ${rows.length} rows failed: ${(rowsError as Error).message}` } satisfies LedgerReply);
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
    store.close();
  }
  port.postMessage(reply);
});
