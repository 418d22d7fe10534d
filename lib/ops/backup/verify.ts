/**
 * Checking a backup before anything is touched: the whole gzip stream (its
 * CRC and length catch truncation and bit rot), every tar header (each with
 * its checksum), and what the entries would do when extracted as root (the
 * content policy in policy.ts). One pass, in time linear in the archive's
 * size: headers are read from a queue of chunks, never by concatenating the
 * stream so far.
 */
import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { CctlError } from '../../kernel/errors.js';
import { ContentPolicy, type TarEntry } from './policy.js';

const BLOCK = 512;
/** Zero padding tar writes after its end marker: one record (GNU: 10 KiB) and then some. */
const MAX_TRAILING = 1024 * 1024;
/** pax and GNU long-name records hold names, never this much. */
const MAX_META = 1024 * 1024;

export interface ArchiveSummary {
  /** Files, folders and links in the archive (metadata records not counted). */
  entries: number;
  /** Bytes of the uncompressed tar stream. */
  tarBytes: number;
  /** Newlines inside entry names: a busybox listing shows each as an extra line. */
  nameNewlines: number;
}

function octal(field: Buffer): number {
  // GNU tar stores sizes of 8 GiB and more in base-256, flagged by the high bit.
  if (field[0]! & 0x80) {
    let n = field[0]! & 0x7f;
    for (let i = 1; i < field.length; i++) n = n * 256 + field[i]!;
    return n;
  }
  const text = field.toString('latin1').replace(/\0.*$/s, '').trim();
  return text === '' ? 0 : parseInt(text, 8);
}

function headerChecksumOk(h: Buffer): boolean {
  // The checksum is the byte sum of the header with its own field read as spaces.
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i]!;
  return sum === octal(h.subarray(148, 156));
}

const cString = (b: Buffer) => {
  const nul = b.indexOf(0);
  return b.subarray(0, nul < 0 ? b.length : nul).toString('utf8');
};

/** pax records: "<len> <key>=<value>\n", lengths in bytes. */
function paxRecords(data: Buffer): Map<string, string> {
  const out = new Map<string, string>();
  let at = 0;
  while (at < data.length) {
    const space = data.indexOf(0x20, at);
    const len = space < 0 ? NaN : Number(data.subarray(at, space).toString('latin1'));
    if (!Number.isInteger(len) || len <= 0 || at + len > data.length) break;
    const record = data.subarray(space + 1, at + len - 1).toString('utf8');
    const eq = record.indexOf('=');
    if (eq > 0) out.set(record.slice(0, eq), record.slice(eq + 1));
    at += len;
  }
  return out;
}

/** A queue of chunks that hands out whole blocks without copying the stream. */
class ChunkQueue {
  private chunks: Buffer[] = [];
  private offset = 0;
  length = 0;
  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.length += chunk.length;
  }
  /** Drops n bytes (at most what is queued); returns how many were dropped. */
  skip(n: number): number {
    let left = Math.min(n, this.length);
    const done = left;
    while (left > 0) {
      const head = this.chunks[0]!;
      const avail = head.length - this.offset;
      if (avail > left) {
        this.offset += left;
        left = 0;
      } else {
        left -= avail;
        this.chunks.shift();
        this.offset = 0;
      }
    }
    this.length -= done;
    return done;
  }
  /** The next n bytes (n is small: a header or a metadata record). */
  take(n: number): Buffer {
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const head = this.chunks[0]!;
      const copied = head.copy(out, filled, this.offset, Math.min(head.length, this.offset + n - filled));
      filled += copied;
      this.skip(copied);
    }
    return out;
  }
}

export function verifyArchive(file: string): Promise<ArchiveSummary> {
  const bad = (why: string) =>
    new CctlError(`${file} is not a usable backup: ${why}.`, {
      hint: 'Nothing was changed. Use another backup file (made with "cctl backup").',
    });
  return new Promise((resolvePromise, reject) => {
    const queue = new ChunkQueue();
    const policy = new ContentPolicy(file);
    let skip = 0; // data bytes (padded to blocks) still to pass over
    let meta: { type: string; size: number } | undefined; // a metadata record whose data comes next
    let pax = new Map<string, string>();
    let longName: string | undefined;
    let longLink: string | undefined;
    let entries = 0;
    let nameNewlines = 0;
    let tarBytes = 0;
    let trailing = 0; // bytes after the end marker
    let ended = false;
    let failed = false;
    const fail = (e: Error) => {
      if (failed) return;
      failed = true;
      input.destroy();
      gunzip.destroy();
      reject(e);
    };
    const input = createReadStream(file);
    const gunzip = createGunzip();
    input.on('error', (e) => fail(new CctlError(`Cannot read ${file}: ${e.message}`)));
    gunzip.on('error', (e) => {
      if (/unexpected end/i.test(e.message)) fail(bad('it is truncated (the gzip stream ends early)'));
      else if (/incorrect header check/i.test(e.message)) fail(bad('it is not gzip-compressed'));
      else fail(bad(`it is damaged (gzip says "${e.message}")`));
    });

    const entry = (header: Buffer): TarEntry => {
      const ustar = header.subarray(257, 263).toString('latin1') === 'ustar\0';
      const prefix = ustar ? cString(header.subarray(345, 500)) : '';
      const short = cString(header.subarray(0, 100));
      const name = pax.get('path') ?? longName ?? (prefix ? `${prefix}/${short}` : short);
      const linkname = pax.get('linkpath') ?? longLink ?? cString(header.subarray(157, 257));
      pax = new Map();
      longName = longLink = undefined;
      return { name, linkname, type: String.fromCharCode(header[156]!), mode: octal(header.subarray(100, 108)) };
    };

    const step = (): void => {
      while (!failed) {
        if (ended) {
          trailing += queue.skip(queue.length);
          if (trailing > MAX_TRAILING) fail(bad(`it has more than ${MAX_TRAILING} bytes after the end of the tar archive`));
          return;
        }
        if (meta) {
          if (queue.length < meta.size) return;
          const data = queue.take(meta.size);
          skip = Math.ceil(meta.size / BLOCK) * BLOCK - meta.size;
          if (meta.type === 'x') pax = paxRecords(data);
          else if (meta.type === 'L') longName = cString(data);
          else if (meta.type === 'K') longLink = cString(data);
          meta = undefined;
        }
        if (skip > 0) {
          skip -= queue.skip(skip);
          if (skip > 0) return;
        }
        if (queue.length < BLOCK) return;
        const header = queue.take(BLOCK);
        if (header.every((b) => b === 0)) {
          ended = true;
          continue;
        }
        if (!headerChecksumOk(header)) return fail(bad(`damaged tar header after ${entries} entries`));
        const size = octal(header.subarray(124, 136));
        const type = String.fromCharCode(header[156]!);
        if ('xgLK'.includes(type)) {
          // pax (x, g) and GNU long-name (L, K) records describe the next entry.
          if (size > MAX_META) return fail(bad(`a metadata record of ${size} bytes`));
          meta = { type, size };
          continue;
        }
        const e = entry(header);
        const refusal = policy.check(e);
        if (refusal) return fail(refusal);
        entries++;
        nameNewlines += e.name.split('\n').length - 1;
        skip = Math.ceil(size / BLOCK) * BLOCK;
      }
    };

    gunzip.on('data', (chunk: Buffer) => {
      tarBytes += chunk.length;
      queue.push(chunk);
      step();
    });
    gunzip.on('end', () => {
      if (failed) return;
      if (!ended) return fail(bad(entries === 0 ? 'it holds no tar archive' : 'the tar archive ends early'));
      const refusal = policy.finish();
      if (refusal) return fail(refusal);
      resolvePromise({ entries, tarBytes: tarBytes - trailing, nameNewlines });
    });
    input.pipe(gunzip);
  });
}
