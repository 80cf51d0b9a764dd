/**
 * FeedRing: a feed written to a ring buffer file of whole FLV tags, whether
 * or not anyone plays it, from which players can start in the past (ffserver's
 * feed file with `FileMaxSize`, made crash-safe and self-contained). The
 * format is ring_format.ts.
 *
 * Policy:
 * - Bounded on disk: the file never grows beyond `maxBytes`. It holds a
 *   header block and N = floor(maxBytes / 4096) - 1 data blocks (at least 16),
 *   grows as blocks are written, and wraps, each new block overwriting the
 *   oldest. Index entries in an overwritten block go first; a reader inside it
 *   jumps to the oldest group start left and counts a skip.
 * - Bounded in memory, never blocking the publisher: `append()` is
 *   synchronous. It encodes into a pending buffer that an internal loop writes
 *   to the file (one write per contiguous run, wrapping); past
 *   `maxPendingBytes` of pending bytes (a slow disk) the ring drops frames
 *   until the next group start that fits, counts them and warns once per 10 s.
 *   No fdatasync: a `kill -9` keeps everything that reached the kernel (the
 *   loop writes as soon as it can, so at most the last few ms are lost), a
 *   power loss may lose the last seconds the kernel had not written back.
 * - Self-contained entry points: the ring keeps the latest metadata
 *   (`onMetaData`) and sequence headers. Before every video keyframe (and,
 *   when no video frame or video sequence header came for
 *   AUDIO_ONLY_AFTER_MS, before the first audio frame every AUDIO_GROUP_MS)
 *   it writes a *group start*: the metadata, the sequence headers, then that
 *   frame, all with the frame's timestamp. The index holds one entry per
 *   group start, so a reader that starts at any entry gets what a decoder
 *   needs, even when the original headers were overwritten long ago. A
 *   changed header or metadata is also written at once where it arrives (a
 *   reader that follows the writer needs it before the next keyframe); an
 *   unchanged one is not written again. Other data (onCuePoint, ...) is
 *   written as it comes.
 * - One media timeline over the file's life: the ring maps each run's
 *   timestamps (the hub's, which start at 0 on a new publish) to
 *   `newest + 1 + (ts - the run's first audio or video ts)`, never below the
 *   newest timestamp written, so a reader's timestamps never go backwards (a
 *   frame a few ms out of order between audio and video takes the newest
 *   timestamp). Metadata, sequence headers and other data take the
 *   timeline's current position, as in the hub.
 *   `newRun()` starts a run; opening the ring starts one too, so after a
 *   restart the timeline goes on 1 ms after the newest record in the file.
 * - Crash-safe: every record carries a CRC-32 and a serial number. On
 *   reopen the ring reads every block and record (RingScanner), keeps what is
 *   intact, drops a torn tail, rebuilds the index and the latest headers, and
 *   writes on from a fresh block after the newest valid one.
 * - One writer: the file is locked (flock) while open; a second open of the
 *   same file, from this process or another, is a TypeError.
 *
 * Readers (RingReader) read with positioned reads from the file, and from
 * the pending buffer for what is not written yet. A tag's payload is a new
 * array the reader never touches again. Where a restart left the rest of a
 * block unwritten, the ring knows where the records go on (a bridge, found
 * by the reopen scan: the serials follow on across it), so a reader crosses
 * restarts without a resync; a damaged record (records lost: the serials
 * jump) makes a reader go on at the next block's first record, counted in
 * `resyncs`, and is warned about once at reopen.
 *
 * @module
 */
import { Amf0Marker } from "../amf/amf0.ts";
import { log as rootLog, type Logger } from "../log.ts";
import { FrameKind } from "../media/frame.ts";
import {
  blockSeqOf,
  decodeBlockHeader,
  decodeFileHeader,
  decodeRecordHeader,
  encodeFileHeader,
  encodeRecord,
  filePositionOf,
  headerProblem,
  layoutRecords,
  MAX_RECORD_TIMESTAMP,
  rawEndOf,
  readRecord,
  recordBytesOf,
  RecordFlag,
  recordStartOf,
  RingLayout,
  RingScanner,
} from "./ring_format.ts";

const BS = RingLayout.BlockSize;
const BHS = RingLayout.BlockHeaderSize;
const RHS = RingLayout.RecordHeaderSize;

/** The smallest `maxBytes`: the header block and RingLayout.MinDataBlocks data blocks. */
export const RING_MIN_BYTES: number = (RingLayout.MinDataBlocks + 1) * BS;
/** The largest `maxBytes`: a block count must fit the header's u32. */
export const RING_MAX_BYTES: number = 0xffff_ffff * BS;
/** Default of RingOptions.maxPendingBytes: 8 MiB. */
export const DEFAULT_MAX_PENDING_BYTES = 8 * 1024 * 1024;
/** An audio-only stream gets a group start at its first audio frame this long after the previous one, ms. */
export const AUDIO_GROUP_MS = 2_000;
/** A stream counts as audio-only when no video frame came for this long (media time), ms. */
export const AUDIO_ONLY_AFTER_MS = 5_000;
/** Readers open on one ring at once; one more is a TypeError (a reader per request that is never closed leaks). */
export const MAX_RING_READERS = 1_024;
/** A reader reads this much of the file ahead at a time. */
const READ_AHEAD_BYTES = 64 * 1024;
/** Blocks read at a time when a ring is reopened (1 MiB). */
const SCAN_CHUNK_BLOCKS = 256;
const WARN_EVERY_MS = 10_000;

/** A frame given to `append()`: MediaFrame's fields, as far as the ring needs them. */
export interface RingFrame {
  /** Audio (8), video (9) or data (18). */
  readonly kind: FrameKind;
  /** Ms on the caller's timeline (the hub's); the ring maps it onto its own. */
  readonly timestamp: number;
  /** The FLV tag body. The ring keeps a reference to sequence headers and metadata: never mutate it. */
  readonly payload: Uint8Array;
  /** A video keyframe: it gets a group start. */
  readonly keyframe: boolean;
  /** An AVC/AAC sequence header (or enhanced sequence start): kept, and written in every group start. */
  readonly sequenceHeader: boolean;
}

/** A tag read back from the ring. */
export interface RingTag {
  /** Audio (8), video (9) or data (18). */
  kind: FrameKind;
  /** Ms on the ring's own timeline: never decreases along a reader. */
  timestamp: number;
  /** The FLV tag body, in an array owned by the caller. */
  payload: Uint8Array;
  /** A video keyframe. */
  keyframe: boolean;
  /** A sequence header (in a group start, or where a changed one arrived). */
  sequenceHeader: boolean;
  /** Date.now() (the ring's clock) when the writer took the frame. */
  wallMs: number;
}

/** FeedRing.open() options. */
export interface RingOptions {
  /** The file's size limit in bytes, at least RING_MIN_BYTES; a file made for another size starts afresh. */
  maxBytes: number;
  /** Where warnings go; default the root logger. */
  log?: Logger;
  /**
   * Bytes encoded and not yet written past which frames are dropped until the next group start; default
   * 8 MiB, at most half the ring (a smaller ring gets that).
   */
  maxPendingBytes?: number;
  /** Ms since the epoch for `wallMs`; default Date.now (tests pass a fake). */
  clock?: () => number;
}

/** One index entry, as `groups` lists it. */
export interface RingGroup {
  /** Ms on the ring's timeline. */
  readonly timestamp: number;
  /** Date.now() when it was written. */
  readonly wallMs: number;
}

/** Counters for /status and tests. */
export interface RingStats {
  /** Bytes written to the file since open (block headers included). */
  bytesWritten: number;
  /** The file's size now. */
  fileBytes: number;
  /** Index entries (group starts) in the ring. */
  groups: number;
  /** Frames dropped since open (a slow disk, or a frame longer than a record may be). */
  dropped: number;
  /** Times the writer went round the file, over the file's life. */
  wraps: number;
  /** Bytes encoded and not yet written. */
  pendingBytes: number;
}

/** Where a reader starts: N ms before the newest timestamp, or a wall-clock time (ms since the epoch). */
export type RingStart = { agoMs: number } | { wallMs: number };

/** What a RingReader reads through: FeedRing gives it one; the reader needs no more of the ring. */
export interface RingSource {
  /** Logical end of the records appended so far. */
  readonly end: number;
  /** Closed: readers end. */
  readonly closed: boolean;
  /** The longest record body the ring takes. */
  readonly maxRecordBytes: number;
  /** Whether the block holding logical `offset` still holds what was written there (not wrapped over). */
  holds(offset: number): boolean;
  /** The oldest group start in the ring, for a reader that fell behind; undefined when there is none. */
  oldestGroup(): { offset: number; serial: number } | undefined;
  /**
   * Where the records go on when logical `offset` is the end of the last record before a restart (the
   * rest of that block was never written): the next record's offset and serial; undefined elsewhere.
   */
  bridge(offset: number): { to: number; serial: number } | undefined;
  /** The block stream [from, to) (to <= end) in a new array; undefined when it was wrapped over meanwhile. */
  read(from: number, to: number): Promise<Uint8Array | undefined>;
  /** Resolves at the next append or at close. */
  appended(): Promise<void>;
  /** The reader closed. */
  release(reader: RingReader): void;
}

interface IndexEntry {
  offset: number;
  serial: number;
  timestamp: number;
  wallMs: number;
}

/** A gap a restart left: the records end at `from` and go on at `to`, whose serial is `serial`. */
interface Bridge {
  from: number;
  to: number;
  serial: number;
}

interface Chunk {
  start: number;
  bytes: Uint8Array;
}

interface Flushed {
  target: number;
  resolve: () => void;
  reject: (e: Error) => void;
}

/** A record about to be encoded. */
interface Outgoing {
  kind: FrameKind;
  flags: number;
  body: Uint8Array;
}

/** What open() found in the file (or a fresh file's state). */
interface Loaded {
  end: number;
  serial: number;
  index: IndexEntry[];
  newest: number | undefined;
  metadata: Uint8Array | undefined;
  videoHeader: Uint8Array | undefined;
  audioHeader: Uint8Array | undefined;
  lastGroupTs: number | undefined;
  lastVideoTs: number | undefined;
  fileBytes: number;
  bridges: Bridge[];
}

/** A ring with nothing read into it yet: the writer goes on at `end` with `serial`. */
function emptyLoaded(end: number, serial: number, fileBytes: number): Loaded {
  return {
    end,
    serial,
    index: [],
    newest: undefined,
    metadata: undefined,
    videoHeader: undefined,
    audioHeader: undefined,
    lastGroupTs: undefined,
    lastVideoTs: undefined,
    fileBytes,
    bridges: [],
  };
}

/**
 * The data name of stream metadata (FLV spec v10.1 E.5). It is `DataName.OnMetaData` of
 * src/rtmp/command.ts, not imported from there: that module brings the RTMP WASM module with it.
 */
const ON_METADATA_NAME = "onMetaData";

/** AMF0 string "onMetaData" (AMF0 2.4: marker, u16 length, UTF-8), how a metadata payload starts. */
const ON_METADATA: Uint8Array = (() => {
  const name = new TextEncoder().encode(ON_METADATA_NAME);
  return Uint8Array.of(Amf0Marker.String, name.length >> 8, name.length & 0xff, ...name);
})();

/** Whether a data payload is `onMetaData` (the hub stores it without an @setDataFrame wrapper). */
function isOnMetaData(payload: Uint8Array): boolean {
  if (payload.length < ON_METADATA.length) return false;
  for (let i = 0; i < ON_METADATA.length; i++) if (payload[i] !== ON_METADATA[i]) return false;
  return true;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** A feed's ring buffer file: `open()` it, `append()` frames, read them back with `reader()` (see the module doc). */
export class FeedRing {
  /** The file. */
  readonly path: string;
  /** The size limit the ring was opened with. */
  readonly maxBytes: number;
  /** Data blocks in the file. */
  readonly blockCount: number;
  /** The longest frame payload the ring takes (RingLayout.MaxRecordBody, or an eighth of a smaller ring). */
  readonly maxRecordBytes: number;
  /** The pending bound in effect. */
  readonly maxPendingBytes: number;

  #file: Deno.FsFile;
  #reads: Deno.FsFile;
  #log: Logger;
  #clock: () => number;
  /** Logical end of what is encoded, and of what is written to the file. */
  #end: number;
  #written: number;
  #pending: Chunk[] = [];
  #pendingHead = 0;
  #serial: number;
  #index: IndexEntry[];
  #indexHead = 0;
  /** Gaps restarts left, by where they start (one per restart within the ring's span). */
  #bridges: Map<number, Bridge>;
  #newest: number | undefined;
  /** The newest timestamp mapped (a dropped frame's too), which the timeline never goes below. */
  #lastMapped: number | undefined;
  #runStarting = true;
  #runOffset = 0;
  #metadata: Uint8Array | undefined;
  #videoHeader: Uint8Array | undefined;
  #audioHeader: Uint8Array | undefined;
  #lastGroupTs: number | undefined;
  #lastVideoTs: number | undefined;
  #dropping = false;
  #dropped = 0;
  #droppedSinceWarn = 0;
  #lastDropWarnAt = -Infinity;
  #writeFailuresSinceWarn = 0;
  #lastWriteWarnAt = -Infinity;
  #bytesWritten = 0;
  #fileBytes: number;
  #readers = new Set<RingReader>();
  #flushing: Promise<void> | undefined;
  #flushWaiters: Flushed[] = [];
  #closing = false;
  #closed: Promise<void> | undefined;
  #wake: { promise: Promise<void>; resolve: () => void } | undefined;
  /** Reads on #reads one at a time (a seek then a read must not interleave with another's). */
  #io: Promise<unknown> = Promise.resolve();
  #source: RingSource;

  private constructor(
    path: string,
    maxBytes: number,
    files: { file: Deno.FsFile; reads: Deno.FsFile },
    loaded: Loaded,
    options: { log: Logger; clock: () => number; maxPendingBytes: number; maxRecordBytes: number },
  ) {
    this.path = path;
    this.maxBytes = maxBytes;
    this.blockCount = Math.floor(maxBytes / BS) - 1;
    this.maxRecordBytes = options.maxRecordBytes;
    this.maxPendingBytes = options.maxPendingBytes;
    this.#file = files.file;
    this.#reads = files.reads;
    this.#log = options.log;
    this.#clock = options.clock;
    this.#end = loaded.end;
    this.#written = loaded.end;
    this.#serial = loaded.serial;
    this.#index = loaded.index;
    this.#newest = loaded.newest;
    this.#lastMapped = loaded.newest;
    this.#metadata = loaded.metadata;
    this.#videoHeader = loaded.videoHeader;
    this.#audioHeader = loaded.audioHeader;
    this.#lastGroupTs = loaded.lastGroupTs;
    this.#lastVideoTs = loaded.lastVideoTs;
    this.#fileBytes = loaded.fileBytes;
    this.#bridges = new Map(loaded.bridges.map((b) => [b.from, b]));
    const end = () => this.#end;
    const closed = () => this.#closing;
    this.#source = {
      get end() {
        return end();
      },
      get closed() {
        return closed();
      },
      maxRecordBytes: this.maxRecordBytes,
      holds: (offset) => this.#holds(offset),
      oldestGroup: () => {
        const e = this.#index[this.#indexHead];
        return e && { offset: e.offset, serial: e.serial };
      },
      bridge: (offset) => this.#bridges.get(offset),
      read: (from, to) => this.#readRaw(from, to),
      appended: () => {
        this.#wake ??= Promise.withResolvers<void>();
        return this.#wake.promise;
      },
      release: (reader) => {
        this.#readers.delete(reader);
      },
    };
  }

  /**
   * Opens the ring file at `path`, creating it when missing; an existing ring is read whole and goes on
   * where it was (see the module doc). A file made for another `maxBytes`, or whose header is damaged,
   * starts afresh (warned). RangeError for a bad `maxBytes` or `maxPendingBytes`; TypeError when the file
   * is not a ring file (it is never overwritten) or another writer has it open; RangeError for a newer
   * format version.
   */
  static async open(path: string, options: RingOptions): Promise<FeedRing> {
    const { maxBytes } = options;
    if (typeof maxBytes !== "number" || !Number.isSafeInteger(maxBytes)) {
      throw new RangeError(`Cannot open feed ring: maxBytes ${maxBytes} is not a whole number`);
    }
    if (maxBytes < RING_MIN_BYTES) {
      throw new RangeError(
        `Cannot open feed ring: maxBytes ${maxBytes} is below the minimum ${RING_MIN_BYTES}`,
      );
    }
    if (maxBytes > RING_MAX_BYTES) {
      throw new RangeError(
        `Cannot open feed ring: maxBytes ${maxBytes} is above the maximum ${RING_MAX_BYTES}`,
      );
    }
    const wanted = options.maxPendingBytes ?? DEFAULT_MAX_PENDING_BYTES;
    if (typeof wanted !== "number" || !Number.isSafeInteger(wanted) || wanted <= 0) {
      throw new RangeError(`Cannot open feed ring: maxPendingBytes ${wanted} is not a positive whole number`);
    }
    const blockCount = Math.floor(maxBytes / BS) - 1;
    const dataBytes = blockCount * BS;
    const maxRecordBytes = Math.min(RingLayout.MaxRecordBody, Math.floor(dataBytes / 8));
    const maxPendingBytes = Math.min(wanted, Math.floor(dataBytes / 2));
    const log = options.log ?? rootLog;
    const clock = options.clock ?? Date.now;
    const file = await Deno.open(path, { read: true, write: true, create: true });
    let reads: Deno.FsFile | undefined;
    try {
      if (!await file.tryLock(true)) {
        throw new TypeError(`Cannot open feed ring ${path}: current file is open by another writer`);
      }
      const loaded = await load(file, path, blockCount, maxRecordBytes, log, clock);
      reads = await Deno.open(path, { read: true });
      return new FeedRing(path, maxBytes, { file, reads }, loaded, {
        log,
        clock,
        maxPendingBytes,
        maxRecordBytes,
      });
    } catch (e) {
      reads?.close();
      file.close();
      throw e;
    }
  }

  /** The newest timestamp appended (ring timeline); undefined for an empty ring. */
  get newestTimestamp(): number | undefined {
    return this.#newest;
  }

  /** The oldest group start's timestamp: the earliest a reader can start at; undefined when none. */
  get oldestTimestamp(): number | undefined {
    return this.#index[this.#indexHead]?.timestamp;
  }

  /** The index, oldest first (a new array each call, for /status). */
  get groups(): readonly RingGroup[] {
    const out: RingGroup[] = [];
    for (let i = this.#indexHead; i < this.#index.length; i++) {
      const e = this.#index[i];
      out.push({ timestamp: e.timestamp, wallMs: e.wallMs });
    }
    return out;
  }

  /** Whether close() was called. */
  get closed(): boolean {
    return this.#closing;
  }

  /** Counters (see RingStats). */
  stats(): RingStats {
    const head = this.#headSeq();
    return {
      bytesWritten: this.#bytesWritten,
      fileBytes: this.#fileBytes,
      groups: this.#index.length - this.#indexHead,
      dropped: this.#dropped,
      wraps: head < 0 ? 0 : Math.floor(head / this.blockCount),
      pendingBytes: this.#end - this.#written,
    };
  }

  /**
   * Takes one frame, synchronously and without waiting for the disk: a sequence header or metadata is
   * kept (and written when it changed), a keyframe gets a group start before it (see the module doc),
   * anything else is written as it is. Past the pending bound, or for a payload above `maxRecordBytes`,
   * the frame is dropped and counted, and so is everything up to the next group start. TypeError after
   * close(), or for a kind other than 8, 9, 18 or a timestamp that is not a number of 0 or more.
   */
  append(frame: RingFrame): void {
    if (this.#closing) {
      throw new TypeError(`Cannot append to feed ring ${this.path}: current state is closed`);
    }
    const { kind, payload } = frame;
    if (kind !== FrameKind.Audio && kind !== FrameKind.Video && kind !== FrameKind.Data) {
      throw new TypeError(
        `Cannot append to feed ring ${this.path}: current kind is ${kind}, expected 8, 9 or 18`,
      );
    }
    if (typeof frame.timestamp !== "number" || !(frame.timestamp >= 0)) {
      throw new TypeError(
        `Cannot append to feed ring ${this.path}: current timestamp is ${frame.timestamp}, expected 0 or more`,
      );
    }
    const metadata = kind === FrameKind.Data && isOnMetaData(payload);
    const config = metadata || (frame.sequenceHeader && kind !== FrameKind.Data);
    const ts = this.#map(frame.timestamp, kind !== FrameKind.Data && !config);
    if (payload.length > this.maxRecordBytes) {
      this.#drop(`a ${payload.length}-byte frame is above the record limit ${this.maxRecordBytes}`);
      return;
    }
    const wallMs = this.#clock();
    if (config) {
      this.#config(kind, metadata, payload, ts, wallMs);
      return;
    }
    if (kind === FrameKind.Video) this.#lastVideoTs = ts;
    const group = kind === FrameKind.Video
      ? frame.keyframe
      : kind === FrameKind.Audio && this.#audioGroupDue(ts);
    if (this.#dropping && !group) {
      this.#drop();
      return;
    }
    const out: Outgoing[] = [];
    if (group) {
      if (this.#metadata) {
        out.push({ kind: FrameKind.Data, flags: RecordFlag.Metadata, body: this.#metadata });
      }
      if (this.#videoHeader) {
        out.push({ kind: FrameKind.Video, flags: RecordFlag.SequenceHeader, body: this.#videoHeader });
      }
      if (this.#audioHeader) {
        out.push({ kind: FrameKind.Audio, flags: RecordFlag.SequenceHeader, body: this.#audioHeader });
      }
    }
    out.push({ kind, flags: frame.keyframe ? RecordFlag.Keyframe : 0, body: payload });
    if (group) out[0].flags |= RecordFlag.GroupStart;
    const at = this.#write(out, ts, wallMs);
    if (!at) {
      this.#drop(this.#pendingReason());
      return;
    }
    if (group) {
      this.#index.push({ offset: at.offset, serial: at.serial, timestamp: ts, wallMs });
      this.#lastGroupTs = ts;
    }
  }

  /**
   * Marks a new publisher run: the next timestamp continues the ring's timeline 1 ms after the newest,
   * and the metadata and sequence headers kept so far are forgotten (the run sends its own; a caller
   * that resumes a stream whose headers the hub kept appends those again).
   */
  newRun(): void {
    this.#runStarting = true;
    this.#metadata = undefined;
    this.#videoHeader = undefined;
    this.#audioHeader = undefined;
    this.#lastVideoTs = undefined;
  }

  /**
   * A reader from the group start at or before `at` (`agoMs` before the newest timestamp, or the newest
   * group written at or before wall-clock `wallMs`), clamped to the oldest; undefined when the ring has no
   * group start yet. RangeError for an `agoMs` below 0 or a value that is not a number; TypeError once
   * closed or past MAX_RING_READERS.
   */
  reader(at: RingStart): RingReader | undefined {
    if (this.#closing) {
      throw new TypeError(`Cannot open a ring reader on ${this.path}: current state is closed`);
    }
    let entry: IndexEntry | undefined;
    if ("agoMs" in at) {
      if (typeof at.agoMs !== "number" || !(at.agoMs >= 0)) {
        throw new RangeError(`Cannot open a ring reader: agoMs ${at.agoMs} is not a number of 0 or more`);
      }
      entry = this.#groupAtOrBefore((this.#newest ?? 0) - at.agoMs);
    } else if ("wallMs" in at) {
      if (typeof at.wallMs !== "number" || Number.isNaN(at.wallMs)) {
        throw new RangeError(`Cannot open a ring reader: wallMs ${at.wallMs} is not a number`);
      }
      entry = this.#groupAtOrBeforeWall(at.wallMs);
    } else {
      throw new TypeError("Cannot open a ring reader: current start has neither agoMs nor wallMs");
    }
    if (!entry) return undefined;
    if (this.#readers.size >= MAX_RING_READERS) {
      throw new TypeError(
        `Cannot open a ring reader on ${this.path}: ${this.#readers.size} readers open already (limit ${MAX_RING_READERS})`,
      );
    }
    const reader = new RingReader(this.#source, { offset: entry.offset, serial: entry.serial });
    this.#readers.add(reader);
    return reader;
  }

  /** Resolves when every byte appended so far is written to the file; rejects when a write fails. */
  flush(): Promise<void> {
    const target = this.#end;
    if (this.#written >= target) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.#flushWaiters.push({ target, resolve, reject });
      this.#kick();
    });
  }

  /**
   * Writes what is pending, ends every reader (their next() gives null) and closes the file. Idempotent.
   * Rejects when the last write fails (the file is closed all the same).
   */
  close(): Promise<void> {
    return this.#closed ??= this.#shutdown();
  }

  async #shutdown(): Promise<void> {
    this.#closing = true;
    this.#notify();
    let failure: unknown;
    try {
      await this.flush();
    } catch (e) {
      failure = e;
    }
    await this.#flushing;
    await this.#io;
    this.#readers.clear();
    this.#reads.close();
    this.#file.close();
    if (failure !== undefined) throw failure;
  }

  // -------------------------------------------------------------------------------------------
  // Writing

  /**
   * The ring's timestamp for a caller's `ts` (see the module doc). Only audio and video frames proper are
   * `onClock`: the others take the timeline's current position, as in the hub (a stream's kept metadata,
   * appended again on a resume, may carry a timestamp from long ago).
   */
  #map(ts: number, onClock: boolean): number {
    if (!onClock) return this.#lastMapped ?? 0;
    if (this.#runStarting) {
      this.#runStarting = false;
      this.#runOffset = (this.#lastMapped === undefined ? 0 : this.#lastMapped + 1) - ts;
    }
    let out = ts + this.#runOffset;
    if (this.#lastMapped !== undefined && out < this.#lastMapped) out = this.#lastMapped;
    if (out > MAX_RECORD_TIMESTAMP) out = MAX_RECORD_TIMESTAMP;
    this.#lastMapped = out;
    return out;
  }

  /**
   * An audio frame starts a group: the stream is audio-only now (no video frame or video sequence header
   * for AUDIO_ONLY_AFTER_MS) and the last group is old enough.
   */
  #audioGroupDue(ts: number): boolean {
    if (this.#lastVideoTs !== undefined && ts - this.#lastVideoTs <= AUDIO_ONLY_AFTER_MS) return false;
    return this.#dropping || this.#lastGroupTs === undefined || ts - this.#lastGroupTs >= AUDIO_GROUP_MS;
  }

  /** Keeps a sequence header or metadata; writes it when it changed (and the ring is not dropping). */
  #config(kind: FrameKind, metadata: boolean, payload: Uint8Array, ts: number, wallMs: number): void {
    let flags: number;
    if (metadata) {
      if (this.#metadata && sameBytes(this.#metadata, payload)) return;
      this.#metadata = payload;
      flags = RecordFlag.Metadata;
    } else if (kind === FrameKind.Video) {
      // A video header says video is coming: audio frames before the first keyframe start no group.
      this.#lastVideoTs = ts;
      if (this.#videoHeader && sameBytes(this.#videoHeader, payload)) return;
      this.#videoHeader = payload;
      flags = RecordFlag.SequenceHeader;
    } else {
      if (this.#audioHeader && sameBytes(this.#audioHeader, payload)) return;
      this.#audioHeader = payload;
      flags = RecordFlag.SequenceHeader;
    }
    // While dropping, the next group start carries it.
    if (this.#dropping) return;
    if (!this.#write([{ kind, flags, body: payload }], ts, wallMs)) this.#drop(this.#pendingReason());
  }

  /**
   * Encodes records at the end of the stream into the pending buffer; undefined (nothing written) when
   * they do not fit the pending bound. Returns where the first one starts and its serial.
   */
  #write(records: Outgoing[], ts: number, wallMs: number): { offset: number; serial: number } | undefined {
    const size = records.reduce((n, r) => n + RHS + r.body.length, 0);
    const rawSize = rawEndOf(this.#end, size) - this.#end;
    const pending = this.#end - this.#written;
    if (pending > 0 && pending + rawSize > this.maxPendingBytes) {
      this.#dropping = true;
      return undefined;
    }
    this.#dropping = false;
    const serial = this.#serial;
    const encoded = records.map((r) => {
      const rec = encodeRecord(
        { serial: this.#serial, kind: r.kind, flags: r.flags, timestamp: ts, wallMs },
        r.body,
      );
      this.#serial = (this.#serial + 1) >>> 0;
      return rec;
    });
    const { bytes, starts } = layoutRecords(encoded, this.#end);
    const newEnd = this.#end + bytes.length;
    // The blocks this begins overwrite the oldest: their index entries go first.
    this.#forgetBefore((blockSeqOf(newEnd - 1) - this.blockCount + 1) * BS);
    this.#pending.push({ start: this.#end, bytes });
    this.#end = newEnd;
    this.#newest = ts;
    this.#notify();
    this.#kick();
    return { offset: starts[0], serial };
  }

  #pendingReason(): string {
    return `${this.#end - this.#written} bytes wait for the disk (limit ${this.maxPendingBytes})`;
  }

  /** Counts a dropped frame (and drops until the next group start); warns at most once per 10 s. */
  #drop(reason?: string): void {
    this.#dropping = true;
    this.#dropped++;
    this.#droppedSinceWarn++;
    const now = Date.now();
    if (now - this.#lastDropWarnAt < WARN_EVERY_MS) return;
    const n = this.#droppedSinceWarn;
    this.#lastDropWarnAt = now;
    this.#droppedSinceWarn = 0;
    this.#log.warn(
      `feed ring ${this.path}: dropped ${n} frame${n === 1 ? "" : "s"} since the last warning${
        reason ? ` (${reason})` : ""
      }; writing again from the next keyframe`,
    );
  }

  /** Drops the index entries before logical `limit` (their block is about to be overwritten). */
  #forgetBefore(limit: number): void {
    while (this.#indexHead < this.#index.length && this.#index[this.#indexHead].offset < limit) {
      this.#indexHead++;
    }
    if (this.#indexHead > 1024 && this.#indexHead * 2 > this.#index.length) {
      this.#index = this.#index.slice(this.#indexHead);
      this.#indexHead = 0;
    }
    for (const [from, b] of this.#bridges) if (b.to < limit) this.#bridges.delete(from);
  }

  #notify(): void {
    const w = this.#wake;
    this.#wake = undefined;
    w?.resolve();
  }

  #kick(): void {
    if (this.#flushing || this.#written >= this.#end) return;
    this.#flushing = this.#flushLoop();
  }

  /** Writes the pending bytes, one write per contiguous run of the file, until none is left. */
  async #flushLoop(): Promise<void> {
    try {
      while (this.#written < this.#end) {
        const from = this.#written;
        const to = this.#end;
        const bytes = this.#takePending(from, to);
        for (const [a, b] of this.#runs(from, to)) {
          const pos = filePositionOf(a, this.blockCount);
          await this.#file.seek(pos, Deno.SeekMode.Start);
          await writeAll(this.#file, bytes.subarray(a - from, b - from));
          if (pos + (b - a) > this.#fileBytes) this.#fileBytes = pos + (b - a);
        }
        this.#written = to;
        this.#bytesWritten += to - from;
        this.#releasePending(to);
        const done = this.#flushWaiters.filter((w) => w.target <= to);
        if (done.length > 0) {
          this.#flushWaiters = this.#flushWaiters.filter((w) => w.target > to);
          for (const w of done) w.resolve();
        }
      }
    } catch (e) {
      this.#writeFailed(e);
    } finally {
      this.#flushing = undefined;
    }
  }

  /** A write failed: flush() callers learn it; the bytes stay pending and the next append tries again. */
  #writeFailed(e: unknown): void {
    const err = new Error(`Cannot write feed ring ${this.path}: ${messageOf(e)}`, { cause: e });
    const waiters = this.#flushWaiters;
    this.#flushWaiters = [];
    for (const w of waiters) w.reject(err);
    this.#writeFailuresSinceWarn++;
    const now = Date.now();
    if (now - this.#lastWriteWarnAt < WARN_EVERY_MS) return;
    const n = this.#writeFailuresSinceWarn;
    this.#lastWriteWarnAt = now;
    this.#writeFailuresSinceWarn = 0;
    this.#log.error(`${err.message} (${n} failure${n === 1 ? "" : "s"} since the last warning)`);
  }

  /** The pending bytes [from, to) as one array (the chunk itself when there is one). */
  #takePending(from: number, to: number): Uint8Array {
    const first = this.#pending[this.#pendingHead];
    if (first.start === from && first.start + first.bytes.length === to) return first.bytes;
    const out = new Uint8Array(to - from);
    this.#copyPending(from, to, out, 0);
    return out;
  }

  /** Copies pending bytes [from, to) into `out` at `at`. */
  #copyPending(from: number, to: number, out: Uint8Array, at: number): void {
    // The last chunk that starts at or before `from`.
    let lo = this.#pendingHead;
    let hi = this.#pending.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.#pending[mid].start <= from) lo = mid;
      else hi = mid - 1;
    }
    let pos = from;
    for (let i = lo; i < this.#pending.length && pos < to; i++) {
      const c = this.#pending[i];
      const a = pos - c.start;
      const n = Math.min(c.bytes.length - a, to - pos);
      out.set(c.bytes.subarray(a, a + n), at + pos - from);
      pos += n;
    }
  }

  /** Forgets the pending chunks that end at or before `to` (written). */
  #releasePending(to: number): void {
    while (this.#pendingHead < this.#pending.length) {
      const c = this.#pending[this.#pendingHead];
      if (c.start + c.bytes.length > to) break;
      this.#pendingHead++;
    }
    if (this.#pendingHead === this.#pending.length) {
      this.#pending = [];
      this.#pendingHead = 0;
    } else if (this.#pendingHead > 1024 && this.#pendingHead * 2 > this.#pending.length) {
      this.#pending = this.#pending.slice(this.#pendingHead);
      this.#pendingHead = 0;
    }
  }

  /** Logical [from, to) cut where the file wraps: each piece is one contiguous run of the file. */
  #runs(from: number, to: number): [number, number][] {
    const lap = this.blockCount * BS;
    const out: [number, number][] = [];
    let a = from;
    while (a < to) {
      const b = Math.min(to, (Math.floor(a / lap) + 1) * lap);
      out.push([a, b]);
      a = b;
    }
    return out;
  }

  // -------------------------------------------------------------------------------------------
  // Reading

  /** The newest block begun; -1 for an empty ring. */
  #headSeq(): number {
    return this.#end === 0 ? -1 : blockSeqOf(this.#end - 1);
  }

  #holds(offset: number): boolean {
    return blockSeqOf(offset) > this.#headSeq() - this.blockCount;
  }

  /** The block stream [from, to): memory for what is pending, the file for the rest. */
  async #readRaw(from: number, to: number): Promise<Uint8Array | undefined> {
    if (this.#closing || !this.#holds(from)) return undefined;
    const out = new Uint8Array(to - from);
    // Pending bytes now, before any await: a flush may release them meanwhile.
    const memFrom = Math.max(from, this.#written);
    if (memFrom < to) this.#copyPending(memFrom, to, out, memFrom - from);
    if (from < memFrom) await this.#readFile(from, memFrom, out);
    // Wrapped over while the file was read: what was read may be the next lap's.
    if (!this.#holds(from)) return undefined;
    return out;
  }

  /** Reads logical [from, to) from the file into `out` (at 0), one read at a time on the read handle. */
  #readFile(from: number, to: number, out: Uint8Array): Promise<void> {
    const run = async () => {
      for (const [a, b] of this.#runs(from, to)) {
        await this.#reads.seek(filePositionOf(a, this.blockCount), Deno.SeekMode.Start);
        const dst = out.subarray(a - from, b - from);
        let got = 0;
        while (got < dst.length) {
          const n = await this.#reads.read(dst.subarray(got));
          // Past the end of the file: the unused tail of the block a restart left (zeros, which no record
          // check passes), or a file cut short by someone else.
          if (n === null) break;
          got += n;
        }
      }
    };
    const p = this.#io.then(run);
    this.#io = p.catch(() => {});
    return p;
  }

  /** The newest group start at or before ring time `ts`, or the oldest. */
  #groupAtOrBefore(ts: number): IndexEntry | undefined {
    const idx = this.#index;
    let lo = this.#indexHead;
    let hi = idx.length - 1;
    if (lo > hi) return undefined;
    if (idx[lo].timestamp > ts) return idx[lo];
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (idx[mid].timestamp <= ts) lo = mid;
      else hi = mid - 1;
    }
    return idx[lo];
  }

  /** The newest group start written at or before wall-clock `wallMs`, or the oldest (the wall clock may step back). */
  #groupAtOrBeforeWall(wallMs: number): IndexEntry | undefined {
    for (let i = this.#index.length - 1; i >= this.#indexHead; i--) {
      if (this.#index[i].wallMs <= wallMs) return this.#index[i];
    }
    return this.#index[this.#indexHead];
  }
}

/**
 * One reader of a ring, from a group start on: it reads the tags in order, then follows the writer.
 * A reader the writer wraps over jumps to the oldest group start left (`skips`); a damaged record
 * makes it go on at the next block's first record (`resyncs`).
 */
export class RingReader {
  #src: RingSource;
  /** The next record's logical offset; undefined while resyncing or looking for a group start. */
  #pos: number | undefined;
  #serial = 0;
  /** The block seq to go on at (its first record), after a damaged record. */
  #sync: number | undefined;
  #buf: Uint8Array = new Uint8Array(0);
  #bufStart = 0;
  #skips = 0;
  #resyncs = 0;
  #closed = false;
  #busy = false;
  #wakeMe: (() => void) | undefined;

  /** Starts at the record at logical `start.offset`, whose serial is `start.serial`. FeedRing.reader() calls this. */
  constructor(src: RingSource, start: { offset: number; serial: number }) {
    this.#src = src;
    this.#pos = start.offset;
    this.#serial = start.serial;
  }

  /** Times the writer wrapped over this reader and it jumped to the oldest group start. */
  get skips(): number {
    return this.#skips;
  }

  /** Times a damaged record made it go on at the next block. */
  get resyncs(): number {
    return this.#resyncs;
  }

  /** Whether the reader, or its ring, is closed. */
  get closed(): boolean {
    return this.#closed || this.#src.closed;
  }

  /**
   * The next tag; at the head it waits for the writer. Null once the reader or the ring is closed.
   * Calls must not overlap (TypeError). Rejects when the file cannot be read.
   */
  async next(): Promise<RingTag | null> {
    if (this.#busy) throw new TypeError("Cannot read the next ring tag: current next() has not settled");
    this.#busy = true;
    try {
      return await this.#next();
    } finally {
      this.#busy = false;
    }
  }

  /** Stops the reader: a next() waiting gives null. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#buf = new Uint8Array(0);
    this.#src.release(this);
    this.#wakeMe?.();
  }

  async #next(): Promise<RingTag | null> {
    const src = this.#src;
    for (;;) {
      if (this.closed) return null;
      if (this.#pos === undefined && this.#sync === undefined) {
        const g = src.oldestGroup();
        if (!g) {
          await this.#wait();
          continue;
        }
        this.#pos = g.offset;
        this.#serial = g.serial;
      }
      if (this.#sync !== undefined) {
        const at = this.#sync * BS;
        if (!src.holds(at)) {
          this.#fellBehind();
          continue;
        }
        if (at >= src.end) {
          await this.#wait();
          continue;
        }
        const raw = await src.read(at, at + BHS);
        if (!raw) {
          this.#fellBehind();
          continue;
        }
        const h = decodeBlockHeader(raw);
        if (!h || h.seq !== this.#sync || h.firstRecord === RingLayout.NoRecord) {
          this.#sync++;
          continue;
        }
        this.#pos = at + h.firstRecord;
        this.#serial = h.firstSerial;
        this.#sync = undefined;
      }
      const pos = this.#pos!;
      if (!src.holds(pos)) {
        this.#fellBehind();
        continue;
      }
      const bridge = src.bridge(pos);
      if (bridge) {
        this.#pos = bridge.to;
        this.#serial = bridge.serial;
        continue;
      }
      if (pos >= src.end) {
        await this.#wait();
        continue;
      }
      const r = await this.#record(pos);
      if (r === "behind") {
        this.#fellBehind();
      } else if (r === "bad") {
        this.#resyncs++;
        this.#pos = undefined;
        this.#sync = blockSeqOf(pos) + 1;
      } else {
        return r;
      }
    }
  }

  /** The record at `pos`; "bad" when it is no intact record with the expected serial. */
  async #record(pos: number): Promise<RingTag | "behind" | "bad"> {
    const src = this.#src;
    if (rawEndOf(pos, RHS) > src.end) return "bad";
    const head = await this.#bytes(pos, RHS);
    if (!head) return "behind";
    const h = decodeRecordHeader(head);
    if (headerProblem(h, src.maxRecordBytes) || h.serial !== this.#serial) return "bad";
    const end = rawEndOf(pos, RHS + h.length);
    if (end > src.end) return "bad";
    const whole = await this.#bytes(pos, RHS + h.length);
    if (!whole) return "behind";
    const r = readRecord(whole, 0, src.maxRecordBytes);
    if (r.status !== "ok") return "bad";
    this.#pos = recordStartOf(end);
    this.#serial = (h.serial + 1) >>> 0;
    return {
      kind: h.kind,
      timestamp: h.timestamp,
      // A view into an array read for this reader alone, never written again.
      payload: r.body,
      keyframe: (h.flags & RecordFlag.Keyframe) !== 0,
      sequenceHeader: (h.flags & RecordFlag.SequenceHeader) !== 0,
      wallMs: h.wallMs,
    };
  }

  /** `n` record bytes from `from`, from the read-ahead buffer or a new read; undefined when wrapped over. */
  async #bytes(from: number, n: number): Promise<Uint8Array | undefined> {
    const start = recordStartOf(from);
    const end = rawEndOf(start, n);
    if (start < this.#bufStart || end > this.#bufStart + this.#buf.length) {
      const to = Math.min(this.#src.end, Math.max(end, start + READ_AHEAD_BYTES));
      const raw = await this.#src.read(start, to);
      if (!raw) return undefined;
      this.#buf = raw;
      this.#bufStart = start;
    }
    return recordBytesOf(this.#buf, this.#bufStart, start, n);
  }

  /** The writer wrapped over this reader: go on at the oldest group start. */
  #fellBehind(): void {
    if (this.closed) return;
    this.#skips++;
    this.#pos = undefined;
    this.#sync = undefined;
    this.#buf = new Uint8Array(0);
  }

  #wait(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.#wakeMe = resolve;
      this.#src.appended().then(resolve);
    }).finally(() => {
      this.#wakeMe = undefined;
    });
  }
}

async function writeAll(file: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  let off = 0;
  while (off < bytes.length) off += await file.write(bytes.subarray(off));
}

/** Reads up to `n` bytes at file position `pos` (fewer at the end of the file). */
async function readAt(file: Deno.FsFile, pos: number, n: number): Promise<Uint8Array> {
  const out = new Uint8Array(n);
  await file.seek(pos, Deno.SeekMode.Start);
  let got = 0;
  while (got < n) {
    const k = await file.read(out.subarray(got));
    if (k === null) break;
    got += k;
  }
  return got === n ? out : out.subarray(0, got);
}

/** A fresh file: the header block and nothing else. */
async function create(file: Deno.FsFile, blockCount: number, clock: () => number): Promise<Loaded> {
  await file.truncate(0);
  const block = new Uint8Array(BS);
  block.set(encodeFileHeader({ blockCount, createdAt: clock() }));
  await file.seek(0, Deno.SeekMode.Start);
  await writeAll(file, block);
  return emptyLoaded(0, 0, BS);
}

/** Reads the file's header and records, or makes a fresh file (see FeedRing.open). */
async function load(
  file: Deno.FsFile,
  path: string,
  blockCount: number,
  maxRecordBytes: number,
  log: Logger,
  clock: () => number,
): Promise<Loaded> {
  const size = (await file.stat()).size;
  if (size === 0) return await create(file, blockCount, clock);
  const found = decodeFileHeader(await readAt(file, 0, RingLayout.FileHeaderSize));
  switch (found.status) {
    case "foreign":
      throw new TypeError(
        `Cannot open feed ring ${path}: current file is not a feed ring (it starts 0x${
          found.magic.toString(16).padStart(8, "0")
        }, not "SLRB")`,
      );
    case "newer":
      throw new RangeError(
        `Cannot open feed ring ${path}: current file has format version ${found.version}, above ${RingLayout.Version}`,
      );
    case "short":
    case "damaged":
      log.warn(
        `feed ring ${path}: the file header is ${
          found.status === "short" ? "cut short" : "damaged"
        }; starting afresh`,
      );
      return await create(file, blockCount, clock);
  }
  const h = found.header;
  if (h.blockSize !== BS || h.blockCount !== blockCount) {
    log.warn(
      `feed ring ${path}: the file was made for ${(h.blockCount + 1) * h.blockSize} bytes, not ${
        (blockCount + 1) * BS
      }; starting afresh`,
    );
    return await create(file, blockCount, clock);
  }
  return await scan(file, path, size, blockCount, maxRecordBytes, log);
}

/** Rebuilds a ring's state from its blocks (see the module doc, "Crash-safe"). */
async function scan(
  file: Deno.FsFile,
  path: string,
  size: number,
  blockCount: number,
  maxRecordBytes: number,
  log: Logger,
): Promise<Loaded> {
  const present = Math.min(blockCount, Math.ceil(Math.max(0, size - BS) / BS));
  // Pass 1: the newest valid block.
  let headSeq = -1;
  let headFirstSerial = 0;
  for (let p = 0; p < present; p += SCAN_CHUNK_BLOCKS) {
    const n = Math.min(SCAN_CHUNK_BLOCKS, present - p);
    const buf = await readAt(file, BS + p * BS, n * BS);
    for (let i = 0; i * BS < buf.length; i++) {
      const h = decodeBlockHeader(buf, i * BS);
      if (h && h.seq % blockCount === p + i && h.seq > headSeq) {
        headSeq = h.seq;
        headFirstSerial = h.firstSerial;
      }
    }
  }
  const loaded = emptyLoaded((headSeq + 1) * BS, (headFirstSerial + 1) >>> 0, size);
  if (headSeq < 0) {
    loaded.serial = 0;
    return loaded;
  }
  // Pass 2: every record from the oldest block to the newest.
  const scanner = new RingScanner(maxRecordBytes);
  let lastSerial: number | undefined;
  /** Where the last good record ends (where the next would start). */
  let lastEnd: number | undefined;
  /** Records lost to damage between good ones (from the serials). */
  let lost = 0;
  let tentative: IndexEntry | undefined;
  const take = (records: ReturnType<RingScanner["feed"]>) => {
    for (const rec of records) {
      const h = rec.header;
      if (rec.resynced) {
        tentative = undefined;
        if (lastEnd !== undefined && lastSerial !== undefined && rec.start !== lastEnd) {
          // Nothing lost between (the serials follow on): the unused rest of a block before a restart.
          // Else records were lost to damage, and readers resync there as the scan did.
          const missing = (h.serial - lastSerial - 1) >>> 0;
          if (missing === 0) loaded.bridges.push({ from: lastEnd, to: rec.start, serial: h.serial });
          else lost += missing;
        }
      }
      lastEnd = recordStartOf(rawEndOf(rec.start, RHS + h.length));
      if (h.flags & RecordFlag.GroupStart) {
        tentative = { offset: rec.start, serial: h.serial, timestamp: h.timestamp, wallMs: h.wallMs };
      }
      if (h.flags & RecordFlag.Metadata) loaded.metadata = rec.body.slice();
      else if (h.flags & RecordFlag.SequenceHeader && h.kind === FrameKind.Video) {
        loaded.videoHeader = rec.body.slice();
      } else if (h.flags & RecordFlag.SequenceHeader && h.kind === FrameKind.Audio) {
        loaded.audioHeader = rec.body.slice();
      } else {
        // A frame proper: it completes a group start before it.
        if (tentative) {
          loaded.index.push(tentative);
          loaded.lastGroupTs = tentative.timestamp;
          tentative = undefined;
        }
        if (h.kind === FrameKind.Video) loaded.lastVideoTs = h.timestamp;
      }
      if (loaded.newest === undefined || h.timestamp > loaded.newest) loaded.newest = h.timestamp;
      lastSerial = h.serial;
    }
  };
  const oldest = Math.max(0, headSeq - blockCount + 1);
  for (let seq = oldest; seq <= headSeq;) {
    const p = seq % blockCount;
    const n = Math.min(SCAN_CHUNK_BLOCKS, headSeq - seq + 1, blockCount - p);
    const buf = p < present
      ? await readAt(file, BS + p * BS, Math.min(n, present - p) * BS)
      : new Uint8Array(0);
    for (let i = 0; i < n; i++) {
      take(
        scanner.feed(seq + i, buf.subarray(Math.min(i * BS, buf.length), Math.min((i + 1) * BS, buf.length))),
      );
    }
    seq += n;
  }
  scanner.finish();
  if (lastSerial !== undefined) loaded.serial = (lastSerial + 1) >>> 0;
  // The writer goes on at a fresh block: readers get there from the last good record.
  const next = recordStartOf(loaded.end);
  if (lastEnd !== undefined && lastEnd !== next) {
    loaded.bridges.push({ from: lastEnd, to: next, serial: loaded.serial });
  }
  const groups = loaded.index.length;
  log.info(
    `feed ring ${path}: reopened with ${scanner.stats.records} records in ${groups} group${
      groups === 1 ? "" : "s"
    }${groups > 0 ? ` (${loaded.index[0].timestamp}..${loaded.newest} ms)` : ""}`,
  );
  if (lost > 0 || scanner.stats.badBlocks > 0) {
    log.warn(
      `feed ring ${path}: ${lost} record${
        lost === 1 ? "" : "s"
      } lost to damage, ${scanner.stats.badBlocks} damaged block${scanner.stats.badBlocks === 1 ? "" : "s"}`,
    );
  }
  return loaded;
}
