/**
 * Runs under Node 22 for team-ledger.test.ts: the Ledger (main-thread side
 * and writer thread) on a fresh file, through one scenario named in argv[3].
 * Prints {"ok": ..., ...} as JSON.
 */
import { Ledger } from '../../lib/gateway/team/ledger.js';
import { openDatabase } from '../../lib/gateway/team/sqlite.js';
import { LedgerStore, type LedgerRow } from '../../lib/gateway/team/store.js';

const [path, scenario, holdMs] = process.argv.slice(2);
if (scenario === 'hold-write-lock') {
  // A stand-in for a disk that stalls: the ledger's write lock taken and kept.
  const db = openDatabase(path!);
  db.exec('BEGIN IMMEDIATE');
  process.stdout.write('locked\n');
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Number(holdMs));
  db.exec('COMMIT');
  db.close();
  process.exit(0);
}
const logs: string[] = [];
const ledger = new Ledger({ path: path!, retentionDays: 0, log: (line) => logs.push(line) });
const row = (i: number): LedgerRow => ({
  time: Date.now(),
  member: 'ann',
  project: 'p',
  model: 'm',
  status: 200,
  durationMs: 1,
  inputTokens: i,
  outputTokens: 0,
  cacheCreationTokens: 0,
  cacheReadTokens: 0,
  cost: 0,
});
const total = async () => (await ledger.usage({ by: [] }))[0];

if (scenario === 'writer-dies') {
  void ledger.record(row(1));
  const before = await total();
  // The thread dies as a crash would take it; the ledger must go on with a new one.
  await (ledger as unknown as { worker: { terminate(): Promise<number> } }).worker.terminate();
  await new Promise((r) => setTimeout(r, 200));
  ledger.record(row(2));
  const after = await total();
  await ledger.close();
  process.stdout.write(JSON.stringify({ before, after, logs }));
} else if (scenario === 'where-reservations-go') {
  const store = new LedgerStore(path!);
  store.addMember('ann', 'hash-of-ann', {});
  store.close();
  // Every question put to the writer thread, by kind.
  const writer = (ledger as unknown as { worker: { ask(message: { t: string }): Promise<unknown> } }).worker;
  const asked: string[] = [];
  const ask = writer.ask.bind(writer);
  writer.ask = (message) => (asked.push(message.t), ask(message));
  const reservation = {
    member: 'ann',
    time: Date.now(),
    estimate: { inputTokens: 1, outputTokens: 1, tokens: 2, cost: 0 },
    defaultMaxInFlight: 8,
  };
  ledger.record(row(1));
  const free = await ledger.reserve(reservation);
  const askedWhileFree = asked.splice(0);
  // Another connection holds the write lock; the event loop must not wait for it.
  const holder = openDatabase(path!);
  holder.exec('BEGIN IMMEDIATE');
  const loopTurns: number[] = [];
  const ticker = setInterval(() => loopTurns.push(Date.now()), 20);
  const pending = ledger.reserve(reservation);
  setTimeout(() => holder.exec('COMMIT'), 300);
  const taken = await pending;
  clearInterval(ticker);
  holder.close();
  const askedWhileTaken = asked.splice(0);
  const totals = await total();
  await ledger.close();
  process.stdout.write(JSON.stringify({ free, askedWhileFree, taken, askedWhileTaken, loopTurns: loopTurns.length, totals, logs }));
} else if (scenario === 'settled-before-next') {
  const store = new LedgerStore(path!);
  store.addMember('ann', 'hash-of-ann', { maxInFlight: 1 });
  store.close();
  const ask = () => ({
    member: 'ann',
    time: Date.now(),
    estimate: { inputTokens: 1, outputTokens: 1, tokens: 2, cost: 0 },
    defaultMaxInFlight: 8,
  });
  const first = await ledger.reserve(ask());
  // The writer thread hears everything 200 ms late, in order, as on a busy machine.
  const thread = (ledger as unknown as { worker: { worker: { postMessage(message: unknown): void } } }).worker.worker;
  const deliver = thread.postMessage.bind(thread);
  const late: unknown[] = [];
  thread.postMessage = (message) => {
    late.push(message);
    setTimeout(() => deliver(late.shift()), 200);
  };
  // The first request ends: its row, which frees its place, goes to the writer thread, since another
  // connection holds the write lock for a moment (else the event loop would commit it itself).
  const holder = openDatabase(path!);
  holder.exec('BEGIN IMMEDIATE');
  void ledger.record({ ...row(1), reservation: (first as { id: number }).id });
  ledger.flush();
  setTimeout(() => (holder.exec('COMMIT'), holder.close()), 100);
  const second = await ledger.reserve(ask());
  await ledger.close();
  process.stdout.write(JSON.stringify({ first, second, logs }));
} else if (scenario === 'close-commits') {
  for (let i = 0; i < 1234; i++) ledger.record(row(1));
  await ledger.close();
  process.stdout.write(JSON.stringify({ closed: true }));
}
