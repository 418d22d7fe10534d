/**
 * Writes and removals inside a folder that someone else can write too: the
 * project, where claude-cli can create any file, symlinks included. Nothing
 * here follows a symlink below the folder (the folder's own path may be one:
 * that is the user's choice, and it is resolved once, first):
 *
 *  - each folder on the way is opened with O_NOFOLLOW | O_DIRECTORY, one
 *    component at a time, and the next one is looked up through the open
 *    folder (/proc/self/fd/N/name on Linux), so a link swapped in after a
 *    check is not followed either;
 *  - a file is written to a new temp file in its real folder (O_EXCL |
 *    O_NOFOLLOW), then renamed over the name, in that same folder;
 *  - a folder is removed by walking it the same way.
 *
 * A link on the way, or as the file itself, is refused with a CctlError that
 * names it. Without /proc (macOS, BSD), each step checks with lstat first,
 * which is the same rule with a race window left open.
 */
import {
  closeSync,
  constants,
  fchmodSync,
  fchownSync,
  fstatSync,
  fsyncSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  renameSync,
  rmdirSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { existsSync } from 'node:fs';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { CctlError } from './errors.js';

const O_NOFOLLOW = constants.O_NOFOLLOW ?? 0;
const O_DIRECTORY = constants.O_DIRECTORY ?? 0;
/** Look names up through an open folder, not through its path (Linux). */
const BY_FD = process.platform === 'linux' && existsSync('/proc/self/fd');

/** An open folder below the root: its descriptor, and the path the user knows it by (for messages). */
interface Folder {
  fd: number;
  shown: string;
}

/** The path of `name` in `folder` as the kernel should resolve it: through the descriptor where that is possible. */
const at = (folder: Folder, name: string): string => (BY_FD ? `/proc/self/fd/${folder.fd}/${name}` : join(folder.shown, name));

function linkRefused(shown: string): CctlError {
  let target = '';
  try {
    target = readlinkSync(shown);
  } catch {
    // Gone meanwhile: the name alone says enough.
  }
  return new CctlError(
    `${shown} is a symbolic link${target ? ` (to ${target})` : ''}; cctl does not write or delete through links in the project.`,
    {
      hint:
        'Anything in claude-cli can write the project, links included, so a link there may point anywhere on this machine. ' +
        `Nothing was written through it. Check what made it, remove it ("rm ${shown}"), and run the command again. ` +
        'A compose file kept elsewhere is named with -f instead.',
    },
  );
}

function isLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

/** The components of `path` below `root`; a path outside it is a bug in the caller. */
function below(root: string, path: string): string[] {
  const rel = relative(root, resolve(root, path));
  if (rel === '' || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) {
    throw new CctlError(`${path} is not inside ${root}; cctl writes there only below it.`);
  }
  return rel.split(sep);
}

function openFolder(parent: Folder, name: string): number {
  const path = at(parent, name);
  const shown = join(parent.shown, name);
  if (!O_NOFOLLOW && isLink(path)) throw linkRefused(shown);
  try {
    return openSync(path, constants.O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // O_NOFOLLOW on a link: ELOOP (Linux), EMLINK (FreeBSD), ENOTDIR with O_DIRECTORY on some kernels.
    if (isLink(path)) throw linkRefused(shown);
    if (code === 'ENOTDIR')
      throw new CctlError(`${shown} is not a folder, but cctl keeps files in it.`, { hint: `Move it away and run the command again.` });
    throw error;
  }
}

/**
 * Opens `root` (resolved) and the folders `names` below it, none through a
 * link; creates missing ones when `create` is set, else returns undefined
 * for a missing one. The caller closes the returned folder.
 */
function walk(root: string, names: readonly string[], create: boolean): Folder | undefined {
  let real: string;
  try {
    real = realpathSync(root);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    if (!create) return undefined;
    // The root is the caller's to name (a project folder, cctl's private one): made like mkdir -p.
    mkdirSync(root, { recursive: true });
    real = realpathSync(root);
  }
  let folder: Folder = { fd: openSync(real, constants.O_RDONLY | O_DIRECTORY), shown: root };
  try {
    for (const name of names) {
      let fd: number;
      try {
        fd = openFolder(folder, name);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
        if (!create) {
          closeSync(folder.fd);
          return undefined;
        }
        try {
          mkdirSync(at(folder, name));
        } catch (made) {
          if ((made as NodeJS.ErrnoException).code !== 'EEXIST') throw made;
        }
        fd = openFolder(folder, name);
      }
      closeSync(folder.fd);
      folder = { fd, shown: join(folder.shown, name) };
    }
    return folder;
  } catch (error) {
    closeSync(folder.fd);
    throw error;
  }
}

function withParent<T>(root: string, path: string, create: boolean, fn: (folder: Folder, name: string) => T): T | undefined {
  const names = below(root, path);
  const name = names.pop()!;
  const folder = walk(root, names, create);
  if (!folder) return undefined;
  try {
    return fn(folder, name);
  } finally {
    closeSync(folder.fd);
  }
}

export interface WriteInsideOptions {
  /** The file's mode: a new file gets it less the umask, an existing one keeps its own unless `exactMode`. */
  mode?: number;
  /** Set `mode` as it is, whatever the umask or the old file's mode (a file another user reads through a mount). */
  exactMode?: boolean;
}

/**
 * Replaces `file` (below `root`) atomically; missing folders on the way are
 * created. Refused when the file or any folder on the way is a link.
 */
export function writeInside(root: string, file: string, data: string | Buffer, options: WriteInsideOptions = {}): void {
  withParent(root, file, true, (folder, name) => {
    const target = at(folder, name);
    let existing: number | undefined;
    try {
      const st = lstatSync(target);
      if (st.isSymbolicLink()) throw linkRefused(join(folder.shown, name));
      if (st.isDirectory())
        throw new CctlError(`${join(folder.shown, name)} is a folder, but cctl writes a file there.`, {
          hint: 'Move it away and run the command again.',
        });
      existing = st.mode & 0o7777;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    const tmpName = `.${name}.cctl-${process.pid}.tmp`;
    const tmp = at(folder, tmpName);
    try {
      // unlink never follows: a leftover (or a planted link) under this name goes, nothing else.
      unlinkSync(tmp);
    } catch {
      // No leftover from an earlier, killed run.
    }
    // O_EXCL | O_NOFOLLOW: a fresh inode in this very folder, whatever appears under the name meanwhile.
    const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | O_NOFOLLOW, options.mode ?? existing ?? 0o666);
    try {
      writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data);
      // Replacing a file keeps its mode (or takes the given one); a new file keeps what the umask left, unless exact.
      if (options.exactMode && options.mode !== undefined) fchmodSync(fd, options.mode);
      else if (existing !== undefined) fchmodSync(fd, options.mode ?? existing);
      fsyncSync(fd);
    } catch (error) {
      closeSync(fd);
      unlinkSync(tmp);
      throw error;
    }
    closeSync(fd);
    // rename() within one folder is atomic, and replaces a name, never what a link at it points to.
    renameSync(tmp, target);
  });
}

/**
 * Makes `dir` (below `root`) and the folders on the way; `mode` is set on `dir` as given, and `owner`
 * (root making a folder in a user's project: it stays theirs). Refused through a link.
 */
export function mkdirInside(root: string, dir: string, options: { mode?: number; owner?: { uid: number; gid: number } } = {}): void {
  const folder = walk(root, below(root, dir), true)!;
  try {
    if (options.mode !== undefined) fchmodSync(folder.fd, options.mode);
    if (options.owner) fchownSync(folder.fd, options.owner.uid, options.owner.gid);
  } finally {
    closeSync(folder.fd);
  }
}

/** Reads `file` below `root` without following a link (a link is refused); undefined when it does not exist. */
export function readInside(root: string, file: string): Buffer | undefined {
  return withParent(root, file, false, (folder, name) => {
    let fd: number;
    try {
      // O_NONBLOCK: a FIFO planted under the name must not hang cctl in open() (it is refused below).
      fd = openSync(at(folder, name), constants.O_RDONLY | O_NOFOLLOW | (constants.O_NONBLOCK ?? 0));
    } catch (error) {
      if (isLink(at(folder, name))) throw linkRefused(join(folder.shown, name));
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    try {
      if (!fstatSync(fd).isFile()) throw new CctlError(`${join(folder.shown, name)} is not a regular file.`);
      return readFileSync(fd);
    } finally {
      closeSync(fd);
    }
  });
}

/** Empties and removes an open folder's entry `name`, a folder, without following a link anywhere below it. */
function removeTree(parent: Folder, name: string): void {
  const fd = openFolder(parent, name);
  const folder: Folder = { fd, shown: join(parent.shown, name) };
  try {
    for (const entry of readdirSync(BY_FD ? `/proc/self/fd/${fd}` : folder.shown, { withFileTypes: true })) {
      // A link inside a folder being removed is itself removed (unlink), never followed.
      if (entry.isDirectory()) removeTree(folder, entry.name);
      else unlinkSync(at(folder, entry.name));
    }
  } finally {
    closeSync(fd);
  }
  rmdirSync(at(parent, name));
}

/**
 * Removes `path` below `root` (a file, or a folder with `recursive`); true
 * when something was removed, false when it was not there. Refused when it,
 * or any folder on the way, is a link.
 */
export function removeInside(root: string, path: string, options: { recursive?: boolean } = {}): boolean {
  return (
    withParent(root, path, false, (folder, name) => {
      const target = at(folder, name);
      let st;
      try {
        st = lstatSync(target);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
        throw error;
      }
      if (st.isSymbolicLink()) throw linkRefused(join(folder.shown, name));
      if (st.isDirectory()) {
        if (!options.recursive) throw new CctlError(`${join(folder.shown, name)} is a folder; cctl expected a file there.`);
        removeTree(folder, name);
      } else {
        unlinkSync(target);
      }
      return true;
    }) ?? false
  );
}
