/**
 * The request body as it streams through: counted against the limit, and its
 * first bytes kept, to learn the model asked for and to resend the body if
 * the first upstream attempt never carried any of it.
 */
import type http from 'node:http';

/** Up to this much of a request body is kept to read `model` from, and to resend. */
export const REQUEST_KEEP_LIMIT = 256 * 1024;
/** Past the keep limit, only this much of the head is kept for the first-key match. */
const HEAD_LIMIT = 4096;

export class RequestBody {
  /** Bytes received from the client so far. */
  bytes = 0;
  private kept: Buffer[] = [];
  private keptBytes = 0;
  private whole = true;

  /** Records a chunk that arrived from the client. */
  take(chunk: Buffer): void {
    this.bytes += chunk.length;
    if (!this.whole) return;
    if (this.keptBytes + chunk.length <= REQUEST_KEEP_LIMIT) {
      this.kept.push(chunk);
      this.keptBytes += chunk.length;
      return;
    }
    this.whole = false;
    const head = Buffer.concat([...this.kept, chunk], Math.min(HEAD_LIMIT, this.keptBytes + chunk.length));
    this.kept = [head];
    this.keptBytes = head.length;
  }

  /** Every byte received so far is kept, so it can be sent again. */
  get resendable(): boolean {
    return this.whole;
  }

  /** The bytes received so far; only meaningful while resendable. */
  received(): Buffer {
    return Buffer.concat(this.kept);
  }

  /** The model asked for, once the body is complete (or as far as its head tells). */
  model(complete: boolean): string | undefined {
    return requestedModel(Buffer.concat(this.kept), this.whole && complete);
  }
}

/**
 * The requested model, for requests that end before a response names one
 * (errors, aborts). A body within the keep limit is parsed; a longer one is
 * only trusted when `model` is its first key, which is the one match that
 * cannot be a nested `"model"` inside messages or tool input.
 */
export function requestedModel(head: Buffer, complete: boolean): string | undefined {
  if (head.length === 0) return undefined;
  if (complete) {
    try {
      const body = JSON.parse(head.toString('utf8')) as Record<string, unknown>;
      return typeof body?.model === 'string' ? body.model : undefined;
    } catch {
      return undefined;
    }
  }
  const match = /^\s*\{\s*"model"\s*:\s*"([^"\\]{1,200})"/.exec(head.subarray(0, HEAD_LIMIT).toString('utf8'));
  return match?.[1];
}

/**
 * Reads a whole request body, for team mode, which must see max_tokens and
 * the size before it admits a request. Each chunk is also counted in `body`
 * (the log's bytesIn). Resolves undefined, having stopped reading, once the
 * count passes `maxBytes` (the caller answers 413) or when the client leaves.
 */
export function readWholeBody(req: http.IncomingMessage, body: RequestBody, maxBytes: number): Promise<Buffer | 'too-large' | undefined> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const onData = (chunk: Buffer) => {
      body.take(chunk);
      if (body.bytes > maxBytes) {
        done('too-large');
        return;
      }
      chunks.push(chunk);
    };
    const done = (result: Buffer | 'too-large' | undefined) => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('close', onClose);
      if (result !== undefined && result !== 'too-large') resolve(result);
      else {
        req.pause();
        resolve(result);
      }
    };
    const onEnd = () => done(Buffer.concat(chunks));
    const onClose = () => done(undefined);
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('close', onClose);
  });
}
