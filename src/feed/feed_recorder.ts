/**
 * FeedRecorder: the glue from the hub to a FeedRing. It writes one stream key
 * into its ring whenever the stream is live, whether or not anyone plays,
 * through an observer Subscriber (`observer: true`: not a viewer), so it has
 * the same bounded queue as a player and never slows the publisher.
 *
 * Policy:
 * - `start()` listens to the hub's events for the key and, when the stream is
 *   live (or in its grace window) already, attaches at once: the attach
 *   delivers the stream's metadata, sequence headers and GOP, so the ring
 *   starts with a group start;
 * - "publish" (a new stream) starts a ring run and attaches; "resume" (a
 *   publisher back, or a takeover) starts a ring run and, as the recorder is
 *   still attached, appends the metadata and sequence headers the stream kept
 *   (a run forgets the ring's own); "end" detaches. Every run makes the ring
 *   continue its timeline after its newest timestamp (`FeedRing.newRun()`);
 * - the packer hands each frame's payload over as it is and notes the frame;
 *   the sink appends the noted frames to the ring and resolves at once: the
 *   ring's pending bound, not the queue, is what stands between a slow disk and
 *   the publisher;
 * - a subscriber that closes itself (the ring closed under it) is logged once
 *   as a warning; the next publish or resume attaches a new one;
 * - `stop()` removes the listener and detaches.
 *
 * @module
 */
import { HubEventType, type HubListener } from "../hub/events.ts";
import type { Stream } from "../hub/stream.ts";
import { type Packer, Subscriber, type SubscriberLimits } from "../hub/subscriber.ts";
import type { Logger } from "../log.ts";
import type { MediaFrame } from "../media/frame.ts";
import type { RingFrame } from "./feed_ring.ts";

/** What the recorder needs of the hub (StreamHub has it). */
export interface RecorderHub {
  /** Adds a stream event listener; returns its remover. */
  on(listener: HubListener): () => void;
  /** Attaches a subscriber to a live or in-grace stream at once; undefined when there is none. */
  attach(key: string, sub: Subscriber): Stream | undefined;
  /** Detaches a subscriber. */
  leave(key: string, sub: Subscriber): void;
}

/** What the recorder needs of the ring (FeedRing has it). */
export interface RecorderRing {
  /** The ring file, for log lines. */
  readonly path: string;
  /** Closed: nothing more is appended. */
  readonly closed: boolean;
  /** Takes one frame, synchronously. */
  append(frame: RingFrame): void;
  /** A new publisher run begins (timestamps go on after the newest; headers are forgotten). */
  newRun(): void;
}

/** FeedRecorder's collaborators. */
export interface FeedRecorderOptions {
  /** The hub the stream is published in. */
  hub: RecorderHub;
  /** The stream key, `app/name`. */
  key: string;
  /** Where the stream goes. */
  ring: RecorderRing;
  /** Where the recorder's warnings go. */
  log: Logger;
  /** The observer's queue bounds; default RECORDER_LIMITS. */
  limits?: SubscriberLimits;
}

/**
 * The recorder's queue bounds. Its sink never waits, so the queue holds one flush's frames at most (an
 * attach's GOP included); the bounds only catch a runaway.
 */
export const RECORDER_LIMITS: SubscriberLimits = {
  queueMaxBytes: 64 * 1024 * 1024,
  queueMaxMs: 30_000,
  stallTimeoutMs: 10_000,
  maxSkipsPerMinute: 10,
};

/** The subscriber's label in stream snapshots. */
const RECORDER_PROTOCOL = "recorder";

/** Hands each payload over as it is and notes the frame, for the sink to append. */
class RingPacker implements Packer {
  /** Frames packed and not yet in a write, oldest first. */
  queued: MediaFrame[] = [];

  pack(frame: MediaFrame): Uint8Array {
    this.queued.push(frame);
    return frame.payload;
  }

  /** The subscriber dropped its queue: so are the frames noted. */
  reset(): void {
    this.queued = [];
  }
}

/** Records one stream key into one ring whenever the stream is live (see the module doc). */
export class FeedRecorder {
  /** The stream key recorded. */
  readonly key: string;
  #hub: RecorderHub;
  #ring: RecorderRing;
  #log: Logger;
  #limits: SubscriberLimits;
  #off: (() => void) | undefined;
  #sub: Subscriber | undefined;

  /** A recorder of `options.key` into `options.ring`; nothing happens before `start()`. */
  constructor(options: FeedRecorderOptions) {
    this.key = options.key;
    this.#hub = options.hub;
    this.#ring = options.ring;
    this.#log = options.log;
    this.#limits = options.limits ?? RECORDER_LIMITS;
  }

  /** Whether a subscriber is attached to the stream now (the stream is live or in grace). */
  get recording(): boolean {
    return this.#sub !== undefined;
  }

  /** The attached subscriber (its stats), when recording. */
  get subscriber(): Subscriber | undefined {
    return this.#sub;
  }

  /** Listens for the key's events and attaches at once when the stream is live. Idempotent. */
  start(): void {
    if (this.#off) return;
    this.#off = this.#hub.on((ev) => {
      if (ev.key !== this.key) return;
      if (ev.type === HubEventType.Publish) {
        this.#detach("a new stream");
        this.#attach();
      } else if (ev.type === HubEventType.Resume) {
        this.#resume(ev.stream);
      } else if (ev.type === HubEventType.End) {
        this.#detach("stream ended");
      }
    });
    this.#attach();
  }

  /** Removes the listener and detaches. Idempotent. */
  stop(): void {
    this.#off?.();
    this.#off = undefined;
    this.#detach("recorder stopped");
  }

  /** A publisher is back (or took over): a new run, with the headers the stream kept. */
  #resume(stream: Stream): void {
    if (!this.#sub) {
      this.#attach();
      return;
    }
    if (this.#ring.closed) return;
    this.#ring.newRun();
    for (const f of [stream.metadata, stream.videoHeader, stream.audioHeader]) if (f) this.#ring.append(f);
  }

  /** Starts a ring run and attaches a new subscriber, if the stream is there. */
  #attach(): void {
    if (this.#ring.closed) return;
    const packer = new RingPacker();
    const sub = new Subscriber(
      `recorder ${this.key}`,
      packer,
      { write: (bytes) => this.#write(packer, bytes) },
      this.#limits,
      this.#log,
      { protocol: RECORDER_PROTOCOL, observer: true },
    );
    sub.onClose = (reason) => {
      if (this.#sub !== sub) return; // detached by the recorder itself
      this.#sub = undefined;
      this.#hub.leave(this.key, sub);
      this.#log.warn(`stopped recording ${this.key} into ${this.#ring.path}: ${reason}`);
    };
    this.#ring.newRun();
    // Set first: the attach delivers the stream's headers and GOP at once, and a failure closes `sub`.
    this.#sub = sub;
    if (!this.#hub.attach(this.key, sub) && this.#sub === sub) this.#sub = undefined;
  }

  #detach(reason: string): void {
    const sub = this.#sub;
    if (!sub) return;
    this.#sub = undefined;
    this.#hub.leave(this.key, sub);
    sub.close(reason);
  }

  /** The subscriber's write: the frames packed for it, into the ring. */
  #write(packer: RingPacker, bytes: Uint8Array): Promise<void> {
    const frames = packer.queued;
    packer.queued = [];
    let n = 0;
    for (const f of frames) n += f.payload.length;
    if (n !== bytes.length) {
      return Promise.reject(
        new Error(`Cannot record a write of ${bytes.length} bytes: current frames noted hold ${n} bytes`),
      );
    }
    try {
      for (const f of frames) this.#ring.append(f);
    } catch (e) {
      return Promise.reject(e);
    }
    return Promise.resolve();
  }
}
