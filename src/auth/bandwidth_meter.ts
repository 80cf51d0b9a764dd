/**
 * BandwidthMeter: the server's outgoing bit rate over a sliding window, what
 * the bandwidth cap (`limits.maxBandwidthKbps`, ffserver's MaxBandwidth)
 * compares a new player against.
 *
 * Policy:
 * - once a second (`intervalMs`) it reads the bytes written to every peer so
 *   far, `hub.totals().bytesOut` (ended sessions' final counts plus the live
 *   ones' current counts), and keeps the bytes and the time since the previous
 *   reading in a ring of the last `windowS` intervals (`BANDWIDTH_WINDOW_S`,
 *   5 s): memory is fixed, whatever the traffic;
 * - `bps()` is the bits of the intervals in the ring over their time: the mean
 *   rate over the last `windowS` seconds (over fewer while the meter is
 *   younger; 0 before two readings). It reads the ring only, so asking costs
 *   nothing and does not touch the registry;
 * - a total that goes down between two readings counts as no bytes for that
 *   interval, never as a negative rate;
 * - `start()` takes the first reading at once and then one per interval;
 *   `stop()` clears the timer. Both are idempotent. `sample()` takes one
 *   reading now (tests drive it with a fake clock).
 *
 * @module
 */

/** What the meter reads: the hub's totals (STYLE 10: StreamHub satisfies it). */
export interface BytesOutSource {
  totals(): { bytesOut: number };
}

/** Default width of the sliding window, seconds. */
export const BANDWIDTH_WINDOW_S = 5;
/** Default time between readings, ms. */
export const BANDWIDTH_INTERVAL_MS = 1_000;
/** Widest window accepted, seconds (the ring holds one interval per second of it at the default interval). */
export const MAX_BANDWIDTH_WINDOW_S = 3_600;

/** Options for a BandwidthMeter. */
export interface BandwidthMeterOptions {
  /** Width of the window, whole seconds, 1 to MAX_BANDWIDTH_WINDOW_S. Default BANDWIDTH_WINDOW_S. */
  windowS?: number;
  /** Time between readings, whole ms, 1 to the window. Default BANDWIDTH_INTERVAL_MS. */
  intervalMs?: number;
  /** Milliseconds since the epoch; default Date.now (tests pass a fake). */
  clock?: () => number;
}

export class BandwidthMeter {
  /** Width of the window, seconds. */
  readonly windowS: number;
  readonly intervalMs: number;
  #source: BytesOutSource;
  #clock: () => number;
  #timer: ReturnType<typeof setInterval> | undefined;
  /** The ring: bytes written and ms elapsed in each of the last `#bytes.length` intervals. */
  #bytes: Float64Array;
  #ms: Float64Array;
  #next = 0;
  #filled = 0;
  /** The previous reading; undefined before the first. */
  #prev: { t: number; bytesOut: number } | undefined;

  constructor(source: BytesOutSource, options: BandwidthMeterOptions = {}) {
    this.#source = source;
    this.windowS = wholeNumber("windowS", options.windowS ?? BANDWIDTH_WINDOW_S, 1, MAX_BANDWIDTH_WINDOW_S);
    this.intervalMs = wholeNumber(
      "intervalMs",
      options.intervalMs ?? BANDWIDTH_INTERVAL_MS,
      1,
      this.windowS * 1000,
    );
    this.#clock = options.clock ?? Date.now;
    const intervals = Math.ceil(this.windowS * 1000 / this.intervalMs);
    this.#bytes = new Float64Array(intervals);
    this.#ms = new Float64Array(intervals);
  }

  /** Whether the once-per-interval reading runs. */
  get running(): boolean {
    return this.#timer !== undefined;
  }

  /** Takes a reading now and then one every `intervalMs`. Idempotent. */
  start(): void {
    if (this.#timer !== undefined) return;
    this.sample();
    this.#timer = setInterval(() => this.sample(), this.intervalMs);
  }

  /** Stops reading; `bps()` keeps answering from the ring. Idempotent. */
  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Reads the total bytes out now and adds the interval since the previous reading to the ring. */
  sample(): void {
    const t = this.#clock();
    const { bytesOut } = this.#source.totals();
    const prev = this.#prev;
    this.#prev = { t, bytesOut };
    if (!prev) return;
    const ms = t - prev.t;
    if (!(ms > 0)) return; // a clock that stood still or went back gives no interval
    this.#bytes[this.#next] = Math.max(0, bytesOut - prev.bytesOut);
    this.#ms[this.#next] = ms;
    this.#next = (this.#next + 1) % this.#bytes.length;
    if (this.#filled < this.#bytes.length) this.#filled++;
  }

  /** Outgoing bits per second over the window (see the module doc); 0 before two readings. */
  bps(): number {
    let bytes = 0;
    let ms = 0;
    for (let i = 0; i < this.#filled; i++) {
      bytes += this.#bytes[i];
      ms += this.#ms[i];
    }
    return ms > 0 ? Math.round(bytes * 8 * 1000 / ms) : 0;
  }
}

function wholeNumber(name: string, v: number, min: number, max: number): number {
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new RangeError(
      `Cannot create BandwidthMeter: ${name} is ${v}, expected a whole number ${min} to ${max}`,
    );
  }
  return v;
}
