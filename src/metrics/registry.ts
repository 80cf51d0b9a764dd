/**
 * Metrics registry: counters, gauges and histograms, rendered in the
 * Prometheus text exposition format 0.0.4
 * (https://prometheus.io/docs/instrumenting/exposition_formats/). No HTTP
 * here: the admin edge serves `render()`'s text.
 *
 * Policy:
 * - a metric declares its label names when it is registered; every call
 *   names exactly those labels (a missing or unknown label is a TypeError),
 *   so a typo cannot start a new series;
 * - series are bounded per metric (`maxSeries`, default
 *   MAX_SERIES_PER_METRIC): past the bound a new series is dropped, and each
 *   refusal is counted in `sluice_metrics_series_dropped_total`, which every
 *   registry renders; metrics are bounded per registry (MAX_METRICS);
 * - `remove(labels)` drops one series, `removeMatching(partial)` every series
 *   with those label values (a stream's series when it ends), `clear()` all
 *   of them (a collector that refills a metric at every scrape); a metric
 *   without labels has its one series from the start, at 0;
 * - a metric with no series renders nothing (no `# HELP` / `# TYPE` either);
 *   metrics render in the order they were registered, series in the order
 *   they were created;
 * - label values escape backslash, double quote and newline; help text
 *   backslash and newline; values are Go-parsable floats (`+Inf`, `-Inf`,
 *   `NaN`); a histogram renders cumulative `_bucket{le="..."}` lines ending
 *   with `le="+Inf"`, then `_sum` and `_count`.
 *
 * @module
 */

/** The metric types of the exposition format's `# TYPE` line. */
export const MetricType = {
  /** Only goes up (or resets to 0 when its source restarts). */
  Counter: "counter",
  /** Goes up and down. */
  Gauge: "gauge",
  /** Observations counted into cumulative buckets, with their sum and count. */
  Histogram: "histogram",
} as const;
export type MetricType = typeof MetricType[keyof typeof MetricType];

/** Default bound on the series of one metric. */
export const MAX_SERIES_PER_METRIC = 10_000;
/** Bound on the metrics of one registry. */
export const MAX_METRICS = 1_000;
/** The registry's own counter of series refused by a full metric. */
export const SERIES_DROPPED_METRIC = "sluice_metrics_series_dropped_total";

/** Label values by label name. */
export type LabelValues<L extends string> = Readonly<Record<L, string>>;

/** What every metric is registered with. */
export interface MetricOptions<L extends string> {
  /** `[a-zA-Z_:][a-zA-Z0-9_:]*`, unique in its registry. */
  name: string;
  /** The `# HELP` text. */
  help: string;
  /** Every label a series names, in render order; default none. */
  labelNames?: readonly L[];
  /** Bound on series; default MAX_SERIES_PER_METRIC. */
  maxSeries?: number;
}

/** A histogram's options: its bucket upper bounds, strictly increasing and finite (`+Inf` is implied). */
export interface HistogramOptions<L extends string> extends MetricOptions<L> {
  buckets: readonly number[];
}

/** A histogram series as data: cumulative bucket counts (one per bound, then `+Inf`), sum and count. */
export interface HistogramValue {
  buckets: number[];
  sum: number;
  count: number;
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
/** The label a histogram's bucket lines carry. */
const BUCKET_LABEL = "le";

/** A label value as the exposition format quotes it: backslash, double quote and newline escaped. */
export function escapeLabelValue(value: string): string {
  return value.replace(/[\\"\n]/g, (c) => c === "\n" ? "\\n" : `\\${c}`);
}

/** Help text as the exposition format writes it: backslash and newline escaped. */
export function escapeHelp(help: string): string {
  return help.replace(/[\\\n]/g, (c) => c === "\n" ? "\\n" : "\\\\");
}

/** A sample value or bucket bound as a Go float: `+Inf`, `-Inf`, `NaN`, else the shortest decimal. */
export function formatValue(v: number): string {
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  return String(v);
}

interface Series<S> {
  /** The label values, in `labelNames` order. */
  values: string[];
  state: S;
}

/** What a metric tells its registry. */
type OnDrop = () => void;

/** The part every metric type shares: labels, the bounded series map, removal and the render loop. */
abstract class Metric<L extends string, S> {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly L[];
  readonly maxSeries: number;
  abstract readonly type: MetricType;
  #series = new Map<string, Series<S>>();
  #onDrop: OnDrop;

  constructor(options: MetricOptions<L>, onDrop: OnDrop, reserved: readonly string[] = []) {
    const { name, help } = options;
    if (typeof name !== "string" || !METRIC_NAME.test(name)) {
      throw new TypeError(`Cannot register metric "${name}": the name is not [a-zA-Z_:][a-zA-Z0-9_:]*`);
    }
    if (typeof help !== "string") {
      throw new TypeError(`Cannot register metric ${name}: help is ${typeof help}`);
    }
    const labelNames = [...(options.labelNames ?? [])];
    const seen = new Set<string>();
    for (const l of labelNames) {
      if (typeof l !== "string" || !LABEL_NAME.test(l) || l.startsWith("__") || reserved.includes(l)) {
        throw new TypeError(`Cannot register metric ${name}: "${l}" is not a label name it may use`);
      }
      if (seen.has(l)) throw new TypeError(`Cannot register metric ${name}: label "${l}" named twice`);
      seen.add(l);
    }
    const maxSeries = options.maxSeries ?? MAX_SERIES_PER_METRIC;
    if (!Number.isInteger(maxSeries) || maxSeries < 1) {
      throw new RangeError(`Cannot register metric ${name}: maxSeries is ${maxSeries}, expected 1 or more`);
    }
    this.name = name;
    this.help = help;
    this.labelNames = labelNames;
    this.maxSeries = maxSeries;
    this.#onDrop = onDrop;
  }

  /** Series now. */
  get size(): number {
    return this.#series.size;
  }

  /** Drops the series with exactly these labels; false when there was none. */
  remove(labels: LabelValues<L>): boolean {
    const values = this.#values(labels, "remove a series of");
    return this.#series.delete(JSON.stringify(values));
  }

  /** Drops every series whose labels include all of `partial`; returns how many. */
  removeMatching(partial: Partial<LabelValues<L>>): number {
    const wanted: [number, string][] = [];
    for (const [k, v] of Object.entries(partial)) {
      const i = this.labelNames.indexOf(k as L);
      if (i < 0) throw new TypeError(`Cannot remove series of ${this.name}: it has no label "${k}"`);
      if (v !== undefined) wanted.push([i, String(v)]);
    }
    let n = 0;
    for (const [key, s] of this.#series) {
      if (wanted.every(([i, v]) => s.values[i] === v)) {
        this.#series.delete(key);
        n++;
      }
    }
    if (this.labelNames.length === 0 && n > 0) this.#create([]);
    return n;
  }

  /** Drops every series (a metric without labels goes back to its one series at 0). */
  clear(): void {
    this.#series.clear();
    if (this.labelNames.length === 0) this.#create([]);
  }

  /** The metric's lines in the exposition format (none when it has no series). */
  render(): string[] {
    if (this.#series.size === 0) return [];
    const lines = [`# HELP ${this.name} ${escapeHelp(this.help)}`, `# TYPE ${this.name} ${this.type}`];
    for (const s of this.#series.values()) this.renderSeries(s.values, s.state, lines);
    return lines;
  }

  /** A new series' state. */
  protected abstract initial(): S;

  /** Appends one series' sample lines. */
  protected abstract renderSeries(values: readonly string[], state: S, lines: string[]): void;

  /** The series of `labels`, made if new; undefined when the metric is full (the drop is counted). */
  protected series(labels: LabelValues<L>, what: string): S | undefined {
    const values = this.#values(labels, what);
    const found = this.#series.get(JSON.stringify(values));
    if (found) return found.state;
    if (this.#series.size >= this.maxSeries) {
      this.#onDrop();
      return undefined;
    }
    return this.#create(values);
  }

  /** The existing series of `labels`, if any. */
  protected existing(labels: LabelValues<L>): S | undefined {
    return this.#series.get(JSON.stringify(this.#values(labels, "read")))?.state;
  }

  /** `{a="x",b="y"}` for these values, with `extra` (a histogram's `le`) last; "" when there are none. */
  protected labelText(values: readonly string[], extra?: [string, string]): string {
    const parts = values.map((v, i) => `${this.labelNames[i]}="${escapeLabelValue(v)}"`);
    if (extra) parts.push(`${extra[0]}="${escapeLabelValue(extra[1])}"`);
    return parts.length === 0 ? "" : `{${parts.join(",")}}`;
  }

  /** Creates the first series of a metric without labels; subclasses call this once constructed. */
  protected init(): void {
    if (this.labelNames.length === 0) this.#create([]);
  }

  #create(values: string[]): S {
    const state = this.initial();
    this.#series.set(JSON.stringify(values), { values, state });
    return state;
  }

  /** The label values in `labelNames` order; TypeError unless `labels` names exactly those labels, as strings. */
  #values(labels: LabelValues<L>, what: string): string[] {
    if (typeof labels !== "object" || labels === null) {
      throw new TypeError(
        `Cannot ${what} ${this.name}: labels is ${labels === null ? "null" : typeof labels}`,
      );
    }
    const values: string[] = [];
    for (const l of this.labelNames) {
      const v = (labels as Record<string, unknown>)[l];
      if (typeof v !== "string") {
        throw new TypeError(`Cannot ${what} ${this.name}: label "${l}" is ${typeof v}, expected a string`);
      }
      values.push(v);
    }
    const given = Object.keys(labels).length;
    if (given !== values.length) {
      const extra = Object.keys(labels).filter((k) => !this.labelNames.includes(k as L));
      throw new TypeError(`Cannot ${what} ${this.name}: it has no label "${extra[0]}"`);
    }
    return values;
  }
}

/** A single number per series. */
abstract class ScalarMetric<L extends string> extends Metric<L, { value: number }> {
  /** The series' value; undefined when there is no such series. */
  get(labels: LabelValues<L>): number | undefined {
    return this.existing(labels)?.value;
  }

  protected initial(): { value: number } {
    return { value: 0 };
  }

  protected renderSeries(values: readonly string[], state: { value: number }, lines: string[]): void {
    lines.push(`${this.name}${this.labelText(values)} ${formatValue(state.value)}`);
  }
}

/** A count that only goes up. */
export class Counter<L extends string = never> extends ScalarMetric<L> {
  readonly type = MetricType.Counter;

  /** Made by MetricsRegistry.counter(). */
  constructor(options: MetricOptions<L>, onDrop: OnDrop) {
    super(options, onDrop);
    this.init();
  }

  /** Adds `by` (finite, 0 or more) to the series. */
  inc(labels: LabelValues<L>, by = 1): void {
    if (!Number.isFinite(by) || by < 0) {
      throw new RangeError(`Cannot add ${by} to counter ${this.name}: a counter only goes up`);
    }
    const s = this.series(labels, "increment");
    if (s) s.value += by;
  }

  /**
   * Sets the series to a count kept elsewhere (a collector mirroring, at scrape time, a count that only
   * goes up, such as the bytes a stream received). Finite, 0 or more.
   */
  set(labels: LabelValues<L>, value: number): void {
    if (!Number.isFinite(value) || value < 0) {
      throw new RangeError(`Cannot set counter ${this.name} to ${value}: expected a finite count`);
    }
    const s = this.series(labels, "set");
    if (s) s.value = value;
  }
}

/** A value that goes up and down. */
export class Gauge<L extends string = never> extends ScalarMetric<L> {
  readonly type = MetricType.Gauge;

  /** Made by MetricsRegistry.gauge(). */
  constructor(options: MetricOptions<L>, onDrop: OnDrop) {
    super(options, onDrop);
    this.init();
  }

  /** Sets the series' value (any number, NaN and infinities included). */
  set(labels: LabelValues<L>, value: number): void {
    if (typeof value !== "number") {
      throw new TypeError(`Cannot set gauge ${this.name}: value is ${typeof value}, expected a number`);
    }
    const s = this.series(labels, "set");
    if (s) s.value = value;
  }

  /** Adds `by` (negative to subtract). */
  inc(labels: LabelValues<L>, by = 1): void {
    const s = this.series(labels, "increment");
    if (s) s.value += by;
  }

  /** Subtracts `by`. */
  dec(labels: LabelValues<L>, by = 1): void {
    this.inc(labels, -by);
  }
}

interface HistogramState {
  /** Observations per bucket, not cumulative; the last is the `+Inf` bucket. */
  counts: Float64Array;
  sum: number;
  count: number;
}

/** Observations counted into buckets. */
export class Histogram<L extends string = never> extends Metric<L, HistogramState> {
  readonly type = MetricType.Histogram;
  /** The bucket upper bounds, without `+Inf`. */
  readonly buckets: readonly number[];
  #le: string[];

  /** Made by MetricsRegistry.histogram(). */
  constructor(options: HistogramOptions<L>, onDrop: OnDrop) {
    super(options, onDrop, [BUCKET_LABEL]);
    const buckets = [...(options.buckets ?? [])];
    for (let i = 0; i < buckets.length; i++) {
      if (!Number.isFinite(buckets[i]) || (i > 0 && buckets[i] <= buckets[i - 1])) {
        throw new RangeError(
          `Cannot register histogram ${options.name}: buckets [${
            buckets.join(", ")
          }] are not finite and increasing`,
        );
      }
    }
    this.buckets = buckets;
    this.#le = [...buckets.map(formatValue), "+Inf"];
    this.init();
  }

  /** Counts one observation (NaN is a RangeError). */
  observe(labels: LabelValues<L>, value: number): void {
    if (typeof value !== "number" || Number.isNaN(value)) {
      throw new RangeError(`Cannot observe ${value} in histogram ${this.name}: expected a number`);
    }
    const s = this.series(labels, "observe");
    if (!s) return;
    let i = 0;
    while (i < this.buckets.length && value > this.buckets[i]) i++;
    s.counts[i]++;
    s.sum += value;
    s.count++;
  }

  /** The series as data (cumulative buckets); undefined when there is no such series. */
  get(labels: LabelValues<L>): HistogramValue | undefined {
    const s = this.existing(labels);
    if (!s) return undefined;
    const buckets: number[] = [];
    let running = 0;
    for (const c of s.counts) buckets.push(running += c);
    return { buckets, sum: s.sum, count: s.count };
  }

  protected initial(): HistogramState {
    return { counts: new Float64Array(this.buckets.length + 1), sum: 0, count: 0 };
  }

  protected renderSeries(values: readonly string[], state: HistogramState, lines: string[]): void {
    let running = 0;
    for (let i = 0; i < state.counts.length; i++) {
      running += state.counts[i];
      lines.push(`${this.name}_bucket${this.labelText(values, [BUCKET_LABEL, this.#le[i]])} ${running}`);
    }
    const labels = this.labelText(values);
    lines.push(`${this.name}_sum${labels} ${formatValue(state.sum)}`);
    lines.push(`${this.name}_count${labels} ${state.count}`);
  }
}

/** Any registered metric. */
// deno-lint-ignore no-explicit-any
type AnyMetric = Metric<any, unknown>;

/** The metrics of one exposition, in registration order. */
export class MetricsRegistry {
  #metrics = new Map<string, AnyMetric>();
  #dropped: Counter;

  constructor() {
    this.#dropped = new Counter({
      name: SERIES_DROPPED_METRIC,
      help: "New series refused because their metric already had its bound of series.",
    }, () => {});
  }

  /** Metrics registered (the registry's own counter aside). */
  get size(): number {
    return this.#metrics.size;
  }

  /** Registers a counter. */
  counter<L extends string = never>(options: MetricOptions<L>): Counter<L> {
    return this.#add(new Counter<L>(options, this.#onDrop));
  }

  /** Registers a gauge. */
  gauge<L extends string = never>(options: MetricOptions<L>): Gauge<L> {
    return this.#add(new Gauge<L>(options, this.#onDrop));
  }

  /** Registers a histogram. */
  histogram<L extends string = never>(options: HistogramOptions<L>): Histogram<L> {
    return this.#add(new Histogram<L>(options, this.#onDrop));
  }

  /** Every metric in the text exposition format 0.0.4, then the series-dropped counter; ends with a newline. */
  render(): string {
    const lines: string[] = [];
    for (const m of this.#metrics.values()) for (const line of m.render()) lines.push(line);
    for (const line of this.#dropped.render()) lines.push(line);
    return lines.join("\n") + "\n";
  }

  #onDrop = (): void => {
    this.#dropped.inc({});
  };

  #add<M extends AnyMetric>(metric: M): M {
    if (this.#metrics.has(metric.name) || metric.name === SERIES_DROPPED_METRIC) {
      throw new TypeError(`Cannot register metric ${metric.name}: the name is taken`);
    }
    if (this.#metrics.size >= MAX_METRICS) {
      throw new RangeError(
        `Cannot register metric ${metric.name}: ${this.#metrics.size} metrics already (limit ${MAX_METRICS})`,
      );
    }
    this.#metrics.set(metric.name, metric);
    return metric;
  }
}
