import { crc32Mpeg2 } from "../../../src/media/ts/crc32_mpeg2.ts";
import { assertEquals } from "../../_util/assert.ts";
import { hex } from "../../fixtures/annotated_hex.ts";

Deno.test("crc32Mpeg2() gives the catalogue check value for the ASCII digits 1 to 9", () => {
  // The check value of CRC-32/MPEG-2 in the CRC catalogue (poly 0x04C11DB7, init 0xFFFFFFFF, no reflection).
  assertEquals(crc32Mpeg2(new TextEncoder().encode("123456789")), 0x0376e6e7);
});

Deno.test("crc32Mpeg2() of nothing is the preset register", () => {
  assertEquals(crc32Mpeg2(new Uint8Array(0)), 0xffffffff);
});

Deno.test("crc32Mpeg2() matches the CRC_32 of a PAT that ffmpeg writes, and a section with its CRC gives 0", () => {
  // ffmpeg's PAT: transport_stream_id 1, program 1 on PMT PID 0x1000.
  const section = hex(`00 b0 0d 00 01 c1 00 00 00 01 f0 00`);
  assertEquals(crc32Mpeg2(section), 0x2ab104b2);
  assertEquals(crc32Mpeg2(hex(`00 b0 0d 00 01 c1 00 00 00 01 f0 00  2a b1 04 b2`)), 0);
});
