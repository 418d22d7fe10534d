/**
 * What a backup may contain. The helper extracts as root, so an archive must
 * not be able to do more than put the user's files back into the volume: no
 * device nodes or FIFOs, no setuid/setgid bits, no names that climb out
 * (absolute, or with a `..` part), no writes through a symlink the archive
 * made earlier, and no link whose target leaves the volume. A home that cctl
 * backed up never holds any of these, so refusing costs nothing real.
 */
import { CctlError } from '../../kernel/errors.js';

export interface TarEntry {
  name: string;
  linkname: string;
  /** The tar type flag: '0' file, '1' hard link, '2' symlink, '5' folder, ... */
  type: string;
  mode: number;
}

const KINDS: Record<string, string> = {
  '0': 'file',
  '\0': 'file',
  '7': 'file',
  '1': 'hard link',
  '2': 'symlink',
  '5': 'folder',
  '3': 'character device',
  '4': 'block device',
  '6': 'FIFO',
  S: 'sparse file',
  V: 'volume label',
  M: 'multi-volume part',
};
const ALLOWED = new Set(['0', '\0', '7', '1', '2', '5']);
/** Symlinks followed while resolving one target, as the kernel's own limit. */
const MAX_HOPS = 40;
/**
 * Where the volume is mounted in claude-cli. An absolute link below it stays
 * inside the volume (Claude Code's own installer links ~/.local/bin/claude
 * to /home/claude/.local/share/claude/...), so it is read from the root.
 */
export const VOLUME_MOUNT = '/home/claude';

/** A symlink target as seen from the volume's root: relative ones as they are, absolute ones below the mount made relative. */
function fromMount(target: string): string | undefined {
  if (!target.startsWith('/')) return target;
  if (target === VOLUME_MOUNT) return '.';
  return target.startsWith(`${VOLUME_MOUNT}/`) ? target.slice(VOLUME_MOUNT.length + 1) : undefined;
}

/** The entry's path as parts below the volume root, or undefined when it is absolute or climbs. */
function parts(name: string): string[] | undefined {
  if (name.startsWith('/')) return undefined;
  const out = name.split('/').filter((p) => p !== '' && p !== '.');
  return out.includes('..') ? undefined : out;
}

export class ContentPolicy {
  /** Each symlink's target; an absolute one below the mount is stored from the root, prefixed with '/'. */
  private readonly symlinks = new Map<string, string>();
  private readonly files = new Set<string>();

  constructor(private readonly file: string) {}

  private refuse(name: string, why: string): CctlError {
    return new CctlError(`${this.file} is not a safe backup: entry ${JSON.stringify(name)} ${why}.`, {
      hint: 'Nothing was changed. cctl restores only files, folders and links that stay inside the volume.',
    });
  }

  /** A refusal for this entry, or undefined when it may be extracted. */
  check(e: TarEntry): CctlError | undefined {
    if (!ALLOWED.has(e.type)) return this.refuse(e.name, `is a ${KINDS[e.type] ?? `tar entry of type ${JSON.stringify(e.type)}`}`);
    if (e.mode & 0o6000) return this.refuse(e.name, `has the ${e.mode & 0o4000 ? 'setuid' : 'setgid'} bit`);
    const path = parts(e.name);
    if (!path) return this.refuse(e.name, e.name.startsWith('/') ? 'has an absolute name' : 'climbs out with ".."');
    const through = this.symlinkPrefix(path.slice(0, -1));
    if (through) return this.refuse(e.name, `would be written through the symlink ${JSON.stringify(through)}`);
    const key = path.join('/');
    if (e.type === '1') {
      const target = parts(e.linkname);
      if (!target || target.length === 0) return this.refuse(e.name, `is a hard link to ${JSON.stringify(e.linkname)}, outside the volume`);
      if (!this.files.has(target.join('/')))
        return this.refuse(e.name, `is a hard link to ${JSON.stringify(e.linkname)}, which is not a file earlier in the archive`);
    }
    if (e.type === '2') {
      const inside = fromMount(e.linkname);
      if (inside === undefined)
        return this.refuse(e.name, `is a symlink to the absolute path ${JSON.stringify(e.linkname)}, outside the volume (${VOLUME_MOUNT})`);
      this.symlinks.set(key, e.linkname.startsWith('/') ? `/${inside}` : inside);
    } else this.symlinks.delete(key);
    if (e.type === '0' || e.type === '\0' || e.type === '7') this.files.add(key);
    return undefined;
  }

  /** After the last entry: every symlink, resolved through the others, stays inside. */
  finish(): CctlError | undefined {
    for (const [name, target] of this.symlinks) {
      if (this.resolve(name.split('/').slice(0, -1), target) === undefined) {
        return this.refuse(name, `is a symlink to ${JSON.stringify(target)}, which leads outside the volume`);
      }
    }
    return undefined;
  }

  private symlinkPrefix(dirParts: string[]): string | undefined {
    for (let i = 1; i <= dirParts.length; i++) {
      const prefix = dirParts.slice(0, i).join('/');
      if (this.symlinks.has(prefix)) return prefix;
    }
    return undefined;
  }

  /** Resolves `target` from folder `dir`, following the archive's symlinks; undefined when it leaves the root. */
  private resolve(dir: string[], target: string, hops = 0): string[] | undefined {
    if (hops > MAX_HOPS) return undefined;
    // A leading '/' marks a target stored from the root (an absolute link below the mount).
    const at = target.startsWith('/') ? [] : [...dir];
    for (const p of target.split('/')) {
      if (p === '' || p === '.') continue;
      if (p === '..') {
        if (at.length === 0) return undefined;
        at.pop();
        continue;
      }
      at.push(p);
      const link = this.symlinks.get(at.join('/'));
      if (link !== undefined) {
        const resolved = this.resolve(at.slice(0, -1), link, hops + 1);
        if (!resolved) return undefined;
        at.splice(0, at.length, ...resolved);
      }
    }
    return at;
  }
}
