/**
 * ccusage's `blocks --json` output, read: the list of 5-hour blocks (its
 * shape, as the live view draws it, is ui/live-render.ts's Block), the
 * active one, and the largest finished one for `--token-limit max`.
 */
import { CctlError } from '../kernel/errors.js';
import type { Block } from '../ui/live-render.js';

export function parseBlocks(text: string): Block[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new CctlError(`ccusage did not print JSON: ${text.trim().slice(0, 200) || '(nothing)'}`);
  }
  const blocks = (doc as { blocks?: unknown })?.blocks;
  if (!Array.isArray(blocks)) throw new CctlError('ccusage printed JSON without a "blocks" list; is the image\'s ccusage 20 or newer?');
  return blocks as Block[];
}

export function activeBlock(blocks: readonly Block[]): Block | undefined {
  return blocks.find((b) => b.isActive && !b.isGap);
}

/** `--token-limit max`: the largest total of any finished block, as ccusage's own tables define it. */
export function maxPreviousTokens(blocks: readonly Block[]): number {
  return blocks.filter((b) => !b.isGap && !b.isActive).reduce((m, b) => Math.max(m, b.totalTokens), 0);
}
