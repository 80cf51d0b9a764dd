/**
 * The graphs' data: a bounded ring of one-second samples, filled once from
 * `GET /api/v1/history` and then from each snapshot's `sample`, read out as
 * the aligned columns uPlot draws (`[x seconds, y1, y2, ...]`).
 *
 * Policy:
 * - samples are placed by their interval bucket (`round(t / intervalMs)`),
 *   so the history and the feed can overlap or arrive in any order: a bucket
 *   already held is not taken twice;
 * - the ring keeps the newest `capacity` buckets (default MAX_SAMPLES, the
 *   API's own 300);
 * - the lag graph draws at most `maxStreams` streams (default
 *   MAX_STREAM_LINES), the ones with the most recent samples, in key order;
 *   a stream missing from a second reads null there (a gap, not a zero).
 *
 * @module
 */
import type { HistoryJson, HistorySample, StreamSample } from "./api.ts";

/** Samples kept: five minutes at one a second. */
export const MAX_SAMPLES = 300;
/** Streams the lag graph draws at once. */
export const MAX_STREAM_LINES = 8;
/** The API's sampling interval, ms. */
export const DEFAULT_INTERVAL_MS = 1000;

/** Aligned columns for uPlot: x in seconds since the epoch, then one array per line. */
export type Columns = [number[], ...(number | null)[][]];

/** The lag graph's data: which streams its lines are, and their columns. */
export interface LagColumns {
  keys: string[];
  columns: Columns;
}

interface Bucket {
  t: number;
  inBps: number;
  outBps: number;
  viewers: number;
  streams: Map<string, StreamSample>;
}

export class SampleSeries {
  readonly capacity: number;
  readonly maxStreams: number;
  #intervalMs = DEFAULT_INTERVAL_MS;
  /** Oldest first; at most `capacity`. */
  #buckets: Bucket[] = [];
  /** Bucket numbers held. */
  #held = new Set<number>();

  constructor(capacity = MAX_SAMPLES, maxStreams = MAX_STREAM_LINES) {
    this.capacity = capacity;
    this.maxStreams = maxStreams;
  }

  /** Samples held. */
  get length(): number {
    return this.#buckets.length;
  }

  #bucketOf(t: number): number {
    return Math.round(t / this.#intervalMs);
  }

  #trim(): void {
    if (this.#buckets.length <= this.capacity) return;
    for (const b of this.#buckets.splice(0, this.#buckets.length - this.capacity)) {
      this.#held.delete(this.#bucketOf(b.t));
    }
  }

  /** Places one bucket (in time order); false if its interval is held already or `t` is not a time. */
  #place(b: Bucket): boolean {
    if (!Number.isFinite(b.t)) return false;
    const n = this.#bucketOf(b.t);
    if (this.#held.has(n)) return false;
    this.#held.add(n);
    let i = this.#buckets.length;
    while (i > 0 && this.#buckets[i - 1].t > b.t) i--;
    this.#buckets.splice(i, 0, b);
    return true;
  }

  /** Adds a snapshot's sample; false if its second is held already. */
  push(sample: HistorySample): boolean {
    const streams = new Map<string, StreamSample>(Object.entries(sample.streams ?? {}));
    const placed = this.#place({
      t: sample.t,
      inBps: sample.inBps,
      outBps: sample.outBps,
      viewers: sample.viewers,
      streams,
    });
    this.#trim();
    return placed;
  }

  /** Merges the history rings (server and per stream) into the samples held. */
  load(history: HistoryJson): void {
    if (history.intervalMs > 0 && this.#buckets.length === 0) this.#intervalMs = history.intervalMs;
    const s = history.server;
    const fresh = new Map<number, Bucket>();
    for (let i = 0; i < s.t.length; i++) {
      const b = {
        t: s.t[i],
        inBps: s.inBps[i],
        outBps: s.outBps[i],
        viewers: s.viewers[i],
        streams: new Map(),
      };
      if (Number.isFinite(b.t)) fresh.set(this.#bucketOf(b.t), b);
    }
    for (const [key, ring] of Object.entries(history.streams ?? {})) {
      for (let i = 0; i < ring.t.length; i++) {
        const b = fresh.get(this.#bucketOf(ring.t[i]));
        b?.streams.set(key, { inBps: ring.inBps[i], viewers: ring.viewers[i], lagP99Ms: ring.lagP99Ms[i] });
      }
    }
    for (const b of fresh.values()) this.#place(b);
    this.#trim();
  }

  #x(): number[] {
    return this.#buckets.map((b) => b.t / 1000);
  }

  /** `[x, in bits/s, out bits/s]` */
  bitrate(): Columns {
    return [this.#x(), this.#buckets.map((b) => b.inBps), this.#buckets.map((b) => b.outBps)];
  }

  /** `[x, viewers]` */
  viewers(): Columns {
    return [this.#x(), this.#buckets.map((b) => b.viewers)];
  }

  /** The streams the lag graph draws: the `maxStreams` seen most recently, in key order. */
  lagKeys(): string[] {
    const lastSeen = new Map<string, number>();
    for (const b of this.#buckets) for (const k of b.streams.keys()) lastSeen.set(k, b.t);
    return [...lastSeen.entries()]
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
      .slice(0, this.maxStreams)
      .map(([k]) => k)
      .sort();
  }

  /** `[x, lag p99 ms of each of keys]` (null where a stream has no sample). */
  lag(): LagColumns {
    const keys = this.lagKeys();
    const columns: Columns = [this.#x()];
    for (const k of keys) columns.push(this.#buckets.map((b) => b.streams.get(k)?.lagP99Ms ?? null));
    return { keys, columns };
  }
}
