/**
 * encodeMessage: every case of test/fixtures/chunk_fixtures.ts that has encode
 * steps, run against both twins (WASM and the pure-TypeScript reference); the
 * bytes must equal the fixture's. Then the edges: extended timestamps, wrap,
 * argument errors, and messages too big for the codec regions in one call.
 */
import type { RtmpMessage } from "../../src/rtmp/message.ts";
import {
  chunkedLength as wasmChunkedLength,
  encodeMessage as wasmEncodeMessage,
  type HeaderForm,
} from "../../src/wasm/chunk_writer.ts";
import { abi } from "../../src/wasm/module.ts";
import { assertEquals, assertThrows } from "../_util/assert.ts";
import { ChunkReader } from "../_util/chunk_reader_ref.ts";
import {
  chunkedLength as refChunkedLength,
  encodeMessage as refEncodeMessage,
} from "../_util/chunk_writer_ref.ts";
import { seededRandom } from "../_util/mutate.ts";
import { chunkCases, pattern } from "../fixtures/chunk_fixtures.ts";
import { hex, toHex } from "../fixtures/annotated_hex.ts";
import { concatBytes } from "../../src/bytes.ts";

const twins = [
  { name: "wasm", encodeMessage: wasmEncodeMessage, chunkedLength: wasmChunkedLength },
  { name: "ref", encodeMessage: refEncodeMessage, chunkedLength: refChunkedLength },
];

/** Compares byte arrays fast; on a difference, shows the bytes around the first one. */
function assertSameBytes(a: Uint8Array, b: Uint8Array, what: string): void {
  let i = 0;
  const n = Math.min(a.length, b.length);
  while (i < n && a[i] === b[i]) i++;
  if (i === n && a.length === b.length) return;
  const around = (x: Uint8Array) => toHex(x.subarray(Math.max(0, i - 8), i + 8));
  assertEquals(
    around(a),
    around(b),
    `${what}: lengths ${a.length} and ${b.length}, first difference at ${i}`,
  );
  assertEquals(a.length, b.length, `${what}: lengths`);
}

for (const twin of twins) {
  const t = `[${twin.name}]`;

  for (const c of chunkCases.filter((c) => c.encode)) {
    Deno.test(`encodeMessage() writes the bytes of the case that ${c.name.replace(/^\w+ /, "")} ${t}`, () => {
      const parts = c.encode!.map((step, i) =>
        twin.encodeMessage(c.messages[i], step.chunkSize, step.form, step.prevTimestamp)
      );
      assertEquals(toHex(concatBytes(parts)), toHex(c.bytes));
      c.encode!.forEach((step, i) => {
        const m = c.messages[i];
        const field = (step.form === "full" ? m.timestamp : m.timestamp - (step.prevTimestamp ?? 0)) >>> 0;
        assertEquals(
          twin.chunkedLength(m.payload.length, step.chunkSize, m.csid, step.form, field >= 0xffffff),
          parts[i].length,
          `chunkedLength of step ${i}`,
        );
      });
    });
  }

  Deno.test(`encodeMessage() writes a delta across the 2^32 wrap as its value mod 2^32 ${t}`, () => {
    const msg = { csid: 4, typeId: 8, streamId: 1, timestamp: 16, payload: Uint8Array.of(2) };
    assertEquals(
      toHex(twin.encodeMessage(msg, 128, "delta", 0xfffffff0)),
      toHex(hex(`
        44          # basic header: fmt 1, csid 4
        000020      # timestamp delta 32 (16 - 4294967280 mod 2^32)
        000001      # message length 1
        08          # type 8 audio
        02          # payload
      `)),
    );
  });

  Deno.test(`encodeMessage() writes a delta of 0xFFFFFF as an extended timestamp on every chunk ${t}`, () => {
    const msg = { csid: 70, typeId: 9, streamId: 1, timestamp: 0xffffff + 5, payload: pattern(6) };
    assertEquals(
      toHex(twin.encodeMessage(msg, 4, "delta", 5)),
      toHex(hex(`
        40 06       # basic header: fmt 1, 2-byte form, csid 6 + 64 = 70
        ffffff      # timestamp delta: see extended timestamp
        000006      # message length 6
        09          # type 9 video
        00ffffff    # extended timestamp delta 16777215
        00010203    # payload bytes 0..3
        c0 06       # basic header: fmt 3, csid 70
        00ffffff    # extended timestamp delta repeated
        0405        # payload bytes 4..5
      `)),
    );
  });

  Deno.test(`encodeMessage() writes one header-only chunk for an empty payload ${t}`, () => {
    const msg = { csid: 2, typeId: 4, streamId: 0, timestamp: 0, payload: new Uint8Array(0) };
    assertEquals(toHex(twin.encodeMessage(msg, 1)), "02 00 00 00 00 00 00 04 00 00 00 00");
  });

  Deno.test(`encodeMessage() throws RangeError for arguments the chunk format cannot carry ${t}`, () => {
    const msg: RtmpMessage = { csid: 3, typeId: 20, streamId: 0, timestamp: 0, payload: new Uint8Array(1) };
    assertThrows(
      () => twin.encodeMessage({ ...msg, payload: new Uint8Array(0x1000000) }, 128),
      RangeError,
      "Cannot encode a message of 16777216 bytes: limit 16777215",
    );
    assertThrows(
      () => twin.encodeMessage({ ...msg, csid: 1 }, 128),
      RangeError,
      "chunk stream 1: allowed 2..65599",
    );
    assertThrows(() => twin.encodeMessage({ ...msg, csid: 65600 }, 128), RangeError, "allowed 2..65599");
    assertThrows(() => twin.encodeMessage({ ...msg, typeId: 256 }, 128), RangeError, "message type 256");
    assertThrows(() => twin.encodeMessage(msg, 0), RangeError, "chunk size 0: allowed 1..16777215");
    assertThrows(() => twin.encodeMessage(msg, abi.MAX_CHUNK_SIZE + 1), RangeError, "chunk size");
    assertThrows(() => twin.encodeMessage(msg, 128, "short" as HeaderForm), TypeError, "header form short");
  });
}

Deno.test("encodeMessage() gives the same bytes from both twins for random messages", () => {
  const random = seededRandom(7);
  const pick = (n: number) => Math.floor(random() * n);
  const csids = [2, 3, 63, 64, 200, 319, 320, 1000, 65599];
  for (let i = 0; i < 400; i++) {
    const msg: RtmpMessage = {
      csid: csids[pick(csids.length)],
      typeId: pick(256),
      streamId: pick(2) ? pick(4) : Math.floor(random() * 2 ** 32),
      timestamp: Math.floor(random() * 2 ** 32) * (pick(3) === 0 ? 1 : 0) + pick(0x1000000),
      payload: pattern(pick(4) === 0 ? pick(70000) : pick(600), i),
    };
    const chunkSize = [1, 2, 60, 128, 4096, 65536, abi.MAX_CHUNK_SIZE][pick(7)];
    const form: HeaderForm = pick(2) ? "full" : "delta";
    const prev = Math.floor(random() * 2 ** 32);
    const a = wasmEncodeMessage(msg, chunkSize, form, prev);
    const b = refEncodeMessage(msg, chunkSize, form, prev);
    assertSameBytes(a, b, `message ${i}, chunk size ${chunkSize}, ${form}`);
  }
});

Deno.test("encodeMessage() packs a message too big for the codec output region in pieces, the same bytes", () => {
  // Chunks over CODEC_OUT_SIZE: 16 MiB - 1 of payload at chunk sizes 128 and the largest, and 3 MiB at
  // chunk size 1 (6 bytes per payload byte with an extended timestamp); at chunk size 3 it just fits.
  const big: RtmpMessage = {
    csid: 6,
    typeId: 9,
    streamId: 1,
    timestamp: 0x1234567,
    payload: pattern(0xffffff, 3),
  };
  const cases: [RtmpMessage, number][] = [
    [big, 128],
    [big, abi.MAX_CHUNK_SIZE],
    [{ ...big, payload: big.payload.subarray(0, 3 << 20) }, 1],
    [{ ...big, payload: big.payload.subarray(0, 3 << 20) }, 3],
  ];
  for (const [msg, chunkSize] of cases) {
    assertSameBytes(
      wasmEncodeMessage(msg, chunkSize),
      refEncodeMessage(msg, chunkSize),
      `${msg.payload.length} bytes at chunk size ${chunkSize}`,
    );
  }
});

Deno.test("encodeMessage() output decodes back to the message at every chunk size the peer announces", () => {
  const reader = new ChunkReader();
  let prev = 0;
  for (const chunkSize of [1, 3, 128, 129, 4096, 1 << 16]) {
    const control: RtmpMessage = {
      csid: 2,
      typeId: 1,
      streamId: 0,
      timestamp: 0,
      payload: Uint8Array.of(chunkSize >>> 24, chunkSize >>> 16, chunkSize >>> 8, chunkSize),
    };
    const full: RtmpMessage = {
      csid: 6,
      typeId: 9,
      streamId: 1,
      timestamp: prev + 40,
      payload: pattern(5000, 1),
    };
    const delta: RtmpMessage = { ...full, timestamp: full.timestamp + 0x1000000, payload: pattern(300, 2) };
    const bytes = concatBytes([
      wasmEncodeMessage(control, reader.chunkSize),
      wasmEncodeMessage(full, chunkSize),
      wasmEncodeMessage(delta, chunkSize, "delta", full.timestamp),
    ]);
    assertEquals(reader.push(bytes), [control, full, delta], `chunk size ${chunkSize}`);
    prev = delta.timestamp;
  }
});
