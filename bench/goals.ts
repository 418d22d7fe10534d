/**
 * The goals a bench states, and how --check holds it to them. Every bench in
 * bench/ declares each goal with goals.check(...) where it measures it, and
 * ends with goals.finish(): that prints one line per goal (met, MISSED and by
 * how much, or not checked), and with --check sets exit status 1 when one was
 * missed.
 *
 * Two kinds of goal:
 *   relative  a ratio against a baseline measured in the same run (cctl over
 *             raw Compose, tunnel over direct), a slope relative to the level,
 *             or a count: what a loaded or slower machine changes little.
 *   absolute  milliseconds, MB/s: what the machine itself sets.
 *
 * Flags every bench takes (spread GOAL_OPTIONS into its parseArgs):
 *   --check               exit 1 when a checked goal is missed
 *   --relative-only       check only relative goals; absolute ones are printed,
 *                         not checked (npm run bench:check, on any machine)
 *   --tolerance F         relative goals get F of slack: a "<= L" goal passes
 *                         up to L*(1+F), a ">= L" one down to L/(1+F); the
 *                         script that passes it says why that much
 *   --goal ID=LIMIT       replaces one goal's limit (repeatable): how a test
 *                         shows that --check fails on a goal that is missed
 *
 * With BENCH_GOALS_FILE set, finish() also writes the missed goals there as
 * one JSON line (bench/check.ts reads it for its summary).
 */
import { writeFileSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';

export const GOAL_OPTIONS = {
  check: { type: 'boolean', default: false },
  'relative-only': { type: 'boolean', default: false },
  tolerance: { type: 'string', default: '0' },
  goal: { type: 'string', multiple: true, default: [] as string[] },
} as const satisfies ParseArgsConfig['options'];

export type Kind = 'relative' | 'absolute';
export type Op = '<=' | '>=';

export interface GoalFlags {
  check?: boolean;
  'relative-only'?: boolean;
  tolerance?: string;
  goal?: string[];
}

interface Outcome {
  id: string;
  line: string;
  missed: boolean;
}

/**
 * One missed goal as the bench writes it to $BENCH_GOALS_FILE (bench/check.ts sets it): enough for a one-line
 * summary at the end of a CI log, which shows only its last lines.
 */
export interface MissedGoal {
  id: string;
  what: string;
  measured: number;
  op: Op;
  /** The limit the figure had to meet: the stated one (or --goal's) with the tolerance applied. */
  bound: number;
  /** The stated (or --goal's) limit, before the tolerance. */
  stated: number;
  unit: string;
}

export class Goals {
  private readonly outcomes: Outcome[] = [];
  private readonly missedGoals: MissedGoal[] = [];
  private readonly overrides = new Map<string, number>();
  private readonly used = new Set<string>();
  readonly tolerance: number;

  constructor(
    private readonly bench: string,
    private readonly flags: GoalFlags,
  ) {
    this.tolerance = Number(flags.tolerance ?? 0);
    if (!Number.isFinite(this.tolerance) || this.tolerance < 0)
      throw new Error(`--tolerance must be a number >= 0, not "${flags.tolerance}"`);
    for (const spec of flags.goal ?? []) {
      const match = /^([a-z0-9-]+)=(-?[0-9.]+(?:e-?\d+)?)$/.exec(spec);
      if (!match) throw new Error(`--goal takes ID=LIMIT (e.g. --goal added-p50-ms=0.5), not "${spec}"`);
      this.overrides.set(match[1]!, Number(match[2]));
    }
  }

  /**
   * Records one goal: MEASURED must be OP LIMIT. Prints its line at once (so a long bench shows progress)
   * and returns whether it was met. UNIT is printed after numbers ("ms", "x", "%/round").
   */
  check(id: string, what: string, measured: number, op: Op, limit: number, unit: string, kind: Kind): boolean {
    if (this.used.has(id)) throw new Error(`goal ${id} is declared twice in ${this.bench}`);
    this.used.add(id);
    const overridden = this.overrides.has(id);
    const stated = overridden ? this.overrides.get(id)! : limit;
    const slack = kind === 'relative' ? this.tolerance : 0;
    const bound = op === '<=' ? stated * (1 + slack) : stated / (1 + slack);
    const met = Number.isFinite(measured) && (op === '<=' ? measured <= bound : measured >= bound);
    const checked = !(kind === 'absolute' && this.flags['relative-only']);
    const n = (x: number) => `${fmt(x)}${unit ? ` ${unit}` : ''}`;
    let limitText = `${op} ${n(stated)}`;
    if (slack > 0) limitText += ` (with ${fmt(slack * 100)}% tolerance ${op} ${n(bound)})`;
    if (overridden) limitText += ` [--goal, stated ${op} ${n(limit)}]`;
    let verdict: string;
    if (met) verdict = 'met';
    else {
      const by = Math.abs(measured - bound);
      const pct = bound !== 0 ? ` (${fmt((by / Math.abs(bound)) * 100)}%)` : '';
      verdict = `MISSED by ${n(by)}${pct}`;
    }
    if (!checked) verdict += ', not checked (absolute goal, --relative-only)';
    const line = `goal ${id}: ${what} = ${n(measured)}, goal ${limitText}: ${verdict}`;
    console.log(line);
    this.outcomes.push({ id, line, missed: checked && !met });
    if (checked && !met) this.missedGoals.push({ id, what, measured, op, bound, stated, unit });
    return met;
  }

  /** Prints the summary; with --check, a missed goal (or a --goal naming no goal) sets exit status 1. Returns the status. */
  finish(): number {
    const unknown = [...this.overrides.keys()].filter((id) => !this.used.has(id));
    const missed = this.outcomes.filter((o) => o.missed);
    console.log(
      `\n${this.bench}: ${this.outcomes.length} goals, ${missed.length} missed${this.flags['relative-only'] ? ' (relative goals checked only)' : ''}`,
    );
    for (const o of missed) console.log(`  ${o.line}`);
    if (unknown.length)
      console.log(`  --goal names no goal of this bench: ${unknown.join(', ')} (its goals: ${[...this.used].join(', ')})`);
    const status = this.flags.check && (missed.length > 0 || unknown.length > 0) ? 1 : 0;
    // For bench:check's summary (bench/check.ts): what was missed, as data rather than a line to parse.
    const file = process.env.BENCH_GOALS_FILE;
    if (file)
      writeFileSync(file, `${JSON.stringify({ bench: this.bench, goals: this.outcomes.length, missed: this.missedGoals, unknown })}\n`);
    if (status) process.exitCode = 1;
    return status;
  }
}

/** The bench's flags, its own options plus GOAL_OPTIONS, parsed strictly: a typo is an error, not a default. */
export function benchArgs<T extends NonNullable<ParseArgsConfig['options']>>(options: T) {
  return parseArgs({ options: { ...GOAL_OPTIONS, ...options }, allowPositionals: false }).values;
}

export function fmt(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  const abs = Math.abs(x);
  return abs >= 100 ? x.toFixed(0) : abs >= 10 ? x.toFixed(1) : abs >= 1 ? x.toFixed(2) : x.toFixed(3);
}

/** Median of the samples. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/**
 * The least-squares slope of SAMPLES against their index, relative to their mean, in percent per step:
 * "memory levels off" is this near zero once warm-up samples are left out. One step = one round or one
 * sampling interval, as the bench says.
 */
export function relativeSlopePercent(samples: readonly number[]): number {
  const n = samples.length;
  if (n < 2) return NaN;
  const meanX = (n - 1) / 2;
  const meanY = samples.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  samples.forEach((y, x) => {
    num += (x - meanX) * (y - meanY);
    den += (x - meanX) ** 2;
  });
  return (num / den / meanY) * 100;
}
