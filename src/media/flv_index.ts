/**
 * FlvIndex: where things are in an FLV file (Adobe FLV spec v10.1, Annex E),
 * found once without holding the file in memory: the onMetaData tag, every
 * sequence header, and the points a player may seek to (video keyframes,
 * E.4.3.1 FrameType 1), each a timestamp and the byte offset of its tag.
 * `FlvTagCursor` then reads the tags from such an offset on, a block at a
 * time. Both read through a {@linkcode ByteSource}: no file or socket here.
 *
 * Two ways to build the index:
 * - **From onMetaData**: a `keyframes` object (`{ times: [s], filepositions:
 *   [bytes] }`, written by yamdi, flvmeta and ffmpeg's `-flvflags
 *   add_keyframe_index`) is used when it checks out: as many times as
 *   positions, both increasing, positions inside the file, and the tags at its
 *   first, middle and last positions are video keyframes. Then only the head
 *   of the file (up to the first keyframe, for the sequence headers) and the
 *   last tag (for the duration) are read.
 * - **By a scan** otherwise: one pass over the tag headers, reading 64 KiB
 *   blocks and jumping over any tag longer than a block. A file that ends
 *   inside a tag (a recording still being written) is indexed up to its last
 *   whole tag.
 *
 * Bounds: per keyframe the index keeps two numbers, at most `maxSeekPoints`
 * (default 100,000: 27 hours at one keyframe a second). Past that every other
 * point is dropped and only every other later keyframe is kept, so a huge file
 * still seeks, to a coarser grid. At most 64 sequence headers are kept. A file
 * without video keyframes (audio only) gets a seek point per second of audio.
 *
 * @module
 */
import { ProtocolError } from "../errors.ts";
import { decodeAmf0 } from "../amf/amf0.ts";
import type { AmfValue } from "../amf/value.ts";
import { EcmaArray, TypedObject } from "../amf/value.ts";
import {
  DEFAULT_MAX_TAG_SIZE,
  FLV_HEADER_SIZE,
  type FlvHeader,
  type FlvTag,
  HeaderFlag,
  TAG_HEADER_SIZE,
  TagType,
} from "./flv.ts";
import { classify } from "./frame.ts";

/** Random access to the bytes of a file (STYLE 10: the index declares what it reads through). */
export interface ByteSource {
  /** Total bytes. */
  readonly size: number;
  /** Reads up to `into.length` bytes from `offset` into `into`; resolves with how many (fewer only at the end). */
  read(offset: number, into: Uint8Array): Promise<number>;
}

/** A point a player may start or seek to. */
export interface SeekPoint {
  /** The tag's timestamp, ms. */
  readonly timestamp: number;
  /** Byte offset of the tag's header. */
  readonly offset: number;
}

/** Where one tag is. */
export interface TagRef {
  readonly type: TagType;
  /** The tag's timestamp, ms. */
  readonly timestamp: number;
  /** Byte offset of the tag's header. */
  readonly offset: number;
  /** DataSize: bytes of the body after the 11-byte header. */
  readonly size: number;
}

/** Options for {@linkcode FlvIndex.build}. */
export interface FlvIndexOptions {
  /** Most seek points kept (see the module doc). Default 100,000. */
  readonly maxSeekPoints?: number;
  /** Largest tag accepted, bytes. Default 8 MiB. */
  readonly maxTagSize?: number;
  /** Use a valid onMetaData keyframe index instead of scanning. Default true. */
  readonly trustMetadataIndex?: boolean;
}

/** Bytes read at a time while scanning and while playing. */
export const BLOCK_SIZE = 64 * 1024;
/** Default cap on the seek points of one file. */
export const DEFAULT_MAX_SEEK_POINTS = 100_000;
/** Most sequence headers kept (a file changes its decoder configuration rarely, if ever). */
const MAX_SEQUENCE_HEADERS = 64;
/** An onMetaData tag larger than this is not decoded (its keyframe index is not used). */
const MAX_METADATA_BYTES = 4 * 1024 * 1024;
/** Spacing of the seek points of a file without video keyframes, ms. */
const AUDIO_SEEK_SPACING_MS = 1000;
/** E.4.1 PreviousTagSize after every tag. */
const PREV_TAG_SIZE = 4;
/** Body bytes read with each header while scanning: enough for "onMetaData" (AMF0 string: 3 + 10 bytes). */
const PEEK_BYTES = 16;
/** E.4.4.1: a script tag's name is an AMF0 string (marker 0x02, u16 length, bytes). */
const AMF0_STRING_MARKER = 0x02;
const ON_METADATA = "onMetaData";

/** A bounded, thinning list of seek points (see the module doc). */
class SeekPoints {
  readonly timestamps: number[] = [];
  readonly offsets: number[] = [];
  readonly #max: number;
  #stride = 1;
  #seen = 0;

  constructor(max: number) {
    this.#max = max;
  }

  add(timestamp: number, offset: number): void {
    if (this.#seen++ % this.#stride !== 0) return;
    this.timestamps.push(timestamp);
    this.offsets.push(offset);
    if (this.timestamps.length > this.#max) {
      for (const list of [this.timestamps, this.offsets]) {
        let w = 0;
        for (let r = 0; r < list.length; r += 2) list[w++] = list[r];
        list.length = w;
      }
      this.#stride *= 2;
    }
  }

  get length(): number {
    return this.timestamps.length;
  }
}

/** Reads a source a block at a time; views stay valid until the next call. */
class BlockReader {
  readonly #source: ByteSource;
  readonly #buf = new Uint8Array(BLOCK_SIZE);
  #start = 0;
  #len = 0;

  constructor(source: ByteSource) {
    this.#source = source;
  }

  /** `n` (at most BLOCK_SIZE) bytes at `offset`, or fewer at the end of the source. */
  async view(offset: number, n: number): Promise<Uint8Array> {
    if (offset < this.#start || offset + n > this.#start + this.#len) {
      this.#start = offset;
      this.#len = await readFully(this.#source, offset, this.#buf);
    }
    const at = offset - this.#start;
    return this.#buf.subarray(at, Math.min(at + n, this.#len));
  }
}

/** Reads until `into` is full or the source ends; returns the count. */
async function readFully(source: ByteSource, offset: number, into: Uint8Array): Promise<number> {
  let n = 0;
  while (n < into.length) {
    const got = await source.read(offset + n, into.subarray(n));
    if (got <= 0) break;
    n += got;
  }
  return n;
}

/** E.4.1 tag header fields. */
interface TagHeader {
  type: number;
  size: number;
  timestamp: number;
}

function readTagHeader(h: Uint8Array): TagHeader {
  return {
    type: h[0] & 0x1f,
    size: (h[1] << 16) | (h[2] << 8) | h[3],
    timestamp: ((h[7] << 24) | (h[4] << 16) | (h[5] << 8) | h[6]) >>> 0,
  };
}

function checkTagHeader(h: Uint8Array, at: number, maxTagSize: number): TagHeader {
  // E.4.1: Reserved UB[2], Filter UB[1] (1 = encrypted), TagType UB[5].
  if ((h[0] & 0x20) !== 0) {
    throw new ProtocolError(
      "flv",
      `Cannot read FLV tag at byte ${at}: Filter is 1 (encrypted), not supported`,
    );
  }
  const tag = readTagHeader(h);
  if (tag.type !== TagType.Audio && tag.type !== TagType.Video && tag.type !== TagType.ScriptData) {
    throw new ProtocolError(
      "flv",
      `Cannot read FLV tag at byte ${at}: TagType is ${tag.type}, expected 8, 9 or 18`,
    );
  }
  if (tag.size > maxTagSize) {
    throw new ProtocolError(
      "flv",
      `Cannot read FLV tag at byte ${at}: DataSize is ${tag.size}, limit ${maxTagSize}`,
    );
  }
  return tag;
}

/** Reads the FLV header (E.2) at the start of `source`. */
async function readHeader(blocks: BlockReader): Promise<FlvHeader> {
  const h = await blocks.view(0, FLV_HEADER_SIZE);
  if (h.length < FLV_HEADER_SIZE || h[0] !== 0x46 || h[1] !== 0x4c || h[2] !== 0x56) {
    throw new ProtocolError(
      "flv",
      'Cannot read FLV header: the file does not start with "FLV" and 6 more bytes',
    );
  }
  const dataOffset = ((h[5] << 24) | (h[6] << 16) | (h[7] << 8) | h[8]) >>> 0;
  if (dataOffset < FLV_HEADER_SIZE || dataOffset > BLOCK_SIZE) {
    throw new ProtocolError(
      "flv",
      `Cannot read FLV header: DataOffset is ${dataOffset}, expected ${FLV_HEADER_SIZE}..${BLOCK_SIZE}`,
    );
  }
  return {
    version: h[3],
    audio: (h[4] & HeaderFlag.Audio) !== 0,
    video: (h[4] & HeaderFlag.Video) !== 0,
    dataOffset,
  };
}

/** True when a script tag body starts with the AMF0 string "onMetaData". */
function isOnMetaData(body: Uint8Array): boolean {
  if (body.length < 3 + ON_METADATA.length || body[0] !== AMF0_STRING_MARKER) return false;
  if (((body[1] << 8) | body[2]) !== ON_METADATA.length) return false;
  for (let i = 0; i < ON_METADATA.length; i++) if (body[3 + i] !== ON_METADATA.charCodeAt(i)) return false;
  return true;
}

/** What a scan or the metadata finds. */
interface IndexFields {
  fileSize: number;
  header: FlvHeader;
  metadata: TagRef | undefined;
  sequenceHeaders: TagRef[];
  durationMs: number;
  builtFrom: "metadata" | "scan";
  points: SeekPoints;
  damage?: string;
}

/** Where an FLV file's metadata, sequence headers and seek points are (see the module doc). */
export class FlvIndex {
  /** The file size the index was built for. */
  readonly fileSize: number;
  readonly header: FlvHeader;
  /** Byte offset of the first tag header (after PreviousTagSize0). */
  readonly firstTagOffset: number;
  /** The first onMetaData script tag, if any. */
  readonly metadata: TagRef | undefined;
  /** Sequence headers (AVC/AAC/enhanced sequence starts) in file order, at most 64. */
  readonly sequenceHeaders: readonly TagRef[];
  /**
   * The file's duration, ms: the largest tag timestamp a scan saw, or, from
   * onMetaData, the larger of its `duration` and the last tag's timestamp.
   */
  readonly durationMs: number;
  /** "metadata" when the onMetaData keyframe index was used, "scan" otherwise. */
  readonly builtFrom: "metadata" | "scan";
  /**
   * Why the scan stopped before the end of the file: a malformed tag header
   * after the first tag (a damaged or padded tail). The index covers the tags
   * before it; a cursor throws ProtocolError when it gets there.
   */
  readonly damage: string | undefined;
  readonly #timestamps: readonly number[];
  readonly #offsets: readonly number[];

  private constructor(fields: IndexFields) {
    this.fileSize = fields.fileSize;
    this.header = fields.header;
    this.firstTagOffset = fields.header.dataOffset + PREV_TAG_SIZE;
    this.metadata = fields.metadata;
    this.sequenceHeaders = fields.sequenceHeaders;
    this.durationMs = fields.durationMs;
    this.builtFrom = fields.builtFrom;
    this.damage = fields.damage;
    this.#timestamps = fields.points.timestamps;
    this.#offsets = fields.points.offsets;
  }

  /** How many seek points the index holds. */
  get seekPointCount(): number {
    return this.#offsets.length;
  }

  /** The seek points in file order (a copy). */
  seekPoints(): SeekPoint[] {
    return this.#offsets.map((offset, i) => ({ timestamp: this.#timestamps[i], offset }));
  }

  /**
   * The last seek point at or before `ms`; the first one when `ms` is before
   * them all; undefined when the file has none. Seek points are in timestamp
   * order in any sane FLV file (tag timestamps never go back).
   */
  seekPoint(ms: number): SeekPoint | undefined {
    const ts = this.#timestamps;
    if (ts.length === 0) return undefined;
    let lo = 0;
    let hi = ts.length - 1;
    if (ms < ts[0]) return { timestamp: ts[0], offset: this.#offsets[0] };
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (ts[mid] <= ms) lo = mid;
      else hi = mid - 1;
    }
    return { timestamp: ts[lo], offset: this.#offsets[lo] };
  }

  /** The latest video and the latest audio sequence header that start before `offset`, in file order. */
  sequenceHeadersBefore(offset: number): TagRef[] {
    let video: TagRef | undefined;
    let audio: TagRef | undefined;
    for (const s of this.sequenceHeaders) {
      if (s.offset >= offset) break;
      if (s.type === TagType.Video) video = s;
      else if (s.type === TagType.Audio) audio = s;
    }
    return [video, audio].filter((s): s is TagRef => s !== undefined).sort((a, b) => a.offset - b.offset);
  }

  /**
   * Builds the index of the FLV file in `source` (see the module doc).
   * Throws ProtocolError when the file is not FLV or a tag header is
   * malformed before the end.
   */
  static async build(source: ByteSource, options: FlvIndexOptions = {}): Promise<FlvIndex> {
    const maxSeekPoints = options.maxSeekPoints ?? DEFAULT_MAX_SEEK_POINTS;
    const maxTagSize = options.maxTagSize ?? DEFAULT_MAX_TAG_SIZE;
    if (!Number.isInteger(maxSeekPoints) || maxSeekPoints < 1) {
      throw new RangeError(
        `Cannot build an FLV index: maxSeekPoints must be 1 or more, current ${maxSeekPoints}`,
      );
    }
    const blocks = new BlockReader(source);
    const header = await readHeader(blocks);
    const fromMetadata = (options.trustMetadataIndex ?? true)
      ? await buildFromMetadata(source, blocks, header, maxSeekPoints, maxTagSize)
      : undefined;
    return new FlvIndex(fromMetadata ?? await scan(source, blocks, header, maxSeekPoints, maxTagSize));
  }
}

/**
 * Scans tag headers from the first tag until `stopAt` (a byte offset) or the
 * end, collecting the metadata tag, sequence headers and, when `points` is
 * given, seek points. A malformed first tag throws ProtocolError; a malformed
 * tag later ends the scan there (`damage` says why).
 */
async function scanTags(
  source: ByteSource,
  blocks: BlockReader,
  from: number,
  stopAt: number,
  maxTagSize: number,
  points: SeekPoints | undefined,
  audioPoints: SeekPoints | undefined,
): Promise<{ metadata: TagRef | undefined; sequenceHeaders: TagRef[]; durationMs: number; damage?: string }> {
  let metadata: TagRef | undefined;
  const sequenceHeaders: TagRef[] = [];
  let durationMs = 0;
  let lastAudioPoint = -Infinity;
  let at = from;
  while (at < stopAt && at + TAG_HEADER_SIZE <= source.size) {
    const view = await blocks.view(at, TAG_HEADER_SIZE + PEEK_BYTES);
    if (view.length < TAG_HEADER_SIZE) break;
    let tag: TagHeader;
    try {
      tag = checkTagHeader(view, at, maxTagSize);
    } catch (e) {
      if (at === from || !(e instanceof ProtocolError)) throw e;
      return { metadata, sequenceHeaders, durationMs, damage: e.message };
    }
    const end = at + TAG_HEADER_SIZE + tag.size;
    if (end > source.size) break; // the file ends inside this tag
    const body = view.subarray(TAG_HEADER_SIZE, TAG_HEADER_SIZE + Math.min(tag.size, PEEK_BYTES));
    const ref: TagRef = { type: tag.type as TagType, timestamp: tag.timestamp, offset: at, size: tag.size };
    durationMs = Math.max(durationMs, tag.timestamp);
    if (tag.type === TagType.ScriptData) {
      if (!metadata && isOnMetaData(body)) metadata = ref;
    } else {
      const { keyframe, sequenceHeader } = classify(tag.type, body);
      if (sequenceHeader && sequenceHeaders.length < MAX_SEQUENCE_HEADERS) sequenceHeaders.push(ref);
      if (keyframe) points?.add(tag.timestamp, at);
      if (
        audioPoints && tag.type === TagType.Audio && !sequenceHeader &&
        tag.timestamp - lastAudioPoint >= AUDIO_SEEK_SPACING_MS
      ) {
        audioPoints.add(tag.timestamp, at);
        lastAudioPoint = tag.timestamp;
      }
    }
    at = end + PREV_TAG_SIZE;
  }
  return { metadata, sequenceHeaders, durationMs };
}

async function scan(
  source: ByteSource,
  blocks: BlockReader,
  header: FlvHeader,
  maxSeekPoints: number,
  maxTagSize: number,
): Promise<IndexFields> {
  const points = new SeekPoints(maxSeekPoints);
  const audioPoints = new SeekPoints(maxSeekPoints);
  const found = await scanTags(
    source,
    blocks,
    header.dataOffset + PREV_TAG_SIZE,
    Infinity,
    maxTagSize,
    points,
    audioPoints,
  );
  return {
    fileSize: source.size,
    header,
    ...found,
    builtFrom: "scan",
    points: points.length > 0 ? points : audioPoints,
  };
}

/** The index from onMetaData's `keyframes`, or undefined when there is none or it does not check out. */
async function buildFromMetadata(
  source: ByteSource,
  blocks: BlockReader,
  header: FlvHeader,
  maxSeekPoints: number,
  maxTagSize: number,
): Promise<IndexFields | undefined> {
  const first = header.dataOffset + PREV_TAG_SIZE;
  const view = await blocks.view(first, TAG_HEADER_SIZE + PEEK_BYTES);
  if (view.length < TAG_HEADER_SIZE) return undefined;
  const tag = readTagHeader(view);
  if (
    tag.type !== TagType.ScriptData || tag.size > MAX_METADATA_BYTES ||
    first + TAG_HEADER_SIZE + tag.size > source.size
  ) {
    return undefined;
  }
  if (!isOnMetaData(view.subarray(TAG_HEADER_SIZE))) return undefined;
  const body = new Uint8Array(tag.size);
  if (await readFully(source, first + TAG_HEADER_SIZE, body) < tag.size) return undefined;
  const index = keyframeIndexOf(body);
  if (!index) return undefined;
  const { times, positions } = index;
  for (let i = 0; i < positions.length; i++) {
    const p = positions[i];
    if (!Number.isSafeInteger(p) || p < first || p + TAG_HEADER_SIZE > source.size) return undefined;
    if (i > 0 && (p <= positions[i - 1] || times[i] < times[i - 1])) return undefined;
  }
  const samples = new Set([0, positions.length >> 1, positions.length - 1]);
  for (const i of samples) {
    const v = await blocks.view(positions[i], TAG_HEADER_SIZE + PEEK_BYTES);
    if (v.length < TAG_HEADER_SIZE) return undefined;
    const t = readTagHeader(v);
    if (t.type !== TagType.Video || !classify(TagType.Video, v.subarray(TAG_HEADER_SIZE)).keyframe) {
      return undefined;
    }
  }
  const points = new SeekPoints(maxSeekPoints);
  // The index's times are seconds; the tags' own timestamps are exact, but reading each would be a scan.
  for (let i = 0; i < positions.length; i++) points.add(Math.round(times[i] * 1000), positions[i]);
  const head = await scanTags(source, blocks, first, positions[0], maxTagSize, undefined, undefined);
  return {
    fileSize: source.size,
    header,
    metadata: { type: TagType.ScriptData, timestamp: tag.timestamp, offset: first, size: tag.size },
    sequenceHeaders: head.sequenceHeaders,
    durationMs: Math.max(
      head.durationMs,
      await lastTagTimestamp(source, blocks, first),
      Math.round(index.durationS * 1000),
    ),
    builtFrom: "metadata",
    points,
  };
}

/**
 * `keyframes.times` (s) and `keyframes.filepositions` (bytes) of an onMetaData
 * body, when both are number arrays of one length, and its `duration` (s, 0
 * when missing).
 */
function keyframeIndexOf(
  body: Uint8Array,
): { times: number[]; positions: number[]; durationS: number } | undefined {
  let values: AmfValue[];
  try {
    values = decodeAmf0(body);
  } catch {
    return undefined;
  }
  const props = propertiesOf(values[1]);
  const keyframes = props ? propertiesOf(props.keyframes) : undefined;
  if (!keyframes) return undefined;
  const times = keyframes.times;
  const positions = keyframes.filepositions;
  if (!Array.isArray(times) || !Array.isArray(positions)) return undefined;
  if (times.length === 0 || times.length !== positions.length) return undefined;
  if (!times.every((t) => typeof t === "number" && Number.isFinite(t) && t >= 0)) return undefined;
  if (!positions.every((p) => typeof p === "number")) return undefined;
  const duration = props?.duration;
  const durationS = typeof duration === "number" && Number.isFinite(duration) && duration > 0 ? duration : 0;
  return { times: times as number[], positions: positions as number[], durationS };
}

function propertiesOf(v: AmfValue | undefined): Record<string, AmfValue> | undefined {
  if (v instanceof EcmaArray || v instanceof TypedObject) return v.properties;
  if (v !== null && typeof v === "object" && !Array.isArray(v) && !(v instanceof Uint8Array)) {
    return v as Record<string, AmfValue>;
  }
  return undefined;
}

/** The timestamp of the file's last tag, found through the final PreviousTagSize; 0 when that does not check out. */
async function lastTagTimestamp(source: ByteSource, blocks: BlockReader, first: number): Promise<number> {
  if (source.size < first + TAG_HEADER_SIZE + PREV_TAG_SIZE) return 0;
  const tail = await blocks.view(source.size - PREV_TAG_SIZE, PREV_TAG_SIZE);
  if (tail.length < PREV_TAG_SIZE) return 0;
  const prev = ((tail[0] << 24) | (tail[1] << 16) | (tail[2] << 8) | tail[3]) >>> 0;
  const at = source.size - PREV_TAG_SIZE - prev;
  if (prev < TAG_HEADER_SIZE || at < first) return 0;
  const h = await blocks.view(at, TAG_HEADER_SIZE);
  if (h.length < TAG_HEADER_SIZE) return 0;
  const tag = readTagHeader(h);
  const known = tag.type === TagType.Audio || tag.type === TagType.Video || tag.type === TagType.ScriptData;
  return known && TAG_HEADER_SIZE + tag.size === prev ? tag.timestamp : 0;
}

/**
 * Reads the tags of an FLV file one at a time from a tag offset (one from an
 * {@linkcode FlvIndex}), a block at a time; a tag larger than a block is read
 * into its own array. It stops at the end of the file or where the file ends
 * inside a tag. Malformed tag headers throw ProtocolError.
 */
export class FlvTagCursor {
  readonly #source: ByteSource;
  readonly #blocks: BlockReader;
  readonly #maxTagSize: number;
  #offset: number;

  constructor(source: ByteSource, offset: number, options: { maxTagSize?: number } = {}) {
    this.#source = source;
    this.#blocks = new BlockReader(source);
    this.#offset = offset;
    this.#maxTagSize = options.maxTagSize ?? DEFAULT_MAX_TAG_SIZE;
  }

  /** Byte offset of the next tag's header. */
  get offset(): number {
    return this.#offset;
  }

  /** Goes on from the tag whose header is at `offset` (one this cursor or the index gave). */
  moveTo(offset: number): void {
    this.#offset = offset;
  }

  /** The next tag (its data an array the caller owns), or undefined at the end. */
  async next(): Promise<FlvTag | undefined> {
    const at = this.#offset;
    if (at + TAG_HEADER_SIZE > this.#source.size) return undefined;
    const h = await this.#blocks.view(at, TAG_HEADER_SIZE);
    if (h.length < TAG_HEADER_SIZE) return undefined;
    const tag = checkTagHeader(h, at, this.#maxTagSize);
    const streamId = (h[8] << 16) | (h[9] << 8) | h[10];
    const bodyAt = at + TAG_HEADER_SIZE;
    if (bodyAt + tag.size > this.#source.size) return undefined;
    let data: Uint8Array;
    if (tag.size <= BLOCK_SIZE) {
      const v = await this.#blocks.view(bodyAt, tag.size);
      if (v.length < tag.size) return undefined;
      data = v.slice();
    } else {
      data = new Uint8Array(tag.size);
      if (await readFully(this.#source, bodyAt, data) < tag.size) return undefined;
    }
    this.#offset = bodyAt + tag.size + PREV_TAG_SIZE;
    return { type: tag.type as TagType, timestamp: tag.timestamp, streamId, data, offset: at };
  }
}

/** A ByteSource over bytes in memory (tests, small files). */
export function bytesSource(bytes: Uint8Array): ByteSource {
  return {
    size: bytes.length,
    read(offset, into) {
      const part = bytes.subarray(offset, offset + into.length);
      into.set(part);
      return Promise.resolve(part.length);
    },
  };
}
