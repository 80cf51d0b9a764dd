import { assertEquals } from "../../_util/assert.ts";
import type { HistoryJson, HistorySample } from "../../../src/admin/page/api.ts";
import { SampleSeries } from "../../../src/admin/page/series.ts";

const T0 = 1_700_000_000_000;

function sample(i: number, streams: HistorySample["streams"] = {}): HistorySample {
  return { t: T0 + i * 1000, inBps: i * 10, outBps: i * 20, viewers: i, streams };
}

function history(n: number): HistoryJson {
  const t = Array.from({ length: n }, (_, i) => T0 + i * 1000);
  return {
    intervalMs: 1000,
    server: {
      t,
      inBps: t.map((_, i) => i * 10),
      outBps: t.map((_, i) => i * 20),
      viewers: t.map((_, i) => i),
    },
    streams: {
      "live/a": { t: t.slice(1), inBps: [1, 1], viewers: [2, 2], lagP99Ms: [30, 40] },
    },
  };
}

Deno.test("SampleSeries.bitrate() and viewers() give uPlot columns with x in seconds", () => {
  const s = new SampleSeries();
  s.push(sample(0));
  s.push(sample(1));
  assertEquals(s.bitrate(), [[T0 / 1000, T0 / 1000 + 1], [0, 10], [0, 20]]);
  assertEquals(s.viewers(), [[T0 / 1000, T0 / 1000 + 1], [0, 1]]);
});

Deno.test("SampleSeries.push() keeps the newest `capacity` samples", () => {
  const s = new SampleSeries(3);
  for (let i = 0; i < 5; i++) s.push(sample(i));
  assertEquals(s.length, 3);
  assertEquals(s.viewers()[1], [2, 3, 4]);
});

Deno.test("SampleSeries.push() takes each second once", () => {
  const s = new SampleSeries();
  assertEquals(s.push(sample(1)), true);
  assertEquals(s.push({ ...sample(1), t: T0 + 1000 + 300 }), false, "the same 1 s bucket");
  assertEquals(s.length, 1);
});

Deno.test("SampleSeries.load() merges the history with samples the feed already brought, in time order", () => {
  const s = new SampleSeries();
  s.push(sample(2));
  s.push(sample(3));
  s.load(history(3));
  assertEquals(s.viewers(), [[0, 1, 2, 3].map((i) => T0 / 1000 + i), [0, 1, 2, 3]]);
});

Deno.test("SampleSeries.lag() aligns each stream on the server's seconds, null where it has none", () => {
  const s = new SampleSeries();
  s.load(history(3));
  s.push(sample(3, { "live/b": { inBps: 0, viewers: 1, lagP99Ms: 99 } }));
  const { keys, columns } = s.lag();
  assertEquals(keys, ["live/a", "live/b"]);
  assertEquals(columns[1], [null, 30, 40, null]);
  assertEquals(columns[2], [null, null, null, 99]);
});

Deno.test("SampleSeries.lagKeys() draws the `maxStreams` streams seen most recently, in key order", () => {
  const s = new SampleSeries(10, 2);
  const lag = { inBps: 0, viewers: 0, lagP99Ms: 1 };
  s.push(sample(0, { "live/old": lag, "live/z": lag }));
  s.push(sample(1, { "live/z": lag, "live/a": lag }));
  assertEquals(s.lagKeys(), ["live/a", "live/z"]);
});

Deno.test("SampleSeries.load() skips a history with no server ring times", () => {
  const s = new SampleSeries();
  s.load({ intervalMs: 1000, server: { t: [], inBps: [], outBps: [], viewers: [] }, streams: {} });
  assertEquals(s.length, 0);
  assertEquals(s.lag(), { keys: [], columns: [[]] });
});
