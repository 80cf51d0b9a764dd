import { assert, assertEquals } from "../_util/assert.ts";
import { hex } from "../fixtures/annotated_hex.ts";
import {
  blockSeqOf,
  crc32,
  decodeBlockHeader,
  decodeFileHeader,
  decodeRecordHeader,
  encodeBlockHeader,
  encodeFileHeader,
  encodeRecord,
  filePositionOf,
  layoutRecords,
  rawEndOf,
  readRecord,
  recordBytesOf,
  RecordFlag,
  RecordKind,
  recordStartOf,
  RingLayout,
  RingScanner,
  type ScannedRecord,
} from "../../src/feed/ring_format.ts";

const BS = RingLayout.BlockSize;
const BHS = RingLayout.BlockHeaderSize;
const RHS = RingLayout.RecordHeaderSize;

/** File header of a 16-block ring created at 2023-11-14T22:13:20Z. */
const FILE_HEADER = hex(`
  53 4c 52 42             # magic "SLRB"
  00 01                   # version 1
  00 20                   # header size 32
  00 00 10 00             # block size 4096
  00 00 00 10             # data blocks 16
  42 78 bc fe 56 80 00 00 # created at 1700000000000 ms (f64)
  00 00 00 00             # reserved
  7a 60 f6 0f             # CRC-32 of the 28 bytes above
`);

/** Block header of block 0x1_0000_0005 whose first record starts right after it, with serial 7. */
const BLOCK_HEADER = hex(`
  53 4c 42 4b             # magic "SLBK"
  00 00 00 01             # seq, high 32 bits
  00 00 00 05             # seq, low 32 bits
  00 18                   # first record at offset 24 (just after this header)
  00 00                   # reserved
  00 00 00 07             # first record's serial 7
  d2 42 90 f6             # CRC-32 of the 20 bytes above
`);

/** Block header of block 1, all of it a long record's continuation. */
const BLOCK_HEADER_NO_RECORD = hex(`
  53 4c 42 4b             # magic "SLBK"
  00 00 00 00             # seq, high 32 bits
  00 00 00 01             # seq, low 32 bits
  ff ff                   # first record: none starts in this block
  00 00                   # reserved
  00 00 00 01             # serial of the next record to be written
  5b 17 23 35             # CRC-32 of the 20 bytes above
`);

/** A video keyframe record, the first of a group start, at ring time 2^32 + 40 ms. */
const RECORD = hex(`
  00 00 00 06             # body length 6
  00 00 00 07             # serial 7
  09                      # kind 9: video
  05                      # flags: keyframe (0x01) | group start (0x04)
  00 01                   # timestamp, high 16 bits
  00 00 00 28             # timestamp, low 32 bits: 2^32 + 40 ms
  42 78 bc fe 56 9f 40 00 # wall clock 1700000000500 ms (f64)
  05 a3 bf 8b             # CRC-32 of the 24 bytes above, then of the body
  17 01 00 00 00 65       # body: an AVC keyframe NALU tag body
`);

const BODY = Uint8Array.of(0x17, 0x01, 0x00, 0x00, 0x00, 0x65);

/** A record with body `len` bytes of `fill`. */
function rec(
  serial: number,
  len: number,
  fill = serial & 0xff,
  timestamp = serial * 10,
  flags = 0,
): Uint8Array {
  return encodeRecord(
    { serial, kind: RecordKind.Audio, flags, timestamp, wallMs: 1_700_000_000_000 + serial },
    new Uint8Array(len).fill(fill),
  );
}

/** The stream from logical 0 cut into blocks. */
function blocksOf(stream: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let at = 0; at < stream.length; at += BS) {
    out.push(stream.subarray(at, Math.min(at + BS, stream.length)));
  }
  return out;
}

/** Feeds blocks (seq = index + `firstSeq`) to a scanner; returns the records and whether a tail was torn. */
function scan(
  blocks: readonly Uint8Array[],
  firstSeq = 0,
): { records: ScannedRecord[]; torn: boolean; s: RingScanner } {
  const s = new RingScanner();
  const records: ScannedRecord[] = [];
  blocks.forEach((b, i) => records.push(...s.feed(firstSeq + i, b)));
  return { records, torn: s.finish(), s };
}

Deno.test("RingLayout spells its magics in ASCII and its header sizes are what the encoders write", () => {
  const ascii = (n: number) => String.fromCharCode(n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
  assertEquals(ascii(RingLayout.FileMagic), "SLRB");
  assertEquals(ascii(RingLayout.BlockMagic), "SLBK");
  assertEquals(RingLayout.BlockSize, 4096);
  assertEquals(encodeFileHeader({ blockCount: 16, createdAt: 0 }).length, RingLayout.FileHeaderSize);
  assertEquals(
    encodeRecord({ serial: 0, kind: 8, flags: 0, timestamp: 0, wallMs: 0 }, new Uint8Array(0)).length,
    RHS,
  );
  const b = new Uint8Array(BHS + 1).fill(0xee);
  encodeBlockHeader({ seq: 0, firstRecord: BHS, firstSerial: 0 }, b);
  assertEquals(b[BHS], 0xee); // the header stays within its size
});

Deno.test("crc32() gives the IEEE check value and goes on from a previous result", () => {
  const digits = new TextEncoder().encode("123456789");
  assertEquals(crc32(digits), 0xcbf43926);
  assertEquals(crc32(new Uint8Array(0)), 0);
  assertEquals(crc32(digits.subarray(4), crc32(digits.subarray(0, 4))), 0xcbf43926);
});

Deno.test("encodeFileHeader() writes the fixture and decodeFileHeader() reads it back", () => {
  assertEquals(encodeFileHeader({ blockCount: 16, createdAt: 1_700_000_000_000 }), FILE_HEADER);
  assertEquals(decodeFileHeader(FILE_HEADER), {
    status: "ok",
    header: { version: 1, blockSize: 4096, blockCount: 16, createdAt: 1_700_000_000_000 },
  });
});

Deno.test("decodeFileHeader() tells a foreign, damaged, newer or cut-short header", () => {
  assertEquals(decodeFileHeader(new TextEncoder().encode("FLV\x01\x05")), {
    status: "foreign",
    magic: 0x464c5601,
  });
  const damaged = FILE_HEADER.slice();
  damaged[15] ^= 0x01;
  assertEquals(decodeFileHeader(damaged), { status: "damaged" });
  const newer = FILE_HEADER.slice();
  newer[5] = 2; // version 2
  new DataView(newer.buffer).setUint32(28, crc32(newer.subarray(0, 28)));
  assertEquals(decodeFileHeader(newer), { status: "newer", version: 2 });
  assertEquals(decodeFileHeader(FILE_HEADER.subarray(0, 20)), { status: "short" });
});

Deno.test("encodeBlockHeader() writes the fixtures and decodeBlockHeader() reads them back", () => {
  const out = new Uint8Array(BHS);
  encodeBlockHeader({ seq: 0x1_0000_0005, firstRecord: BHS, firstSerial: 7 }, out);
  assertEquals(out, BLOCK_HEADER);
  assertEquals(decodeBlockHeader(BLOCK_HEADER), { seq: 0x1_0000_0005, firstRecord: 24, firstSerial: 7 });
  assertEquals(decodeBlockHeader(BLOCK_HEADER_NO_RECORD), {
    seq: 1,
    firstRecord: RingLayout.NoRecord,
    firstSerial: 1,
  });
});

Deno.test("decodeBlockHeader() refuses a header with any byte changed, or cut short", () => {
  for (let i = 0; i < BHS; i++) {
    const bad = BLOCK_HEADER.slice();
    bad[i] ^= 0x40;
    assertEquals(decodeBlockHeader(bad), undefined, `byte ${i}`);
  }
  assertEquals(decodeBlockHeader(BLOCK_HEADER.subarray(0, BHS - 1)), undefined);
});

Deno.test("encodeRecord() writes the fixture and readRecord() reads it back", () => {
  const header = {
    serial: 7,
    kind: RecordKind.Video,
    flags: RecordFlag.Keyframe | RecordFlag.GroupStart,
    timestamp: 2 ** 32 + 40,
    wallMs: 1_700_000_000_500,
  };
  assertEquals(encodeRecord(header, BODY), RECORD);
  assertEquals(decodeRecordHeader(RECORD), { ...header, length: 6, crc: 0x05a3bf8b });
  const r = readRecord(RECORD);
  assertEquals(r, { status: "ok", header: { ...header, length: 6 }, body: BODY, end: RECORD.length });
});

Deno.test("readRecord() says short for every cut of a record, and bad for a torn one", () => {
  for (let n = 0; n < RECORD.length; n++) {
    assertEquals(readRecord(RECORD.subarray(0, n)).status, "short", `cut ${n}`);
  }
  // Torn: the tail of the body never reached the disk (zeros where it should be).
  const torn = RECORD.slice();
  torn.fill(0, RECORD.length - 3);
  assertEquals(readRecord(torn), { status: "bad", problem: "crc" });
  for (let i = 0; i < RECORD.length; i++) {
    const bad = RECORD.slice();
    bad[i] ^= 0x01;
    assertEquals(readRecord(bad).status === "ok", false, `byte ${i}`);
  }
});

Deno.test("readRecord() refuses a length above the limit and an unknown kind before reading the body", () => {
  assertEquals(readRecord(RECORD, 0, 5), { status: "bad", problem: "length" });
  const kind7 = RECORD.slice();
  kind7[8] = 7;
  assertEquals(readRecord(kind7), { status: "bad", problem: "kind" });
});

Deno.test("blockSeqOf(), filePositionOf(), recordStartOf() and rawEndOf() map logical offsets", () => {
  assertEquals(blockSeqOf(BS * 5 + 100), 5);
  // Block seq 17 in a 16-block file is data block 1, after the header block.
  assertEquals(filePositionOf(BS * 17 + 100, 16), BS + BS + 100);
  assertEquals(recordStartOf(BS * 3), BS * 3 + BHS);
  assertEquals(recordStartOf(BS * 3 + 100), BS * 3 + 100);
  assertEquals(rawEndOf(BS - 10, 10), BS);
  assertEquals(rawEndOf(BS - 10, 11), BS + BHS + 1);
  assertEquals(rawEndOf(0, BS - BHS), BS);
});

Deno.test("layoutRecords() splits a record across blocks, each block header naming the next record", () => {
  const a = rec(7, 5000); // 5028 bytes: 4072 in block 0, 956 in block 1
  const b = rec(8, 10);
  const { bytes, starts } = layoutRecords([a, b], 0);
  assertEquals(starts, [BHS, BS + BHS + 956]);
  assertEquals(decodeBlockHeader(bytes, 0), { seq: 0, firstRecord: BHS, firstSerial: 7 });
  assertEquals(decodeBlockHeader(bytes, BS), { seq: 1, firstRecord: BHS + 956, firstSerial: 8 });
  assertEquals(bytes.length, BS + BHS + 956 + b.length);
  assertEquals(recordBytesOf(bytes, 0, starts[0], a.length), a);
  assertEquals(recordBytesOf(bytes, 0, starts[1], b.length), b);
  assertEquals(readRecord(recordBytesOf(bytes, 0, starts[0], a.length)!).status, "ok");
});

Deno.test("layoutRecords() marks a block that a long record fills as holding no record start", () => {
  const long = rec(1, 9000); // 9028 bytes: 4072 + 4072 + 884
  const { bytes } = layoutRecords([long], 0);
  assertEquals(decodeBlockHeader(bytes, BS), { seq: 1, firstRecord: RingLayout.NoRecord, firstSerial: 2 });
  assertEquals(decodeBlockHeader(bytes, 2 * BS), { seq: 2, firstRecord: BHS + 884, firstSerial: 2 });
  assertEquals(recordBytesOf(bytes, 0, BHS, long.length), long);
});

Deno.test("layoutRecords() goes on mid-block and begins a block at a block boundary", () => {
  const first = layoutRecords([rec(0, 4072 - RHS)], 0); // fills block 0 exactly
  assertEquals(first.bytes.length, BS);
  const next = layoutRecords([rec(1, 10)], BS);
  assertEquals(decodeBlockHeader(next.bytes), { seq: 1, firstRecord: BHS, firstSerial: 1 });
  assertEquals(next.starts, [BS + BHS]);
  const mid = layoutRecords([rec(2, 10)], BS + BHS + 38);
  assertEquals(mid.starts, [BS + BHS + 38]);
  assertEquals(mid.bytes.length, 38);
});

Deno.test("recordBytesOf() is undefined when the raw bytes do not hold the record", () => {
  const { bytes, starts } = layoutRecords([rec(0, 100)], 0);
  assertEquals(recordBytesOf(bytes.subarray(0, 50), 0, starts[0], RHS + 100), undefined);
  assertEquals(recordBytesOf(bytes.subarray(30), 30, starts[0], RHS + 100), undefined);
});

/** Records of mixed sizes (some longer than a block) laid out from logical 0, and their serials. */
function stream(count: number): { bytes: Uint8Array; records: Uint8Array[] } {
  const records: Uint8Array[] = [];
  for (let i = 0; i < count; i++) records.push(rec(i, i % 7 === 3 ? 6000 + i : 50 + (i * 37) % 900));
  return { bytes: layoutRecords(records, 0).bytes, records };
}

Deno.test("RingScanner finds every record of a stream, across blocks", () => {
  const { bytes, records } = stream(60);
  const { records: found, torn, s } = scan(blocksOf(bytes));
  assertEquals(torn, false);
  assertEquals(found.map((r) => r.header.serial), records.map((_, i) => i));
  found.forEach((r, i) => assertEquals(r.body, records[i].subarray(RHS)));
  assertEquals(s.stats, { records: 60, badBlocks: 0, badRecords: 0 });
});

Deno.test("RingScanner drops a torn tail at every cut and keeps every record before it", () => {
  const { bytes, records } = stream(12);
  const lastStart = bytes.length - records[11].length; // the last record lies in one block
  assert(blockSeqOf(lastStart) === blockSeqOf(bytes.length - 1));
  for (let cut = lastStart + 1; cut < bytes.length; cut++) {
    const { records: found, torn } = scan(blocksOf(bytes.subarray(0, cut)));
    assertEquals(found.length, 11, `cut at ${cut}`);
    assertEquals(torn, true, `cut at ${cut}`);
  }
  // Torn as a crash leaves it: the block holds zeros where the tail should be.
  const zeroed = bytes.slice();
  zeroed.fill(0, bytes.length - 5);
  assertEquals(scan(blocksOf(zeroed)).records.length, 11);
});

Deno.test("RingScanner drops a torn record that spans blocks, at every block it reached", () => {
  const records = [rec(0, 100), rec(1, 12_000)]; // record 1 spans blocks 0..3
  const bytes = layoutRecords(records, 0).bytes;
  for (let cut = RHS + 100 + BHS + 1; cut < bytes.length; cut += 997) {
    const { records: found } = scan(blocksOf(bytes.subarray(0, cut)));
    assertEquals(found.map((r) => r.header.serial), [0], `cut at ${cut}`);
  }
});

Deno.test("RingScanner refuses bytes left from the previous lap behind a freshly written block header", () => {
  // Lap 1 wrote block 0 full of records; lap 2 began block 16 at the same place, but only its header reached
  // the disk: behind it are lap 1's records, intact, with older serials.
  const lap1 = layoutRecords([rec(0, 500), rec(1, 500), rec(2, 500)], 0).bytes;
  const block = new Uint8Array(BS);
  block.set(lap1);
  encodeBlockHeader({ seq: 16, firstRecord: BHS, firstSerial: 900 }, block);
  const s = new RingScanner();
  assertEquals(s.feed(16, block), []);
  assertEquals(s.stats.badRecords, 1);
});

Deno.test("RingScanner goes on past a restart's unused tail at the next block's first record", () => {
  // Life 1: records 0..2 in block 0, then record 3 torn (its header and part of its body written).
  const life1 = layoutRecords([rec(0, 300), rec(1, 300), rec(2, 300), rec(3, 2000)], 0).bytes;
  const block0 = life1.slice(0, BS);
  block0.fill(0, 3 * (RHS + 300) + BHS + 100); // the tail of record 3 never written
  // Life 2 goes on at block 1 with record 3's serial.
  const life2 = layoutRecords([rec(3, 300, 0x77), rec(4, 300)], BS).bytes;
  const { records, torn, s } = scan([block0, life2]);
  assertEquals(records.map((r) => r.header.serial), [0, 1, 2, 3, 4]);
  assertEquals(records[3].body[0], 0x77);
  assertEquals(records[3].resynced, true);
  assertEquals(torn, false);
  assertEquals(s.stats.badRecords, 1);
});

Deno.test("RingScanner treats a bad block header as a gap and resyncs at the next block's first record", () => {
  const { bytes, records } = stream(40);
  const blocks = blocksOf(bytes).map((b) => b.slice());
  blocks[3][2] ^= 0xff; // block 3's magic
  const { records: found, s } = scan(blocks);
  assertEquals(s.stats.badBlocks, 1);
  // Every record found is intact and in order; the ones touching block 3 (and those before block 4's first
  // record) are missing.
  const serials = found.map((r) => r.header.serial);
  for (let i = 1; i < serials.length; i++) assert(serials[i] > serials[i - 1]);
  found.forEach((r) => assertEquals(r.body, records[r.header.serial].subarray(RHS)));
  assert(found.length < 40 && found.length > 30, `${found.length} records`);
  const firstAfter = decodeBlockHeader(blocks[4])!;
  assert(found.some((r) => r.start === 4 * BS + firstAfter.firstRecord));
});

Deno.test("RingScanner treats a block out of seq order as a gap", () => {
  const { bytes } = stream(30);
  const blocks = blocksOf(bytes);
  const s = new RingScanner();
  s.feed(0, blocks[0]);
  assertEquals(s.feed(5, blocks[1]), []); // block 1's header says seq 1
  assertEquals(s.stats.badBlocks, 1);
});

Deno.test("RingScanner refuses a continuation that does not end where the next block's first record starts", () => {
  const bytes = layoutRecords([rec(0, 5000), rec(1, 10)], 0).bytes;
  const blocks = blocksOf(bytes).map((b) => b.slice());
  // Say block 1's first record starts 8 bytes later than it does.
  const h = decodeBlockHeader(blocks[1])!;
  encodeBlockHeader({ ...h, firstRecord: h.firstRecord + 8 }, blocks[1]);
  const { records, s } = scan(blocks);
  assertEquals(records, []);
  assertEquals(s.stats.badRecords, 2); // record 0, then what lies at the bogus offset
});
