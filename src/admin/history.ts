/**
 * History: the admin dashboard's once-a-second sampler. Each tick reads
 * everything the dashboard shows once (the hub's totals, every stream's
 * snapshot, every session's snapshot, the process's CPU time) and keeps the
 * figures the charts draw in bounded rings:
 *
 * - the server: bits per second in and out (from the deltas of the totals'
 *   byte counts over the time since the previous tick) and the viewers (the
 *   streams' live players, observers not counted);
 * - each stream: bits per second in (from the delta of its `bytesIn`), its
 *   viewers, and the 99th percentile of its players' lag (`lagMs`).
 *
 * Bounds: every ring holds `samples` values (default 300: five minutes); at
 * most `maxStreams` streams (default 64) are kept. A stream gone from the hub
 * keeps its rings until its newest sample leaves the window (or its place is
 * needed by a new stream: the one seen longest ago goes first); while every
 * kept stream is still live, a new one is not sampled. Tick listeners
 * (`onTick()`, the SSE feed) are bounded by `MAX_TICK_LISTENERS` and get the
 * tick's data as it was read, so one read per second serves every consumer.
 *
 * @module
 */
import process from "node:process";
import { Emitter } from "../hub/events.ts";
import type { SessionSnapshot } from "../hub/registry.ts";
import type { StreamSnapshot } from "../hub/stream.ts";
import type { HubTotals } from "../hub/stream_hub.ts";
import { log as rootLog, type Logger } from "../log.ts";

/** Default time between samples, ms. */
export const HISTORY_INTERVAL_MS = 1_000;
/** Default values per ring (five minutes at one a second). */
export const HISTORY_SAMPLES = 300;
/** Default bound on the streams whose history is kept. */
export const HISTORY_MAX_STREAMS = 64;
/** Bound on tick listeners (one per consumer, not per client: the SSE feed takes one). */
export const MAX_TICK_LISTENERS = 8;
/** The percentile of a stream's players' lag that its history keeps. */
const LAG_PERCENTILE = 0.99;

/** What History reads from the hub (STYLE 10: StreamHub satisfies it). */
export interface HistoryHub {
  totals(): HubTotals;
  streams(): readonly { snapshot(): StreamSnapshot }[];
  readonly sessions: { list(): SessionSnapshot[]; playerLags(): Map<string, number[]> };
}

/** The process's CPU time: totals since it started, and the share of one core since the previous tick. */
export interface CpuSample {
  userMs: number;
  systemMs: number;
  /** (user + system) CPU time over wall time since the previous tick, in percent of one core. */
  percent: number;
}

/** One stream's figures in a sample. */
export interface StreamSample {
  inBps: number;
  viewers: number;
  lagP99Ms: number;
}

/** One sample: what the charts add each tick. */
export interface HistorySample {
  /** Milliseconds since the epoch. */
  t: number;
  /** Bits per second read from every peer since the previous sample. */
  inBps: number;
  /** Bits per second written to every peer since the previous sample. */
  outBps: number;
  /** Live players of every stream (observers not counted). */
  viewers: number;
  /** The sampled streams by key. */
  streams: Record<string, StreamSample>;
}

/** Everything one tick read, handed to tick listeners (plain data, shared: listeners do not mutate it). */
export interface HistoryTick {
  sample: HistorySample;
  cpu: CpuSample;
  totals: HubTotals;
  streams: StreamSnapshot[];
  /** The live sessions' snapshots, read on the first call (only a listener that shows them asks). */
  clients(): SessionSnapshot[];
}

/** One stream's rings in `toJSON()`, oldest first. */
export interface StreamHistoryJson {
  t: number[];
  inBps: number[];
  viewers: number[];
  lagP99Ms: number[];
}

/** `GET /api/v1/history`: every ring, oldest first. */
export interface HistoryJson {
  intervalMs: number;
  server: { t: number[]; inBps: number[]; outBps: number[]; viewers: number[] };
  streams: Record<string, StreamHistoryJson>;
}

/** Options for History. */
export interface HistoryOptions {
  /** Time between samples, ms. Default HISTORY_INTERVAL_MS. */
  intervalMs?: number;
  /** Values per ring. Default HISTORY_SAMPLES. */
  samples?: number;
  /** Streams kept. Default HISTORY_MAX_STREAMS. */
  maxStreams?: number;
  /** Milliseconds since the epoch; default Date.now (tests pass a fake). */
  clock?: () => number;
  /** The process's CPU time in microseconds; default node:process cpuUsage (tests pass a fake). */
  cpuUsage?: () => { user: number; system: number };
  /** Where a tick listener's exception is reported (rate-limited). Default the root logger. */
  log?: Logger;
}

/** A fixed-size ring of numbers. */
class Ring {
  #values: Float64Array;
  #next = 0;
  #count = 0;

  constructor(size: number) {
    this.#values = new Float64Array(size);
  }

  push(v: number): void {
    this.#values[this.#next] = v;
    this.#next = (this.#next + 1) % this.#values.length;
    if (this.#count < this.#values.length) this.#count++;
  }

  /** The values, oldest first. */
  toArray(): number[] {
    const n = this.#values.length;
    const out = new Array<number>(this.#count);
    for (let i = 0; i < this.#count; i++) out[i] = this.#values[(this.#next - this.#count + i + n) % n];
    return out;
  }
}

/** One kept stream: its rings and what the next delta starts from. */
interface StreamHistory {
  t: Ring;
  inBps: Ring;
  viewers: Ring;
  lagP99Ms: Ring;
  /** Its bytesIn at the last sample. */
  bytesIn: number;
  /** When it was last sampled. */
  lastSeen: number;
}

/** A count over a time as bits per second, rounded; 0 when the time is not positive or the count fell. */
function bitsPerSecond(bytes: number, ms: number): number {
  return ms > 0 && bytes > 0 ? Math.round(bytes * 8 * 1000 / ms) : 0;
}

/** The nearest-rank percentile `p` (0..1) of `values` (sorted here); 0 for none. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  values.sort((a, b) => a - b);
  return values[Math.min(values.length - 1, Math.max(0, Math.ceil(p * values.length) - 1))];
}

function positiveInteger(what: string, v: number): number {
  if (!Number.isInteger(v) || v < 1) {
    throw new RangeError(`Cannot create History: ${what} is ${v}, expected an integer of 1 or more`);
  }
  return v;
}

export class History {
  readonly intervalMs: number;
  readonly samples: number;
  readonly maxStreams: number;
  #hub: HistoryHub;
  #clock: () => number;
  #cpuUsage: () => { user: number; system: number };
  #timer: ReturnType<typeof setInterval> | undefined;
  #ticks: Emitter<HistoryTick>;
  #latest: HistoryTick | undefined;
  #server: { t: Ring; inBps: Ring; outBps: Ring; viewers: Ring };
  #streams = new Map<string, StreamHistory>();
  /** What the next server deltas start from; undefined before the first sample. */
  #prev: { t: number; bytesIn: number; bytesOut: number; cpuUs: number } | undefined;

  constructor(hub: HistoryHub, options: HistoryOptions = {}) {
    this.#hub = hub;
    this.intervalMs = positiveInteger("intervalMs", options.intervalMs ?? HISTORY_INTERVAL_MS);
    this.samples = positiveInteger("samples", options.samples ?? HISTORY_SAMPLES);
    this.maxStreams = positiveInteger("maxStreams", options.maxStreams ?? HISTORY_MAX_STREAMS);
    this.#clock = options.clock ?? Date.now;
    this.#cpuUsage = options.cpuUsage ?? (() => process.cpuUsage());
    this.#ticks = new Emitter<HistoryTick>("history tick", options.log ?? rootLog, MAX_TICK_LISTENERS);
    this.#server = {
      t: new Ring(this.samples),
      inBps: new Ring(this.samples),
      outBps: new Ring(this.samples),
      viewers: new Ring(this.samples),
    };
  }

  /** Whether the once-per-interval sampling runs. */
  get running(): boolean {
    return this.#timer !== undefined;
  }

  /** Takes a sample now (the baseline of the first rates) and then one every `intervalMs`. Idempotent. */
  start(): void {
    if (this.#timer !== undefined) return;
    this.sample();
    this.#timer = setInterval(() => this.sample(), this.intervalMs);
  }

  /** Stops sampling; the rings stay readable. Idempotent. */
  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** The latest tick; undefined before the first sample. */
  latest(): HistoryTick | undefined {
    return this.#latest;
  }

  /** Calls `listener` with every tick from now on; returns its remover. At most MAX_TICK_LISTENERS. */
  onTick(listener: (tick: HistoryTick) => void): () => void {
    return this.#ticks.on(listener);
  }

  /** Reads the hub once, adds a sample to every ring, tells the tick listeners; returns the tick. */
  sample(): HistoryTick {
    const t = this.#clock();
    const totals = this.#hub.totals();
    const streams = this.#hub.streams().map((s) => s.snapshot());
    const usage = this.#cpuUsage();
    const cpuUs = usage.user + usage.system;
    const prev = this.#prev;
    const dt = prev ? t - prev.t : 0;

    const lags = this.#hub.sessions.playerLags();

    const sample: HistorySample = {
      t,
      inBps: prev ? bitsPerSecond(totals.bytesIn - prev.bytesIn, dt) : 0,
      outBps: prev ? bitsPerSecond(totals.bytesOut - prev.bytesOut, dt) : 0,
      viewers: 0,
      streams: {},
    };
    const present = new Set(streams.map((s) => s.key));
    for (const s of streams) {
      sample.viewers += s.viewers.total;
      const kept = this.#keep(s.key, present);
      if (!kept) continue;
      let fromBytes = s.bytesIn;
      let overMs = 0;
      if (kept.lastSeen >= 0 && s.bytesIn >= kept.bytesIn) {
        fromBytes = kept.bytesIn;
        overMs = t - kept.lastSeen;
      } else if (prev && s.uptimeMs <= dt) {
        // New (or new again under a kept key) since the previous tick: everything it read is recent.
        fromBytes = 0;
        overMs = dt;
      } // else it was there before sampling began: no baseline yet, 0 for now.
      const figures: StreamSample = {
        inBps: bitsPerSecond(s.bytesIn - fromBytes, overMs),
        viewers: s.viewers.total,
        lagP99Ms: percentile(lags.get(s.key) ?? [], LAG_PERCENTILE),
      };
      kept.t.push(t);
      kept.inBps.push(figures.inBps);
      kept.viewers.push(figures.viewers);
      kept.lagP99Ms.push(figures.lagP99Ms);
      kept.bytesIn = s.bytesIn;
      kept.lastSeen = t;
      sample.streams[s.key] = figures;
    }
    this.#forgetOld(t);

    this.#server.t.push(t);
    this.#server.inBps.push(sample.inBps);
    this.#server.outBps.push(sample.outBps);
    this.#server.viewers.push(sample.viewers);

    const cpu: CpuSample = {
      userMs: Math.round(usage.user / 1000),
      systemMs: Math.round(usage.system / 1000),
      percent: prev && dt > 0 ? Math.max(0, Math.round((cpuUs - prev.cpuUs) / 10 / dt * 10) / 10) : 0,
    };
    this.#prev = { t, bytesIn: totals.bytesIn, bytesOut: totals.bytesOut, cpuUs };
    const sessions = this.#hub.sessions;
    let clients: SessionSnapshot[] | undefined;
    const tick: HistoryTick = { sample, cpu, totals, streams, clients: () => clients ??= sessions.list() };
    this.#latest = tick;
    this.#ticks.emit(tick);
    return tick;
  }

  /** Every ring, oldest first (`GET /api/v1/history`). */
  toJSON(): HistoryJson {
    const streams: Record<string, StreamHistoryJson> = {};
    for (const [key, h] of this.#streams) {
      streams[key] = {
        t: h.t.toArray(),
        inBps: h.inBps.toArray(),
        viewers: h.viewers.toArray(),
        lagP99Ms: h.lagP99Ms.toArray(),
      };
    }
    return {
      intervalMs: this.intervalMs,
      server: {
        t: this.#server.t.toArray(),
        inBps: this.#server.inBps.toArray(),
        outBps: this.#server.outBps.toArray(),
        viewers: this.#server.viewers.toArray(),
      },
      streams,
    };
  }

  /** The rings of `key`, made when there is room or a stream not `present` can give its place. */
  #keep(key: string, present: ReadonlySet<string>): StreamHistory | undefined {
    const have = this.#streams.get(key);
    if (have) return have;
    if (this.#streams.size >= this.maxStreams) {
      let oldest: string | undefined;
      let oldestSeen = Infinity;
      for (const [k, h] of this.#streams) {
        if (!present.has(k) && h.lastSeen < oldestSeen) {
          oldest = k;
          oldestSeen = h.lastSeen;
        }
      }
      if (oldest === undefined) return undefined;
      this.#streams.delete(oldest);
    }
    const h: StreamHistory = {
      t: new Ring(this.samples),
      inBps: new Ring(this.samples),
      viewers: new Ring(this.samples),
      lagP99Ms: new Ring(this.samples),
      bytesIn: 0,
      lastSeen: -1,
    };
    this.#streams.set(key, h);
    return h;
  }

  /** Forgets streams whose newest sample has left the window. */
  #forgetOld(now: number): void {
    const windowMs = this.samples * this.intervalMs;
    for (const [k, h] of this.#streams) if (now - h.lastSeen >= windowMs) this.#streams.delete(k);
  }
}
