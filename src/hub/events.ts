/**
 * Stream events and the small typed emitter that carries them (the session
 * registry's open/close events use the same emitter).
 *
 * Policy (DESIGN "Stream events and observers"):
 * - listeners are called synchronously, in the order they were added, after
 *   the hub's own state is consistent (a listener may call back into the hub,
 *   e.g. `hub.attach()` on "publish");
 * - a listener that throws is caught and logged (at most one warning per
 *   10 s per emitter, with the count since the last one); the exception never
 *   reaches the publisher or the other listeners;
 * - listeners are bounded (default 64 per emitter): one more is a TypeError,
 *   which finds a leak (a listener added per connection) at once;
 * - an observer that wants frames attaches a Subscriber (`hub.attach()`),
 *   with the same bounded queue as a player: a slow observer skips and is
 *   closed like a slow player, and never slows the publisher.
 *
 * The hub's events for one stream, in order:
 * - "publish": a publisher created the stream (it was not in its grace window);
 * - "unpublish": its publisher left, the stream is in its grace window;
 * - "resume": a publisher came back during grace, or took the live stream
 *   over (`publishTakeover`: "resume" alone, with the newcomer's id and
 *   `takenOverFrom`; no "unpublish" before it, as the stream never waited);
 * - "end": the stream is over (grace passed, or grace is 0, right after
 *   "unpublish"; or the hub stopped, with no "unpublish" before it).
 *
 * @module
 */
import type { Logger } from "../log.ts";
import type { Stream } from "./stream.ts";

/** What happened to a stream. */
export const HubEventType = {
  /** A publisher created the stream (the stream was not in its grace window). */
  Publish: "publish",
  /** The publisher left; the stream waits out the reconnect grace with its players attached. */
  Unpublish: "unpublish",
  /** A publisher came back during grace, or took the live stream over. */
  Resume: "resume",
  /** The stream is over; its subscribers were told "end" and forgotten. */
  End: "end",
} as const;
export type HubEventType = typeof HubEventType[keyof typeof HubEventType];

/** One stream event. */
export interface HubEvent {
  type: HubEventType;
  key: string;
  stream: Stream;
  /** The publisher that arrived (publish, resume) or left (unpublish); undefined for end. */
  publisherId?: string;
  /** On a takeover's "resume": the id of the publisher taken over. */
  takenOverFrom?: string;
  /** Date.now() (the hub's clock) when it happened. */
  at: number;
}

/** A listener of hub events. */
export type HubListener = (ev: HubEvent) => void;

/** Default bound on the listeners of one emitter. */
export const MAX_LISTENERS = 64;

const WARN_EVERY_MS = 10_000;

/** A synchronous emitter with a bounded listener set; listener exceptions are caught and logged. */
export class Emitter<E> {
  readonly maxListeners: number;
  #what: string;
  #log: Logger;
  #listeners = new Set<(ev: E) => void>();
  #lastWarnAt = -Infinity;
  #failuresSinceWarn = 0;

  /** `what` names the events in messages ("hub", "session"). */
  constructor(what: string, log: Logger, maxListeners = MAX_LISTENERS) {
    if (!Number.isInteger(maxListeners) || maxListeners < 1) {
      throw new RangeError(
        `Cannot create ${what} emitter: maxListeners is ${maxListeners}, expected 1 or more`,
      );
    }
    this.#what = what;
    this.#log = log;
    this.maxListeners = maxListeners;
  }

  /** Listeners now. */
  get size(): number {
    return this.#listeners.size;
  }

  /**
   * Adds a listener; returns the function that removes it (idempotent). Adding
   * the same function twice adds it once. Past `maxListeners`: TypeError.
   */
  on(listener: (ev: E) => void): () => void {
    if (typeof listener !== "function") {
      throw new TypeError(`Cannot add a ${this.#what} listener: current value is ${typeof listener}`);
    }
    if (!this.#listeners.has(listener) && this.#listeners.size >= this.maxListeners) {
      throw new TypeError(
        `Cannot add a ${this.#what} listener: ${this.#listeners.size} listeners already (limit ${this.maxListeners})`,
      );
    }
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /** Calls every listener with `ev`; one that throws is logged and the rest still run. */
  emit(ev: E): void {
    if (this.#listeners.size === 0) return;
    // A snapshot: a listener added during the emit waits for the next event; one removed still runs once.
    for (const listener of [...this.#listeners]) {
      try {
        listener(ev);
      } catch (e) {
        this.#failed(e);
      }
    }
  }

  #failed(e: unknown): void {
    this.#failuresSinceWarn++;
    const now = Date.now();
    if (now - this.#lastWarnAt < WARN_EVERY_MS) return;
    const count = this.#failuresSinceWarn;
    this.#lastWarnAt = now;
    this.#failuresSinceWarn = 0;
    this.#log.warn(
      `a ${this.#what} event listener threw (${count} time${
        count === 1 ? "" : "s"
      } since the last warning): ${e instanceof Error ? e.message : String(e)}`,
    );
  }
}
