/**
 * File reads and writes that never leave a half-written file behind or read a
 * damaged one silently, and the writes inside the project that never go
 * through a symlink (inside.ts).
 */
import {
  closeSync,
  existsSync,
  fsyncSync,
  openSync,
  readdirSync,
  realpathSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
  chmodSync,
  readFileSync,
  lstatSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { CctlError } from './errors.js';

export { mkdirInside, readInside, removeInside, writeInside, type WriteInsideOptions } from './inside.js';

/**
 * Replaces `file` atomically, for files outside the project (cctl's private
 * folder, where a user's dotfiles may well be links): project files go
 * through writeInside, which never follows a link. A symlink is written through: the new content
 * goes to its target, and the link stays a link. An existing file keeps its
 * mode, or gets `mode` (secrets: 0600, tightened again). A new file is
 * created with `mode` (default 0666) as the open() mode, so the umask applies
 * before any data lands, as for any other program's new file.
 */
export function writeFileAtomic(file: string, data: string | Buffer, mode?: number): void {
  let target = file;
  try {
    target = realpathSync(file);
  } catch {
    // Missing (or a dangling link): write the name itself.
  }
  let existingMode: number | undefined;
  try {
    existingMode = statSync(target).mode & 0o7777;
  } catch {
    existingMode = undefined;
  }
  const tmp = join(dirname(target), `.${basename(target)}.cctl-${process.pid}.tmp`);
  try {
    unlinkSync(tmp);
  } catch {
    // No leftover from an earlier, killed run.
  }
  // 'wx': a fresh inode, so the mode given here is the one it gets (less the umask).
  const fd = openSync(tmp, 'wx', mode ?? existingMode ?? 0o666);
  try {
    writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data);
    fsyncSync(fd);
  } catch (error) {
    closeSync(fd);
    unlinkSync(tmp);
    throw error;
  }
  closeSync(fd);
  // Replacing a file sets its mode (the given one, or the old one's); a new file keeps what the umask left.
  if (existingMode !== undefined) chmodSync(tmp, mode ?? existingMode);
  // rename() is atomic within a filesystem: readers see the old file or the new one.
  renameSync(tmp, target);
}

/** Reads a text file that must be UTF-8: a byte that is not is refused, never replaced with U+FFFD. */
export function readUtf8(file: string, maxBytes = Infinity): string {
  const bytes = readFileSync(file);
  if (bytes.length > maxBytes) {
    throw new CctlError(`${file} is ${bytes.length} bytes; cctl reads files of at most ${maxBytes} bytes.`, {
      hint: 'A compose file is normally a few kilobytes. Nothing was changed.',
    });
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    const at = firstInvalidUtf8(bytes);
    const line = bytes.subarray(0, at).toString('latin1').split('\n').length;
    throw new CctlError(`${file} is not UTF-8: byte 0x${bytes[at]?.toString(16).toUpperCase()} on line ${line} (offset ${at}).`, {
      hint: 'Save the file as UTF-8 (e.g. "iconv -f latin1 -t utf-8"). cctl has not changed it.',
    });
  }
}

/** Offset of the first byte that does not belong to a well-formed UTF-8 sequence. */
function firstInvalidUtf8(bytes: Buffer): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    const need = b < 0x80 ? 0 : b >= 0xc2 && b < 0xe0 ? 1 : b >= 0xe0 && b < 0xf0 ? 2 : b >= 0xf0 && b < 0xf5 ? 3 : -1;
    if (need < 0) return i;
    for (let k = 1; k <= need; k++) if (((bytes[i + k] ?? 0) & 0xc0) !== 0x80) return i;
    i += need + 1;
  }
  return i;
}

/** Every file below `dir`, as paths relative to it; none when `dir` does not exist. */
export function listFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? listFiles(join(dir, e.name)).map((f) => join(e.name, f)) : [e.name],
  );
}

/** What is at `path` itself, a link not followed: the guards ask before they trust a path claude-cli can write. */
export function entryKind(path: string): 'absent' | 'symlink' | 'dir' | 'file' {
  try {
    const st = lstatSync(path);
    return st.isSymbolicLink() ? 'symlink' : st.isDirectory() ? 'dir' : 'file';
  } catch {
    return 'absent';
  }
}
