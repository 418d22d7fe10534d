/**
 * Prometheus metrics in the text exposition format (version 0.0.4): counters,
 * gauges and histograms with labels, rendered on each scrape. Small on
 * purpose: the gateway stays on Node builtins, and these few kinds are all
 * it exports.
 */

export type Labels = Record<string, string>;

/** Label values as the format wants them: backslash, double quote and newline escaped. */
function escapeValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function labelText(labels: Labels): string {
  const keys = Object.keys(labels);
  return keys.length ? `{${keys.map((k) => `${k}="${escapeValue(labels[k]!)}"`).join(',')}}` : '';
}

function numberText(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

interface Family {
  render(lines: string[]): void;
}

abstract class Labelled<T> implements Family {
  protected readonly series = new Map<string, { labels: Labels; value: T }>();

  constructor(
    readonly name: string,
    private readonly help: string,
    private readonly type: 'counter' | 'gauge' | 'histogram',
  ) {}

  protected entry(labels: Labels, fresh: () => T): { labels: Labels; value: T } {
    const key = JSON.stringify(labels);
    let entry = this.series.get(key);
    if (!entry) {
      entry = { labels, value: fresh() };
      this.series.set(key, entry);
    }
    return entry;
  }

  render(lines: string[]): void {
    lines.push(`# HELP ${this.name} ${this.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`, `# TYPE ${this.name} ${this.type}`);
    for (const { labels, value } of this.series.values()) this.renderOne(lines, labels, value);
  }

  protected abstract renderOne(lines: string[], labels: Labels, value: T): void;
}

export class Counter extends Labelled<number> {
  constructor(name: string, help: string) {
    super(name, help, 'counter');
  }
  inc(labels: Labels = {}, by = 1): void {
    this.entry(labels, () => 0).value += by;
  }
  protected renderOne(lines: string[], labels: Labels, value: number): void {
    lines.push(`${this.name}${labelText(labels)} ${numberText(value)}`);
  }
}

export class Gauge extends Labelled<number> {
  constructor(name: string, help: string) {
    super(name, help, 'gauge');
  }
  set(value: number, labels: Labels = {}): void {
    this.entry(labels, () => 0).value = value;
  }
  add(by: number, labels: Labels = {}): void {
    this.entry(labels, () => 0).value += by;
  }
  protected renderOne(lines: string[], labels: Labels, value: number): void {
    lines.push(`${this.name}${labelText(labels)} ${numberText(value)}`);
  }
}

export class Histogram extends Labelled<{ counts: number[]; sum: number; count: number }> {
  constructor(
    name: string,
    help: string,
    private readonly bounds: readonly number[],
  ) {
    super(name, help, 'histogram');
  }
  observe(value: number, labels: Labels = {}): void {
    const h = this.entry(labels, () => ({ counts: this.bounds.map(() => 0), sum: 0, count: 0 })).value;
    for (let i = 0; i < this.bounds.length; i++) if (value <= this.bounds[i]!) h.counts[i]!++;
    h.sum += value;
    h.count++;
  }
  protected renderOne(lines: string[], labels: Labels, h: { counts: number[]; sum: number; count: number }): void {
    // Each bucket counts the observations at or below its bound (cumulative), as the format defines.
    this.bounds.forEach((bound, i) => lines.push(`${this.name}_bucket${labelText({ ...labels, le: numberText(bound) })} ${h.counts[i]}`));
    lines.push(`${this.name}_bucket${labelText({ ...labels, le: '+Inf' })} ${h.count}`);
    lines.push(`${this.name}_sum${labelText(labels)} ${numberText(h.sum)}`, `${this.name}_count${labelText(labels)} ${h.count}`);
  }
}

/** Families in the order they were made; `collect` hooks fill gauges and counters read from elsewhere just before a scrape. */
export class Registry {
  private readonly families: Family[] = [];
  private readonly collectors: (() => Promise<void> | void)[] = [];

  counter(name: string, help: string): Counter {
    return this.add(new Counter(name, help));
  }
  gauge(name: string, help: string): Gauge {
    return this.add(new Gauge(name, help));
  }
  histogram(name: string, help: string, bounds: readonly number[]): Histogram {
    return this.add(new Histogram(name, help, bounds));
  }
  /** A family built fresh on every scrape (the ledger's totals): made by `build` each time. */
  dynamic(build: () => Promise<Family[]>): void {
    let latest: Family[] = [];
    this.collectors.push(async () => {
      latest = await build();
    });
    this.families.push({ render: (lines) => latest.forEach((f) => f.render(lines)) });
  }
  onCollect(hook: () => Promise<void> | void): void {
    this.collectors.push(hook);
  }

  private add<T extends Family>(family: T): T {
    this.families.push(family);
    return family;
  }

  async render(): Promise<string> {
    for (const collect of this.collectors) await collect();
    const lines: string[] = [];
    for (const family of this.families) family.render(lines);
    return `${lines.join('\n')}\n`;
  }
}
