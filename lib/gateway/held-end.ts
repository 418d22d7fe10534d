/**
 * A reply whose end waits for something (team mode: its ledger row's
 * commit, exchange.ts endAfterRow). Everything before the end streams
 * through at once; only what tells the client the reply is complete is held:
 * - with Content-Length, the body's last byte (the client has the whole
 *   reply when that byte arrives, whether or not the response is ended);
 * - otherwise (chunked, as event streams are, or ended by closing), the end
 *   of the response itself, which the pipe sends once this stream ends.
 * A Content-Length of 0 has nothing to hold: the headers alone complete it.
 */
import { Transform, type TransformCallback } from 'node:stream';

export class HeldEnd extends Transform {
  /** Body bytes still to come before the last one, when the length is known. */
  private remaining: number | undefined;
  private held: Buffer | undefined;

  constructor(
    contentLength: string | undefined,
    private readonly gate: () => Promise<void>,
  ) {
    super();
    const length = contentLength === undefined ? NaN : Number(contentLength);
    if (Number.isSafeInteger(length) && length > 0) this.remaining = length;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    if (this.remaining === undefined || this.held) return done(null, chunk);
    if (chunk.length < this.remaining) {
      this.remaining -= chunk.length;
      return done(null, chunk);
    }
    // This chunk completes the body: all of it but the last byte goes now.
    this.held = chunk.subarray(this.remaining - 1, this.remaining);
    done(null, chunk.subarray(0, this.remaining - 1));
  }

  override _flush(done: TransformCallback): void {
    const release = () => done(null, this.held);
    this.gate().then(release, release);
  }
}
