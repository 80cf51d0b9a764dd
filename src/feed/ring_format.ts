/**
 * The feed ring's on-disk format (see feed_ring.ts for the file's life): pure
 * functions over Uint8Array, with no file and no socket.
 *
 * A ring file is block 0, the file header, then `blockCount` data blocks of
 * `BlockSize` bytes. The data blocks hold one endless byte stream, addressed
 * by a *logical offset* `L = seq * BlockSize + offsetInBlock`, where `seq` is
 * the block's sequence number, which grows forever across wraps: block `seq`
 * lives at data block `seq % blockCount`, file offset
 * `BlockSize + L % (blockCount * BlockSize)` (`filePositionOf`).
 *
 * Each data block starts with a block header, written once when the block is
 * begun: its seq, where the first record that starts in it begins (or
 * `NoRecord` when a long record's continuation fills the block) and that
 * record's serial number. Records follow one another and never get rewritten;
 * a record may span blocks, its bytes going on after the next block's header.
 * A record is a record header and a body (an FLV tag body). Every header has a
 * CRC-32 (IEEE) as its last field; a record's covers its header fields and
 * its body. Integers are big-endian, as in FLV and RTMP.
 *
 * What survives a crash: a reader of the file (RingScanner) trusts a block
 * only when its header CRC holds and its seq matches its position, and a
 * record only when its CRC holds, its serial follows the previous record's (or
 * equals the block header's `firstSerial` when it starts a resync), and a
 * continuation ends exactly where the next block says its first record
 * starts. So a torn record at the head, bytes left from the previous lap
 * behind a freshly written block header, and the unused tail a restart leaves
 * behind are all told from good records.
 *
 * @module
 */
import { FrameKind } from "../media/frame.ts";

/** Sizes, magics and limits of the format (all byte counts). */
export const RingLayout = {
  /** File header magic, "SLRB" (Sluice Ring Buffer), at offset 0 of block 0. */
  FileMagic: 0x534c5242,
  /** The format version this code writes and reads; a newer one is refused, never overwritten. */
  Version: 1,
  /** Block size: the file header block and every data block (ffserver's ring used 4096 too). */
  BlockSize: 4096,
  /** Bytes of the file header proper; the rest of block 0 is zero. */
  FileHeaderSize: 32,
  /** Block header magic, "SLBK" (Sluice bLocK), at offset 0 of every data block. */
  BlockMagic: 0x534c424b,
  /** Bytes of a block header; a block's record bytes start after it. */
  BlockHeaderSize: 24,
  /** A block header's `firstRecord` when no record starts in the block. */
  NoRecord: 0xffff,
  /** Bytes of a record header; the body follows. */
  RecordHeaderSize: 28,
  /** The longest record body the format allows (a ring may allow less); a longer length is damage. */
  MaxRecordBody: 16 * 1024 * 1024,
  /** The fewest data blocks a ring file may have. */
  MinDataBlocks: 16,
} as const;

const BS = RingLayout.BlockSize;
const BHS = RingLayout.BlockHeaderSize;
const RHS = RingLayout.RecordHeaderSize;

/** Bits of a record header's `flags`. */
export const RecordFlag = {
  /** A video keyframe (MediaFrame.keyframe). */
  Keyframe: 0x01,
  /** A decoder configuration: AVC/AAC sequence header or enhanced sequence start. */
  SequenceHeader: 0x02,
  /** The first record of a group start (metadata, sequence headers, then the keyframe): an index entry. */
  GroupStart: 0x04,
  /** An `onMetaData` data record (kind 18). */
  Metadata: 0x08,
} as const;
/** One RecordFlag bit. */
export type RecordFlag = typeof RecordFlag[keyof typeof RecordFlag];

/** The record kinds: the FLV tag types (FLV spec v10.1 E.4.1), as FrameKind. */
export const RecordKind = FrameKind;
/** A record kind: a FrameKind. */
export type RecordKind = FrameKind;

const KINDS: ReadonlySet<number> = new Set(Object.values(RecordKind));

// ---------------------------------------------------------------------------------------------
// CRC-32

/** The byte table of the reflected IEEE 802.3 polynomial 0xEDB88320 (as zlib, PNG, gzip). */
const CRC_TABLE: Uint32Array = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/**
 * CRC-32 (IEEE, as zlib's `crc32()`) of `bytes`; pass a previous result as `crc` to go on over more
 * bytes: `crc32(b, crc32(a))` equals the CRC of `a` then `b`. `crc32("123456789")` is 0xCBF43926.
 */
export function crc32(bytes: Uint8Array, crc = 0): number {
  let c = (crc ^ 0xffffffff) >>> 0;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

// ---------------------------------------------------------------------------------------------
// File header (block 0)

/** The file header's fields. */
export interface FileHeader {
  /** The format version (RingLayout.Version). */
  version: number;
  /** Bytes per block (RingLayout.BlockSize). */
  blockSize: number;
  /** Data blocks after block 0. */
  blockCount: number;
  /** When the file was created, ms since the epoch. */
  createdAt: number;
}

/** What decodeFileHeader() found. */
export type FileHeaderRead =
  | { status: "ok"; header: FileHeader }
  /** Fewer bytes than a header: a file whose creation was cut short. */
  | { status: "short" }
  /** Not a ring file: its magic is something else. */
  | { status: "foreign"; magic: number }
  /** A ring file whose header CRC does not hold. */
  | { status: "damaged" }
  /** A ring file of a newer format version. */
  | { status: "newer"; version: number };

/**
 * The file header, FileHeaderSize bytes:
 * magic u32 | version u16 | header size u16 | block size u32 | block count u32 | created at f64 |
 * reserved u32 (0) | CRC-32 of the 28 bytes before it u32.
 */
export function encodeFileHeader(h: { blockCount: number; createdAt: number }): Uint8Array {
  const out = new Uint8Array(RingLayout.FileHeaderSize);
  const v = view(out);
  v.setUint32(0, RingLayout.FileMagic);
  v.setUint16(4, RingLayout.Version);
  v.setUint16(6, RingLayout.FileHeaderSize);
  v.setUint32(8, BS);
  v.setUint32(12, h.blockCount);
  v.setFloat64(16, h.createdAt);
  v.setUint32(24, 0);
  v.setUint32(28, crc32(out.subarray(0, 28)));
  return out;
}

/** Reads a file header from the start of `bytes` (see encodeFileHeader). */
export function decodeFileHeader(bytes: Uint8Array): FileHeaderRead {
  if (bytes.length < 4) return { status: "short" };
  const v = view(bytes);
  const magic = v.getUint32(0);
  if (magic !== RingLayout.FileMagic) return { status: "foreign", magic };
  if (bytes.length < RingLayout.FileHeaderSize) return { status: "short" };
  if (v.getUint32(28) !== crc32(bytes.subarray(0, 28))) return { status: "damaged" };
  const version = v.getUint16(4);
  if (version > RingLayout.Version) return { status: "newer", version };
  return {
    status: "ok",
    header: { version, blockSize: v.getUint32(8), blockCount: v.getUint32(12), createdAt: v.getFloat64(16) },
  };
}

// ---------------------------------------------------------------------------------------------
// Block header

/** A block header's fields. */
export interface BlockHeader {
  /** The block's sequence number (grows forever across wraps; below 2^53 / BlockSize). */
  seq: number;
  /** Offset within the block of the first record that starts in it; RingLayout.NoRecord when none. */
  firstRecord: number;
  /** The serial number of that record (of the next record to be written when none starts here). */
  firstSerial: number;
}

/**
 * Writes a block header at `out[at]`, BlockHeaderSize bytes:
 * magic u32 | seq high u32 | seq low u32 | first record u16 | reserved u16 (0) | first serial u32 |
 * CRC-32 of the 20 bytes before it u32.
 */
export function encodeBlockHeader(h: BlockHeader, out: Uint8Array, at = 0): void {
  const v = new DataView(out.buffer, out.byteOffset + at, BHS);
  v.setUint32(0, RingLayout.BlockMagic);
  v.setUint32(4, Math.floor(h.seq / 0x1_0000_0000));
  v.setUint32(8, h.seq >>> 0);
  v.setUint16(12, h.firstRecord);
  v.setUint16(14, 0);
  v.setUint32(16, h.firstSerial >>> 0);
  v.setUint32(20, crc32(out.subarray(at, at + 20)));
}

/** Reads the block header at `bytes[at]`; undefined when the bytes are too few or magic or CRC is wrong. */
export function decodeBlockHeader(bytes: Uint8Array, at = 0): BlockHeader | undefined {
  if (bytes.length - at < BHS) return undefined;
  const v = new DataView(bytes.buffer, bytes.byteOffset + at, BHS);
  if (v.getUint32(0) !== RingLayout.BlockMagic) return undefined;
  if (v.getUint32(20) !== crc32(bytes.subarray(at, at + 20))) return undefined;
  const firstRecord = v.getUint16(12);
  if (firstRecord !== RingLayout.NoRecord && (firstRecord < BHS || firstRecord >= BS)) return undefined;
  return { seq: v.getUint32(4) * 0x1_0000_0000 + v.getUint32(8), firstRecord, firstSerial: v.getUint32(16) };
}

// ---------------------------------------------------------------------------------------------
// Records

/** A record header's fields. */
export interface RecordHeader {
  /** Body bytes. */
  length: number;
  /** Record number: the previous record's plus one (mod 2^32), over the file's whole life. */
  serial: number;
  /** FLV tag type: 8 audio, 9 video, 18 data. */
  kind: RecordKind;
  /** RecordFlag bits. */
  flags: number;
  /** Media timestamp in ms on the ring's own timeline (48 bits). */
  timestamp: number;
  /** Date.now() when the writer took the frame. */
  wallMs: number;
}

/** The largest media timestamp a record holds (48 bits of ms: almost 9,000 years). */
export const MAX_RECORD_TIMESTAMP = 2 ** 48 - 1;

/**
 * One record, header then body, in a new array. The header is RecordHeaderSize bytes:
 * body length u32 | serial u32 | kind u8 | flags u8 | timestamp high u16 | timestamp low u32 |
 * wall clock ms f64 | CRC-32 of the 24 header bytes before it and then of the body u32.
 */
export function encodeRecord(h: Omit<RecordHeader, "length">, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(RHS + body.length);
  const v = view(out);
  v.setUint32(0, body.length);
  v.setUint32(4, h.serial >>> 0);
  v.setUint8(8, h.kind);
  v.setUint8(9, h.flags);
  v.setUint16(10, Math.floor(h.timestamp / 0x1_0000_0000));
  v.setUint32(12, h.timestamp >>> 0);
  v.setFloat64(16, h.wallMs);
  out.set(body, RHS);
  v.setUint32(24, crc32(body, crc32(out.subarray(0, 24))));
  return out;
}

/** The fields of the record header at `bytes[at]` (RecordHeaderSize bytes must be there), and its CRC. */
export function decodeRecordHeader(bytes: Uint8Array, at = 0): RecordHeader & { crc: number } {
  const v = new DataView(bytes.buffer, bytes.byteOffset + at, RHS);
  return {
    length: v.getUint32(0),
    serial: v.getUint32(4),
    kind: v.getUint8(8) as RecordKind,
    flags: v.getUint8(9),
    timestamp: v.getUint16(10) * 0x1_0000_0000 + v.getUint32(12),
    wallMs: v.getFloat64(16),
    crc: v.getUint32(24),
  };
}

/** Why a record is not taken (RecordRead "bad"). */
export const RecordProblem = {
  /** The body length is above the limit: damage, or bytes that were never a record header. */
  Length: "length",
  /** The kind is not 8, 9 or 18. */
  Kind: "kind",
  /** The CRC does not hold: a torn write, or damage. */
  Crc: "crc",
} as const;
/** One RecordProblem. */
export type RecordProblem = typeof RecordProblem[keyof typeof RecordProblem];

/** What readRecord() found. */
export type RecordRead =
  /** A whole, intact record; `body` is a view into the bytes read; `end` is where the next one starts. */
  | { status: "ok"; header: RecordHeader; body: Uint8Array; end: number }
  /** The bytes end before the record does (a torn tail, or more bytes to come). */
  | { status: "short" }
  /** Not a record (see RecordProblem). */
  | { status: "bad"; problem: RecordProblem };

/** The problem of a record header on its own (length above `maxBody`, unknown kind), if any. */
export function headerProblem(h: RecordHeader, maxBody: number): RecordProblem | undefined {
  if (h.length > maxBody) return RecordProblem.Length;
  if (!KINDS.has(h.kind)) return RecordProblem.Kind;
  return undefined;
}

/**
 * Reads the record at `bytes[at]` from contiguous record bytes (block headers already taken out): its
 * header is checked first (body length at most `maxBody`, a known kind), then its CRC.
 */
export function readRecord(
  bytes: Uint8Array,
  at = 0,
  maxBody: number = RingLayout.MaxRecordBody,
): RecordRead {
  if (bytes.length - at < RHS) return { status: "short" };
  const h = decodeRecordHeader(bytes, at);
  const problem = headerProblem(h, maxBody);
  if (problem) return { status: "bad", problem };
  if (bytes.length - at < RHS + h.length) return { status: "short" };
  const body = bytes.subarray(at + RHS, at + RHS + h.length);
  if (crc32(body, crc32(bytes.subarray(at, at + 24))) !== h.crc) {
    return { status: "bad", problem: RecordProblem.Crc };
  }
  const { crc: _crc, ...header } = h;
  return { status: "ok", header, body, end: at + RHS + h.length };
}

// ---------------------------------------------------------------------------------------------
// Logical offsets and the layout of records into blocks

/** The seq of the block a logical offset falls in. */
export function blockSeqOf(offset: number): number {
  return Math.floor(offset / BS);
}

/** Where a logical offset lives in a file of `blockCount` data blocks (block 0 is the file header). */
export function filePositionOf(offset: number, blockCount: number): number {
  return BS + offset % (blockCount * BS);
}

/**
 * Where a record at logical offset `offset` begins: `offset` itself, or, when it falls on a block
 * header (the block not begun yet), just after that header.
 */
export function recordStartOf(offset: number): number {
  const inBlock = offset % BS;
  return inBlock < BHS ? offset - inBlock + BHS : offset;
}

/** The logical offset just after `n` record bytes that start at logical `from` (crossing block headers). */
export function rawEndOf(from: number, n: number): number {
  let pos = recordStartOf(from);
  let left = n;
  while (left > 0) {
    const room = BS - pos % BS;
    if (left <= room) return pos + left;
    left -= room;
    pos += room + BHS;
  }
  return pos;
}

/**
 * Lays records (from encodeRecord, consecutive serials) into the block stream from logical offset `at`
 * (the writer's end: a record boundary), inserting a block header wherever a block begins: at `at`
 * itself when it is a block's first byte, and at every block boundary the records cross. Returns the
 * bytes that go at `at` and the logical offset each record starts at.
 *
 * A block begun in the middle of a record says the first record that starts in it begins right after
 * that record's remaining bytes (NoRecord when they fill the block); its `firstSerial` is the next
 * record's serial, which the caller's next record must have when none of these does.
 */
export function layoutRecords(records: readonly Uint8Array[], at: number): {
  bytes: Uint8Array;
  starts: number[];
} {
  if (records.length === 0) return { bytes: new Uint8Array(0), starts: [] };
  const total = records.reduce((n, r) => n + r.length, 0);
  const end = rawEndOf(at, total);
  const out = new Uint8Array(end - at);
  const starts: number[] = [];
  let pos = at; // logical offset of the next byte to place
  const serialOf = (i: number) =>
    i < records.length
      ? view(records[i]).getUint32(4)
      : (view(records[records.length - 1]).getUint32(4) + 1) >>> 0;
  for (let i = 0; i < records.length; i++) {
    const rec = records[i];
    let done = 0;
    while (done < rec.length) {
      if (pos % BS === 0) {
        // Begin a block: the rest of this record (if it is under way) comes first.
        const rem = rec.length - done;
        const begunAtBoundary = done === 0;
        const firstRecord = begunAtBoundary ? BHS : BHS + rem < BS ? BHS + rem : RingLayout.NoRecord;
        const firstSerial = begunAtBoundary ? serialOf(i) : serialOf(i + 1);
        encodeBlockHeader({ seq: blockSeqOf(pos), firstRecord, firstSerial }, out, pos - at);
        pos += BHS;
      }
      if (done === 0) starts.push(pos);
      const n = Math.min(rec.length - done, BS - pos % BS);
      out.set(rec.subarray(done, done + n), pos - at);
      done += n;
      pos += n;
    }
  }
  return { bytes: out, starts };
}

/**
 * `n` record bytes starting at logical `from`, taken out of `raw` (the block stream from logical
 * `rawStart`) with the block headers in between left out; undefined when `raw` does not hold them all.
 * The bytes are a view into `raw` when they lie in one block, else a new array.
 */
export function recordBytesOf(
  raw: Uint8Array,
  rawStart: number,
  from: number,
  n: number,
): Uint8Array | undefined {
  const start = recordStartOf(from);
  const end = rawEndOf(start, n);
  if (start < rawStart || end > rawStart + raw.length) return undefined;
  if (blockSeqOf(start) === blockSeqOf(end - 1) || n === 0) {
    return raw.subarray(start - rawStart, start - rawStart + n);
  }
  const out = new Uint8Array(n);
  let pos = start;
  let done = 0;
  while (done < n) {
    if (pos % BS === 0) pos += BHS;
    const k = Math.min(n - done, BS - pos % BS);
    out.set(raw.subarray(pos - rawStart, pos - rawStart + k), done);
    done += k;
    pos += k;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Scanning blocks in seq order (a ring reopened)

/** A record RingScanner found. */
export interface ScannedRecord {
  /** Logical offset of the record's header. */
  start: number;
  /** Its header's fields. */
  header: RecordHeader;
  /** The body: a view into the block given to feed() when the record lies in one block, else a new array. */
  body: Uint8Array;
  /** The first record after a gap or a resync (or the first of the scan). */
  resynced: boolean;
}

/** Counts kept by RingScanner. */
export interface ScanStats {
  /** Records found intact. */
  records: number;
  /** Blocks given with a bad header or out of order. */
  badBlocks: number;
  /** Records refused (torn, damaged, from an earlier lap); the scan went on at the next block's first record. */
  badRecords: number;
}

interface Partial {
  start: number;
  parts: Uint8Array[];
  have: number;
  /** Total record bytes (header + body); -1 until the header is in. */
  need: number;
  header: (RecordHeader & { crc: number }) | undefined;
}

/**
 * Finds the records in data blocks given one by one in seq order, as a reopened ring does, trusting only
 * what the format can vouch for (see the module doc): a block whose header is bad, or whose seq is not
 * the one given, is a gap; after a gap or a bad record the scan resyncs at the next block that says
 * where its first record starts, and takes that record only with the serial its block header names.
 */
export class RingScanner {
  /** What the scan found so far. */
  readonly stats: ScanStats = { records: 0, badBlocks: 0, badRecords: 0 };
  #maxBody: number;
  /** Looking for a block that says where its first record starts. */
  #syncing = true;
  #expectSeq: number | undefined;
  /** The serial the next record must have. */
  #nextSerial: number | undefined;
  #partial: Partial | undefined;
  #resynced = true;

  /** `maxBody`: the longest body taken; a longer length is damage. */
  constructor(maxBody: number = RingLayout.MaxRecordBody) {
    this.#maxBody = maxBody;
  }

  /**
   * Feeds data block `seq` (BlockSize bytes, or fewer for a block cut short at the end of the file);
   * returns the records that end in it, oldest first.
   */
  feed(seq: number, block: Uint8Array): ScannedRecord[] {
    const out: ScannedRecord[] = [];
    const hdr = decodeBlockHeader(block);
    if (!hdr || hdr.seq !== seq) {
      this.stats.badBlocks++;
      this.#lose();
      this.#expectSeq = undefined;
      return out;
    }
    if (this.#expectSeq !== undefined && seq !== this.#expectSeq) this.#lose();
    this.#expectSeq = seq + 1;
    const len = Math.min(block.length, BS);
    const first = hdr.firstRecord;
    let off: number = BHS;
    if (!this.#syncing) {
      if (this.#partial) {
        // The continuation fills [BHS, first), or the whole block when no record starts in it.
        const limit = first === RingLayout.NoRecord ? BS : first;
        const r = this.#extend(block, BHS, Math.min(limit, len));
        off = r.off;
        const p = this.#partial;
        if (r.bad) {
          this.#refuse();
        } else if (p.header !== undefined && p.have === p.need) {
          if (off !== limit) this.#refuse(); // ended before the block says the next record starts
          else this.#finish(out);
        } else if (first !== RingLayout.NoRecord) {
          this.#refuse(); // still short where the next record starts
        } else {
          return out; // goes on in the next block (or the file ends here: a torn tail)
        }
      } else if (first !== BHS) {
        // The previous record ended at the previous block's end: one must start right after this header.
        this.#refuse();
      }
    }
    if (this.#syncing) {
      if (first === RingLayout.NoRecord) return out;
      this.#syncing = false;
      this.#nextSerial = hdr.firstSerial;
      this.#resynced = true;
      off = first;
    }
    // The records that start in this block.
    while (off < len) {
      this.#partial = { start: seq * BS + off, parts: [], have: 0, need: -1, header: undefined };
      const r = this.#extend(block, off, len);
      off = r.off;
      const p = this.#partial;
      if (r.bad) {
        this.#refuse();
        break;
      }
      if (p.header === undefined || p.have < p.need) break; // goes on in the next block
      if (!this.#finish(out)) break;
    }
    return out;
  }

  /** The scan is over: a record still incomplete is a torn tail. Returns whether there was one. */
  finish(): boolean {
    const torn = this.#partial !== undefined;
    if (torn) this.stats.badRecords++;
    this.#partial = undefined;
    return torn;
  }

  /** A gap: the record under way is lost; resync. */
  #lose(): void {
    if (this.#partial) this.stats.badRecords++;
    this.#partial = undefined;
    this.#syncing = true;
  }

  /** The record under way is no good: count it and resync. */
  #refuse(): void {
    this.stats.badRecords++;
    this.#partial = undefined;
    this.#syncing = true;
  }

  /**
   * Adds bytes [from, limit) of `block` to the record under way, up to its end; returns where it stopped,
   * and `bad` when its header, once in, is no record header.
   */
  #extend(block: Uint8Array, from: number, limit: number): { off: number; bad: boolean } {
    const p = this.#partial!;
    let off = from;
    while (off < limit) {
      const want = p.header === undefined ? RHS - p.have : p.need - p.have;
      if (want === 0) break;
      const n = Math.min(want, limit - off);
      p.parts.push(block.subarray(off, off + n));
      p.have += n;
      off += n;
      if (p.header === undefined && p.have === RHS) {
        const h = decodeRecordHeader(p.parts.length === 1 ? p.parts[0] : concat(p.parts, RHS));
        if (headerProblem(h, this.#maxBody)) return { off, bad: true };
        p.header = h;
        p.need = RHS + h.length;
      }
    }
    return { off, bad: false };
  }

  /** Checks the complete record under way (CRC, serial) and emits it, or refuses it; true when taken. */
  #finish(out: ScannedRecord[]): boolean {
    const p = this.#partial!;
    this.#partial = undefined;
    const h = p.header!;
    const whole = p.parts.length === 1 ? p.parts[0] : concat(p.parts, p.need);
    const body = whole.subarray(RHS);
    if (
      crc32(body, crc32(whole.subarray(0, 24))) !== h.crc ||
      (this.#nextSerial !== undefined && h.serial !== this.#nextSerial)
    ) {
      this.#refuse();
      return false;
    }
    this.#nextSerial = (h.serial + 1) >>> 0;
    const { crc: _crc, ...header } = h;
    out.push({ start: p.start, header, body, resynced: this.#resynced });
    this.#resynced = false;
    this.stats.records++;
    return true;
  }
}

function concat(parts: readonly Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
