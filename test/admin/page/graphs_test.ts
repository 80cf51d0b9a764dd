import { assert, assertEquals } from "../../_util/assert.ts";
import {
  type Chart,
  type ChartFactory,
  ChartKind,
  type ChartOptions,
  chartOptions,
  Charts,
  PALETTE,
} from "../../../src/admin/page/graphs.ts";
import type { Columns } from "../../../src/admin/page/series.ts";
import { SampleSeries } from "../../../src/admin/page/series.ts";

const THEME = { fg: "#111", grid: "#ccc" };
const T0 = 1_700_000_000_000;

/** A chart that records its calls, and a factory that keeps every chart it made. */
class FakeChart implements Chart {
  data: Columns[] = [];
  sizes: number[] = [];
  destroyed = false;
  constructor(readonly options: ChartOptions, data: Columns, readonly target: unknown) {
    this.data.push(data);
  }
  setData(data: Columns): void {
    this.data.push(data);
  }
  setSize(size: { width: number; height: number }): void {
    this.sizes.push(size.width);
  }
  destroy(): void {
    this.destroyed = true;
  }
}

function setup(): { charts: Charts; made: FakeChart[] } {
  const made: FakeChart[] = [];
  const factory: ChartFactory = (o, d, t) => {
    const c = new FakeChart(o, d, t);
    made.push(c);
    return c;
  };
  const targets = { [ChartKind.Bitrate]: "#b", [ChartKind.Viewers]: "#v", [ChartKind.Lag]: "#l" };
  return { charts: new Charts(factory, targets, THEME, 600), made };
}

function series(streams: string[][]): SampleSeries {
  const s = new SampleSeries();
  streams.forEach((keys, i) => {
    const per = Object.fromEntries(keys.map((k) => [k, { inBps: 1, viewers: 1, lagP99Ms: 10 * i }]));
    s.push({ t: T0 + i * 1000, inBps: 1, outBps: 2, viewers: 3, streams: per });
  });
  return s;
}

Deno.test("chartOptions() gives the bitrate chart In and Out lines on a time axis", () => {
  const o = chartOptions(ChartKind.Bitrate, 500, THEME);
  assertEquals([o.width, o.scales.x.time], [500, true]);
  assertEquals(o.series.map((s) => s.label), [undefined, "In", "Out"]);
  assertEquals(o.series[1].value!(null, 2_500_000), "2.50 Mbit/s");
  assertEquals(o.series[1].value!(null, null), "—");
  assertEquals(o.axes[1].values!(null, [0, 1_000_000]), ["0", "1M"]);
  assertEquals(o.axes[0].stroke, THEME.fg);
});

Deno.test("chartOptions() gives the lag chart a line per stream in palette order", () => {
  const o = chartOptions(ChartKind.Lag, 500, THEME, ["live/a", "live/b"]);
  assertEquals(o.series.slice(1).map((s) => [s.label, s.stroke]), [["live/a", PALETTE[0]], [
    "live/b",
    PALETTE[1],
  ]]);
  assertEquals(o.series[1].value!(null, 12.4), "12 ms");
});

Deno.test("chartOptions() ranges y from 0, and to 1 when every value is 0", () => {
  const range = chartOptions(ChartKind.Viewers, 500, THEME).scales.y!.range;
  assertEquals(range(null, 0, 0), [0, 1]);
  assertEquals(range(null, 5, 10), [0, 11]);
});

Deno.test("Charts.update() makes the three charts in their targets once, then sets their data", () => {
  const { charts, made } = setup();
  charts.update(series([["live/a"]]));
  assertEquals(made.map((c) => c.target), ["#b", "#v", "#l"]);
  charts.update(series([["live/a"], ["live/a"]]));
  assertEquals(made.length, 3, "no chart made again");
  assertEquals(made[0].data.length, 2);
  assertEquals(made[1].data[1], [[T0 / 1000, T0 / 1000 + 1], [3, 3]]);
});

Deno.test("Charts.update() makes the lag chart again when its streams change", () => {
  const { charts, made } = setup();
  charts.update(series([["live/a"]]));
  charts.update(series([["live/a"], ["live/a", "live/b"]]));
  assertEquals(made.length, 4);
  assert(made[2].destroyed, "the old lag chart is destroyed");
  assertEquals(made[3].options.series.map((s) => s.label), [undefined, "live/a", "live/b"]);
  assertEquals(charts.lagKeys, ["live/a", "live/b"]);
});

Deno.test("Charts.resize() sets every chart's width once per change", () => {
  const { charts, made } = setup();
  charts.update(series([[]]));
  charts.resize(390);
  charts.resize(390);
  assertEquals(made.map((c) => c.sizes), [[390], [390], [390]]);
});

Deno.test("Charts.retheme() destroys the charts and the next update makes them with the new colours", () => {
  const { charts, made } = setup();
  charts.update(series([[]]));
  charts.retheme({ fg: "#eee", grid: "#333" });
  assert(made.every((c) => c.destroyed), "all destroyed");
  charts.update(series([[]]));
  assertEquals(made.length, 6);
  assertEquals(made[5].options.axes[0].stroke, "#eee");
});
