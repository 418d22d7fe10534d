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
import { Document, isMap, isScalar, isSeq, parseDocument, type YAMLMap } from 'yaml';
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

/** How many times a compose file's text was parsed (tests count them: once per run when nothing changes). */
export const composeParses = { count: 0 };

export function parseCompose(text: string, file: string): Document.Parsed {
  composeParses.count++;
  if (text.length > MAX_TEXT) {
    throw new ComposeSyntaxError(`${file} is larger than ${MAX_TEXT / 1024 / 1024} MiB; cctl reads compose files up to that size.`, { hint: 'Nothing was changed.' });
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

/** The layout the user writes, so new keys look like theirs. */
export function detectStyle(text: string): { indent: number; indentSeq: boolean } {
  const indents = [...text.matchAll(/^( +)[^\s#-]/gm)].map((m) => m[1]!.length);
  const indent = indents.length ? Math.min(...indents) : 2;
  const seq = /^( *)[^\s#][^\n]*:\s*\n( *)- /m.exec(text);
  const indentSeq = seq ? seq[2]!.length > seq[1]!.length : true;
  return { indent: Math.min(Math.max(indent, 2), 8), indentSeq };
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
      if (n.items.every((i) => isScalar(i)) && n.items.length <= 4 && JSON.stringify(n.toJSON()).length < 60) n.flow = true;
      n.items.forEach(flowLists);
    } else if (isMap(n)) n.items.forEach((p) => flowLists(p.value));
  };
  flowLists(node);
  return node;
}

export function mergeOwned(
  text: string,
  file: string,
  owned: { base: Owned | undefined; ours: Owned; extension: { key: string; value: PlainMap } },
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

  const walk = (path: string[], ours: Plain | undefined, base: Plain | undefined, current: Plain | undefined) => {
    if (current === undefined) {
      if (ours === undefined) return;
      edits.push(() => doc.setIn(path, createNode(doc, ours)));
      touched.push(path.join('.'));
      return;
    }
    if (isPlainMap(ours) && isPlainMap(current)) {
      const b = isPlainMap(base) ? base : undefined;
      for (const key of Object.keys(ours)) walk([...path, key], ours[key], b?.[key], current[key]);
      // Keys cctl wrote before but no longer wants (a setting turned off).
      for (const key of Object.keys(b ?? {})) {
        if (key in ours || current[key] === undefined) continue;
        if (isDeepStrictEqual(current[key], b![key]) || force) {
          edits.push(() => doc.deleteIn([...path, key]));
          touched.push([...path, key].join('.'));
        } else conflicts.push({ path: [...path, key], file: current[key], cctl: undefined });
      }
      return;
    }
    if (isDeepStrictEqual(current, ours)) return;
    const userEdited = base === undefined || !isDeepStrictEqual(current, base);
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
      walk([top, name], entries[name], owned.base?.[top]?.[name], current[name]);
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
  const out = splice(text, parsed ?? parseCompose(text, file), doc, regionsOf(touched));
  return { text: out, changed: out !== text, conflicts, touched };
}

/** The [top] or [top, name] entries that hold the touched paths. */
function regionsOf(touched: string[]): string[][] {
  const seen = new Map<string, string[]>();
  for (const t of touched) {
    const [top, name] = t.split('.');
    const region = top!.startsWith('x-') || name === undefined ? [top!] : [top!, name];
    seen.set(region.join('.'), region);
  }
  return [...seen.values()];
}

function lineStart(text: string, at: number): number {
  return text.lastIndexOf('\n', at - 1) + 1;
}
function lineEnd(text: string, at: number): number {
  const nl = text.indexOf('\n', at);
  return nl < 0 ? text.length : nl + 1;
}

/**
 * Rewrites only the regions cctl owns, splicing them into the original text,
 * so every other byte (comment alignment, quoting, spacing) stays as it was.
 */
function splice(text: string, original: Document.Parsed, edited: Document, regions: string[][]): string {
  const style = detectStyle(text);
  const render = (pair: unknown, column: number): string => {
    const mini = new Document({});
    (mini.contents as YAMLMap).items.push(pair as never);
    const body = mini.toString({ indent: style.indent, indentSeq: style.indentSeq, lineWidth: 0, flowCollectionPadding: false });
    return body.replace(/^(?=.)/gm, ' '.repeat(column));
  };
  const findPair = (map: unknown, key: string) =>
    isMap(map) ? map.items.find((p) => (isScalar(p.key) ? p.key.value : p.key) === key) : undefined;
  type Splice = { from: number; to: number; insert: string };
  const splices: Splice[] = [];
  const root = original.contents as YAMLMap | null;
  const withNewline = (t: string) => (t === '' || t.endsWith('\n') ? t : `${t}\n`);

  for (const region of regions) {
    const editedPair = region.length === 1 ? findPair(edited.contents, region[0]!) : findPair(edited.get(region[0]!), region[1]!);
    const parent = region.length === 1 ? root : findPair(root, region[0]!)?.value;
    const pair = findPair(parent, region[region.length - 1]!);
    const column = region.length === 1 ? 0 : undefined;
    if (pair && isScalar(pair.key) && pair.key.range) {
      // Replace the entry from its key's line to the end of its value's line.
      const from = lineStart(text, pair.key.range[0]);
      const valueEnd = (pair.value as { range?: [number, number, number] } | null)?.range?.[1] ?? pair.key.range[1];
      const to = lineEnd(text, Math.max(valueEnd - 1, pair.key.range[1]));
      const keyColumn = pair.key.range[0] - from;
      splices.push({ from, to, insert: editedPair ? render(editedPair, keyColumn) : '' });
    } else if (region.length === 2 && isMap(parent) && !parent.flow && parent.items.length > 0) {
      // A new entry goes after the parent's last one, in the same column.
      const last = parent.items[parent.items.length - 1]!;
      const firstKey = parent.items[0]!.key as { range?: [number, number, number] };
      const keyColumn = firstKey.range ? firstKey.range[0] - lineStart(text, firstKey.range[0]) : style.indent;
      const lastEnd = (last.value as { range?: [number, number, number] } | null)?.range?.[1] ?? (last.key as { range: [number, number, number] }).range[1];
      const at = lineEnd(text, lastEnd - 1);
      splices.push({ from: at, to: at, insert: withNewline(text.slice(0, at)) === text.slice(0, at) ? render(editedPair, keyColumn) : `\n${render(editedPair, keyColumn)}` });
    } else {
      // No usable parent block: (re)write the whole top-level entry.
      const top = region[0]!;
      const topPair = findPair(root, top);
      const editedTop = findPair(edited.contents, top);
      if (topPair && isScalar(topPair.key) && topPair.key.range) {
        const from = lineStart(text, topPair.key.range[0]);
        const valueEnd = (topPair.value as { range?: [number, number, number] } | null)?.range?.[1] ?? topPair.key.range[1];
        splices.push({ from, to: lineEnd(text, Math.max(valueEnd - 1, topPair.key.range[1])), insert: render(editedTop, 0) });
      } else {
        splices.push({ from: text.length, to: text.length, insert: (text === '' || text.endsWith('\n') ? '' : '\n') + render(editedTop, column ?? 0) });
      }
    }
  }
  // Insertions at one point keep their order; two rewrites of one range are one.
  const merged: Splice[] = [];
  for (const s of splices) {
    const same = merged.find((m) => m.from === s.from && m.to === s.to);
    if (!same) merged.push({ ...s });
    else if (s.from === s.to) same.insert += s.insert;
  }
  let out = text;
  for (const s of merged.sort((a, b) => b.from - a.from)) out = out.slice(0, s.from) + s.insert + out.slice(s.to);
  return out;
}

export function describeConflicts(conflicts: Conflict[], file: string): CctlError {
  const lines = conflicts.map((c) => {
    const show = (v: Plain | undefined) => (v === undefined ? '(removed)' : JSON.stringify(v));
    return `  ${c.path.join('.')}: the file has ${show(c.file)}, cctl would write ${show(c.cctl)}`;
  });
  return new CctlError(
    `${file} has edits to keys that cctl manages, and cctl would overwrite them:\n${lines.join('\n')}`,
    {
      hint:
        'The file is unchanged. Change the matching setting instead (cctl init --help, or the x-cctl: map), ' +
        'or run "cctl init --force" to overwrite (a backup is written next to the file first).',
    },
  );
}
