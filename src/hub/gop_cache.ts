/**
 * GopCache: the audio and video frames since the latest video keyframe, so a
 * player that joins mid-GOP starts at once with a keyframe. Bounded in bytes
 * and media time, as SRS's SrsGopCache is: a GOP longer than the bounds is
 * dropped whole and the cache waits for the next keyframe (a joiner then waits
 * too, which beats holding unbounded memory for a stream with a 60 s keyframe
 * interval).
 *
 * @module
 */
import { FrameKind, type MediaFrame } from "../media/frame.ts";

export class GopCache {
  readonly maxBytes: number;
  readonly maxMs: number;
  #frames: MediaFrame[] = [];
  #bytes = 0;

  constructor(maxBytes: number, maxMs: number) {
    this.maxBytes = maxBytes;
    this.maxMs = maxMs;
  }

  /** Adds a frame: a keyframe starts a new GOP; frames before the first keyframe are not kept. */
  push(frame: MediaFrame): void {
    // Sequence headers and metadata are kept by the stream and sent before the GOP; caching them here
    // too would send them twice to a joiner (and again after a skip, which keeps queued ones).
    if (frame.sequenceHeader || frame.kind === FrameKind.Data) return;
    if (frame.kind === FrameKind.Video && frame.keyframe) {
      this.clear();
    } else if (this.#frames.length === 0) {
      return;
    }
    this.#frames.push(frame);
    this.#bytes += frame.payload.length;
    if (this.#bytes > this.maxBytes || this.durationMs > this.maxMs) this.clear();
  }

  /** The cached frames, the keyframe first; empty when none is cached. Do not mutate. */
  get frames(): readonly MediaFrame[] {
    return this.#frames;
  }

  /** Payload bytes held. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Media time from the keyframe to the newest frame, in ms. */
  get durationMs(): number {
    const n = this.#frames.length;
    return n < 2 ? 0 : this.#frames[n - 1].timestamp - this.#frames[0].timestamp;
  }

  clear(): void {
    this.#frames = [];
    this.#bytes = 0;
  }
}
