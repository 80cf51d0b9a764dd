/**
 * HlsStream: one live stream muxed for HLS. A bounded observer Subscriber
 * (`observer: true`: not a viewer) takes the stream's frames from the hub and
 * hands them to a Segmenter through one container (fMP4 or MPEG-TS); the HTTP
 * side (`hls_routes.ts`) reads playlists, segments and parts from it.
 *
 * Policy:
 * - `start()` attaches to the live (or in-grace) stream: the attach delivers
 *   metadata, sequence headers and the GOP cache at once; when that burst
 *   holds half a target duration or more, its segment ends at the next live
 *   frame (`Segmenter.cutAtNextFrame()`; the segment after it is not
 *   independent and ends at the next keyframe), so the first playlist lists a
 *   complete segment starting at the cached keyframe at once; a younger burst
 *   grows into a whole first segment (a player starting on less would stall);
 * - "resume" (the publisher came back, or a takeover) marks a discontinuity;
 *   "end" ends the segmenter (`EXT-X-ENDLIST`), and the stream stays readable
 *   until its owner drops it;
 * - the observer's sink never waits: frames go into the segmenter as they are
 *   flushed, with the wall clock of that moment (EXT-X-PROGRAM-DATE-TIME);
 *   the segmenter's byte bound, not the queue, bounds memory;
 * - a skip (the queue dropped frames, which needs a stuck event loop) is a
 *   discontinuity too: the timeline has a hole;
 * - a frame the container cannot pack (a broken payload) closes the observer
 *   with the reason logged once; the stream goes on for every other player.
 *
 * @module
 */
import { HubEventType, type HubListener } from "../hub/events.ts";
import type { Stream } from "../hub/stream.ts";
import { type Packer, Subscriber, type SubscriberLimits } from "../hub/subscriber.ts";
import type { Logger } from "../log.ts";
import type { MediaFrame } from "../media/frame.ts";
import type { ContainerKind, HlsContainer } from "./container.ts";
import { Fmp4Container } from "./fmp4_container.ts";
import { Segmenter, type SegmenterOptions } from "./segmenter.ts";
import { TsContainer } from "./ts_container.ts";

/** What an HlsStream needs of the hub (StreamHub has it). */
export interface HlsHub {
  on(listener: HubListener): () => void;
  attach(key: string, sub: Subscriber): Stream | undefined;
  leave(key: string, sub: Subscriber): void;
}

/** The observer's queue bounds: its sink never waits, so these only catch a runaway. */
export const HLS_OBSERVER_LIMITS: SubscriberLimits = {
  queueMaxBytes: 64 * 1024 * 1024,
  queueMaxMs: 30_000,
  stallTimeoutMs: 10_000,
  maxSkipsPerMinute: 10,
};

/** The observer's label in stream snapshots. */
const OBSERVER_PROTOCOL = "hls-muxer";

/** A new container of a kind. */
export function makeContainer(kind: ContainerKind): HlsContainer {
  return kind === "ts" ? new TsContainer() : new Fmp4Container();
}

/** Notes each frame for the sink (the payload stands for its size in the queue). */
class NotingPacker implements Packer {
  queued: MediaFrame[] = [];
  skipped = false;

  pack(frame: MediaFrame): Uint8Array {
    this.queued.push(frame);
    return frame.payload;
  }

  reset(): void {
    this.queued = [];
    this.skipped = true;
  }
}

/** HlsStream's collaborators. */
export interface HlsStreamOptions {
  hub: HlsHub;
  key: string;
  container: ContainerKind;
  segmenter?: SegmenterOptions;
  log: Logger;
  /** The wall clock, ms since the epoch. Default Date.now. */
  now?: () => number;
  /** Makes the container (tests give a fake). Default makeContainer. */
  makeContainer?: (kind: ContainerKind) => HlsContainer;
  /** Names this run's resources (segment, part and init URIs), so two runs of a key never share a URI. */
  epoch?: string;
}

/** One stream's HLS muxing (see the module doc). */
export class HlsStream {
  readonly key: string;
  readonly kind: ContainerKind;
  readonly segmenter: Segmenter;
  /** This run's name in resource URIs. */
  readonly epoch: string;
  /** When a request last asked for this stream (the owner's idle check), ms since the epoch. */
  lastRequestAt: number;
  #hub: HlsHub;
  #log: Logger;
  #now: () => number;
  #sub: Subscriber | undefined;
  #off: (() => void) | undefined;
  #closed = false;
  /** The next write is the attach's burst. */
  #first = true;

  constructor(options: HlsStreamOptions) {
    this.key = options.key;
    this.kind = options.container;
    this.#hub = options.hub;
    this.#log = options.log;
    this.#now = options.now ?? Date.now;
    this.lastRequestAt = this.#now();
    this.epoch = options.epoch ?? this.#now().toString(36);
    this.segmenter = new Segmenter((options.makeContainer ?? makeContainer)(options.container), {
      ...options.segmenter,
      log: options.log,
    });
  }

  /** Whether the observer is attached (the stream is live or in grace, and muxing goes on). */
  get live(): boolean {
    return this.#sub !== undefined;
  }

  /** Whether stop() was called or the stream ended. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Attaches to the stream; false (and nothing attached) when the hub has no live stream of the key. */
  start(): boolean {
    if (this.#closed || this.#sub) return !!this.#sub;
    const packer = new NotingPacker();
    const sub = new Subscriber(
      `hls ${this.key}`,
      packer,
      { write: (bytes) => this.#write(packer, bytes) },
      HLS_OBSERVER_LIMITS,
      this.#log,
      { protocol: OBSERVER_PROTOCOL, observer: true },
    );
    sub.onClose = (reason) => {
      if (this.#sub !== sub) return;
      this.#sub = undefined;
      this.#hub.leave(this.key, sub);
      this.#log.warn(`stopped muxing ${this.key} for HLS: ${reason}`);
      this.#finish();
    };
    this.#off = this.#hub.on((ev) => {
      if (ev.key !== this.key) return;
      if (ev.type === HubEventType.Resume && !this.segmenter.ended) this.segmenter.discontinuity();
      else if (ev.type === HubEventType.End) this.stop("stream ended");
    });
    this.#sub = sub;
    if (!this.#hub.attach(this.key, sub)) {
      this.#sub = undefined;
      this.#off();
      this.#off = undefined;
      return false;
    }
    return true;
  }

  /** Detaches and ends the playlist (EXT-X-ENDLIST); what is held stays readable. Idempotent. */
  stop(reason: string): void {
    const sub = this.#sub;
    this.#sub = undefined;
    if (sub) {
      this.#hub.leave(this.key, sub);
      sub.close(reason);
    }
    this.#finish();
  }

  #finish(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#off?.();
    this.#off = undefined;
    if (!this.segmenter.ended) this.segmenter.end();
  }

  #write(packer: NotingPacker, _bytes: Uint8Array): Promise<void> {
    const frames = packer.queued;
    packer.queued = [];
    try {
      if (packer.skipped) {
        packer.skipped = false;
        this.segmenter.discontinuity();
      }
      const now = this.#now();
      if (this.#first) {
        // The burst is the past: each cached frame is dated by its distance from the newest one, so
        // PROGRAM-DATE-TIME keeps to the ingest clock (players measure their latency with it).
        let newest = -Infinity;
        for (const f of frames) if (f.timestamp > newest) newest = f.timestamp;
        for (const f of frames) this.segmenter.push(f, now - Math.max(0, newest - f.timestamp));
      } else {
        for (const f of frames) this.segmenter.push(f, now);
      }
      if (this.#first) {
        // The attach's burst (the GOP cache): end its segment at the next live frame, so the first
        // playlist has a complete segment at once, when the burst holds half a target duration or more.
        // A younger one is left to grow to the next keyframe: a player starting on it would have less
        // media in hand than the next segment (or part) takes to arrive, and stall (measured with hls.js:
        // a stall at the burst's end, each raising its latency target by a second).
        this.#first = false;
        const open = this.segmenter.snapshot().open;
        if (open && open.durationMs * 2 >= this.segmenter.options.targetDurationMs) {
          this.segmenter.cutAtNextFrame();
        }
      }
    } catch (e) {
      return Promise.reject(e);
    }
    return Promise.resolve();
  }
}
