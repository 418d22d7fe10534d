/**
 * Writing cctl's owned keys into the user's compose file. The yaml Document
 * API edits the parsed tree in place, so the user's comments, anchors, key
 * order and other services come out as they went in.
 *
 * It is a three-way merge: `base` is what cctl wrote last time (from
 * .cctl/state.json), `theirs` is the file now, `ours` is the new rendering.
 * A key the user changed since `base` that cctl would now change again is a
 * conflict, named by its path, unless --force.
 */
import { isDeepStrictEqual } from 'node:util';
import { type Document, isCollection, isMap, isScalar, isSeq, parseDocument, type YAMLMap } from 'yaml';
import { blockStyle, detectStyle, regionsOf, splice } from './splice.js';

export { detectStyle };
import { CctlError } from '../kernel/errors.js';
import type { Plain, PlainMap } from './model.js';

export type Owned = { [top: string]: PlainMap };

export interface Conflict {
  path: string[];
  file: Plain | undefined;
  cctl: Plain | undefined;
}

export interface MergeResult {
  text: string;
  changed: boolean;
  conflicts: Conflict[];
  /** Dotted paths that were added, changed or removed. */
  touched: string[];
}

export class ComposeSyntaxError extends CctlError {}

/**
 * Aliases a file may resolve: 100 services that each merge one anchor are
 * valid (yaml's default limit, 100, refused them). Nested aliases multiply
 * toward the limit, so an expansion bomb is still refused, and the file size
 * is capped too.
 */
export const MAX_ALIASES = 10_000;
const MAX_TEXT = 4 * 1024 * 1024;

const parseListeners = new Set<(file: string) => void>();

/** Calls `listener` with each compose text parsed (a test counts them: once per run when nothing changes); returns the way to stop. */
export function onComposeParse(listener: (file: string) => void): () => void {
  parseListeners.add(listener);
  return () => void parseListeners.delete(listener);
}

export function parseCompose(text: string, file: string): Document.Parsed {
  for (const listener of parseListeners) listener(file);
  if (text.length > MAX_TEXT) {
    throw new ComposeSyntaxError(`${file} is larger than ${MAX_TEXT / 1024 / 1024} MiB; cctl reads compose files up to that size.`, {
      hint: 'Nothing was changed.',
    });
  }
  const doc = parseDocument(text, { uniqueKeys: true });
  const first = doc.errors[0];
  if (first) {
    const pos = first.linePos?.[0];
    const where = pos ? `${file}:${pos.line}:${pos.col}` : file;
    // yaml's first line repeats the position and ends where its code frame starts; name the line instead.
    const what = first.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
    const line = pos ? text.split(/\r?\n/)[pos.line - 1]?.trim() : undefined;
    throw new ComposeSyntaxError(`${where}: ${what}${line ? ` (at "${line.slice(0, 80)}")` : ''}`, {
      hint: 'Fix the YAML and run the command again. cctl has not changed the file.',
    });
  }
  if (doc.contents !== null && !isMap(doc.contents)) {
    throw new ComposeSyntaxError(`${file}: a compose file must be a map of top-level keys (services:, volumes:, ...).`);
  }
  return doc;
}

function isPlainMap(v: unknown): v is PlainMap {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function createNode(doc: Document, value: Plain) {
  const node = doc.createNode(value, { aliasDuplicateObjects: false });
  // Short lists of words read best inline: profiles: [claude], cap_drop: [ALL].
  const flowLists = (n: unknown) => {
    // YAML 1.1 readers (Compose v1) take digits and colons as base-60 numbers.
    if (isScalar(n) && typeof n.value === 'string' && /^[\d:.]+$/.test(n.value)) n.type = 'QUOTE_DOUBLE';
    if (isSeq(n)) {
      // Mounts (source:target) read better one per line.
      const words = n.items.every((i) => isScalar(i) && !String(i.value).includes(':/'));
      if (words && n.items.length <= 4 && JSON.stringify(n.toJSON()).length < 60) n.flow = true;
      n.items.forEach(flowLists);
    } else if (isMap(n)) n.items.forEach((p) => flowLists(p.value));
  };
  flowLists(node);
  return node;
}

export function mergeOwned(
  text: string,
  file: string,
  owned: {
    base: Owned | undefined;
    ours: Owned;
    extension: { key: string; value: PlainMap };
    /** Older renderings cctl itself wrote: a key that matches one is cctl's, not the user's. */
    legacy?: Owned[];
  },
  force = false,
  /** The text already parsed (compose-file.ts's shared parse): it is copied, not parsed again, and never edited. */
  parsed?: Document.Parsed,
): MergeResult {
  const doc = parsed ? parsed.clone() : parseCompose(text, file);
  if (doc.contents === null) doc.contents = doc.createNode({}) as unknown as typeof doc.contents;
  const theirs = (doc.toJS({ maxAliasCount: MAX_ALIASES }) ?? {}) as PlainMap;
  const conflicts: Conflict[] = [];
  const edits: Array<() => void> = [];
  const touched: string[] = [];

  // Each of `bases` is something cctl wrote: the recorded base first, then the older renderings.
  const walk = (path: string[], ours: Plain | undefined, bases: Array<Plain | undefined>, current: Plain | undefined) => {
    if (current === undefined) {
      if (ours === undefined) return;
      edits.push(() => doc.setIn(path, createNode(doc, ours)));
      touched.push(path.join('.'));
      return;
    }
    const wroteIt = (value: Plain | undefined) => bases.some((b) => b !== undefined && isDeepStrictEqual(value, b));
    if (isPlainMap(ours) && isPlainMap(current)) {
      const maps = bases.map((b) => (isPlainMap(b) ? b : undefined));
      for (const key of Object.keys(ours))
        walk(
          [...path, key],
          ours[key],
          maps.map((b) => b?.[key]),
          current[key],
        );
      // Keys cctl wrote before but no longer wants (a setting turned off, a value now per machine).
      const before = new Set(maps.flatMap((b) => Object.keys(b ?? {})));
      for (const key of before) {
        if (key in ours || current[key] === undefined) continue;
        if (maps.some((b) => b?.[key] !== undefined && isDeepStrictEqual(current[key], b[key])) || force) {
          edits.push(() => doc.deleteIn([...path, key]));
          touched.push([...path, key].join('.'));
        } else conflicts.push({ path: [...path, key], file: current[key], cctl: undefined });
      }
      return;
    }
    if (isDeepStrictEqual(current, ours)) return;
    const userEdited = !wroteIt(current);
    if (userEdited && !force) {
      conflicts.push({ path, file: current, cctl: ours });
      return;
    }
    edits.push(() => (ours === undefined ? doc.deleteIn(path) : doc.setIn(path, createNode(doc, ours))));
    touched.push(path.join('.'));
  };

  for (const [top, entries] of Object.entries(owned.ours)) {
    const current = theirs[top];
    if (current !== undefined && current !== null && !isPlainMap(current)) {
      conflicts.push({ path: [top], file: current, cctl: entries });
      continue;
    }
    if (current === null || current === undefined) {
      // "volumes:" with nothing under it is null; replace it with a map.
      edits.push(() => doc.set(top, createNode(doc, entries)));
      touched.push(top);
      continue;
    }
    for (const name of Object.keys(entries)) {
      walk(
        [top, name],
        entries[name],
        [owned.base, ...(owned.legacy ?? [])].map((b) => b?.[top]?.[name]),
        current[name],
      );
    }
  }
  // Entries cctl owned before and no longer renders (e.g. the proxy in external mode).
  for (const [top, entries] of Object.entries(owned.base ?? {})) {
    for (const name of Object.keys(entries)) {
      if (owned.ours[top]?.[name] !== undefined) continue;
      const current = (theirs[top] as PlainMap | undefined)?.[name];
      if (current === undefined) continue;
      if (isDeepStrictEqual(current, entries[name]) || force) {
        edits.push(() => doc.deleteIn([top, name]));
        touched.push(`${top}.${name}`);
      } else conflicts.push({ path: [top, name], file: current, cctl: undefined });
    }
  }

  // The settings are the user's to edit: always written as resolved.
  const ext = owned.extension;
  const currentExt = theirs[ext.key];
  if (!isDeepStrictEqual(currentExt, ext.value)) {
    if (isPlainMap(currentExt)) {
      for (const [k, v] of Object.entries(ext.value)) {
        if (!isDeepStrictEqual(currentExt[k], v)) edits.push(() => doc.setIn([ext.key, k], createNode(doc, v)));
      }
      for (const k of Object.keys(currentExt)) if (!(k in ext.value)) edits.push(() => doc.deleteIn([ext.key, k]));
    } else {
      edits.push(() => doc.set(ext.key, createNode(doc, ext.value)));
    }
    touched.push(ext.key);
  }

  if (conflicts.length > 0 || edits.length === 0) return { text, changed: false, conflicts, touched: [] };
  for (const edit of edits) edit();
  // A top-level map that held only cctl's entries (networks: with claude-internal, after isolate is turned
  // off) goes with its last entry: "networks:" with nothing under it is null, which Compose rejects.
  for (const top of Object.keys(owned.base ?? {})) {
    const left = doc.get(top, true);
    if (!isMap(left) || left.items.length > 0 || !isPlainMap(theirs[top]) || Object.keys(theirs[top]).length === 0) continue;
    doc.delete(top);
    touched.splice(0, touched.length, ...touched.filter((p) => p !== top && !p.startsWith(`${top}.`)), top);
  }
  // What cctl owns is written in block style, whatever style the file used; the user's nodes keep theirs.
  const root = doc.contents as YAMLMap;
  for (const top of [...Object.keys(owned.ours), ext.key]) {
    const container = root.get(top, true);
    if (!isMap(container)) continue;
    if (top === ext.key) blockStyle(container);
    else {
      container.flow = false;
      for (const name of Object.keys(owned.ours[top] ?? {})) {
        const entry = container.get(name, true);
        if (isCollection(entry)) blockStyle(entry);
      }
    }
  }
  if (root.flow) {
    // A file that is one flow map (`{services: {...}}`) has no lines to splice into: it is written out whole, in block style at the top.
    root.flow = false;
    const style = detectStyle(text);
    const out = doc.toString({ indent: style.indent, indentSeq: style.indentSeq, lineWidth: 0, flowCollectionPadding: false });
    return { text: out, changed: out !== text, conflicts, touched };
  }
  const out = splice(text, parsed ?? parseCompose(text, file), doc, regionsOf(touched));
  return { text: out, changed: out !== text, conflicts, touched };
}

export function describeConflicts(conflicts: Conflict[], file: string): CctlError {
  const lines = conflicts.map((c) => {
    const show = (v: Plain | undefined) => (v === undefined ? '(removed)' : JSON.stringify(v));
    return `  ${c.path.join('.')}: the file has ${show(c.file)}, cctl would write ${show(c.cctl)}`;
  });
  return new CctlError(`${file} has edits to keys that cctl manages, and cctl would overwrite them:\n${lines.join('\n')}`, {
    hint:
      'The file is unchanged. Change the matching setting instead (cctl init --help, or the x-cctl: map), ' +
      'or run "cctl init --force" to overwrite (a backup is written next to the file first).',
  });
}
