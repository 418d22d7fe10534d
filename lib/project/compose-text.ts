/**
 * The compose file's text, read once per run. Finding the project (its
 * `name:`), the settings, the claude services, the build hash and init's
 * merge all need it; each used to read (and parse) it again. The text is
 * kept while the file's identity (mtime, size, inode) is unchanged, so a
 * file written in between is read afresh. This module loads no YAML parser:
 * the pass-through verbs use it too.
 */
import { statSync } from 'node:fs';
import { readUtf8 } from '../kernel/fs.js';

/** Larger than any real compose file by far; a bound on what one run holds in memory. */
export const MAX_COMPOSE_BYTES = 4 * 1024 * 1024;

interface Entry {
  stamp: string;
  text: string;
}
const cache = new Map<string, Entry>();

const readListeners = new Set<(file: string) => void>();

/** Calls `listener` with each compose file read from disk (a test counts them); returns the way to stop. */
export function onComposeRead(listener: (file: string) => void): () => void {
  readListeners.add(listener);
  return () => void readListeners.delete(listener);
}

function stampOf(file: string): string | undefined {
  try {
    const s = statSync(file);
    return `${s.mtimeMs}:${s.size}:${s.ino}`;
  } catch {
    return undefined;
  }
}

/** The file's text ('' when it does not exist), from memory when the file has not changed. */
export function composeText(file: string): string {
  const stamp = stampOf(file);
  if (stamp === undefined) return '';
  const hit = cache.get(file);
  if (hit?.stamp === stamp) return hit.text;
  const text = readUtf8(file, MAX_COMPOSE_BYTES);
  for (const listener of readListeners) listener(file);
  cache.set(file, { stamp, text });
  return text;
}
