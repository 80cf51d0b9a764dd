/**
 * Segmenter: one stream's frames cut into HLS Media Segments and Partial
 * Segments (RFC 8216, draft-pantos-hls-rfc8216bis), held in memory for the
 * HTTP side to serve. One per stream and container; the container
 * (`HlsContainer`: MPEG-TS or fMP4) only packs the runs of frames it is given.
 * Pure and synchronous: no timers, no sockets, nothing on disk; the wall clock
 * comes with each frame.
 *
 * Policy:
 * - Sequence headers and metadata go to `container.configure()`. A `true`
 *   answer (codec change), a change of the fMP4 init after media was packed,
 *   and `discontinuity()` (the publisher came back) end the open segment; the
 *   next one carries `EXT-X-DISCONTINUITY`. Before a changed sequence header
 *   reaches the container the open part is packed, so its frames are packed
 *   with the configuration they were coded with.
 * - With video (a video frame or sequence header seen, or `hasVideo: true`) a
 *   segment starts at a keyframe and is cut before the first keyframe at or
 *   after `targetDurationMs`, so it follows the GOP. Until the first keyframe
 *   (and after a discontinuity, until the next one) frames are dropped.
 *   Audio only (no video evidence within `audioOnlyAfterMs` of audio, or
 *   `hasVideo: false`): a cut before the first audio frame at or after the
 *   target. A GOP longer than the target makes a longer segment and raises
 *   TARGETDURATION (which never decreases).
 * - Caps: a segment reaching `maxSegmentMs` or `maxSegmentBytes` is cut at the
 *   next frame even if it is no keyframe. That segment is marked
 *   `independent: false` (its first part has no INDEPENDENT=YES and the
 *   playlist leaves out EXT-X-INDEPENDENT-SEGMENTS while it is listed) and
 *   counted in `stats.forcedCuts`.
 * - Parts: frames collect into the open part, which is packed when a frame
 *   arrives that would let it pass `partTargetMs`: the frame joins only if its
 *   timestamp plus the frame spacing (the largest of the last 16 steps of the
 *   timeline) stays within part start + target. So a part lasts at most the
 *   target (4.4.4.9: DURATION <= PART-TARGET) and, with a spacing below 15% of
 *   the target (25 fps and up at 333 ms), at least 85% of it. A step longer
 *   than the spacing (a gap in the media) can still overrun; that is counted
 *   in `stats.partOverruns`. A part is INDEPENDENT when its first frame is a
 *   keyframe (every part of an audio-only stream).
 * - Durations are measured on the stream's timeline, made monotonic across
 *   kinds (audio and video may interleave a few ms out of order): a part ends
 *   where the next starts; a segment's duration is the sum of its parts.
 *   Where no next frame is known (discontinuity, end, a codec change), the
 *   part ends one frame spacing after its newest frame.
 * - A segment's bytes are its parts' bytes concatenated (valid for TS and for
 *   CMAF fMP4): packed once into one buffer when the segment completes, the
 *   parts then being views into it.
 * - EXT-X-PROGRAM-DATE-TIME: the wall clock at ingest of the segment's first
 *   frame, but never before the previous segment's date plus its duration (a
 *   burst, e.g. a GOP cache delivered at once, would otherwise give segments
 *   the same date).
 * - Window: the newest `windowSegments` complete segments are listed (more
 *   while fewer would last under three Target Durations, RFC 8216 6.2.2). An
 *   evicted segment stays fetchable for its duration plus the playlist's
 *   duration (6.2.2), and at least three Target Durations (rfc8216bis 6.2.2:
 *   parts stay downloadable that long after their EXT-X-PART tags go). Past
 *   `maxBytes` held, retained segments go first, then the oldest listed ones
 *   (`stats.evictedForBytes`).
 * - Numbering: media sequence numbers from 0, part indexes from 0 in each
 *   segment; DISCONTINUITY-SEQUENCE counts the discontinuities evicted.
 *
 * Bytes returned by `segment()`, `part()` and `init()` are owned by the
 * segmenter and shared: callers never mutate them. They stay valid as long as
 * the caller holds them (eviction only drops the segmenter's reference).
 *
 * @module
 */
import { concatBytes } from "../bytes.ts";
import { Emitter } from "../hub/events.ts";
import { Logger } from "../log.ts";
import { FrameKind, type MediaFrame } from "../media/frame.ts";
import type { ContainerKind, HlsContainer } from "./container.ts";

/** Options of a Segmenter; every one has a default in SEGMENTER_DEFAULTS. */
export interface SegmenterOptions {
  /** The segment duration aimed at (ms); with video the GOP decides, cut at the first keyframe past it. */
  targetDurationMs?: number;
  /** PART-TARGET (ms), 200-500 (Apple's LL-HLS guidance; rfc8216bis leaves it to the server). */
  partTargetMs?: number;
  /** Complete segments listed in the playlist. */
  windowSegments?: number;
  /** A segment is cut at the next frame once it lasts this long (ms), keyframe or not. */
  maxSegmentMs?: number;
  /** A segment is cut at the next frame once it holds this many bytes, keyframe or not. */
  maxSegmentBytes?: number;
  /** Bytes held in all (open, listed, retained segments and init sections) before segments are dropped. */
  maxBytes?: number;
  /** Frames in one part; more frames at one timestamp than this are dropped. */
  maxPartFrames?: number;
  /** Audio with no sign of video for this long (ms) makes the stream audio-only. */
  audioOnlyAfterMs?: number;
  /** true: wait for video keyframes from the start; false: audio only, video ignored; undefined: find out. */
  hasVideo?: boolean;
  /** Bound on onChange() listeners. */
  maxListeners?: number;
  /** Where a throwing onChange() listener is reported. */
  log?: Logger;
}

/** The defaults of SegmenterOptions. */
export const SEGMENTER_DEFAULTS = {
  targetDurationMs: 2_000,
  partTargetMs: 333,
  windowSegments: 6,
  maxSegmentMs: 10_000,
  maxSegmentBytes: 16 * 1024 * 1024,
  maxBytes: 128 * 1024 * 1024,
  maxPartFrames: 2_048,
  audioOnlyAfterMs: 1_000,
  maxListeners: 64,
} as const;

/** Ranges the numeric options must fall in (integers, inclusive). */
export const SEGMENTER_LIMITS = {
  /** EXT-X-TARGETDURATION is an integer of at least 1 s (RFC 8216 4.3.3.1); 30 s is far past any live use. */
  targetDurationMs: { min: 1_000, max: 30_000 },
  /** The part target range the lead chose (Apple's LL-HLS authoring guidance: 0.2 to 0.5 s). */
  partTargetMs: { min: 200, max: 500 },
  windowSegments: { min: 1, max: 1_000 },
  maxSegmentMs: { min: 1_000, max: 120_000 },
  maxSegmentBytes: { min: 64 * 1024, max: 1024 * 1024 * 1024 },
  maxBytes: { min: 64 * 1024, max: 8 * 1024 * 1024 * 1024 },
  maxPartFrames: { min: 1, max: 1_000_000 },
  audioOnlyAfterMs: { min: 0, max: 60_000 },
  maxListeners: { min: 1, max: 10_000 },
} as const;

/**
 * Numbers from the specs the segmenter applies.
 */
const Spec = {
  /** RFC 8216 6.2.2: a segment may leave the playlist only if what stays lasts 3 Target Durations or more. */
  minPlaylistTargetDurations: 3,
  /** rfc8216bis 6.2.2: a part stays downloadable 3 Target Durations after its EXT-X-PART tag goes. */
  partAvailableTargetDurations: 3,
} as const;

/** How far the media-based date may drift from the wall clock before the wall clock is taken again, ms. */
const PDT_RESYNC_MS = 1_000;

/** Steps of the timeline kept to estimate the frame spacing (the largest of them). */
const SPACING_STEPS = 16;
/** The spacing assumed before two frames are seen: one frame at 25 fps. */
const DEFAULT_SPACING_MS = 40;
/**
 * A keyframe this close before the target still cuts (a timestamp rounded to whole ms can land 1 ms
 * early); the segment then rounds to the target all the same.
 */
const CUT_TOLERANCE_MS = 10;

/** One Partial Segment as the playlist writer sees it. */
export interface PartSnapshot {
  /** Part index within its segment, from 0. */
  readonly index: number;
  readonly durationMs: number;
  /** Starts with a keyframe (every part of an audio-only stream). */
  readonly independent: boolean;
}

/** One Media Segment as the playlist writer sees it (the open one too, with the parts so far). */
export interface SegmentSnapshot {
  /** Media sequence number. */
  readonly msn: number;
  /** Complete: the EXTINF duration; open: the parts so far. */
  readonly durationMs: number;
  /** EXT-X-PROGRAM-DATE-TIME, ms since the epoch. */
  readonly programDateTimeMs: number;
  /** EXT-X-DISCONTINUITY goes before it. */
  readonly discontinuity: boolean;
  /** Starts with a keyframe (false after a forced cut). */
  readonly independent: boolean;
  /** The init section version (see Segmenter.init()) it needs; 0: none (TS). */
  readonly initVersion: number;
  readonly parts: readonly PartSnapshot[];
}

/** Plain data for the playlist writer. Do not mutate. */
export interface SegmenterSnapshot {
  readonly container: ContainerKind;
  /** EXT-X-TARGETDURATION: an integer >= every segment's duration rounded; never decreases. */
  readonly targetDurationS: number;
  /** PART-TARGET, as configured. */
  readonly partTargetMs: number;
  /** EXT-X-MEDIA-SEQUENCE: the first listed segment's number (the next one when none is listed). */
  readonly mediaSequence: number;
  /** EXT-X-DISCONTINUITY-SEQUENCE: discontinuities evicted. */
  readonly discontinuitySequence: number;
  /** The complete segments listed, oldest first. */
  readonly segments: readonly SegmentSnapshot[];
  /** The segment being built, with its parts so far; undefined between segments. */
  readonly open: SegmentSnapshot | undefined;
  /** The part that comes next (EXT-X-PRELOAD-HINT); undefined once ended. */
  readonly nextPart: { readonly msn: number; readonly index: number } | undefined;
  /** end() was called: no more segments (EXT-X-ENDLIST). */
  readonly ended: boolean;
}

/** What changed, for the requests waiting on the segmenter. */
export const SegmenterChangeType = {
  /** A part was added. */
  Part: "part",
  /** A segment completed (with its last part). */
  Segment: "segment",
  /** A discontinuity: the open segment ended, the next one will be marked. */
  Discontinuity: "discontinuity",
  /** end(): no more parts. */
  End: "end",
} as const;
export type SegmenterChangeType = typeof SegmenterChangeType[keyof typeof SegmenterChangeType];

/** One change notification: what happened and the newest part since. */
export interface SegmenterChange {
  readonly type: SegmenterChangeType;
  /** Media sequence number of the newest part; -1 when there is none yet. */
  readonly lastMsn: number;
  /** Index of the newest part in its segment; -1 when there is none yet. */
  readonly lastPart: number;
}

/** Counters for the admin side and tests. */
export interface SegmenterStats {
  /** Audio and video frames pushed. */
  framesIn: number;
  /** Frames dropped: before the first keyframe, while deciding whether there is video, over a cap. */
  framesDropped: number;
  parts: number;
  segments: number;
  /** Segments cut without a keyframe by maxSegmentMs or maxSegmentBytes. */
  forcedCuts: number;
  /** Parts that came out longer than the part target (a gap in the media). */
  partOverruns: number;
  /** Segments dropped early because maxBytes was reached. */
  evictedForBytes: number;
  /** Bytes held now. */
  bytesHeld: number;
}

interface Part {
  index: number;
  startMs: number;
  durationMs: number;
  independent: boolean;
  bytes: Uint8Array;
}

interface Segment {
  msn: number;
  startMs: number;
  durationMs: number;
  programDateTimeMs: number;
  discontinuity: boolean;
  independent: boolean;
  initVersion: number;
  parts: Part[];
  /** Sum of the parts' bytes. */
  byteLength: number;
  /** Set when complete: the parts' bytes concatenated. */
  bytes?: Uint8Array;
  /** Wall clock after which an evicted segment is dropped. */
  expiresAt: number;
}

interface OpenPart {
  startMs: number;
  frames: MediaFrame[];
  independent: boolean;
  byteLength: number;
}

type Mode = "undecided" | "video" | "audio";

type Resolved = Required<Omit<SegmenterOptions, "hasVideo" | "log">> & { hasVideo: boolean | undefined };

function resolve(options: SegmenterOptions): Resolved {
  const out = { ...SEGMENTER_DEFAULTS, hasVideo: options.hasVideo } as Resolved;
  for (const key of Object.keys(SEGMENTER_LIMITS) as (keyof typeof SEGMENTER_LIMITS)[]) {
    const v = options[key];
    if (v === undefined) continue;
    const { min, max } = SEGMENTER_LIMITS[key];
    if (!Number.isInteger(v) || v < min || v > max) {
      throw new RangeError(
        `Cannot create Segmenter: ${key} is ${v}, expected an integer from ${min} to ${max}`,
      );
    }
    out[key] = v;
  }
  if (out.maxSegmentBytes > out.maxBytes) {
    throw new RangeError(
      `Cannot create Segmenter: maxSegmentBytes is ${out.maxSegmentBytes}, expected at most maxBytes (${out.maxBytes})`,
    );
  }
  if (out.maxSegmentMs < out.targetDurationMs) {
    throw new RangeError(
      `Cannot create Segmenter: maxSegmentMs is ${out.maxSegmentMs}, expected at least targetDurationMs (${out.targetDurationMs})`,
    );
  }
  return out;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Cuts one stream into segments and parts through one container. */
export class Segmenter {
  readonly container: HlsContainer;
  readonly options: Readonly<Resolved>;
  readonly stats: SegmenterStats = {
    framesIn: 0,
    framesDropped: 0,
    parts: 0,
    segments: 0,
    forcedCuts: 0,
    partOverruns: 0,
    evictedForBytes: 0,
    bytesHeld: 0,
  };

  #emitter: Emitter<SegmenterChange>;
  #mode: Mode;
  #ended = false;
  /** The timeline position (ms): the largest timestamp taken, or where the last part ended. */
  #clock = -Infinity;
  #steps: number[] = [];
  #wall = 0;
  #firstAudioTs: number | undefined;
  #pendingDiscontinuity = false;
  /** cutAtNextFrame() was called: the next frame ends the open segment. */
  #cutNext = false;
  #nextMsn = 0;
  #open: Segment | undefined;
  #openPart: OpenPart | undefined;
  /** Complete segments listed, oldest first. */
  #listed: Segment[] = [];
  /** Evicted segments still fetchable, oldest first. */
  #retained: Segment[] = [];
  #discontinuitySequence = 0;
  #targetDurationS: number;
  #lastConfig = new Map<number, Uint8Array>();
  #initVersion = 0;
  #inits = new Map<number, Uint8Array>();
  #snapshot: SegmenterSnapshot | undefined;
  #change: SegmenterChangeType | undefined;
  #waiter: PromiseWithResolvers<SegmenterChange> | undefined;

  constructor(container: HlsContainer, options: SegmenterOptions = {}) {
    this.container = container;
    this.options = resolve(options);
    this.#mode = this.options.hasVideo === true
      ? "video"
      : this.options.hasVideo === false
      ? "audio"
      : "undecided";
    this.#targetDurationS = Math.ceil(this.options.targetDurationMs / 1000);
    this.#emitter = new Emitter<SegmenterChange>(
      "hls segmenter",
      options.log ?? new Logger("[hls] "),
      this.options.maxListeners,
    );
  }

  /**
   * Takes the next frame of the stream in hub order, with the wall clock (ms
   * since the epoch) at ingest. Sequence headers and data frames configure
   * the container; audio and video frames are segmented.
   */
  push(frame: MediaFrame, wallClockMs: number): void {
    if (this.#ended) throw new TypeError(`Cannot push a frame: current segmenter has ended`);
    if (!Number.isFinite(wallClockMs)) {
      throw new TypeError(`Cannot push a frame: wallClockMs is ${wallClockMs}, expected a finite number`);
    }
    this.#wall = wallClockMs;
    if (frame.kind === FrameKind.Data || frame.sequenceHeader) {
      this.#configure(frame);
    } else if (frame.kind === FrameKind.Audio || frame.kind === FrameKind.Video) {
      this.stats.framesIn++;
      this.#media(frame);
    }
    this.#expire();
    this.#notify();
  }

  /**
   * The publisher came back (hub "resume"): the open segment ends now, and
   * the next one starts at a keyframe (audio only: the next audio frame) with
   * EXT-X-DISCONTINUITY.
   */
  discontinuity(): void {
    if (this.#ended) throw new TypeError(`Cannot mark a discontinuity: current segmenter has ended`);
    this.#endSegment(this.#estimatedEnd());
    if (this.#nextMsn > 0) {
      this.#pendingDiscontinuity = true;
      this.#change ??= SegmenterChangeType.Discontinuity;
    }
    this.#notify();
  }

  /**
   * The open segment ends at the next frame, keyframe or not (the segment after it is then not
   * independent). A stream muxed from a GOP cache burst calls this after the burst, so its first playlist
   * lists a complete segment (starting at the cached keyframe) at once instead of a GOP later. Nothing
   * happens when no segment is open.
   */
  cutAtNextFrame(): void {
    if (this.#open) this.#cutNext = true;
  }

  /** The stream is over: the open segment is completed and nothing more is taken (EXT-X-ENDLIST). */
  end(): void {
    if (this.#ended) return;
    this.#endSegment(this.#estimatedEnd());
    this.#ended = true;
    this.#change = SegmenterChangeType.End;
    this.#invalidate();
    this.#notify();
  }

  /** Whether end() was called. */
  get ended(): boolean {
    return this.#ended;
  }

  /** A complete segment's bytes (listed or retained); undefined when unknown, open, or gone. */
  segment(msn: number): Uint8Array | undefined {
    return this.#find(msn)?.bytes;
  }

  /** A part's bytes (of the open segment too); undefined when not (yet) there or gone. */
  part(msn: number, index: number): Uint8Array | undefined {
    const seg = this.#open?.msn === msn ? this.#open : this.#find(msn);
    return seg?.parts[index]?.bytes;
  }

  /**
   * The fMP4 init section: the current one, or the given version while a held
   * segment needs it. The version grows each time configure() changes the
   * bytes. Undefined for TS, before configuration, or for a version no held
   * segment needs.
   */
  init(version?: number): { bytes: Uint8Array; version: number } | undefined {
    const v = version ?? this.#initVersion;
    const bytes = this.#inits.get(v);
    return bytes === undefined ? undefined : { bytes, version: v };
  }

  /**
   * Calls `listener` after each push() or call that added a part or segment,
   * marked a discontinuity or ended; returns the function that removes it. At
   * most `maxListeners` (TypeError past it): one listener per stream that
   * wakes its own waiters, not one per request.
   */
  onChange(listener: (change: SegmenterChange) => void): () => void {
    return this.#emitter.on(listener);
  }

  /**
   * Resolves at the next change (async-friendly: one shared promise, no
   * listener per waiter).
   */
  nextChange(): Promise<SegmenterChange> {
    this.#waiter ??= Promise.withResolvers<SegmenterChange>();
    return this.#waiter.promise;
  }

  /** Plain data for the playlist writer; the same object until the next change. Do not mutate. */
  snapshot(): SegmenterSnapshot {
    if (this.#snapshot) return this.#snapshot;
    const open = this.#open;
    const ended = this.#ended;
    this.#snapshot = {
      container: this.container.kind,
      targetDurationS: this.#targetDurationS,
      partTargetMs: this.options.partTargetMs,
      mediaSequence: this.#listed[0]?.msn ?? open?.msn ?? this.#nextMsn,
      discontinuitySequence: this.#discontinuitySequence,
      segments: this.#listed.map(segmentSnapshot),
      open: open ? segmentSnapshot(open) : undefined,
      nextPart: ended
        ? undefined
        : open
        ? { msn: open.msn, index: open.parts.length }
        : { msn: this.#nextMsn, index: 0 },
      ended,
    };
    return this.#snapshot;
  }

  // ---- configuration

  #configure(frame: MediaFrame): void {
    if (frame.kind === FrameKind.Video) {
      if (this.#mode === "audio" && this.options.hasVideo === false) return;
      this.#sawVideo();
    }
    const prev = this.#lastConfig.get(frame.kind);
    const differs = frame.kind !== FrameKind.Data && (prev === undefined || !sameBytes(prev, frame.payload));
    if (frame.kind !== FrameKind.Data) this.#lastConfig.set(frame.kind, frame.payload);
    // Pack what was coded under the old configuration before the container takes the new one.
    if (differs && this.#openPart) this.#closePart(this.#estimatedEnd());
    const changed = this.container.configure(frame);
    const initChanged = this.#refreshInit();
    if (changed || (initChanged && this.#open && this.#open.parts.length > 0)) {
      this.#endSegment(this.#estimatedEnd());
      this.#pendingDiscontinuity = this.#nextMsn > 0;
    }
  }

  /** Reads the container's init section; true when it changed (a new version). */
  #refreshInit(): boolean {
    const bytes = this.container.init();
    if (bytes === undefined) return false;
    const current = this.#inits.get(this.#initVersion);
    if (current !== undefined && sameBytes(current, bytes)) return false;
    this.#initVersion++;
    this.#inits.set(this.#initVersion, bytes);
    this.stats.bytesHeld += bytes.length;
    this.#pruneInits();
    return true;
  }

  /** Video is there: an undecided stream becomes a video one; an audio-only one switches with a discontinuity. */
  #sawVideo(): void {
    if (this.#mode === "video") return;
    if (this.#mode === "audio") {
      this.#endSegment(this.#estimatedEnd());
      this.#pendingDiscontinuity = this.#nextMsn > 0;
    }
    this.#mode = "video";
  }

  // ---- media

  #media(frame: MediaFrame): void {
    const video = frame.kind === FrameKind.Video;
    if (video) {
      if (this.#mode === "audio" && this.options.hasVideo === false) return this.#drop();
      this.#sawVideo();
    } else if (this.#mode === "undecided") {
      this.#firstAudioTs ??= frame.timestamp;
      if (frame.timestamp - this.#firstAudioTs < this.options.audioOnlyAfterMs) return this.#drop();
      this.#mode = "audio";
    }
    const startsGroup = video ? frame.keyframe : this.#mode === "audio";
    const seg = this.#open;
    if (!seg) {
      if (!startsGroup) return this.#drop();
      // A new segment after a discontinuity starts a new timeline at its first frame.
      const restart = this.#pendingDiscontinuity || this.#clock === -Infinity;
      const at = restart ? frame.timestamp : Math.max(this.#clock, frame.timestamp);
      this.#step(at);
      return this.#openSegment(frame, at, true);
    }
    const at = Math.max(this.#clock, frame.timestamp);
    this.#step(at);
    const part = this.#openPart; // undefined after a changed sequence header packed it early
    const o = this.options;
    const segmentMs = at - seg.startMs;
    const canEnd = part === undefined || at > part.startMs;
    const partBytes = part?.byteLength ?? 0;
    if (this.#cutNext && canEnd) {
      this.#cutNext = false;
      if (!startsGroup) this.stats.forcedCuts++;
      this.#cut(at, frame, startsGroup);
    } else if (
      startsGroup && canEnd && (segmentMs + CUT_TOLERANCE_MS >= o.targetDurationMs || !seg.independent)
    ) {
      // A segment that began without a keyframe (a forced cut) ends at the first one: players that
      // cannot start inside it get an independent segment as soon as there is one.
      this.#cut(at, frame, true);
    } else if (canEnd && (segmentMs >= o.maxSegmentMs || seg.byteLength + partBytes >= o.maxSegmentBytes)) {
      if (!startsGroup) this.stats.forcedCuts++;
      this.#cut(at, frame, startsGroup);
    } else if (part === undefined) {
      this.#startPart(frame, at, startsGroup);
    } else if (
      canEnd &&
      (at + this.#spacing() > part.startMs + o.partTargetMs || part.frames.length >= o.maxPartFrames)
    ) {
      this.#closePart(at);
      this.#startPart(frame, at, startsGroup);
    } else if (part.frames.length >= o.maxPartFrames) {
      this.#drop();
    } else {
      part.frames.push(frame);
      part.byteLength += frame.payload.length;
    }
  }

  #drop(): void {
    this.stats.framesDropped++;
  }

  /** Records a step of the timeline (for the spacing estimate) and moves the clock to `at`. */
  #step(at: number): void {
    // A new timeline (after a discontinuity) starting behind the old one is no step.
    if (this.#clock !== -Infinity && at >= this.#clock) {
      this.#steps.push(at - this.#clock);
      if (this.#steps.length > SPACING_STEPS) this.#steps.shift();
    }
    this.#clock = at;
  }

  /** The largest recent step of the timeline: how far the next frame may be. */
  #spacing(): number {
    return this.#steps.length === 0 ? DEFAULT_SPACING_MS : Math.max(...this.#steps);
  }

  /** Where the open part ends when no next frame tells: one spacing after its newest frame, within the target. */
  #estimatedEnd(): number {
    const part = this.#openPart;
    if (!part) return this.#clock;
    const end = Math.min(this.#clock + this.#spacing(), part.startMs + this.options.partTargetMs);
    return Math.max(end, this.#clock);
  }

  /** Ends the open segment before `frame` (at `at`) and opens the next one with it. */
  #cut(at: number, frame: MediaFrame, independent: boolean): void {
    this.#closePart(at);
    this.#completeSegment();
    this.#openSegment(frame, at, independent);
  }

  #openSegment(frame: MediaFrame, at: number, independent: boolean): void {
    const discontinuity = this.#pendingDiscontinuity;
    this.#pendingDiscontinuity = false;
    const prev = this.#listed.at(-1);
    const earliest = prev ? prev.programDateTimeMs + prev.durationMs : -Infinity;
    // On one media timeline (the hub keeps timestamps going across a publisher's return), the date follows
    // the media: players align segments across EXT-X-DISCONTINUITY by their dates, and a date that jumped
    // by the reconnect's wall-clock gap while the media did not makes them misplace what follows. The wall
    // clock wins again when the two drift apart by more than PDT_RESYNC_MS.
    const byMedia = prev && at >= prev.startMs ? prev.programDateTimeMs + (at - prev.startMs) : undefined;
    const date = byMedia !== undefined && Math.abs(this.#wall - byMedia) < PDT_RESYNC_MS
      ? byMedia
      : Math.max(this.#wall, earliest);
    this.#open = {
      msn: this.#nextMsn++,
      startMs: at,
      durationMs: 0,
      programDateTimeMs: date,
      discontinuity,
      independent,
      initVersion: this.#initVersion,
      parts: [],
      byteLength: 0,
      expiresAt: Infinity,
    };
    this.#startPart(frame, at, independent);
  }

  #startPart(frame: MediaFrame, at: number, independent: boolean): void {
    this.#openPart = { startMs: at, frames: [frame], independent, byteLength: frame.payload.length };
  }

  /** Packs the open part, ending at `end` (the next frame's position). */
  #closePart(end: number): void {
    const part = this.#openPart;
    const seg = this.#open;
    if (!part || !seg) return;
    this.#openPart = undefined;
    const bytes = this.container.pack(part.frames, end, seg.parts.length === 0);
    const durationMs = end - part.startMs;
    if (durationMs > this.options.partTargetMs) this.stats.partOverruns++;
    seg.parts.push({
      index: seg.parts.length,
      startMs: part.startMs,
      durationMs,
      independent: part.independent,
      bytes,
    });
    seg.durationMs = end - seg.startMs;
    seg.byteLength += bytes.length;
    this.#clock = Math.max(this.#clock, end);
    this.stats.parts++;
    this.stats.bytesHeld += bytes.length;
    this.#change = SegmenterChangeType.Part;
    this.#invalidate();
  }

  /** Ends the open segment at `end`: its open part is packed and the segment completed. */
  #endSegment(end: number): void {
    if (this.#openPart) this.#closePart(end);
    this.#completeSegment();
  }

  #completeSegment(): void {
    const seg = this.#open;
    if (!seg) return;
    this.#open = undefined;
    if (seg.parts.length === 0) return;
    seg.bytes = concatBytes(seg.parts.map((p) => p.bytes));
    let at = 0;
    for (const p of seg.parts) {
      p.bytes = seg.bytes.subarray(at, at + p.bytes.length);
      at += p.bytes.length;
    }
    this.#targetDurationS = Math.max(this.#targetDurationS, Math.round(seg.durationMs / 1000));
    this.#listed.push(seg);
    this.stats.segments++;
    this.#change = SegmenterChangeType.Segment;
    this.#slideWindow();
    this.#invalidate();
  }

  // ---- window, retention, caps

  #slideWindow(): void {
    const minListedMs = Spec.minPlaylistTargetDurations * this.#targetDurationS * 1000;
    let listedMs = this.#listed.reduce((n, s) => n + s.durationMs, 0);
    while (
      this.#listed.length > this.options.windowSegments &&
      listedMs - this.#listed[0].durationMs >= minListedMs
    ) {
      const seg = this.#unlist();
      const keepMs = Math.max(
        seg.durationMs + listedMs,
        Spec.partAvailableTargetDurations * this.#targetDurationS * 1000,
      );
      listedMs -= seg.durationMs;
      seg.expiresAt = this.#wall + keepMs;
      this.#retained.push(seg);
    }
  }

  /** Takes the oldest listed segment out of the playlist. */
  #unlist(): Segment {
    const seg = this.#listed.shift()!;
    // RFC 8216 6.2.2: removing an EXT-X-DISCONTINUITY tag increments EXT-X-DISCONTINUITY-SEQUENCE.
    if (seg.discontinuity) this.#discontinuitySequence++;
    return seg;
  }

  #expire(): void {
    let dropped = false;
    while (this.#retained.length > 0 && this.#retained[0].expiresAt <= this.#wall) {
      this.#forget(this.#retained.shift()!);
      dropped = true;
    }
    while (this.stats.bytesHeld > this.options.maxBytes) {
      if (this.#retained.length > 0) {
        this.#forget(this.#retained.shift()!);
      } else if (this.#listed.length > 1) {
        this.#forget(this.#unlist());
        this.#invalidate();
      } else {
        break;
      }
      this.stats.evictedForBytes++;
      dropped = true;
    }
    if (dropped) this.#pruneInits();
  }

  #forget(seg: Segment): void {
    this.stats.bytesHeld -= seg.byteLength;
  }

  /** Drops init versions no held segment needs (the current one stays). */
  #pruneInits(): void {
    if (this.#inits.size <= 1) return;
    const needed = new Set<number>([this.#initVersion]);
    for (const s of this.#retained) needed.add(s.initVersion);
    for (const s of this.#listed) needed.add(s.initVersion);
    if (this.#open) needed.add(this.#open.initVersion);
    for (const [v, bytes] of this.#inits) {
      if (!needed.has(v)) {
        this.#inits.delete(v);
        this.stats.bytesHeld -= bytes.length;
      }
    }
  }

  #find(msn: number): Segment | undefined {
    for (const list of [this.#listed, this.#retained]) {
      if (list.length === 0) continue;
      const i = msn - list[0].msn;
      if (i >= 0 && i < list.length && list[i].msn === msn) return list[i];
    }
    return undefined;
  }

  // ---- notification

  #invalidate(): void {
    this.#snapshot = undefined;
  }

  #notify(): void {
    const type = this.#change;
    if (type === undefined) return;
    this.#change = undefined;
    this.#invalidate();
    const last = this.#lastPart();
    const change: SegmenterChange = { type, lastMsn: last.msn, lastPart: last.index };
    const waiter = this.#waiter;
    this.#waiter = undefined;
    this.#emitter.emit(change);
    waiter?.resolve(change);
  }

  #lastPart(): { msn: number; index: number } {
    const open = this.#open;
    if (open && open.parts.length > 0) return { msn: open.msn, index: open.parts.length - 1 };
    const seg = this.#listed.at(-1);
    return seg ? { msn: seg.msn, index: seg.parts.length - 1 } : { msn: -1, index: -1 };
  }
}

function segmentSnapshot(s: Segment): SegmentSnapshot {
  return {
    msn: s.msn,
    durationMs: s.durationMs,
    programDateTimeMs: s.programDateTimeMs,
    discontinuity: s.discontinuity,
    independent: s.independent,
    initVersion: s.initVersion,
    parts: s.parts.map((p) => ({ index: p.index, durationMs: p.durationMs, independent: p.independent })),
  };
}
