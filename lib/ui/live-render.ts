/**
 * The live usage view's pure half: from a ccusage block (read from its JSON
 * by ops/ccusage-blocks.ts) to the lines on screen. No I/O and no clock of
 * its own (the caller passes `now`), so every frame can be tested from fixed
 * input.
 */
/** The fields of a ccusage 20 `blocks --json` block that the view reads. */
export interface Block {
  id: string;
  startTime: string;
  endTime: string;
  actualEndTime: string | null;
  isActive: boolean;
  isGap: boolean;
  entries: number;
  costUSD: number;
  totalTokens: number;
  models: string[];
  tokenCounts: {
    inputTokens: number;
    outputTokens: number;
    cacheCreationInputTokens: number;
    cacheReadInputTokens: number;
  };
  burnRate: { tokensPerMinute: number; costPerHour: number } | null;
  projection: { totalTokens: number; totalCost: number; remainingMinutes: number } | null;
}

export interface TokenLimit {
  tokens: number;
  /** Where the number came from, shown beside it. */
  source: 'max' | 'set';
}

export interface FrameOptions {
  now: Date;
  limit?: TokenLimit;
  /** IANA zone for clock times; the host's when undefined. */
  timeZone?: string;
  /** Terminal columns, to size the progress bar. */
  columns?: number;
  color?: boolean;
  intervalSeconds?: number;
  /** The last poll's failure, shown under the data that is still on screen. */
  error?: string;
}

const WARN_AT = 0.8;

const n = (x: number) => Math.round(x).toLocaleString('en-US');
const usd = (x: number) => `$${x.toFixed(2)}`;

function duration(ms: number): string {
  const minutes = Math.max(0, Math.floor(ms / 60_000));
  return `${Math.floor(minutes / 60)}h ${String(minutes % 60).padStart(2, '0')}m`;
}

function clock(date: Date, timeZone: string | undefined, parts: 'time' | 'minute' | 'datetime'): string {
  const f = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  });
  const p = Object.fromEntries(f.formatToParts(date).map((x) => [x.type, x.value]));
  const hm = `${p.hour}:${p.minute}`;
  if (parts === 'minute') return hm;
  if (parts === 'time') return `${hm}:${p.second}`;
  return `${p.year}-${p.month}-${p.day} ${hm}`;
}

type Level = 'ok' | 'warn' | 'over';
function level(fraction: number): Level {
  return fraction >= 1 ? 'over' : fraction >= WARN_AT ? 'warn' : 'ok';
}

const COLORS: Record<Level, string> = { ok: '\x1b[32m', warn: '\x1b[33m', over: '\x1b[31m' };
function paint(text: string, lvl: Level, color: boolean | undefined): string {
  return color ? `${COLORS[lvl]}${text}\x1b[39m` : text;
}

function bar(fraction: number, width: number): string {
  const filled = Math.min(width, Math.round(Math.max(0, fraction) * width));
  return `[${'█'.repeat(filled)}${'░'.repeat(width - filled)}]`;
}

function pct(fraction: number): string {
  return `${(fraction * 100).toFixed(1)}%`;
}

/** The full-screen frame for a terminal. */
export function renderFrame(block: Block | undefined, o: FrameOptions): string[] {
  const lines: string[] = [];
  const footer = `Updated ${clock(o.now, o.timeZone, 'time')}${o.intervalSeconds ? ` · every ${o.intervalSeconds}s` : ''} · q or Ctrl-C to quit`;
  if (!block) {
    lines.push('Claude usage · no active block', '');
    lines.push('  No Claude Code requests in the last 5 hours. A new 5-hour block starts with the next one.');
  } else {
    const start = new Date(block.startTime);
    const end = new Date(block.endTime);
    const t = block.tokenCounts;
    lines.push('Claude usage · active 5-hour block', '');
    lines.push(
      `  Block      ${clock(start, o.timeZone, 'datetime')} → ${clock(end, o.timeZone, 'minute')}` +
        `  (${duration(o.now.getTime() - start.getTime())} elapsed, ${duration(end.getTime() - o.now.getTime())} left)`,
    );
    lines.push(
      `  Tokens     ${n(block.totalTokens)}  (input ${n(t.inputTokens)} · output ${n(t.outputTokens)} · ` +
        `cache write ${n(t.cacheCreationInputTokens)} · cache read ${n(t.cacheReadInputTokens)})`,
    );
    lines.push(`  Cost       ${usd(block.costUSD)}`);
    lines.push(
      block.burnRate
        ? `  Burn rate  ${n(block.burnRate.tokensPerMinute)} tokens/min · ${usd(block.burnRate.costPerHour)}/hour`
        : '  Burn rate  not enough data yet',
    );
    if (block.projection) {
      lines.push(
        `  Projected  ${n(block.projection.totalTokens)} tokens · ${usd(block.projection.totalCost)} by ${clock(end, o.timeZone, 'minute')}`,
      );
    }
    lines.push(...limitLines(block, o));
    if (block.models.length) lines.push(`  Models     ${block.models.join(', ')}`);
  }
  if (o.error) lines.push('', `  Last refresh failed: ${o.error}`);
  lines.push('', footer);
  return lines;
}

function limitLines(block: Block, o: FrameOptions): string[] {
  if (!o.limit) return [];
  if (o.limit.tokens <= 0) return ['  Limit      max: no finished block yet to compare with'];
  const used = block.totalTokens / o.limit.tokens;
  const width = Math.max(10, Math.min(40, (o.columns ?? 80) - 60));
  const source = o.limit.source === 'max' ? ' (max of previous blocks)' : '';
  const lines = [`  Limit      ${paint(bar(used, width), level(used), o.color)} ${pct(used)} of ${n(o.limit.tokens)}${source}`];
  if (block.projection) {
    const projected = block.projection.totalTokens / o.limit.tokens;
    const note = projected >= 1 ? 'projected to exceed the limit' : 'projected within the limit';
    lines.push(`             ${paint(`${note} (${pct(projected)})`, level(projected), o.color)}`);
  }
  return lines;
}

/** One line per refresh, for pipes and logs: the same facts, no cursor movement, no colour. */
export function renderLine(block: Block | undefined, o: FrameOptions): string {
  const stamp = `${clock(o.now, o.timeZone, 'datetime')}:${clock(o.now, o.timeZone, 'time').slice(-2)}`;
  const failed = o.error ? ` (last refresh failed: ${o.error})` : '';
  if (!block) return `${stamp} no active block${failed}`;
  const end = new Date(block.endTime);
  const facts = [`${n(block.totalTokens)} tokens`, usd(block.costUSD)];
  if (block.burnRate) facts.push(`${n(block.burnRate.tokensPerMinute)} tokens/min`);
  if (block.projection) facts.push(`projected ${n(block.projection.totalTokens)} tokens ${usd(block.projection.totalCost)}`);
  if (o.limit && o.limit.tokens > 0) facts.push(`${pct(block.totalTokens / o.limit.tokens)} of limit ${n(o.limit.tokens)}`);
  const span = `${clock(new Date(block.startTime), o.timeZone, 'minute')}-${clock(end, o.timeZone, 'minute')}`;
  return `${stamp} active block ${span}, ${duration(end.getTime() - o.now.getTime())} left: ${facts.join(', ')}${failed}`;
}
