/**
 * The three graphs (server bitrate in and out, viewers, lag p99 per stream)
 * over the samples of a SampleSeries. The chart library (uPlot, given by
 * main.ts) is behind the small ChartFactory this file declares, so the
 * options and the redraw rules are tested with a fake.
 *
 * Redraw rules: each update sets the data of the three charts; the lag chart
 * is made again when the streams it draws change (uPlot's series are fixed at
 * creation), and every chart when the width or the colour scheme does.
 *
 * @module
 */
import { formatBitrate, formatBitrateAxis, formatCount, formatMs } from "./format.ts";
import type { Columns, SampleSeries } from "./series.ts";

/** The graphs, by the id suffix of their container (`#graph-bitrate`, ...). */
export const ChartKind = {
  Bitrate: "bitrate",
  Viewers: "viewers",
  Lag: "lag",
} as const;
export type ChartKind = typeof ChartKind[keyof typeof ChartKind];

/** A chart's height in CSS pixels. */
export const CHART_HEIGHT = 180;

/** Line colours, readable on light and dark backgrounds; lag lines take them in turn. */
export const PALETTE = [
  "#3b82f6",
  "#f59e0b",
  "#10b981",
  "#ef4444",
  "#8b5cf6",
  "#ec4899",
  "#14b8a6",
  "#a3a3a3",
] as const;

/** The text and grid colours of the page's colour scheme. */
export interface ChartTheme {
  fg: string;
  grid: string;
}

/** One line of a chart, as uPlot takes it. */
export interface SeriesOptions {
  label?: string;
  stroke?: string;
  width?: number;
  spanGaps?: boolean;
  value?: (self: unknown, v: number | null) => string;
}

/** An axis, as uPlot takes it. */
export interface AxisOptions {
  stroke: string;
  grid: { stroke: string; width: number };
  ticks: { stroke: string; width: number };
  size?: number;
  values?: (self: unknown, ticks: number[]) => string[];
}

/** The options of a chart (the subset of uPlot.Options used here). */
export interface ChartOptions {
  width: number;
  height: number;
  scales: {
    x: { time: boolean };
    y?: { range: (self: unknown, min: number, max: number) => [number, number] };
  };
  series: SeriesOptions[];
  axes: AxisOptions[];
  legend: { show: boolean };
  cursor: { drag: { x: boolean; y: boolean } };
}

/** A drawn chart. */
export interface Chart {
  setData(data: Columns): void;
  setSize(size: { width: number; height: number }): void;
  destroy(): void;
}

/** Makes a chart in `target` (uPlot: `new uPlot(options, data, target)`). */
export type ChartFactory = (options: ChartOptions, data: Columns, target: unknown) => Chart;

/** A y range from 0 to a little above the maximum (never an empty range). */
function fromZero(_self: unknown, _min: number, max: number): [number, number] {
  return [0, max > 0 ? max * 1.1 : 1];
}

function axis(theme: ChartTheme, values?: (t: number) => string, size?: number): AxisOptions {
  const a: AxisOptions = {
    stroke: theme.fg,
    grid: { stroke: theme.grid, width: 1 },
    ticks: { stroke: theme.grid, width: 1 },
  };
  if (values) a.values = (_self, ticks) => ticks.map(values);
  if (size) a.size = size;
  return a;
}

/** A line's legend value: the formatter, or a dash for a gap. */
function valueOf(format: (v: number) => string): (self: unknown, v: number | null) => string {
  return (_self, v) => v === null || v === undefined ? "—" : format(v);
}

/** The options of one chart; `lagKeys` names the lag chart's lines. */
export function chartOptions(
  kind: ChartKind,
  width: number,
  theme: ChartTheme,
  lagKeys: readonly string[] = [],
): ChartOptions {
  const base = {
    width,
    height: CHART_HEIGHT,
    scales: { x: { time: true }, y: { range: fromZero } },
    legend: { show: true },
    cursor: { drag: { x: false, y: false } },
  };
  const x = axis(theme);
  switch (kind) {
    case ChartKind.Bitrate:
      return {
        ...base,
        series: [
          {},
          { label: "In", stroke: PALETTE[0], width: 2, value: valueOf(formatBitrate) },
          { label: "Out", stroke: PALETTE[1], width: 2, value: valueOf(formatBitrate) },
        ],
        axes: [x, axis(theme, formatBitrateAxis, 56)],
      };
    case ChartKind.Viewers:
      return {
        ...base,
        series: [{}, { label: "Viewers", stroke: PALETTE[2], width: 2, value: valueOf(formatCount) }],
        axes: [x, axis(theme, (v) => formatCount(v), 56)],
      };
    case ChartKind.Lag:
      return {
        ...base,
        series: [
          {},
          ...lagKeys.map((k, i) => ({
            label: k,
            stroke: PALETTE[i % PALETTE.length],
            width: 2,
            spanGaps: false,
            value: valueOf(formatMs),
          })),
        ],
        axes: [x, axis(theme, (v) => `${Math.round(v)} ms`, 64)],
      };
  }
}

/** The three charts of the page. */
export class Charts {
  #factory: ChartFactory;
  #targets: Readonly<Record<ChartKind, unknown>>;
  #theme: ChartTheme;
  #width: number;
  #charts = new Map<ChartKind, Chart>();
  #lagKeys: string[] = [];

  constructor(
    factory: ChartFactory,
    targets: Readonly<Record<ChartKind, unknown>>,
    theme: ChartTheme,
    width: number,
  ) {
    this.#factory = factory;
    this.#targets = targets;
    this.#theme = theme;
    this.#width = width;
  }

  /** The streams the lag chart draws now. */
  get lagKeys(): readonly string[] {
    return this.#lagKeys;
  }

  #make(kind: ChartKind, data: Columns): void {
    this.#charts.get(kind)?.destroy();
    const options = chartOptions(kind, this.#width, this.#theme, this.#lagKeys);
    this.#charts.set(kind, this.#factory(options, data, this.#targets[kind]));
  }

  #set(kind: ChartKind, data: Columns): void {
    const chart = this.#charts.get(kind);
    if (chart) chart.setData(data);
    else this.#make(kind, data);
  }

  /** Draws the series' samples (making the charts on the first call). */
  update(series: SampleSeries): void {
    this.#set(ChartKind.Bitrate, series.bitrate());
    this.#set(ChartKind.Viewers, series.viewers());
    const lag = series.lag();
    const same = lag.keys.length === this.#lagKeys.length && lag.keys.every((k, i) => k === this.#lagKeys[i]);
    if (same) {
      this.#set(ChartKind.Lag, lag.columns);
    } else {
      this.#lagKeys = lag.keys;
      this.#make(ChartKind.Lag, lag.columns);
    }
  }

  /** A new width for every chart. */
  resize(width: number): void {
    if (width === this.#width) return;
    this.#width = width;
    for (const c of this.#charts.values()) c.setSize({ width, height: CHART_HEIGHT });
  }

  /** A new colour scheme: the charts are made again on the next update. */
  retheme(theme: ChartTheme): void {
    this.#theme = theme;
    this.destroy();
  }

  /** Removes every chart. */
  destroy(): void {
    for (const c of this.#charts.values()) c.destroy();
    this.#charts.clear();
  }
}
