/** File writes that can never leave a half-written file behind. */
import { closeSync, fsyncSync, openSync, renameSync, statSync, unlinkSync, writeSync, chmodSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

export function writeFileAtomic(file: string, data: string | Buffer, mode?: number): void {
  let keepMode = mode;
  if (keepMode === undefined) {
    try {
      keepMode = statSync(file).mode & 0o7777;
    } catch {
      keepMode = 0o644;
    }
  }
  const tmp = join(dirname(file), `.${basename(file)}.cctl-${process.pid}.tmp`);
  const fd = openSync(tmp, 'w', keepMode);
  try {
    writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data);
    fsyncSync(fd);
  } catch (error) {
    closeSync(fd);
    unlinkSync(tmp);
    throw error;
  }
  closeSync(fd);
  chmodSync(tmp, keepMode);
  // rename() is atomic within a filesystem: readers see the old file or the new one.
  renameSync(tmp, file);
}
