/**
 * StreamHub: the streams by key (`app/name`) and the rules between publishers
 * and players. Protocol-free: RTMP, HTTP-FLV and file sources all publish and
 * play through it.
 *
 * - One publisher per name; a second gets StreamBusyError unless
 *   `publishTakeover` is set, when the newcomer takes over.
 * - A play of a name with no publisher waits up to `playWaitMs` for one (0:
 *   StreamNotFoundError at once), like nginx-rtmp's idle streams.
 * - When a publisher leaves, its players stay attached for `reconnectGraceMs`;
 *   a returning publisher of the same name continues the stream.
 *
 * @module
 */
import type { HubConfig } from "../config/config.ts";
import { StreamBusyError, StreamNotFoundError } from "../errors.ts";
import type { Logger } from "../log.ts";
import { type PublisherHandle, Stream } from "./stream.ts";
import type { Subscriber } from "./subscriber.ts";

interface Waiter {
  sub: Subscriber;
  resolve: (s: Stream) => void;
  reject: (e: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

export class StreamHub {
  readonly config: HubConfig;
  #log: Logger;
  #streams = new Map<string, Stream>();
  #graceTimers = new Map<string, ReturnType<typeof setTimeout>>();
  #waiters = new Map<string, Set<Waiter>>();
  #stallTimer: ReturnType<typeof setInterval> | undefined;

  constructor(config: HubConfig, log: Logger) {
    this.config = config;
    this.#log = log;
  }

  /** Starts the once-a-second stall check. */
  start(): void {
    this.#stallTimer ??= setInterval(() => {
      const now = Date.now();
      for (const s of this.#streams.values()) s.checkStalls(now);
    }, 1000);
  }

  /** Ends every stream and waiter and stops timers. */
  stop(): void {
    if (this.#stallTimer !== undefined) clearInterval(this.#stallTimer);
    this.#stallTimer = undefined;
    for (const t of this.#graceTimers.values()) clearTimeout(t);
    this.#graceTimers.clear();
    for (const [key, set] of this.#waiters) {
      for (const w of set) {
        clearTimeout(w.timer);
        w.reject(new StreamNotFoundError(key));
      }
    }
    this.#waiters.clear();
    // Forget the streams first: a publisher's close() may lead to unpublish(), now or later, which must
    // then find nothing to keep in grace (a grace timer would outlive stop()).
    const streams = [...this.#streams.values()];
    this.#streams.clear();
    for (const s of streams) {
      s.publisher?.close("server stopping");
      s.end();
    }
  }

  get(key: string): Stream | undefined {
    return this.#streams.get(key);
  }

  /** All streams, live or in grace. */
  streams(): Stream[] {
    return [...this.#streams.values()];
  }

  /** Makes `publisher` the stream's publisher; throws StreamBusyError if it has one (and no takeover). */
  publish(key: string, publisher: PublisherHandle): Stream {
    let stream = this.#streams.get(key);
    if (stream?.publisher) {
      if (!this.config.publishTakeover) throw new StreamBusyError(key);
      const old = stream.publisher;
      stream.stopPublisher();
      old.close(`taken over by ${publisher.id}`);
    }
    const grace = this.#graceTimers.get(key);
    if (grace !== undefined) {
      clearTimeout(grace);
      this.#graceTimers.delete(key);
    }
    if (!stream) {
      stream = new Stream(
        key,
        this.config.gopCacheMaxBytes,
        this.config.gopCacheMaxMs,
        this.config.mergeWindowMs,
      );
      this.#streams.set(key, stream);
    }
    stream.startPublisher(publisher);
    const waiting = this.#waiters.get(key);
    if (waiting) {
      this.#waiters.delete(key);
      for (const w of waiting) {
        clearTimeout(w.timer);
        stream.addSubscriber(w.sub);
        w.resolve(stream);
      }
    }
    return stream;
  }

  /** The publisher left; players stay attached for the grace window. */
  unpublish(stream: Stream, publisher: PublisherHandle): void {
    if (stream.publisher !== publisher) return; // already taken over
    if (this.#streams.get(stream.key) !== stream) return; // already ended (hub stopped)
    stream.stopPublisher();
    const key = stream.key;
    if (this.config.reconnectGraceMs <= 0) {
      this.#endStream(stream);
      return;
    }
    this.#graceTimers.set(
      key,
      setTimeout(() => {
        this.#graceTimers.delete(key);
        if (stream.state === "grace") this.#endStream(stream);
      }, this.config.reconnectGraceMs),
    );
  }

  /**
   * Attaches a subscriber to `key`. Resolves at once when the stream is live or
   * in grace; otherwise waits for a publisher up to `playWaitMs`, then rejects
   * with StreamNotFoundError.
   */
  play(key: string, sub: Subscriber): Promise<Stream> {
    const stream = this.#streams.get(key);
    if (stream && stream.state !== "ended") {
      stream.addSubscriber(sub);
      return Promise.resolve(stream);
    }
    if (this.config.playWaitMs <= 0) return Promise.reject(new StreamNotFoundError(key));
    return new Promise((resolve, reject) => {
      const set = this.#waiters.get(key) ?? new Set<Waiter>();
      this.#waiters.set(key, set);
      const w: Waiter = {
        sub,
        resolve,
        reject,
        timer: setTimeout(() => {
          set.delete(w);
          if (set.size === 0) this.#waiters.delete(key);
          reject(new StreamNotFoundError(key));
        }, this.config.playWaitMs),
      };
      set.add(w);
    });
  }

  /** Detaches a subscriber (player closed), whether attached or still waiting. */
  leave(key: string, sub: Subscriber): void {
    this.#streams.get(key)?.removeSubscriber(sub);
    const set = this.#waiters.get(key);
    if (!set) return;
    for (const w of set) {
      if (w.sub !== sub) continue;
      clearTimeout(w.timer);
      set.delete(w);
      w.reject(new StreamNotFoundError(key));
    }
    if (set.size === 0) this.#waiters.delete(key);
  }

  #endStream(stream: Stream): void {
    this.#streams.delete(stream.key);
    this.#log.info(
      `stream ${stream.key} ended: ${stream.stats.framesIn} frames, ${stream.stats.bytesIn} bytes`,
    );
    stream.end();
  }
}
