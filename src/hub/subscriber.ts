/**
 * Subscriber: one player's bounded delivery queue, shared by every output
 * (RTMP play, HTTP-FLV, WebSocket-FLV). The output supplies a Packer (frame ->
 * the bytes of its wire form, cached on the frame so each form is packed once)
 * and a FrameSink (the socket or response). The hub never sees a protocol.
 *
 * Policy (STYLE 11, DESIGN "Bounded everything"):
 * - frames are packed and queued synchronously as the publisher's frames
 *   arrive; the writer sends everything queued in one write per wake-up;
 *   a subscriber in step with its stream takes shared batches instead
 *   (`followKey`, `sendShared`: Stream's groups) and queues nothing;
 * - past `queueMaxBytes` or `queueMaxMs` of queued media the player skips: the
 *   queue is dropped (sequence headers and metadata in it are kept) and the
 *   player restarts at the newest keyframe with audio and video aligned (the
 *   stream's GOP), or waits for the next keyframe when that GOP is itself too
 *   long; drops are counted and warned about at a limited rate;
 * - a player that has to skip more than `maxSkipsPerMinute` times, or whose
 *   write makes no progress for `stallTimeoutMs`, is closed with a reason.
 *
 * Observers (recorders, HLS muxers, relays) are Subscribers too, under the
 * same policy: `options.observer` only keeps them out of viewer counts. A
 * subscriber's `protocol` ("rtmp", "http-flv", ...) labels it in stream
 * snapshots; the hub never acts on it.
 *
 * @module
 */
import { concatBytes } from "../bytes.ts";
import { FrameKind, type MediaFrame } from "../media/frame.ts";
import type { Logger } from "../log.ts";

/** Turns a frame into the bytes of one output form; may keep per-player state (e.g. delta headers). */
export interface Packer {
  /** The bytes to send for `frame`. Shared bytes: the caller never mutates them. */
  pack(frame: MediaFrame): Uint8Array;
  /** Frames were dropped: the next frame of each kind must not depend on the previous one. */
  reset(): void;
  /**
   * Packers with the same share key that have each packed every frame of their stream so far give the
   * same bytes for the next frames, so the stream packs them once for all its in-step players (see
   * Stream). Undefined: this packer's bytes are its player's own (RTP sequence numbers), never shared.
   */
  readonly shareKey?: string;
  /** Another packer of the same share key packed this player's frames up to `newest`: continue from there. */
  caughtUp?(newest: NewestFrames): void;
}

/** The newest frame of each kind a stream has flushed or a subscriber has queued (undefined: none yet). */
export interface NewestFrames {
  audio?: MediaFrame;
  video?: MediaFrame;
  data?: MediaFrame;
}

/** Where a subscriber's bytes go. */
export interface FrameSink {
  /** Writes all of `bytes`; resolves when done, rejects when the peer is gone. */
  write(bytes: Uint8Array): Promise<void>;
}

/** The stream a subscriber is attached to, as far as the subscriber needs it. */
export interface FrameSource {
  /** The frames from the newest keyframe on (audio and video), for a skip. */
  gopFrames(): readonly MediaFrame[];
  /** Whether the stream carries video (a skip then waits for a keyframe). */
  hasVideo(): boolean;
  /** The newest audio/video timestamp pushed and not yet handed to in-step subscribers; -1 when none. */
  pendingMediaTs(): number;
}

/** Delivery bounds (see PlayerConfig). */
export interface SubscriberLimits {
  queueMaxBytes: number;
  queueMaxMs: number;
  stallTimeoutMs: number;
  maxSkipsPerMinute: number;
}

/** Counters shown by the admin API and used by tests. */
export interface SubscriberStats {
  framesQueued: number;
  framesSent: number;
  framesDropped: number;
  bytesSent: number;
  skips: number;
  writes: number;
}

/** What happens at stream level, forwarded to the output (which turns it into protocol messages). */
export type StreamEvent = "unpublish" | "publish" | "end";

interface Item {
  frame: MediaFrame;
  bytes: Uint8Array;
}

const WARN_EVERY_MS = 10_000;

/** Labels for a subscriber (see the module doc). */
export interface SubscriberOptions {
  /** The output's protocol (a `Protocol` value), for viewer counts by protocol. Default "unknown". */
  protocol?: string;
  /** A consumer that is not a viewer (recorder, muxer, relay): not counted as a viewer. Default false. */
  observer?: boolean;
}

/**
 * The last concatenated write batch that began with a given packed array, shared by every subscriber
 * whose queue held exactly the same arrays. Weak: an entry lives only while its first frame's packed
 * bytes do (at most a GOP), and is replaced by the next batch that starts there.
 */
const batches = new WeakMap<Uint8Array, { parts: Uint8Array[]; bytes: Uint8Array }>();

export class Subscriber {
  readonly id: string;
  readonly stats: SubscriberStats = {
    framesQueued: 0,
    framesSent: 0,
    framesDropped: 0,
    bytesSent: 0,
    skips: 0,
    writes: 0,
  };
  readonly connectedAt: number = Date.now();
  /** The output's protocol; "unknown" when the creator did not say. */
  readonly protocol: string;
  /** Not a viewer: a recorder, muxer or relay. */
  readonly observer: boolean;
  /** Time of the first write, for time-to-first-frame figures; 0 until then. */
  firstWriteAt = 0;
  /** Called once when the subscriber closes itself (slow, stalled, write failed), with the reason. */
  onClose: (reason: string) => void = () => {};
  /** Called for stream-level events; the output answers in its protocol. */
  onEvent: (ev: StreamEvent) => void = () => {};
  /**
   * Called when a write completes with nothing more queued (the sink has taken everything), while set: an
   * output that waits for its last bytes after the stream's end sets it then, so writes before cost nothing.
   */
  onIdle: (() => void) | undefined;

  #packer: Packer;
  #sink: FrameSink;
  #limits: SubscriberLimits;
  #log: Logger;
  #source: FrameSource | undefined;
  #queue: Item[] = [];
  #head = 0;
  #queuedBytes = 0;
  /** Timestamps of the first and last queued audio/video frames (not sequence headers); -1 when none. */
  #firstMediaTs = -1;
  #lastMediaTs = -1;
  #writing = false;
  #writeStartedAt = 0;
  /** The bytes and frames of the write under way. */
  #writingBytes = 0;
  #writingFrames = 0;
  /** The write under way is a shared batch (`sendShared`). */
  #writingShared = false;
  #waitKeyframe = false;
  #skipTimes: number[] = [];
  #lastWarnAt = 0;
  #droppedSinceWarn = 0;
  #closed = false;
  #closeReason = "";
  /** Timestamp of the newest audio/video frame queued (kept through skips); -1 before the first. */
  #newestTs = -1;
  /** Timestamp of the newest audio/video frame in the write under way; -1 when none. */
  #writingTs = -1;
  /** Timestamp of the newest audio/video frame the sink finished writing; -1 before the first. */
  #doneTs = -1;
  /** Timestamp of the first audio/video frame ever queued: what lag counts from before any write is done. */
  #startTs = -1;
  /** The newest frame of each kind queued: whether the packer is in step with the stream (`followKey`). */
  #lastAudio: MediaFrame | undefined;
  #lastVideo: MediaFrame | undefined;
  #lastData: MediaFrame | undefined;
  /** In its stream's in-step group: it gets shared batches, not frames (Stream). */
  #following = false;

  constructor(
    id: string,
    packer: Packer,
    sink: FrameSink,
    limits: SubscriberLimits,
    log: Logger,
    options: SubscriberOptions = {},
  ) {
    this.id = id;
    this.protocol = options.protocol ?? "unknown";
    this.observer = options.observer ?? false;
    this.#packer = packer;
    this.#sink = sink;
    this.#limits = limits;
    this.#log = log;
  }

  get closed(): boolean {
    return this.#closed;
  }

  get closeReason(): string {
    return this.#closeReason;
  }

  /** Bytes queued and not yet handed to the sink. */
  get queuedBytes(): number {
    return this.#queuedBytes;
  }

  /**
   * Media bytes this subscriber holds of its own: queued, plus a write under way unless it is its group's
   * shared batch (held once for all members, not per player).
   */
  get ownBytes(): number {
    return this.#queuedBytes + (this.#writing && !this.#writingShared ? this.#writingBytes : 0);
  }

  /**
   * How far behind the stream this subscriber is, in ms of media time (an
   * estimate): from the newest audio/video frame the sink finished writing
   * (before any write finished, the first frame queued) to the newest one
   * queued or being written. 0 when everything queued has been written.
   * Frames dropped by a skip still count until a newer write completes, so a
   * skip does not hide how far behind the player was.
   */
  get lagMs(): number {
    if (this.#closed) return 0;
    // An in-step subscriber's next frames wait in its stream's batch, not in its queue.
    const pending = this.#following ? this.#source?.pendingMediaTs() ?? -1 : -1;
    if (!this.#writing && this.#head === this.#queue.length && pending < 0) return 0;
    const from = this.#doneTs >= 0 ? this.#doneTs : this.#startTs;
    const newest = Math.max(this.#newestTs, pending);
    if (from < 0 || newest < 0) return 0;
    return Math.max(0, newest - from);
  }

  /** A write is under way. */
  get writing(): boolean {
    return this.#writing;
  }

  /** In its stream's in-step group. */
  get following(): boolean {
    return this.#following;
  }

  /** The packer's share key now (it may change: an RTMP player that turns a track off has none). */
  get shareKey(): string | undefined {
    return this.#packer.shareKey;
  }

  /**
   * The share key under which this subscriber can take its stream's batches from now on, or undefined.
   * It can when it is in step: open, not waiting for a keyframe, nothing left in its queue (all of it is
   * being written), and the newest frame of each kind it queued is the stream's newest, so its packer has
   * packed every frame the others have.
   */
  followKey(newest: NewestFrames): string | undefined {
    if (this.#closed || this.#waitKeyframe || this.#head !== this.#queue.length) return undefined;
    if (
      this.#lastAudio !== newest.audio || this.#lastVideo !== newest.video || this.#lastData !== newest.data
    ) return undefined;
    return this.#packer.shareKey;
  }

  /** Joins its stream's in-step group (the stream calls this once `followKey` gave a key). */
  follow(): void {
    this.#following = true;
  }

  /**
   * Leaves the in-step group: its player was given the stream's frames up to `newest` (through shared
   * batches), and `batch` (the frames since) go into its own queue, under the same bounds as every frame.
   */
  unfollow(newest: NewestFrames, batch: readonly MediaFrame[]): void {
    this.#following = false;
    this.#packer.caughtUp?.(newest);
    this.#lastAudio = newest.audio;
    this.#lastVideo = newest.video;
    this.#lastData = newest.data;
    for (const f of batch) this.send(f);
  }

  /**
   * `batch` packed by this subscriber's packer, caught up to `newest` first, as one buffer: the bytes every
   * subscriber of the same share key in step gets.
   */
  packBatch(newest: NewestFrames, batch: readonly MediaFrame[]): Uint8Array {
    this.#packer.caughtUp?.(newest);
    if (batch.length === 1) return this.#packer.pack(batch[0]);
    return concatBytes(batch.map((f) => this.#packer.pack(f)));
  }

  /**
   * Writes a batch shared with its in-step group: `frames` frames whose first and newest audio/video
   * timestamps are `firstMediaTs` and `newestMediaTs` (-1: none). The stream calls this only when no write
   * is under way.
   */
  sendShared(bytes: Uint8Array, frames: number, firstMediaTs: number, newestMediaTs: number): void {
    if (this.#closed) return;
    this.stats.framesQueued += frames;
    if (newestMediaTs >= 0) {
      if (this.#startTs < 0) this.#startTs = firstMediaTs;
      if (newestMediaTs > this.#newestTs) this.#newestTs = newestMediaTs;
    }
    this.#writing = true;
    this.#writingTs = newestMediaTs >= 0 ? this.#newestTs : -1;
    this.#writingFrames = frames;
    this.#write(bytes, true);
  }

  /** Attaches to a stream (the stream calls this). */
  attach(source: FrameSource): void {
    this.#source = source;
  }

  /** Queues a frame (the stream calls this for every frame, in order). Never blocks. */
  send(frame: MediaFrame): void {
    if (this.#closed) return;
    if (this.#waitKeyframe) {
      if (
        !(frame.kind === FrameKind.Video && frame.keyframe) && !frame.sequenceHeader &&
        frame.kind !== FrameKind.Data
      ) {
        this.stats.framesDropped++;
        this.#droppedSinceWarn++;
        return;
      }
      if (frame.keyframe) this.#waitKeyframe = false;
    }
    this.#enqueue(frame);
    if (this.#overBounds()) this.#skip();
  }

  /** Starts a write if one is not under way and something is queued. */
  flush(): void {
    if (this.#writing || this.#closed || this.#head === this.#queue.length) return;
    this.#writing = true;
    this.#writeQueued();
  }

  /** Checks the stall deadline; the hub calls this about once a second. */
  checkStall(now: number): void {
    if (
      this.#writing && this.#writeStartedAt > 0 && now - this.#writeStartedAt > this.#limits.stallTimeoutMs
    ) {
      this.close(
        `stalled: no write progress for ${
          now - this.#writeStartedAt
        } ms (limit ${this.#limits.stallTimeoutMs})`,
      );
    }
  }

  /** Stops delivery and drops the queue. Idempotent; calls onClose once. */
  close(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#closeReason = reason;
    this.#clearQueue();
    this.onClose(reason);
  }

  /** Packs and queues `frame`; `requeued` when a skip puts back a frame already counted as queued. */
  #enqueue(frame: MediaFrame, requeued = false): void {
    const bytes = this.#packer.pack(frame);
    this.#queue.push({ frame, bytes });
    if (frame.kind === FrameKind.Video) this.#lastVideo = frame;
    else if (frame.kind === FrameKind.Audio) this.#lastAudio = frame;
    else this.#lastData = frame;
    this.#queuedBytes += bytes.length;
    if (!requeued) this.stats.framesQueued++;
    if (frame.kind !== FrameKind.Data && !frame.sequenceHeader) {
      if (this.#firstMediaTs < 0) this.#firstMediaTs = frame.timestamp;
      this.#lastMediaTs = frame.timestamp;
      if (this.#startTs < 0) this.#startTs = frame.timestamp;
      if (frame.timestamp > this.#newestTs) this.#newestTs = frame.timestamp;
    }
  }

  #clearQueue(): void {
    this.#queue = [];
    this.#head = 0;
    this.#queuedBytes = 0;
    this.#firstMediaTs = -1;
    this.#lastMediaTs = -1;
  }

  /**
   * Past the byte or media-time bound. Media time spans audio and video frames only: sequence headers and
   * metadata keep the timestamp they were published with (often 0), so a joiner's queue starts with them.
   */
  #overBounds(): boolean {
    if (this.#queuedBytes > this.#limits.queueMaxBytes) return true;
    // Media time says a player is behind only while a write to it is under way: frames held for the
    // stream's next flush (a merge window, a publisher's burst) have not been offered to the player yet.
    return this.#writing && this.#firstMediaTs >= 0 &&
      this.#lastMediaTs - this.#firstMediaTs > this.#limits.queueMaxMs;
  }

  /** Drops the queue and restarts at the newest keyframe. */
  #skip(): void {
    const now = Date.now();
    this.stats.skips++;
    this.#skipTimes.push(now);
    while (this.#skipTimes.length > 0 && now - this.#skipTimes[0] > 60_000) this.#skipTimes.shift();
    if (this.#skipTimes.length > this.#limits.maxSkipsPerMinute) {
      this.close(
        `too slow: skipped to a keyframe ${this.#skipTimes.length} times in a minute (limit ${this.#limits.maxSkipsPerMinute})`,
      );
      return;
    }
    const kept: Item[] = [];
    let dropped = 0;
    for (let i = this.#head; i < this.#queue.length; i++) {
      const it = this.#queue[i];
      if (it.frame.sequenceHeader || it.frame.kind === FrameKind.Data) kept.push(it);
      else dropped++;
    }
    this.#clearQueue();
    this.#packer.reset();
    for (const it of kept) this.#enqueue(it.frame, true);
    this.stats.framesDropped += dropped;
    this.#droppedSinceWarn += dropped;

    const gop = this.#source?.gopFrames() ?? [];
    const gopBytes = gop.reduce((n, f) => n + f.payload.length, 0);
    const gopMs = gop.length > 1 ? gop[gop.length - 1].timestamp - gop[0].timestamp : 0;
    if (
      this.#source?.hasVideo() && (gop.length === 0 || gopBytes * 2 > this.#limits.queueMaxBytes ||
        gopMs * 2 > this.#limits.queueMaxMs)
    ) {
      this.#waitKeyframe = true;
    } else {
      for (const f of gop) this.#enqueue(f);
    }
    if (now - this.#lastWarnAt >= WARN_EVERY_MS) {
      this.#log.warn(
        `slow player ${this.id}: skipped to the newest keyframe, ${this.#droppedSinceWarn} frames dropped since last warning`,
      );
      this.#lastWarnAt = now;
      this.#droppedSinceWarn = 0;
    }
  }

  /**
   * What to write next, as one buffer: everything queued, with no copy for one item; or, when another
   * subscriber's write began with the very same packed arrays, that shared concatenation, and the rest
   * waits for the next write. Joiners all queue the same start (metadata, headers, the GOP so far) and
   * differ only in the newest frames, so each copies only what the one before it did not.
   */
  #takeAll(): Uint8Array {
    const items = this.#queue;
    const from = this.#head;
    const n = items.length - from;
    const first = items[from].bytes;
    const cached = n === 1 ? undefined : batches.get(first);
    if (cached && cached.parts.length <= n && cached.parts.length > 1) {
      const len = cached.parts.length;
      let same = true;
      for (let i = 1; i < len && same; i++) same = cached.parts[i] === items[from + i].bytes;
      if (same && len < n) return this.#takePart(len, cached.bytes);
      if (same) {
        this.#takeRest(n);
        return cached.bytes;
      }
    }
    this.#takeRest(n);
    if (n === 1) return first;
    const parts = items.slice(from).map((it) => it.bytes);
    const out = concatBytes(parts);
    batches.set(first, { parts, bytes: out });
    return out;
  }

  /** The whole queue (`n` items) goes into this write. */
  #takeRest(n: number): void {
    // Everything queued goes into this write, so its newest media frame is the newest queued.
    this.#writingTs = this.#lastMediaTs >= 0 ? this.#newestTs : -1;
    this.#writingFrames = n;
    this.#clearQueue();
  }

  /** The first `len` queued items, `bytes` long, go into this write; the rest stay queued. */
  #takePart(len: number, bytes: Uint8Array): Uint8Array {
    const items = this.#queue;
    const from = this.#head;
    let newest = -1;
    for (let i = from; i < from + len; i++) {
      const f = items[i].frame;
      if (f.kind !== FrameKind.Data && !f.sequenceHeader && f.timestamp > newest) newest = f.timestamp;
    }
    let firstMedia = -1;
    for (let i = from + len; i < items.length && firstMedia < 0; i++) {
      const f = items[i].frame;
      if (f.kind !== FrameKind.Data && !f.sequenceHeader) firstMedia = f.timestamp;
    }
    this.#writingTs = newest;
    this.#writingFrames = len;
    this.#head = from + len;
    this.#queuedBytes -= bytes.length;
    this.#firstMediaTs = firstMedia;
    if (firstMedia < 0) this.#lastMediaTs = -1;
    return bytes;
  }

  /**
   * Writes everything queued as one buffer, and again when the write is done while more was queued; the
   * subscriber is `#writing` until the queue is empty. No async function and one promise callback pair
   * per write, bound once: with hundreds of players this path runs thousands of times a second.
   */
  #writeQueued(): void {
    this.#write(this.#takeAll());
  }

  /** Hands `bytes` (`shared`: its group's batch) to the sink; `#writingTs` and `#writingFrames` say what they hold. */
  #write(bytes: Uint8Array, shared = false): void {
    this.#writingBytes = bytes.length;
    this.#writingShared = shared;
    this.#writeStartedAt = Date.now();
    if (this.firstWriteAt === 0) this.firstWriteAt = this.#writeStartedAt;
    let written: Promise<void>;
    try {
      written = this.#sink.write(bytes);
    } catch (e) {
      this.#onWriteFailed(e);
      return;
    }
    written.then(this.#onWritten, this.#onWriteFailed);
  }

  readonly #onWritten = (): void => {
    if (this.#writingTs >= 0) this.#doneTs = this.#writingTs;
    this.#writingTs = -1;
    this.stats.bytesSent += this.#writingBytes;
    this.stats.framesSent += this.#writingFrames;
    this.stats.writes++;
    if (!this.#closed && this.#head < this.#queue.length) {
      this.#writeQueued();
      return;
    }
    this.#writing = false;
    this.#writeStartedAt = 0;
    this.onIdle?.();
  };

  readonly #onWriteFailed = (e: unknown): void => {
    this.#writing = false;
    this.#writeStartedAt = 0;
    this.close(`write failed: ${e instanceof Error ? e.message : String(e)}`);
  };
}
