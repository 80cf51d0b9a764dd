/**
 * Interleaved frames (RFC 2326 10.12): the writers' bytes and their misuse,
 * the packets inside a packetizer's output, counting them, and moving them to
 * another channel without touching shared bytes. RtspReader reading frames
 * back is test/rtsp/reader_test.ts.
 */
import {
  frameCount,
  interleave,
  Interleaved,
  rtpPackets,
  withChannel,
  writeInterleavedHeader,
} from "../../../src/media/rtp/interleaved.ts";
import { assert, assertEquals, assertStrictEquals, assertThrows } from "../../_util/assert.ts";
import { hex } from "../../fixtures/annotated_hex.ts";

const TWO = hex(`
  24 00 00 02  aa bb         # '$', channel 0, length 2, packet
  24 00 00 03  cc dd ee      # '$', channel 0, length 3, packet
`);

Deno.test("rtpPackets() gives views of the packets inside back-to-back frames", () => {
  const packets = rtpPackets(TWO);
  assertEquals(packets, [hex(`aa bb`), hex(`cc dd ee`)]);
  assertStrictEquals(packets[0].buffer, TWO.buffer, "views, not copies");
  assertEquals(frameCount(TWO), 2);
  assertEquals(rtpPackets(new Uint8Array(0)), []);
});

Deno.test("rtpPackets() refuses bytes that are not whole frames", () => {
  assertThrows(() => rtpPackets(hex(`24 00 00`)), RangeError, "a frame header at byte 0 is cut short");
  assertThrows(() => rtpPackets(hex(`25 00 00 00`)), RangeError, "byte 0 is 0x25, expected 0x24");
  assertThrows(
    () => rtpPackets(hex(`24 00 00 05 aa`)),
    RangeError,
    "a frame at byte 0 of 5 bytes runs past the end",
  );
});

Deno.test("withChannel() copies the frames onto another channel and leaves the shared ones alone", () => {
  assertStrictEquals(withChannel(TWO, 0), TWO, "already on channel 0");
  const moved = withChannel(TWO, 2);
  assert(moved.buffer !== TWO.buffer, "a copy");
  assertEquals(moved, hex(`24 02 00 02 aa bb  24 02 00 03 cc dd ee`));
  assertEquals(TWO[1], 0, "the original is untouched");
  assertThrows(() => withChannel(TWO, 256), RangeError, "current channel 256 is outside 0..255");
});

Deno.test("interleave() frames a packet behind $, its channel and a big-endian length", () => {
  assertEquals(
    interleave(Uint8Array.of(0x80, 0xc8, 0x00, 0x06), 3),
    hex(`24        # "$"
         03        # channel 3
         00 04     # length 4
         80 c8 00 06`),
  );
  assertEquals(interleave(new Uint8Array(0), 0), hex("24 00 00 00"));
  const largest = interleave(new Uint8Array(Interleaved.MaxPayload), 255);
  assertEquals([...largest.subarray(0, 4)], [0x24, 0xff, 0xff, 0xff], "65535 bytes on channel 255");
});

Deno.test("writeInterleavedHeader() writes a header in place for a packet laid out after it", () => {
  const out = new Uint8Array(10).fill(0xaa);
  writeInterleavedHeader(out, 2, 1, 1400);
  assertEquals([...out], [0xaa, 0xaa, 0x24, 0x01, 0x05, 0x78, 0xaa, 0xaa, 0xaa, 0xaa]);
});

Deno.test("interleave() refuses a channel outside 0..255 and a packet past 65535 bytes", () => {
  assertThrows(() => interleave(new Uint8Array(1), 256), RangeError, "current channel 256 is outside 0..255");
  assertThrows(() => interleave(new Uint8Array(1), -1), RangeError, "channel -1");
  assertThrows(
    () => interleave(new Uint8Array(Interleaved.MaxPayload + 1), 0),
    RangeError,
    "current length 65536, limit 65535",
  );
});
