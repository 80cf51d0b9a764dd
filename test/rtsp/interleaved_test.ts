/**
 * Interleaved frames (RFC 2326 10.12): the writer's bytes, its misuse, and
 * frames read back by RtspReader.
 */
import { Interleaved, writeInterleaved, writeInterleavedHeader } from "../../src/rtsp/interleaved.ts";
import { RtspReader } from "../../src/rtsp/reader.ts";
import { assert, assertEquals, assertThrows } from "../_util/assert.ts";
import { hex } from "../fixtures/annotated_hex.ts";

Deno.test("writeInterleaved() frames a packet behind $, its channel and a big-endian length", () => {
  assertEquals(
    writeInterleaved(3, Uint8Array.of(0x80, 0xc8, 0x00, 0x06)),
    hex(`24        # "$"
         03        # channel 3
         00 04     # length 4
         80 c8 00 06`),
  );
  assertEquals(writeInterleaved(0, new Uint8Array(0)), hex("24 00 00 00"));
});

Deno.test("writeInterleaved() frames the largest payload, 65535 bytes, and RtspReader reads it back", () => {
  const payload = new Uint8Array(Interleaved.MaxPayload).map((_, i) => i & 0xff);
  const bytes = writeInterleaved(255, payload);
  assertEquals([...bytes.subarray(0, 4)], [0x24, 0xff, 0xff, 0xff]);
  const [frame] = new RtspReader().push(bytes);
  assert(frame.type === "interleaved");
  assertEquals(frame.channel, 255);
  assertEquals(frame.payload, payload);
});

Deno.test("writeInterleavedHeader() writes a header in place for a packet laid out after it", () => {
  const out = new Uint8Array(10).fill(0xaa);
  writeInterleavedHeader(out, 2, 1, 1400);
  assertEquals([...out], [0xaa, 0xaa, 0x24, 0x01, 0x05, 0x78, 0xaa, 0xaa, 0xaa, 0xaa]);
});

Deno.test("writeInterleaved() refuses a channel past 255 and a payload past 65535 bytes", () => {
  assertThrows(
    () => writeInterleaved(256, new Uint8Array(1)),
    RangeError,
    "current channel 256 is outside 0..255",
  );
  assertThrows(() => writeInterleaved(-1, new Uint8Array(1)), RangeError, "channel -1");
  assertThrows(
    () => writeInterleaved(0, new Uint8Array(Interleaved.MaxPayload + 1)),
    RangeError,
    "current length 65536, limit 65535",
  );
});
