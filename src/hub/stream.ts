/**
 * Stream: one live name (`app/name`). It takes frames from its publisher,
 * rewrites their timestamps onto one monotonic timeline, keeps what a late
 * joiner needs (metadata, sequence headers, the GOP) and hands every frame to
 * every subscriber's bounded queue. Writes are flushed once per publisher
 * batch (or per merge window), so a burst of frames costs one write per player.
 *
 * Timestamps: output starts at 0 and never goes backwards per kind. The
 * publisher's 32-bit timestamps are unwrapped (a wrap adds 2^32), a returning
 * publisher continues just after the last frame sent, and a backwards jump of
 * more than a second within one publisher is rebased the same way. Payloads
 * (and so composition-time offsets) pass through byte for byte.
 *
 * @module
 */
import { classify, FrameKind, type MediaFrame } from "../media/frame.ts";
import { GopCache } from "./gop_cache.ts";
import type { FrameSource, StreamEvent, Subscriber } from "./subscriber.ts";

/** The side of a publisher the hub needs. */
export interface PublisherHandle {
  /** e.g. "rtmp 127.0.0.1:50312" */
  readonly id: string;
  /** Ends the publisher's connection (takeover, shutdown). */
  close(reason: string): void;
}

/** Live, waiting for its publisher to come back, or gone. */
export type StreamState = "live" | "grace" | "ended";

const TWO_32 = 0x1_0000_0000;
const TWO_31 = 0x8000_0000;
const BACKWARD_JUMP_MS = 1000;

/** Counters for the admin API. */
export interface StreamStats {
  bytesIn: number;
  framesIn: number;
  audioFrames: number;
  videoFrames: number;
  publishedAt: number;
  publishers: number;
}

export class Stream implements FrameSource {
  readonly key: string;
  state: StreamState = "live";
  publisher: PublisherHandle | undefined;
  metadata: MediaFrame | undefined;
  videoHeader: MediaFrame | undefined;
  audioHeader: MediaFrame | undefined;
  readonly gop: GopCache;
  readonly subscribers: Set<Subscriber> = new Set();
  readonly stats: StreamStats = {
    bytesIn: 0,
    framesIn: 0,
    audioFrames: 0,
    videoFrames: 0,
    publishedAt: Date.now(),
    publishers: 0,
  };

  #mergeWindowMs: number;
  #flushPending = false;
  /** The merge window's pending flush; cleared by a flush and by end() so no timer outlives the stream. */
  #flushTimer: ReturnType<typeof setTimeout> | undefined;
  #seq = { [FrameKind.Audio]: 0, [FrameKind.Video]: 0, [FrameKind.Data]: 0 };
  #lastOut = { [FrameKind.Audio]: -1, [FrameKind.Video]: -1, [FrameKind.Data]: -1 };
  #maxOut = -1;
  /** Whether an audio or video frame proper has been timed yet (on any publisher). */
  #clockStarted = false;
  #base: number | undefined;
  #wrapAdd = 0;
  #lastRaw: number | undefined;
  #sawVideo = false;

  constructor(key: string, gopMaxBytes: number, gopMaxMs: number, mergeWindowMs = 0) {
    this.key = key;
    this.gop = new GopCache(gopMaxBytes, gopMaxMs);
    this.#mergeWindowMs = mergeWindowMs;
  }

  /** A new publisher takes the stream: the next frame starts a new timestamp base. */
  startPublisher(publisher: PublisherHandle): void {
    this.publisher = publisher;
    this.state = "live";
    this.stats.publishers++;
    this.#base = undefined;
    this.#lastRaw = undefined;
    this.#wrapAdd = 0;
    this.gop.clear();
    for (const s of this.subscribers) s.onEvent("publish");
  }

  /** The publisher left: keep players attached, clear the GOP (the next publisher's keyframes differ). */
  stopPublisher(): void {
    this.publisher = undefined;
    this.state = "grace";
    this.gop.clear();
    this.#flushNow();
    for (const s of this.subscribers) s.onEvent("unpublish");
  }

  /** The stream is over: flush what is queued, tell players and forget them. */
  end(): void {
    this.state = "ended";
    this.#flushNow();
    for (const s of this.subscribers) s.onEvent("end");
    this.subscribers.clear();
  }

  /**
   * Takes one frame from the publisher (the payload is owned by the hub from now
   * on) and queues it to every subscriber. Returns the frame as the hub stored it.
   */
  push(kind: FrameKind, rawTimestamp: number, payload: Uint8Array): MediaFrame {
    const { keyframe, sequenceHeader } = classify(kind, payload);
    const onClock = kind !== FrameKind.Data && !sequenceHeader;
    const timestamp = this.#timestamp(kind, rawTimestamp >>> 0, onClock);
    const seq = ++this.#seq[kind];
    const prevTimestamp = this.#lastOut[kind];
    this.#lastOut[kind] = timestamp;
    if (timestamp > this.#maxOut) this.#maxOut = timestamp;
    const frame: MediaFrame = {
      kind,
      timestamp,
      payload,
      keyframe,
      sequenceHeader,
      seq,
      prevTimestamp,
      packed: {},
    };

    this.stats.framesIn++;
    this.stats.bytesIn += payload.length;
    if (kind === FrameKind.Video) {
      this.stats.videoFrames++;
      this.#sawVideo = true;
      if (sequenceHeader) this.videoHeader = frame;
    } else if (kind === FrameKind.Audio) {
      this.stats.audioFrames++;
      if (sequenceHeader) this.audioHeader = frame;
    }
    this.gop.push(frame);
    for (const s of this.subscribers) s.send(frame);
    this.#scheduleFlush();
    return frame;
  }

  /** Stores metadata (an `onMetaData` data payload) and sends it to players. */
  setMetadata(payload: Uint8Array, rawTimestamp = 0): MediaFrame {
    const frame = this.push(FrameKind.Data, rawTimestamp, payload);
    this.metadata = frame;
    return frame;
  }

  /** Attaches a subscriber and queues its start: metadata, sequence headers, then the GOP. */
  addSubscriber(sub: Subscriber): void {
    sub.attach(this);
    this.subscribers.add(sub);
    if (this.metadata) sub.send(this.metadata);
    if (this.videoHeader) sub.send(this.videoHeader);
    if (this.audioHeader) sub.send(this.audioHeader);
    for (const f of this.gop.frames) sub.send(f);
    sub.flush();
  }

  removeSubscriber(sub: Subscriber): void {
    this.subscribers.delete(sub);
  }

  gopFrames(): readonly MediaFrame[] {
    return this.gop.frames;
  }

  hasVideo(): boolean {
    return this.#sawVideo;
  }

  /** Checks every subscriber's write deadline. */
  checkStalls(now: number): void {
    for (const s of this.subscribers) s.checkStall(now);
  }

  /**
   * `onClock`: an audio or video frame proper. Only those start the timeline: publishers stamp sequence
   * headers and metadata 0 whatever their media clock (ffmpeg does with -output_ts_offset, and so does a
   * relay of a long-running stream), and a base taken from them would leave the media far from 0. The
   * others never move the timeline either (a mid-stream header stamped 0 is no backward jump): they go
   * out at the timeline's current position.
   */
  #timestamp(kind: FrameKind, raw: number, onClock: boolean): number {
    if (!onClock) return Math.max(this.#lastOut[kind], this.#maxOut, 0);
    if (this.#lastRaw !== undefined) {
      if (raw < this.#lastRaw - TWO_31) this.#wrapAdd += TWO_32;
      else if (raw > this.#lastRaw + TWO_31 && this.#wrapAdd > 0) raw -= TWO_32; // a late frame from before a wrap
    }
    // A late frame from before a wrap leaves lastRaw alone: moving it back would count the wrap again.
    if (raw >= 0) this.#lastRaw = raw;
    const unwrapped = raw + this.#wrapAdd;
    // A new timeline starts at 0, or just after what was sent (a returning publisher), or at the position
    // where headers sent before the first frame already are.
    if (this.#base === undefined) {
      this.#base = unwrapped - (this.#clockStarted ? this.#maxOut + 1 : Math.max(this.#maxOut, 0));
      this.#clockStarted = true;
    }
    let out = unwrapped - this.#base;
    const last = this.#lastOut[kind];
    if (out < last - BACKWARD_JUMP_MS) {
      this.#base = unwrapped - (this.#maxOut + 1);
      out = this.#maxOut + 1;
    }
    if (out < last) out = last;
    if (out < 0) out = 0;
    return out;
  }

  #scheduleFlush(): void {
    if (this.#flushPending) return;
    this.#flushPending = true;
    if (this.#mergeWindowMs > 0) this.#flushTimer = setTimeout(() => this.#flushNow(), this.#mergeWindowMs);
    else queueMicrotask(() => this.#flushNow());
  }

  #flushNow(): void {
    clearTimeout(this.#flushTimer);
    this.#flushTimer = undefined;
    this.#flushPending = false;
    for (const s of this.subscribers) s.flush();
  }
}

/** Re-exported for outputs that switch on events. */
export type { StreamEvent };
