/**
 * The ledger's writer thread. It owns the write connection: rows arrive in
 * batches and are committed here, so a slow disk never stalls the event loop
 * that streams replies. The dashboard's queries run here too, for the same
 * reason. Retention pruning runs at start and then hourly.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { LedgerStore } from './store.js';
import type { LedgerMessage, LedgerQuery, LedgerReply } from './ledger.js';

const { path, retentionDays } = workerData as { path: string; retentionDays: number };
const store = new LedgerStore(path);
const port = parentPort!;

function answer(query: LedgerQuery): unknown {
  switch (query.kind) {
    case 'usage':
      return store.usage(query.query);
    case 'recent':
      return store.recent(query.limit);
    case 'members':
      return store.members();
  }
}

function prune(): void {
  if (retentionDays > 0) store.prune(Date.now() - retentionDays * 86_400_000);
}
prune();
const pruning = setInterval(prune, 3_600_000);
pruning.unref();

port.on('message', (message: LedgerMessage) => {
  if (message.t === 'rows') {
    try {
      store.insert(message.rows);
    } catch (error) {
      // Id 0 answers no query: the main thread logs it (a full disk, say).
      port.postMessage({ id: 0, error: `ledger write of ${message.rows.length} rows failed: ${(error as Error).message}` } satisfies LedgerReply);
    }
    return;
  }
  let reply: LedgerReply;
  try {
    reply = { id: message.id, value: message.t === 'query' ? answer(message.query) : null };
  } catch (error) {
    reply = { id: message.id, error: (error as Error).message };
  }
  if (message.t === 'close') {
    clearInterval(pruning);
    store.close();
  }
  port.postMessage(reply);
});
