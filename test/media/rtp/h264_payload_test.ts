/**
 * RFC 6184 structures: STAP-A built and read (5.7.1), one fixture both ways.
 */
import { ProtocolError } from "../../../src/errors.ts";
import { buildStapA, readStapA } from "../../../src/media/rtp/h264_payload.ts";
import { assertEquals, assertThrows } from "../../_util/assert.ts";
import { hex } from "../../fixtures/annotated_hex.ts";

const UNITS = [hex(`67 42 00 1e`), hex(`68 ce`), hex(`06 05 01`)];
const STAP = hex(`
  78                      # F 0, NRI 3 (the greatest: the SPS's), type 24
  00 04  67 42 00 1e      # size 4, SPS
  00 02  68 ce            # size 2, PPS
  00 03  06 05 01         # size 3, SEI
`);

Deno.test("buildStapA() and readStapA() agree on a STAP-A of SPS, PPS and SEI", () => {
  assertEquals(buildStapA(UNITS), STAP);
  assertEquals(readStapA(STAP), UNITS);
});

Deno.test("buildStapA() sets F when any unit has it and takes the greatest NRI", () => {
  assertEquals(buildStapA([hex(`21 00`), hex(`c1 00`)])[0], 0xd8, "F 1, NRI 2, type 24");
  assertEquals(buildStapA([hex(`01`)])[0], 0x18, "NRI 0");
  assertThrows(() => buildStapA([new Uint8Array(0)]), RangeError, "a unit is 0 bytes, allowed 1..65535");
  assertThrows(() => buildStapA([new Uint8Array(65536)]), RangeError, "a unit is 65536 bytes");
});

Deno.test("readStapA() refuses a size of 0, one past the end, a cut size and no units", () => {
  assertThrows(() => readStapA(hex(`78 00 00`)), ProtocolError, "a unit at byte 1 of 0 bytes");
  assertThrows(() => readStapA(hex(`78 00 05 67`)), ProtocolError, "a unit at byte 1 of 5 bytes, 1 left");
  assertThrows(() => readStapA(hex(`78 00 01 67 00`)), ProtocolError, "a size at byte 4 is cut short");
  assertThrows(() => readStapA(hex(`78`)), ProtocolError, "current payload has no units");
});
