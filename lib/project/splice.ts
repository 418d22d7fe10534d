/**
 * Writing the merged tree back into the user's text: only the entries cctl
 * owns are rendered again and spliced in, so every other byte (comments,
 * quoting, alignment) stays as it was; and cctl's own nodes in block style,
 * whatever style the file used (a flow-style file merges too).
 */
import { Document, isCollection, isMap, isScalar, isSeq, type YAMLMap } from 'yaml';

/** The layout the user writes, so new keys look like theirs. */
export function detectStyle(text: string): { indent: number; indentSeq: boolean } {
  const indents = [...text.matchAll(/^( +)[^\s#-]/gm)].map((m) => m[1]!.length);
  const indent = indents.length ? Math.min(...indents) : 2;
  const seq = /^( *)[^\s#][^\n]*:\s*\n( *)- /m.exec(text);
  const indentSeq = seq ? seq[2]!.length > seq[1]!.length : true;
  return { indent: Math.min(Math.max(indent, 2), 8), indentSeq };
}

/** Maps in block style, down the tree; short lists of words stay inline, as createNode writes them. */
export function blockStyle(node: unknown): void {
  if (isMap(node)) {
    // An empty map reads as {} on its key's line.
    node.flow = node.items.length === 0;
    for (const pair of node.items) blockStyle(pair.value);
  } else if (isSeq(node)) {
    const words = node.items.every((i) => isScalar(i) && !String(i.value).includes(':/'));
    node.flow = words && node.items.length <= 4 && JSON.stringify(node.toJSON()).length < 60;
    for (const item of node.items) blockStyle(item);
  }
}

/** The [top] or [top, name] entries that hold the touched paths. */
export function regionsOf(touched: string[]): string[][] {
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
export function splice(text: string, original: Document.Parsed, edited: Document, regions: string[][]): string {
  const style = detectStyle(text);
  const render = (pair: unknown, column: number): string => {
    const mini = new Document({});
    // A comment above the key stays where it is in the text (the splice starts at the key's line), so it is not rendered twice.
    const key = (pair as { key?: unknown }).key;
    if (isScalar(key)) key.commentBefore = undefined;
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
    // An entry inside a flow map (`services: {web: ...}`) has no lines of its own: its whole top-level entry is rewritten.
    const inFlow = region.length === 2 && isCollection(parent) && parent.flow === true;
    if (pair && isScalar(pair.key) && pair.key.range && !inFlow) {
      // Replace the entry from its key's line to the end of its value's line.
      const from = lineStart(text, pair.key.range[0]);
      const valueEnd = (pair.value as { range?: [number, number, number] } | null)?.range?.[1] ?? pair.key.range[1];
      const to = lineEnd(text, Math.max(valueEnd - 1, pair.key.range[1]));
      const keyColumn = pair.key.range[0] - from;
      splices.push({ from, to, insert: editedPair ? render(editedPair, keyColumn) : '' });
    } else if (region.length === 2 && isMap(parent) && !inFlow && parent.items.length > 0) {
      // A new entry goes after the parent's last one, in the same column.
      const last = parent.items[parent.items.length - 1]!;
      const firstKey = parent.items[0]!.key as { range?: [number, number, number] };
      const keyColumn = firstKey.range ? firstKey.range[0] - lineStart(text, firstKey.range[0]) : style.indent;
      const lastEnd =
        (last.value as { range?: [number, number, number] } | null)?.range?.[1] ??
        (last.key as { range: [number, number, number] }).range[1];
      const at = lineEnd(text, lastEnd - 1);
      splices.push({
        from: at,
        to: at,
        insert: withNewline(text.slice(0, at)) === text.slice(0, at) ? render(editedPair, keyColumn) : `\n${render(editedPair, keyColumn)}`,
      });
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
        splices.push({
          from: text.length,
          to: text.length,
          insert: (text === '' || text.endsWith('\n') ? '' : '\n') + render(editedTop, column ?? 0),
        });
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
