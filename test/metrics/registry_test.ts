/**
 * The metrics registry: the exact text of counters, gauges and histograms in
 * the Prometheus text exposition format 0.0.4, escaping, label checks and the
 * bound on series.
 */
import { assertEquals, assertThrows } from "../_util/assert.ts";
import {
  escapeHelp,
  escapeLabelValue,
  formatValue,
  MAX_METRICS,
  MAX_SERIES_PER_METRIC,
  MetricsRegistry,
  SERIES_DROPPED_METRIC,
} from "../../src/metrics/registry.ts";

/** The registry's own counter, as every render ends. */
function dropped(n: number): string {
  return [
    `# HELP ${SERIES_DROPPED_METRIC} New series refused because their metric already had its bound of series.`,
    `# TYPE ${SERIES_DROPPED_METRIC} counter`,
    `${SERIES_DROPPED_METRIC} ${n}`,
    "",
  ].join("\n");
}

Deno.test("MetricsRegistry.render() writes only the series-dropped counter at 0 when nothing is registered", () => {
  assertEquals(new MetricsRegistry().render(), dropped(0));
});

Deno.test("Counter.inc() and Counter.set() render HELP, TYPE and one line per series, in creation order", () => {
  const r = new MetricsRegistry();
  const c = r.counter({ name: "app_bytes_total", help: "Bytes.", labelNames: ["app", "kind"] });
  c.inc({ app: "live", kind: "video" }, 10);
  c.inc({ kind: "audio", app: "live" });
  c.inc({ app: "live", kind: "video" }, 5);
  const plain = r.counter({ name: "app_starts_total", help: "Starts." });
  plain.set({}, 3);
  assertEquals(
    r.render(),
    [
      "# HELP app_bytes_total Bytes.",
      "# TYPE app_bytes_total counter",
      'app_bytes_total{app="live",kind="video"} 15',
      'app_bytes_total{app="live",kind="audio"} 1',
      "# HELP app_starts_total Starts.",
      "# TYPE app_starts_total counter",
      "app_starts_total 3",
      "",
    ].join("\n") + dropped(0),
  );
  assertEquals(c.get({ app: "live", kind: "video" }), 15);
  assertEquals(c.get({ app: "vod", kind: "video" }), undefined);
});

Deno.test("Counter.inc() refuses a negative or non-finite amount and Counter.set() a negative count", () => {
  const c = new MetricsRegistry().counter({ name: "x_total", help: "x" });
  assertThrows(() => c.inc({}, -1), RangeError, "Cannot add -1 to counter x_total: a counter only goes up");
  assertThrows(() => c.inc({}, NaN), RangeError);
  assertThrows(() => c.set({}, -5), RangeError, "Cannot set counter x_total to -5");
  assertEquals(c.get({}), 0);
});

Deno.test("MetricsRegistry.counter() starts a metric without labels at 0, and renders nothing for a labelled one without series", () => {
  const r = new MetricsRegistry();
  r.counter({ name: "a_total", help: "A." });
  r.gauge({ name: "b", help: "B.", labelNames: ["x"] });
  r.histogram({ name: "c_seconds", help: "C.", labelNames: ["x"], buckets: [1] });
  assertEquals(r.render(), "# HELP a_total A.\n# TYPE a_total counter\na_total 0\n" + dropped(0));
});

Deno.test("Gauge.set(), inc() and dec() render the value, with +Inf, -Inf and NaN as Go writes them", () => {
  const r = new MetricsRegistry();
  const g = r.gauge({ name: "queue_depth", help: "Depth.", labelNames: ["q"] });
  g.set({ q: "a" }, 2.5);
  g.inc({ q: "a" }, 2);
  g.dec({ q: "a" });
  g.dec({ q: "b" }, 4);
  g.set({ q: "inf" }, Infinity);
  g.set({ q: "-inf" }, -Infinity);
  g.set({ q: "nan" }, NaN);
  assertEquals(
    r.render(),
    [
      "# HELP queue_depth Depth.",
      "# TYPE queue_depth gauge",
      'queue_depth{q="a"} 3.5',
      'queue_depth{q="b"} -4',
      'queue_depth{q="inf"} +Inf',
      'queue_depth{q="-inf"} -Inf',
      'queue_depth{q="nan"} NaN',
      "",
    ].join("\n") + dropped(0),
  );
});

Deno.test("Histogram.observe() renders cumulative buckets up to +Inf, then _sum and _count", () => {
  const r = new MetricsRegistry();
  const h = r.histogram({
    name: "lag_seconds",
    help: "Lag.",
    labelNames: ["stream"],
    buckets: [0.05, 0.5, 1],
  });
  for (const v of [0.01, 0.05, 0.3, 2, 20]) h.observe({ stream: "cam" }, v);
  h.observe({ stream: "idle" }, 0);
  assertEquals(
    r.render(),
    [
      "# HELP lag_seconds Lag.",
      "# TYPE lag_seconds histogram",
      'lag_seconds_bucket{stream="cam",le="0.05"} 2',
      'lag_seconds_bucket{stream="cam",le="0.5"} 3',
      'lag_seconds_bucket{stream="cam",le="1"} 3',
      'lag_seconds_bucket{stream="cam",le="+Inf"} 5',
      'lag_seconds_sum{stream="cam"} 22.36',
      'lag_seconds_count{stream="cam"} 5',
      'lag_seconds_bucket{stream="idle",le="0.05"} 1',
      'lag_seconds_bucket{stream="idle",le="0.5"} 1',
      'lag_seconds_bucket{stream="idle",le="1"} 1',
      'lag_seconds_bucket{stream="idle",le="+Inf"} 1',
      'lag_seconds_sum{stream="idle"} 0',
      'lag_seconds_count{stream="idle"} 1',
      "",
    ].join("\n") + dropped(0),
  );
  assertEquals(h.get({ stream: "cam" }), { buckets: [2, 3, 3, 5], sum: 22.36, count: 5 });
});

Deno.test("Histogram without labels renders its zero series from the start", () => {
  const r = new MetricsRegistry();
  r.histogram({ name: "d_seconds", help: "D.", buckets: [1, 2] });
  assertEquals(
    r.render(),
    [
      "# HELP d_seconds D.",
      "# TYPE d_seconds histogram",
      'd_seconds_bucket{le="1"} 0',
      'd_seconds_bucket{le="2"} 0',
      'd_seconds_bucket{le="+Inf"} 0',
      "d_seconds_sum 0",
      "d_seconds_count 0",
      "",
    ].join("\n") + dropped(0),
  );
});

Deno.test("MetricsRegistry.histogram() refuses buckets that are not finite and increasing, and an le label", () => {
  const r = new MetricsRegistry();
  assertThrows(
    () => r.histogram({ name: "a", help: "", buckets: [1, 1] }),
    RangeError,
    "not finite and increasing",
  );
  assertThrows(() => r.histogram({ name: "b", help: "", buckets: [2, 1] }), RangeError);
  assertThrows(() => r.histogram({ name: "c", help: "", buckets: [1, Infinity] }), RangeError);
  assertThrows(
    () => r.histogram({ name: "d", help: "", labelNames: ["le"], buckets: [1] }),
    TypeError,
    '"le" is not a label name it may use',
  );
  assertThrows(() => r.histogram({ name: "e", help: "", buckets: [1] }).observe({}, NaN), RangeError);
});

Deno.test("MetricsRegistry.render() escapes backslash, double quote and newline in label values, backslash and newline in help", () => {
  const r = new MetricsRegistry();
  const g = r.gauge({ name: "g", help: 'Line one\nsays C:\\dir "quoted"', labelNames: ["path"] });
  g.set({ path: 'C:\\live\\"cam"\nnext' }, 1);
  assertEquals(
    r.render(),
    [
      '# HELP g Line one\\nsays C:\\\\dir "quoted"',
      "# TYPE g gauge",
      'g{path="C:\\\\live\\\\\\"cam\\"\\nnext"} 1',
      "",
    ].join("\n") + dropped(0),
  );
  assertEquals(escapeLabelValue('a\\b"c\nd'), 'a\\\\b\\"c\\nd');
  assertEquals(escapeHelp('a\\b"c\nd'), 'a\\\\b"c\\nd');
});

Deno.test("formatValue() writes infinities and NaN as the exposition format spells them, other numbers as JavaScript does", () => {
  assertEquals(
    [Infinity, -Infinity, NaN, 0, -3, 0.25, 1e21, 1e-7].map(formatValue),
    ["+Inf", "-Inf", "NaN", "0", "-3", "0.25", "1e+21", "1e-7"],
  );
});

Deno.test("Counter.inc() drops a new series past maxSeries and counts it in sluice_metrics_series_dropped_total", () => {
  const r = new MetricsRegistry();
  const c = r.counter({ name: "s_total", help: "S.", labelNames: ["k"], maxSeries: 2 });
  c.inc({ k: "a" });
  c.inc({ k: "b" });
  c.inc({ k: "c" }); // refused
  c.inc({ k: "d" }, 7); // refused
  c.inc({ k: "a" }, 2); // an existing series still counts
  assertEquals(c.size, 2);
  assertEquals(c.get({ k: "c" }), undefined);
  assertEquals(
    r.render(),
    ["# HELP s_total S.", "# TYPE s_total counter", 's_total{k="a"} 3', 's_total{k="b"} 1', ""].join("\n") +
      dropped(2),
  );
  c.remove({ k: "b" }); // room again
  c.inc({ k: "c" });
  assertEquals(c.get({ k: "c" }), 1);
});

Deno.test("MetricsRegistry.counter() bounds series at MAX_SERIES_PER_METRIC by default", () => {
  const r = new MetricsRegistry();
  const g = r.gauge({ name: "many", help: "Many.", labelNames: ["i"] });
  assertEquals(g.maxSeries, MAX_SERIES_PER_METRIC);
  for (let i = 0; i < MAX_SERIES_PER_METRIC + 5; i++) g.set({ i: String(i) }, i);
  assertEquals(g.size, MAX_SERIES_PER_METRIC);
  assertEquals(r.render().endsWith(`${SERIES_DROPPED_METRIC} 5\n`), true);
});

Deno.test("MetricsRegistry.gauge() refuses more than MAX_METRICS metrics", () => {
  const r = new MetricsRegistry();
  for (let i = 0; i < MAX_METRICS; i++) r.gauge({ name: `m${i}`, help: "" });
  assertThrows(() => r.gauge({ name: "one_more", help: "" }), RangeError, `(limit ${MAX_METRICS})`);
});

Deno.test("Gauge.remove() drops one series, removeMatching() every series with the given labels, clear() all", () => {
  const r = new MetricsRegistry();
  const g = r.gauge({ name: "v", help: "V.", labelNames: ["app", "stream", "protocol"] });
  for (
    const [app, stream, protocol] of [["live", "a", "rtmp"], ["live", "a", "ws-flv"], ["live", "b", "rtmp"]]
  ) {
    g.set({ app, stream, protocol }, 1);
  }
  assertEquals(g.remove({ app: "live", stream: "b", protocol: "rtmp" }), true);
  assertEquals(g.remove({ app: "live", stream: "b", protocol: "rtmp" }), false);
  g.set({ app: "live", stream: "b", protocol: "rtmp" }, 1);
  assertEquals(g.removeMatching({ app: "live", stream: "a" }), 2);
  assertEquals(g.size, 1);
  assertEquals(g.get({ app: "live", stream: "b", protocol: "rtmp" }), 1);
  g.clear();
  assertEquals(g.size, 0);
  const plain = r.gauge({ name: "w", help: "W." });
  plain.set({}, 9);
  plain.clear();
  assertEquals(plain.get({}), 0, "a metric without labels goes back to 0");
});

Deno.test("Counter.inc() refuses a missing, unknown or non-string label", () => {
  const c = new MetricsRegistry().counter({ name: "l_total", help: "", labelNames: ["app", "stream"] });
  const any = c as unknown as { inc(labels: unknown, by?: number): void };
  assertThrows(
    () => any.inc({ app: "live" }),
    TypeError,
    'Cannot increment l_total: label "stream" is undefined',
  );
  assertThrows(() => any.inc({ app: "live", stream: "a", extra: "x" }), TypeError, 'it has no label "extra"');
  assertThrows(() => any.inc({ app: "live", stream: 1 }), TypeError, 'label "stream" is number');
  assertThrows(() => any.inc(null), TypeError, "labels is null");
  assertThrows(() => c.removeMatching({ nope: "x" } as never), TypeError, 'it has no label "nope"');
  assertEquals(c.size, 0);
});

Deno.test("MetricsRegistry.counter() refuses a bad metric name, a bad or repeated label name and a taken name", () => {
  const r = new MetricsRegistry();
  assertThrows(() => r.counter({ name: "1abc", help: "" }), TypeError, 'Cannot register metric "1abc"');
  assertThrows(() => r.counter({ name: "a-b", help: "" }), TypeError);
  assertThrows(() => r.counter({ name: "x", help: "", labelNames: ["a-b"] }), TypeError);
  assertThrows(() => r.counter({ name: "x", help: "", labelNames: ["__name"] }), TypeError);
  assertThrows(() => r.counter({ name: "x", help: "", labelNames: ["a", "a"] }), TypeError, "named twice");
  assertThrows(() => r.counter({ name: "x", help: "", maxSeries: 0 }), RangeError, "maxSeries is 0");
  r.counter({ name: "ok_total", help: "" });
  assertThrows(() => r.gauge({ name: "ok_total", help: "" }), TypeError, "the name is taken");
  assertThrows(() => r.counter({ name: SERIES_DROPPED_METRIC, help: "" }), TypeError, "the name is taken");
  assertEquals(r.size, 1);
});
