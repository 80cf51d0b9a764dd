/**
 * Stream: one live name (`app/name`). It takes frames from its publisher,
 * rewrites their timestamps onto one monotonic timeline, keeps what a late
 * joiner needs (metadata, sequence headers, the GOP) and hands every frame to
 * every subscriber's bounded queue. Writes are flushed once per publisher
 * batch (or per merge window, wider for a stream with many players:
 * `mergeWindowFor`), so a burst of frames costs one write per player.
 *
 * Players in step share the work: a subscriber whose packer has a share key
 * (`Packer.shareKey`) and that has taken every frame so far, with nothing left
 * queued, joins its key's group. Frames pushed then go into one batch per
 * stream instead of each player's queue; a flush packs and concatenates the
 * batch once per group and hands the same buffer to every member not writing.
 * A member still writing (a slow player) leaves the group with the batch in
 * its own queue, where the queue bounds and skips apply as before; it rejoins
 * at a flush once it is in step again. So a frame costs one push into the
 * batch, not one per player.
 *
 * Timestamps: output starts at 0 and never goes backwards per kind. The
 * publisher's 32-bit timestamps are unwrapped (a wrap adds 2^32), a returning
 * publisher continues just after the last frame sent, and a backwards jump of
 * more than a second within one publisher is rebased the same way. Payloads
 * (and so composition-time offsets) pass through byte for byte.
 *
 * Snapshots (`snapshot()`, plain data for the admin API) cost the publisher
 * almost nothing: a push adds its bytes to a ring of 8 per-second buckets
 * (bitrates over the last 5 complete seconds), a video frame's timestamp to a
 * ring of 32 (the measured frame rate) and counts the GOP; codec details are
 * parsed from the sequence headers when a snapshot asks, once per header.
 *
 * @module
 */
import { type AudioCodecInfo, audioInfo, type VideoCodecInfo, videoInfo } from "../media/codec_info.ts";
import { classify, FrameKind, type MediaFrame } from "../media/frame.ts";
import { GopCache } from "./gop_cache.ts";
import type { FrameSource, NewestFrames, StreamEvent, Subscriber } from "./subscriber.ts";

/** The side of a publisher the hub needs. */
export interface PublisherHandle {
  /** e.g. "rtmp 127.0.0.1:50312" */
  readonly id: string;
  /** The publisher's protocol (a `Protocol` value), for snapshots. */
  readonly protocol?: string;
  /** The peer, "ip:port", for snapshots; undefined for file sources. */
  readonly remote?: string;
  /** Ends the publisher's connection (takeover, shutdown). */
  close(reason: string): void;
}

/** Live, waiting for its publisher to come back, or gone. */
export type StreamState = "live" | "grace" | "ended";

const TWO_32 = 0x1_0000_0000;
const TWO_31 = 0x8000_0000;
const BACKWARD_JUMP_MS = 1000;

/** Bitrates are averaged over this many complete seconds. */
export const BITRATE_WINDOW_S = 5;
/** Per-second buckets kept (a power of two above the window, so the current second never overwrites it). */
const RATE_BUCKETS = 8;
/** Video timestamps kept to measure the frame rate when the bitstream gives none. */
const FPS_SAMPLES = 32;

/** Options for a Stream. */
export interface StreamOptions {
  /** Milliseconds since the epoch, for stats and bitrates; default Date.now (tests pass a fake). */
  clock?: () => number;
  /** The merge window with many subscribers (see `mergeWindowFor`); default: the merge window, never wider. */
  mergeWindowMaxMs?: number;
}

/** Bytes pushed within one merge window past which a stream with in-step subscribers flushes at once. */
const BATCH_FLUSH_BYTES = 1 << 20;

/** Subscribers up to which a stream keeps its configured merge window. */
export const MERGE_GROW_FROM = 200;
/** Subscribers from which it uses its widest window. */
export const MERGE_FULL_AT = 800;

/**
 * The merge window of a stream with `subscribers`: `base` up to MERGE_GROW_FROM, then growing linearly to
 * `max` at MERGE_FULL_AT and above (never below `base`). Many players in step share each write, and a write
 * costs the server about the same whatever its size, so at 800 players doubling the window cuts about 30 % of
 * the CPU; a stream with few players keeps its latency.
 */
export function mergeWindowFor(subscribers: number, base: number, max: number): number {
  if (max <= base || subscribers <= MERGE_GROW_FROM) return base;
  const share = Math.min(1, (subscribers - MERGE_GROW_FROM) / (MERGE_FULL_AT - MERGE_GROW_FROM));
  return Math.round(base + (max - base) * share);
}

/** The publisher part of a snapshot. */
export interface PublisherSnapshot {
  id: string;
  protocol?: string;
  remote?: string;
  /** When this publisher took the stream (clock ms). */
  since: number;
}

/** A stream as plain data. */
export interface StreamSnapshot {
  key: string;
  /** The key before its first "/". */
  app: string;
  /** The key after its first "/". */
  name: string;
  state: StreamState;
  publisher: PublisherSnapshot | null;
  /** From the video sequence header (else the latest video frame); frameRate measured when the header has none. */
  video: VideoCodecInfo | null;
  /** From the audio sequence header (else the latest audio frame's header). */
  audio: AudioCodecInfo | null;
  /** Bits per second over the last BITRATE_WINDOW_S complete seconds (fewer for a younger stream). */
  bitrate: { video: number; audio: number };
  /** The newest complete GOP (the current one before there is one): video frames and media time. */
  gop: { frames: number; durationMs: number };
  /** Time since the stream was first published, ms. */
  uptimeMs: number;
  /** Subscribers that are not observers, in all and by their protocol. */
  viewers: { total: number; byProtocol: Record<string, number> };
  /** Subscribers that are observers (recorders, muxers, relays). */
  observers: number;
  /** Frames dropped by slow subscribers' skips, including subscribers that left. */
  framesDropped: number;
  framesIn: number;
  bytesIn: number;
  /** Publishers the stream has had (a reconnect or takeover adds one). */
  publishers: number;
}

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
  /**
   * Viewers that are no Subscriber of their own, by protocol: HLS viewers share one muxing observer and
   * are counted by their output (src/hls/), which sets the number here.
   */
  readonly externalViewers: Map<string, number> = new Map();
  readonly stats: StreamStats;

  /** Subscribers that take every frame into their own queue: all but the in-step ones. */
  readonly #own: Set<Subscriber> = new Set();
  /** In-step subscribers by share key: each flush's frames are packed and concatenated once per key. */
  readonly #groups: Map<string, Set<Subscriber>> = new Map();
  /** The frames pushed since the last flush, kept while there are in-step subscribers; their bytes. */
  #batch: MediaFrame[] = [];
  #batchBytes = 0;
  /** The newest audio/video timestamp in the batch; -1 when none. */
  #batchNewestTs = -1;
  /** The newest frame of each kind pushed, and as of the last flush. */
  #newest: NewestFrames = {};
  #flushed: NewestFrames = {};
  #mergeWindowMs: number;
  #mergeWindowMaxMs: number;
  #flushPending = false;
  /** The merge window's pending flush; cleared by a flush and by end() so no timer outlives the stream. */
  #flushTimer: ReturnType<typeof setTimeout> | undefined;
  #seq = { [FrameKind.Audio]: 0, [FrameKind.Video]: 0, [FrameKind.Data]: 0 };
  #lastOut = { [FrameKind.Audio]: -1, [FrameKind.Video]: -1, [FrameKind.Data]: -1 };
  #maxOut = -1;
  /** When (clock ms) the newest timestamp (`#maxOut`) was pushed. */
  #maxOutAt = 0;
  /** Whether an audio or video frame proper has been timed yet (on any publisher). */
  #clockStarted = false;
  #base: number | undefined;
  #wrapAdd = 0;
  #lastRaw: number | undefined;
  #sawVideo = false;

  // For snapshots.
  #clock: () => number;
  #publisherSince = 0;
  /** Which second each rate bucket holds (-1: none), and its audio and video bits. */
  #rateSec = new Float64Array(RATE_BUCKETS).fill(-1);
  #rateAudio = new Float64Array(RATE_BUCKETS);
  #rateVideo = new Float64Array(RATE_BUCKETS);
  /** A ring of the newest video frames' timestamps. */
  #fpsTs = new Float64Array(FPS_SAMPLES);
  #fpsNext = 0;
  #fpsCount = 0;
  /** The GOP being received: its keyframe's timestamp (-1: none yet) and video frames so far. */
  #gopStartTs = -1;
  #gopFrames = 0;
  #gopLastTs = -1;
  #lastGop: { frames: number; durationMs: number } | undefined;
  /** The latest video and audio payloads, for the codec of streams without sequence headers. */
  #lastVideo: Uint8Array | undefined;
  #lastAudio: Uint8Array | undefined;
  #videoInfo: { from: Uint8Array; info: VideoCodecInfo | undefined } | undefined;
  #audioInfo: { from: Uint8Array; info: AudioCodecInfo | undefined } | undefined;
  /** Frames dropped by subscribers no longer attached. */
  #droppedByGone = 0;
  /** Bytes written by subscribers no longer attached. */
  #sentByGone = 0;

  constructor(
    key: string,
    gopMaxBytes: number,
    gopMaxMs: number,
    mergeWindowMs = 0,
    options: StreamOptions = {},
  ) {
    this.key = key;
    this.gop = new GopCache(gopMaxBytes, gopMaxMs);
    this.#mergeWindowMs = mergeWindowMs;
    this.#mergeWindowMaxMs = options.mergeWindowMaxMs ?? mergeWindowMs;
    this.#clock = options.clock ?? Date.now;
    this.stats = {
      bytesIn: 0,
      framesIn: 0,
      audioFrames: 0,
      videoFrames: 0,
      publishedAt: this.#clock(),
      publishers: 0,
    };
  }

  /** A new publisher takes the stream: the next frame starts a new timestamp base. */
  startPublisher(publisher: PublisherHandle): void {
    this.publisher = publisher;
    this.state = "live";
    this.stats.publishers++;
    this.#publisherSince = this.#clock();
    this.#base = undefined;
    this.#lastRaw = undefined;
    this.#wrapAdd = 0;
    this.gop.clear();
    this.#gopStartTs = -1;
    this.#fpsCount = 0;
    for (const s of this.subscribers) s.onEvent("publish");
  }

  /** The publisher left: keep players attached, clear the GOP (the next publisher's keyframes differ). */
  stopPublisher(): void {
    this.publisher = undefined;
    this.state = "grace";
    this.gop.clear();
    this.#gopStartTs = -1;
    this.#flushNow();
    for (const s of this.subscribers) s.onEvent("unpublish");
  }

  /** The stream is over: flush what is queued, tell players and forget them. */
  end(): void {
    this.state = "ended";
    this.#flushNow();
    for (const s of this.subscribers) s.onEvent("end");
    for (const s of this.subscribers) this.#forget(s);
    this.subscribers.clear();
    this.#own.clear();
    this.#groups.clear();
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
    if (timestamp > this.#maxOut) {
      this.#maxOut = timestamp;
      this.#maxOutAt = this.#clock();
    }
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
      this.#lastVideo = payload;
      if (sequenceHeader) this.videoHeader = frame;
      else this.#countVideo(timestamp, keyframe);
      this.#countBits(kind, payload.length);
    } else if (kind === FrameKind.Audio) {
      this.stats.audioFrames++;
      this.#lastAudio = payload;
      if (sequenceHeader) this.audioHeader = frame;
      this.#countBits(kind, payload.length);
    }
    this.gop.push(frame);
    if (kind === FrameKind.Video) this.#newest.video = frame;
    else if (kind === FrameKind.Audio) this.#newest.audio = frame;
    else this.#newest.data = frame;
    for (const s of this.#own) s.send(frame);
    if (this.#groups.size > 0) {
      this.#batch.push(frame);
      this.#batchBytes += payload.length;
      if (onClock && timestamp > this.#batchNewestTs) this.#batchNewestTs = timestamp;
      // A publisher's burst does not wait for the window: in-step players take it now, and any still
      // writing fall back to their own bounded queue.
      if (this.#batchBytes > BATCH_FLUSH_BYTES) {
        this.#flushNow();
        return frame;
      }
    }
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
    this.#own.add(sub);
    if (this.metadata) sub.send(this.metadata);
    if (this.videoHeader) sub.send(this.videoHeader);
    if (this.audioHeader) sub.send(this.audioHeader);
    for (const f of this.gop.frames) sub.send(f);
    sub.flush();
  }

  /** Detaches a subscriber; its dropped frames and bytes sent stay counted (snapshot(), bytesOut). */
  removeSubscriber(sub: Subscriber): void {
    if (!this.subscribers.delete(sub)) return;
    this.#forget(sub);
    if (!this.#own.delete(sub)) this.#leaveGroup(sub);
  }

  /**
   * The newest timestamp pushed (-1 before any) and when it was pushed, on the stream's clock: what a
   * sender report's "now" is in hub time (RTSP).
   */
  get newest(): { readonly timestamp: number; readonly at: number } {
    return { timestamp: this.#maxOut, at: this.#maxOutAt };
  }

  /**
   * Bytes written to the stream's subscribers (players and observers), including those that left: their
   * bytes at removal plus the attached ones' now. Never decreases (a write still under way at removal is
   * not counted).
   */
  get bytesOut(): number {
    let n = this.#sentByGone;
    for (const s of this.subscribers) n += s.stats.bytesSent;
    return n;
  }

  /** Keeps a leaving subscriber's counts. */
  #forget(sub: Subscriber): void {
    this.#droppedByGone += sub.stats.framesDropped;
    this.#sentByGone += sub.stats.bytesSent;
  }

  gopFrames(): readonly MediaFrame[] {
    return this.gop.frames;
  }

  pendingMediaTs(): number {
    return this.#batchNewestTs;
  }

  hasVideo(): boolean {
    return this.#sawVideo;
  }

  /**
   * Checks every subscriber's write deadline, and forgets subscribers that
   * closed themselves and were not removed by their owner (so a closed
   * observer nobody detached does not stay in the set).
   */
  checkStalls(now: number): void {
    for (const s of this.subscribers) {
      s.checkStall(now);
      if (s.closed) this.removeSubscriber(s);
    }
  }

  /** The stream as plain data (see StreamSnapshot); `now` on the stream's clock. */
  snapshot(now: number = this.#clock()): StreamSnapshot {
    const slash = this.key.indexOf("/");
    const p = this.publisher;
    const viewers = { total: 0, byProtocol: {} as Record<string, number> };
    let observers = 0;
    let framesDropped = this.#droppedByGone;
    for (const s of this.subscribers) {
      framesDropped += s.stats.framesDropped;
      if (s.observer) {
        observers++;
        continue;
      }
      viewers.total++;
      viewers.byProtocol[s.protocol] = (viewers.byProtocol[s.protocol] ?? 0) + 1;
    }
    for (const [protocol, n] of this.externalViewers) {
      viewers.total += n;
      viewers.byProtocol[protocol] = (viewers.byProtocol[protocol] ?? 0) + n;
    }
    return {
      key: this.key,
      app: slash < 0 ? "" : this.key.slice(0, slash),
      name: slash < 0 ? this.key : this.key.slice(slash + 1),
      state: this.state,
      publisher: p
        ? {
          id: p.id,
          ...(p.protocol !== undefined && { protocol: p.protocol }),
          ...(p.remote !== undefined && { remote: p.remote }),
          since: this.#publisherSince,
        }
        : null,
      video: this.#videoSnapshot(),
      audio: this.#audioSnapshot(),
      bitrate: this.#bitrates(now),
      gop: this.#lastGop ? { ...this.#lastGop } : {
        frames: this.#gopStartTs < 0 ? 0 : this.#gopFrames,
        durationMs: this.#gopStartTs < 0 ? 0 : this.#gopLastTs - this.#gopStartTs,
      },
      uptimeMs: Math.max(0, now - this.stats.publishedAt),
      viewers,
      observers,
      framesDropped,
      framesIn: this.stats.framesIn,
      bytesIn: this.stats.bytesIn,
      publishers: this.stats.publishers,
    };
  }

  /** Frames per second measured from the newest video timestamps; undefined with fewer than two. */
  measuredFrameRate(): number | undefined {
    const n = this.#fpsCount;
    if (n < 2) return undefined;
    const newest = this.#fpsTs[(this.#fpsNext - 1 + FPS_SAMPLES) % FPS_SAMPLES];
    const oldest = this.#fpsTs[(this.#fpsNext - n + FPS_SAMPLES) % FPS_SAMPLES];
    if (newest <= oldest) return undefined;
    return Math.round((n - 1) * 1000 / (newest - oldest) * 100) / 100;
  }

  #countVideo(timestamp: number, keyframe: boolean): void {
    this.#fpsTs[this.#fpsNext] = timestamp;
    this.#fpsNext = (this.#fpsNext + 1) % FPS_SAMPLES;
    if (this.#fpsCount < FPS_SAMPLES) this.#fpsCount++;
    if (keyframe) {
      if (this.#gopStartTs >= 0) {
        this.#lastGop = { frames: this.#gopFrames, durationMs: timestamp - this.#gopStartTs };
      }
      this.#gopStartTs = timestamp;
      this.#gopFrames = 1;
    } else if (this.#gopStartTs >= 0) {
      this.#gopFrames++;
    }
    this.#gopLastTs = timestamp;
  }

  #countBits(kind: FrameKind, bytes: number): void {
    const sec = Math.floor(this.#clock() / 1000);
    const i = sec & (RATE_BUCKETS - 1);
    if (this.#rateSec[i] !== sec) {
      this.#rateSec[i] = sec;
      this.#rateAudio[i] = 0;
      this.#rateVideo[i] = 0;
    }
    if (kind === FrameKind.Video) this.#rateVideo[i] += bytes * 8;
    else this.#rateAudio[i] += bytes * 8;
  }

  /** Bits per second over the complete seconds of the window (as many as the stream has lived, up to 5). */
  #bitrates(now: number): { video: number; audio: number } {
    const nowSec = Math.floor(now / 1000);
    const seconds = Math.min(BITRATE_WINDOW_S, nowSec - Math.floor(this.stats.publishedAt / 1000));
    if (seconds <= 0) return { video: 0, audio: 0 };
    let video = 0;
    let audio = 0;
    for (let sec = nowSec - seconds; sec < nowSec; sec++) {
      const i = sec & (RATE_BUCKETS - 1);
      if (this.#rateSec[i] !== sec) continue;
      video += this.#rateVideo[i];
      audio += this.#rateAudio[i];
    }
    return { video: Math.round(video / seconds), audio: Math.round(audio / seconds) };
  }

  #videoSnapshot(): VideoCodecInfo | null {
    const from = this.videoHeader?.payload ?? this.#lastVideo;
    if (!from) return null;
    if (this.#videoInfo?.from !== from) this.#videoInfo = { from, info: videoInfo(from) };
    const info = this.#videoInfo.info;
    if (!info) return null;
    const measured = info.frameRate === undefined ? this.measuredFrameRate() : undefined;
    return { ...info, ...(measured !== undefined && { frameRate: measured }) };
  }

  #audioSnapshot(): AudioCodecInfo | null {
    const from = this.audioHeader?.payload ?? this.#lastAudio;
    if (!from) return null;
    if (this.#audioInfo?.from !== from) this.#audioInfo = { from, info: audioInfo(from) };
    const info = this.#audioInfo.info;
    return info ? { ...info } : null;
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
    const window = mergeWindowFor(this.subscribers.size, this.#mergeWindowMs, this.#mergeWindowMaxMs);
    if (window > 0) this.#flushTimer = setTimeout(() => this.#flushNow(), window);
    else queueMicrotask(() => this.#flushNow());
  }

  /**
   * Hands out what was pushed since the last flush: the in-step groups' batches, each packed and
   * concatenated once, then every own queue; then the subscribers now in step join their group.
   */
  #flushNow(): void {
    clearTimeout(this.#flushTimer);
    this.#flushTimer = undefined;
    this.#flushPending = false;
    const batch = this.#batch;
    if (batch.length > 0) {
      const newestTs = this.#batchNewestTs;
      this.#batch = [];
      this.#batchBytes = 0;
      this.#batchNewestTs = -1;
      this.#sendBatch(batch, newestTs);
    }
    for (const s of this.#own) s.flush();
    this.#follow();
    const n = this.#newest;
    this.#flushed = { audio: n.audio, video: n.video, data: n.data };
  }

  /**
   * One batch to every in-step group: packed once by a member's packer and written to each member not
   * writing. A member still writing its previous batch, or whose share key changed, leaves the group: the
   * batch goes into its own queue, where a slow player meets the queue bounds as in every other case.
   */
  #sendBatch(batch: MediaFrame[], newestTs: number): void {
    let firstTs = -1;
    for (const f of batch) {
      if (f.kind !== FrameKind.Data && !f.sequenceHeader) {
        firstTs = f.timestamp;
        break;
      }
    }
    for (const [key, group] of this.#groups) {
      let bytes: Uint8Array | undefined;
      for (const s of group) {
        if (s.closed) {
          group.delete(s);
          this.#own.add(s); // removeSubscriber or checkStalls forgets it
        } else if (s.writing || s.shareKey !== key) {
          group.delete(s);
          this.#own.add(s);
          s.unfollow(this.#flushed, batch);
        } else {
          bytes ??= s.packBatch(this.#flushed, batch);
          s.sendShared(bytes, batch.length, firstTs, newestTs);
        }
      }
      if (group.size === 0) this.#groups.delete(key);
    }
  }

  /** Own-queue subscribers now in step join the group of their share key. */
  #follow(): void {
    for (const s of this.#own) {
      const key = s.followKey(this.#newest);
      if (key === undefined) continue;
      this.#own.delete(s);
      let group = this.#groups.get(key);
      if (!group) this.#groups.set(key, group = new Set());
      group.add(s);
      s.follow();
    }
  }

  #leaveGroup(sub: Subscriber): void {
    for (const [key, group] of this.#groups) {
      if (group.delete(sub)) {
        if (group.size === 0) this.#groups.delete(key);
        return;
      }
    }
  }
}

/** Re-exported for outputs that switch on events. */
export type { StreamEvent };
