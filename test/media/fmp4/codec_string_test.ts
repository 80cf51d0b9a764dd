import { aacCodecString, avcCodecString } from "../../../src/media/fmp4/codec_string.ts";
import { buildAvcConfig } from "../../../src/media/avc.ts";
import { ProtocolError } from "../../../src/errors.ts";
import { assertEquals, assertThrows } from "../../_util/assert.ts";
import { hex } from "../../fixtures/annotated_hex.ts";
import { PPS_BASELINE, SPS_BASELINE_320X180 } from "../../fixtures/nal_fixtures.ts";

Deno.test("avcCodecString() writes profile, constraint flags and level of the record as six hex digits", () => {
  const record = buildAvcConfig({ sps: [SPS_BASELINE_320X180], pps: [PPS_BASELINE] });
  assertEquals(avcCodecString(record), "avc1.42c00d", "Constrained Baseline (66, flags 0xc0), level 1.3");
  const high = hex(`
    01 64 00 28 ff             # version 1, High (100), compatibility 0, level 4.0, lengthSize 4
    e1 00 04 67 64 00 28       # one SPS (only its first bytes matter here)
    01 00 02 68 ee             # one PPS
  `);
  assertEquals(avcCodecString(high), "avc1.640028");
});

Deno.test("avcCodecString() throws ProtocolError for a record that is not one", () => {
  assertThrows(() => avcCodecString(hex(`02 64 00 28`)), ProtocolError);
});

Deno.test("aacCodecString() names the signalled audioObjectType: LC, HE-AAC, HE-AACv2", () => {
  // audioObjectType 2 (5 bits), samplingFrequencyIndex 4 (44.1 kHz), channelConfiguration 2.
  assertEquals(aacCodecString(hex(`12 10`)), "mp4a.40.2");
  // 5 (SBR), index 6 (24 kHz), 2 channels, extension index 3 (48 kHz), core type 2.
  assertEquals(aacCodecString(hex(`2b 13 10`)), "mp4a.40.5");
  // 29 (PS), index 6, 1 channel, extension index 3, core type 2.
  assertEquals(aacCodecString(hex(`eb 09 88`)), "mp4a.40.29");
});

Deno.test("aacCodecString() throws ProtocolError for a config that ends early", () => {
  assertThrows(() => aacCodecString(hex(`12`)), ProtocolError);
});
