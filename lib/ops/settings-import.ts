/**
 * `cctl settings import`: the user's own Claude Code settings from the host
 * (~/.claude/CLAUDE.md, settings.json, agents/, commands/) into the home
 * volume. Only those four: never credentials, history, projects or todos.
 *
 * Through the engine, as backup does: the files are staged on this machine,
 * `docker cp`'d into a helper container that has the volume mounted, and the
 * helper copies what differs. So it works against a remote engine too, and
 * does not need claude-cli to be running. A second run finds nothing to do.
 */
import { cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { CctlError } from '../kernel/errors.js';
import { copyFiles } from '../engine/helper-containers.js';
import { tail } from '../kernel/text.js';
import { volumeExists } from '../engine/volumes.js';
import { createHelper, HELPER_CAPS, removeHelper, requireImage, startHelper } from './backup/helpers.js';

/** What is imported, relative to the config dir: two files and two folders. */
export const IMPORTED = ['CLAUDE.md', 'settings.json', 'agents', 'commands'] as const;
const STAGE_IN_CONTAINER = '/tmp/cctl-import';

export interface ImportChange {
  path: string;
  change: 'added' | 'updated' | 'skipped';
  reason?: string;
}

/** The host's Claude config dir, as Claude Code finds it. */
export function hostClaudeDir(env = process.env): string {
  return env.CLAUDE_CONFIG_DIR || join(env.HOME || homedir(), '.claude');
}

/** Regular files to import, relative to the config dir (links are followed; anything else is left out). */
export function hostFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    const abs = join(dir, rel);
    let st;
    try {
      st = statSync(abs);
    } catch {
      return;
    }
    if (st.isFile()) out.push(rel);
    else if (st.isDirectory()) for (const name of readdirSync(abs).sort()) walk(join(rel, name));
  };
  for (const top of IMPORTED) walk(top);
  return out;
}

/**
 * Runs in the helper as root, with the volume at /data and the staged files
 * at STAGE. Copies each file that differs into $HOME/.claude, owned like that
 * folder. A path that is a symlink in the volume (or under one) is skipped:
 * the volume is writable from claude-cli, and a link there must not make a
 * root copy overwrite another file, credentials above all.
 */
export const IMPORT_SCRIPT = `set -eu
cfg=\${DATA:-/data}/.claude
[ -d "$cfg" ] || { echo "no .claude folder in the home volume" >&2; exit 3; }
owner=$(stat -c %u:%g "$cfg")
cd "$STAGE"
find . -type f | LC_ALL=C sort | while IFS= read -r f; do
  rel=\${f#./}
  # Only what import is for, whatever the stage holds: never credentials or history.
  case "$rel" in CLAUDE.md | settings.json | agents/* | commands/*) ;; *) continue ;; esac
  link=""
  p=$rel
  while :; do
    [ -L "$cfg/$p" ] && link=$p
    case "$p" in */*) p=\${p%/*} ;; *) break ;; esac
  done
  if [ -n "$link" ]; then echo "skipped $rel"; continue; fi
  if [ -f "$cfg/$rel" ] && cmp -s "$f" "$cfg/$rel"; then continue; fi
  if [ -e "$cfg/$rel" ]; then echo "updated $rel"; else echo "added $rel"; fi
  [ "$DRY_RUN" = 1 ] && continue
  d=$(dirname "$rel")
  if [ "$d" != . ] && [ ! -d "$cfg/$d" ]; then
    mkdir -p "$cfg/$d"
    q=$d
    while :; do chown "$owner" "$cfg/$q"; case "$q" in */*) q=\${q%/*} ;; *) break ;; esac; done
  fi
  cp "$f" "$cfg/$rel.cctl-import"
  chown "$owner" "$cfg/$rel.cctl-import"
  chmod 0644 "$cfg/$rel.cctl-import"
  mv -f "$cfg/$rel.cctl-import" "$cfg/$rel"
done
`;

export interface ImportOptions {
  volume: string;
  image: string;
  owner: string;
  from: string;
  dryRun: boolean;
}

export async function importSettings(options: ImportOptions): Promise<{ from: string; files: number; changes: ImportChange[] }> {
  const files = hostFiles(options.from);
  if (files.length === 0) return { from: options.from, files: 0, changes: [] };
  if (!(await volumeExists(options.volume))) {
    throw new CctlError(`The home volume ${options.volume} does not exist yet.`, { hint: 'Run "cctl up" first, then import.' });
  }
  await requireImage(options.image);
  const stage = mkdtempSync(join(tmpdir(), 'cctl-import-'));
  try {
    for (const rel of files) {
      mkdirSync(dirname(join(stage, 'files', rel)), { recursive: true });
      cpSync(join(options.from, rel), join(stage, 'files', rel), { dereference: true });
    }
    const helper = await createHelper({
      owner: options.owner,
      image: options.image,
      mounts: [`${options.volume}:/data${options.dryRun ? ':ro' : ''}`],
      env: { STAGE: STAGE_IN_CONTAINER, DRY_RUN: options.dryRun ? '1' : '0' },
      script: IMPORT_SCRIPT,
      caps: HELPER_CAPS.write,
    });
    try {
      await copyFiles(`${join(stage, 'files')}/.`, `${helper}:${STAGE_IN_CONTAINER}`, 'Copying the settings into the helper container');
      const result = await startHelper(helper);
      if (result.exitCode !== 0) {
        throw new CctlError(`The import failed in the helper container (exit ${result.exitCode}): ${tail(result.stderr)}`);
      }
      return { from: options.from, files: files.length, changes: parseChanges(result.stdout) };
    } finally {
      await removeHelper(helper);
    }
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

export function parseChanges(stdout: string): ImportChange[] {
  return stdout
    .split('\n')
    .map((line) => /^(added|updated|skipped) (.+)$/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) =>
      m[1] === 'skipped'
        ? { path: m[2]!, change: 'skipped', reason: 'a symlink in the volume' }
        : { path: m[2]!, change: m[1] as 'added' | 'updated' },
    );
}

/** True when `dir` holds anything to import (for a friendly "nothing here" message). */
export function hasHostSettings(dir: string): boolean {
  return existsSync(dir) && lstatSync(dir).isDirectory() && hostFiles(dir).length > 0;
}
