/**
 * ChunkReader: the case table in test/fixtures/chunk_fixtures.ts run against
 * both twins (WASM and the pure-TypeScript reference), each case fed whole,
 * split in two at every byte position, one byte at a time and in random
 * pieces; then the API around it.
 */
import { ProtocolError } from "../../src/errors.ts";
import type { RtmpMessage } from "../../src/rtmp/message.ts";
import {
  ChunkReader as WasmChunkReader,
  type ChunkReaderOptions,
  FULL_READS_TO_MOVE,
  ownInstanceCount,
  SETTLED_READ,
  SMALL_READ,
} from "../../src/wasm/chunk_reader.ts";
import { abi, statusName } from "../../src/wasm/module.ts";
import { assert, assertEquals, assertThrows } from "../_util/assert.ts";
import { ChunkReader as RefChunkReader } from "../_util/chunk_reader_ref.ts";
import { encodeMessage } from "../_util/chunk_writer_ref.ts";
import { seededRandom } from "../_util/mutate.ts";
import { byteByByte, feed, type FeedResult, randomPieces, splitsInTwo } from "../_util/split.ts";
import { type ChunkCase, chunkCases, pattern } from "../fixtures/chunk_fixtures.ts";
import { concatBytes } from "../../src/bytes.ts";

/** The public surface both twins share. */
interface Reader {
  readable(): Uint8Array;
  commit(n: number): RtmpMessage[];
  push(bytes: Uint8Array): RtmpMessage[];
  readonly chunkSize: number;
  readonly bytesReceived: number;
}

const twins: { name: string; make: (opts?: ChunkReaderOptions) => Reader }[] = [
  { name: "wasm", make: (opts) => new WasmChunkReader(opts) },
  { name: "ref", make: (opts) => new RefChunkReader(opts) },
];

const RANDOM_SEEDS = 24;

/**
 * Checks what a reader made of a case. `exact`: every message before the error
 * was returned (true when no commit both completes a message and throws).
 */
function expectCase(c: ChunkCase, reader: Reader, got: FeedResult<RtmpMessage>, exact: boolean, how: string) {
  const expected = exact || !c.error ? c.messages : c.messages.slice(0, got.items.length);
  assertEquals(got.items, expected, `messages, ${how}`);
  if (c.error) {
    assertProtocolError(got.error, `error, ${how}`);
    assertEquals(statusName(got.error.code as number), c.error.code, `error code, ${how}`);
    assertEquals(got.error.message, c.error.message, `error message, ${how}`);
  } else {
    assertEquals(got.error, undefined, `no error, ${how}`);
    assertEquals(reader.chunkSize, c.chunkSize ?? 128, `chunk size, ${how}`);
    assertEquals(reader.bytesReceived, c.bytes.length, `bytes received, ${how}`);
  }
}

function run(make: () => Reader, pieces: Iterable<Uint8Array>) {
  const reader = make();
  return { reader, got: feed((b) => reader.push(b), pieces) };
}

for (const twin of twins) {
  for (const c of chunkCases) {
    const make = () => twin.make(c.options);

    Deno.test(`ChunkReader.push() ${c.name} [${twin.name}]`, () => {
      const { reader, got } = run(make, [c.bytes]);
      expectCase(c, reader, got, false, "whole");
    });

    Deno.test(`ChunkReader.push() ${c.name}, split at every byte position [${twin.name}]`, () => {
      for (const pieces of splitsInTwo(c.bytes)) {
        const { reader, got } = run(make, pieces);
        expectCase(c, reader, got, false, `split at ${pieces[0].length}`);
      }
    });

    Deno.test(`ChunkReader.push() ${c.name}, one byte at a time [${twin.name}]`, () => {
      const { reader, got } = run(make, byteByByte(c.bytes));
      expectCase(c, reader, got, true, "one byte at a time");
    });

    Deno.test(`ChunkReader.push() ${c.name}, in random pieces [${twin.name}]`, () => {
      for (let seed = 1; seed <= RANDOM_SEEDS; seed++) {
        const { reader, got } = run(make, randomPieces(c.bytes, seededRandom(seed), 40));
        expectCase(c, reader, got, false, `seed ${seed}`);
      }
    });
  }
}

for (const c of chunkCases.filter((c) => c.error)) {
  Deno.test(`ChunkReader.commit() throws the same ProtocolError from both twins when it ${c.name.slice(7)}`, () => {
    const [wasm, ref] = twins.map((t) => feed((b) => t.make(c.options).push(b), [c.bytes]).error);
    assertProtocolError(wasm, "wasm");
    assertProtocolError(ref, "ref");
    assertEquals(statusName(wasm.code as number), statusName(ref.code as number));
    assertEquals(wasm.message, ref.message);
    assertEquals(wasm.detail, ref.detail);
  });
}

// ---- readers on the shared instance (each keeps its state between calls) and the move to their own

Deno.test("ChunkReader: readers fed in turns, random pieces each, read every case as if alone", () => {
  for (let seed = 1; seed <= 8; seed++) {
    const random = seededRandom(seed);
    const runs = chunkCases.map((c) => {
      const reader = new WasmChunkReader(c.options);
      const pieces = [...randomPieces(c.bytes, random, 40)];
      return { c, reader, pieces, got: { items: [] as RtmpMessage[] } as FeedResult<RtmpMessage>, i: 0 };
    });
    // One piece of each reader in turn, as a server's connections read: the shared instance holds
    // another reader's state between two calls of the same reader.
    for (let more = true; more;) {
      more = false;
      for (const r of runs) {
        if (r.i >= r.pieces.length || r.got.error !== undefined) continue;
        more = true;
        try {
          r.got.items.push(...r.reader.push(r.pieces[r.i++]));
        } catch (error) {
          r.got.error = error;
        }
      }
    }
    for (const r of runs) expectCase(r.c, r.reader, r.got, false, `in turns, seed ${seed}`);
  }
});

Deno.test("ChunkReader: FULL_READS_TO_MOVE reads that fill the small buffer move the reader to its own instance, mid-message", () => {
  const before = ownInstanceCount();
  const reader = new WasmChunkReader();
  assert(!reader.ownsInstance, "a new reader is on the shared instance");
  assertEquals(reader.readable().length, SMALL_READ);
  const first = video(6, 1000, pattern(300, 1));
  const big = video(6, 1040, pattern(20_000, 2));
  const last = video(6, 1080, pattern(700, 3));
  const bytes = concat(
    encodeMessage(
      { csid: 2, typeId: 1, streamId: 0, timestamp: 0, payload: Uint8Array.of(0, 0, 0x10, 0) },
      128,
    ),
    encodeMessage(first, 4096),
    encodeMessage(big, 4096, "delta", first.timestamp),
    encodeMessage(last, 4096, "delta", big.timestamp),
  );
  const got: RtmpMessage[] = [];
  // A few small reads on the shared instance, then a read that fills the buffer, then the rest.
  let off = 0;
  const reads = [100, 250, ...Array(FULL_READS_TO_MOVE).fill(SMALL_READ)];
  for (const [i, n] of reads.entries()) {
    const room = reader.readable();
    room.set(bytes.subarray(off, off + n));
    got.push(...reader.commit(n).filter((m) => m.typeId === 9));
    off += n;
    if (i < reads.length - 1) assert(!reader.ownsInstance, `still shared after read ${i + 1}`);
  }
  assert(reader.ownsInstance, "the full reads moved it");
  assertEquals(ownInstanceCount(), before + 1);
  assert(reader.readable().length > SMALL_READ, "reads now land in its own input region");
  got.push(...reader.push(bytes.subarray(off)).filter((m) => m.typeId === 9));
  assertEquals(got, [first, big, last]);
  assertEquals(reader.chunkSize, 4096);
  assertEquals(reader.bytesReceived, bytes.length);
  assert(!new WasmChunkReader().ownsInstance, "the next reader starts shared again");
});

Deno.test("ChunkReader: settle() reads a set-up player's acks into SETTLED_READ bytes and keeps its messages whole", () => {
  const reader = new WasmChunkReader();
  const ack = (n: number): RtmpMessage => ({
    csid: 2,
    typeId: 3,
    streamId: 0,
    timestamp: 0,
    payload: Uint8Array.of(n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255),
  });
  const cmd = video(3, 0, pattern(600, 5)); // a message larger than the settled buffer, over several reads
  const bytes = concat(encodeMessage(ack(1), 128), encodeMessage(cmd, 128), encodeMessage(ack(2), 128));
  const got = reader.push(bytes.subarray(0, 10));
  reader.settle();
  assertEquals(reader.readable().length, SETTLED_READ);
  let off = 10;
  while (off < bytes.length) {
    const room = reader.readable();
    const n = Math.min(room.length - 1, bytes.length - off); // never full: stays shared
    room.set(bytes.subarray(off, off + n));
    got.push(...reader.commit(n));
    off += n;
  }
  assertEquals(got, [ack(1), cmd, ack(2)]);
  assert(!reader.ownsInstance, "a settled reader stays on the shared instance");
});

Deno.test("ChunkReader: a reader that fails on the shared instance leaves the others reading", () => {
  const good = new WasmChunkReader();
  const bad = new WasmChunkReader();
  const msg = video(6, 0, pattern(100, 4));
  const bytes = encodeMessage(msg, 128);
  assertEquals(good.push(bytes.subarray(0, 50)), []);
  assertThrows(() => bad.push(Uint8Array.of(0x46, 0, 0, 0, 0, 0, 4, 9)), ProtocolError); // type 1 first
  assertThrows(() => bad.push(Uint8Array.of(0)), ProtocolError);
  assertEquals(good.push(bytes.subarray(50)), [msg]);
  assertEquals(good.chunkSize, 128);
});

const video = (csid: number, timestamp: number, payload: Uint8Array): RtmpMessage => ({
  csid,
  typeId: 9,
  streamId: 1,
  timestamp,
  payload,
});

for (const twin of twins) {
  const t = `[${twin.name}]`;

  Deno.test(`ChunkReader.commit() parses bytes read into readable(), carrying a header split across reads ${t}`, () => {
    const msg = video(6, 40, pattern(300));
    const bytes = encodeMessage(msg, 128);
    const reader = twin.make();
    // A read that ends 5 bytes into the type 0 header, then one that ends 1 byte into a type 3 header.
    const cuts = [5, 12 + 128 + 1, bytes.length];
    const got: RtmpMessage[] = [];
    let at = 0;
    for (const cut of cuts) {
      const room = reader.readable();
      room.set(bytes.subarray(at, cut));
      got.push(...reader.commit(cut - at));
      at = cut;
    }
    assertEquals(got, [msg]);
    assertEquals(reader.bytesReceived, bytes.length);
  });

  Deno.test(`ChunkReader.commit() of 0 bytes returns no messages ${t}`, () => {
    const reader = twin.make();
    assertEquals(reader.commit(0), []);
    assertEquals(reader.bytesReceived, 0);
  });

  Deno.test(`ChunkReader.chunkSize starts at 128 ${t}`, () => {
    assertEquals(twin.make().chunkSize, 128);
  });

  Deno.test(`ChunkReader.commit() throws RangeError for a count readable() cannot hold ${t}`, () => {
    const reader = twin.make();
    assertThrows(() => reader.commit(reader.readable().length + 1), RangeError, "Cannot commit");
    assertThrows(() => reader.commit(-1), RangeError, "Cannot commit");
    assertThrows(() => reader.commit(1.5), RangeError, "Cannot commit");
  });

  Deno.test(`ChunkReader constructor throws RangeError for limits past the module's caps ${t}`, () => {
    assertThrows(
      () => twin.make({ maxMessageLength: abi.MAX_MESSAGE_LENGTH + 1 }),
      RangeError,
      `Cannot use maxMessageLength ${abi.MAX_MESSAGE_LENGTH + 1}: allowed 0..${abi.MAX_MESSAGE_LENGTH}`,
    );
    assertThrows(() => twin.make({ maxChunkSize: 0 }), RangeError, "Cannot use maxChunkSize 0");
    assertThrows(() => twin.make({ maxChunkSize: abi.MAX_CHUNK_SIZE + 1 }), RangeError, "maxChunkSize");
  });

  Deno.test(`ChunkReader.commit() throws the first ProtocolError again on every later call ${t}`, () => {
    const reader = twin.make();
    const first = assertThrows(() => reader.push(Uint8Array.of(0xc3)), ProtocolError);
    const again = assertThrows(() => reader.push(encodeMessage(video(6, 0, pattern(3)), 128)), ProtocolError);
    assert(first === again, "the same error object");
  });

  Deno.test(`ChunkReader.push() reassembles messages larger than the input region ${t}`, () => {
    const big = pattern(1 << 20, 5);
    for (const chunkSize of [128, 4096, 65536]) {
      const reader = twin.make();
      const control = { csid: 2, typeId: 1, streamId: 0, timestamp: 0, payload: Uint8Array.of(0, 0, 0, 0) };
      new DataView(control.payload.buffer).setUint32(0, chunkSize);
      const msg = video(6, 1000, big);
      const bytes = concat(encodeMessage(control, 128), encodeMessage(msg, chunkSize));
      assertEquals(reader.push(bytes), [control, msg], `chunk size ${chunkSize}`);
    }
  });

  Deno.test(`ChunkReader.commit() returns every message of a read that holds more than the events region ${t}`, () => {
    // 3000 empty messages: a type 0 header, then a 1-byte type 3 header each.
    const first = { csid: 3, typeId: 20, streamId: 0, timestamp: 7, payload: new Uint8Array(0) };
    const bytes = concat(encodeMessage(first, 128), new Uint8Array(2999).fill(0xc3));
    const got = twin.make().push(bytes);
    assertEquals(got.length, 3000);
    assertEquals(got[2999], first);
  });

  Deno.test(`ChunkReader.commit() keeps payloads whole across many 1-byte chunks on two chunk streams ${t}`, () => {
    const setOne = { csid: 2, typeId: 1, streamId: 0, timestamp: 0, payload: Uint8Array.of(0, 0, 0, 1) };
    const a = video(6, 10, pattern(2000, 1));
    const b = { ...video(4, 20, pattern(1500, 2)), typeId: 8 };
    const ca = chunks(encodeMessage(a, 1), 1);
    const cb = chunks(encodeMessage(b, 1), 1);
    const parts = [encodeMessage(setOne, 128)];
    for (let i = 0; i < Math.max(ca.length, cb.length); i++) {
      if (i < ca.length) parts.push(ca[i]);
      if (i < cb.length) parts.push(cb[i]);
    }
    assertEquals(twin.make().push(concat(...parts)), [setOne, b, a]);
  });

  Deno.test(`ChunkReader.push() returns payloads that own their bytes, sized to the message ${t}`, () => {
    const reader = twin.make();
    const msgs = [video(6, 0, pattern(300)), video(6, 40, pattern(10))];
    const got = reader.push(concat(...msgs.map((m) => encodeMessage(m, 128))));
    // Later reads overwrite the reader's input; the returned payloads must not change.
    reader.push(encodeMessage(video(6, 80, new Uint8Array(300).fill(0xee)), 128));
    assertEquals(got, msgs);
    for (const m of got) {
      assertEquals(m.payload.byteOffset, 0);
      assertEquals(m.payload.buffer.byteLength, m.payload.length);
    }
  });
}

Deno.test("chunkParse's state layout fits the CONN_STATE region", () => {
  const a = abi as Readonly<Record<string, number>>;
  assert(a.CHUNK_STATE_USED <= a.CONN_STATE_SIZE, `${a.CHUNK_STATE_USED} > ${a.CONN_STATE_SIZE}`);
  assertEquals(a.CONN_READ_PTR, a.CONN_INPUT_PTR + a.CONN_CARRY_SIZE);
  assertEquals(a.EVENT_SIZE, 32);
});

function assertProtocolError(e: unknown, msg: string): asserts e is ProtocolError {
  assert(e instanceof ProtocolError, `${msg}: expected a ProtocolError, got ${e}`);
}

/** Splits a message's chunk bytes (from encodeMessage at `chunkSize`) into its chunks. */
function chunks(bytes: Uint8Array, chunkSize: number): Uint8Array[] {
  // First chunk: basic header + 11-byte type 0 header + payload; then basic header + payload each
  // (1-byte basic headers and no extended timestamps here).
  const out = [bytes.subarray(0, 12 + chunkSize)];
  for (let at = 12 + chunkSize; at < bytes.length; at += 1 + chunkSize) {
    out.push(bytes.subarray(at, at + 1 + chunkSize));
  }
  return out;
}

const concat = (...parts: Uint8Array[]): Uint8Array => concatBytes(parts);
