/**
 * Pacer: plays media out in real time. Each frame's send time is computed from
 * the start (start + media time), never by adding up sleeps, so timer lateness
 * does not accumulate into drift. Frames go out in small batches: one wake-up
 * sends every frame due within the next `batchMs`.
 *
 * @module
 */

/** Wall time and sleeping, replaceable in tests. */
export interface Clock {
  /** Milliseconds on a monotonic clock. */
  now(): number;
  /** Resolves after `ms`, or at once when `signal` aborts. */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
}

/** performance.now() and setTimeout; an abort clears the timer. */
export const systemClock: Clock = {
  now: () => performance.now(),
  sleep: (ms, signal) =>
    new Promise((resolve) => {
      if (signal.aborted) return resolve();
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener("abort", done, { once: true });
    }),
};

/** Options for `Pacer`. */
export interface PacerOptions {
  /** Frames due within this many ms of a wake-up go out with it. Default 40. */
  readonly batchMs?: number;
  /**
   * When a frame is this late (the process was stalled), the schedule moves
   * forward instead of sending the backlog in one burst. Default 1,000 ms.
   */
  readonly maxLateMs?: number;
  readonly clock?: Clock;
}

export class Pacer {
  readonly #batchMs: number;
  readonly #maxLateMs: number;
  readonly #clock: Clock;
  /** Wall time at which media time 0 is due; set by the first wait. */
  #start: number | undefined;
  /** Times the schedule moved forward after a stall. */
  rebases = 0;

  constructor(options: PacerOptions = {}) {
    this.#batchMs = options.batchMs ?? 40;
    this.#maxLateMs = options.maxLateMs ?? 1000;
    this.#clock = options.clock ?? systemClock;
  }

  /**
   * Resolves when the frame at media time `mediaMs` should be sent: at once
   * when it is due within `batchMs`, otherwise at its due time. The first call
   * makes its frame due now. Resolves early when `signal` aborts.
   */
  async wait(mediaMs: number, signal: AbortSignal): Promise<void> {
    const now = this.#clock.now();
    this.#start ??= now - mediaMs;
    let due = this.#start + mediaMs;
    if (now - due > this.#maxLateMs) {
      this.#start += now - due;
      due = now;
      this.rebases++;
    }
    if (due <= now + this.#batchMs) return;
    await this.#clock.sleep(due - now, signal);
  }
}
