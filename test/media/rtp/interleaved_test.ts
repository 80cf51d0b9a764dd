/**
 * Interleaved frames (RFC 2326 10.12): the packets inside a packetizer's
 * output, counting them, moving them to another channel without touching
 * shared bytes, and framing one packet.
 */
import { frameCount, interleave, rtpPackets, withChannel } from "../../../src/media/rtp/interleaved.ts";
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
  assertThrows(() => withChannel(TWO, 256), RangeError, "must be an integer in 0..255, current 256");
});

Deno.test("interleave() frames one packet, up to 65535 bytes", () => {
  assertEquals(interleave(hex(`80 c8`), 1), hex(`24 01 00 02 80 c8`));
  assertThrows(() => interleave(new Uint8Array(65536), 0), RangeError, "it is 65536 bytes, limit 65535");
  assertThrows(() => interleave(new Uint8Array(1), -1), RangeError, "channel");
});
