import { adtsConfig, adtsHeader, MAX_ADTS_PAYLOAD } from "../../../src/media/ts/adts.ts";
import { ProtocolError } from "../../../src/errors.ts";
import { assertEquals, assertThrows } from "../../_util/assert.ts";
import { hex } from "../../fixtures/annotated_hex.ts";

/** ffmpeg's AAC encoder, 44.1 kHz mono: AAC LC, samplingFrequencyIndex 4, channelConfiguration 1. */
const LC_44K_MONO = hex(`12 08`);

Deno.test("adtsConfig() reads object type, sampling index and channels from an AAC LC config", () => {
  assertEquals(adtsConfig(LC_44K_MONO), {
    objectType: 2,
    coreObjectType: 2,
    samplingIndex: 4,
    channelConfiguration: 1,
  });
  // 48 kHz stereo: 00010 0011 0010 000
  assertEquals(adtsConfig(hex(`11 90`))?.samplingIndex, 3);
  assertEquals(adtsConfig(hex(`11 90`))?.channelConfiguration, 2);
});

Deno.test("adtsConfig() carries explicit HE-AAC as its LC core at the core rate", () => {
  // audioObjectType 5 (SBR), samplingFrequencyIndex 6 (24 kHz core), stereo, extension index 3 (48 kHz), core type 2.
  // 00101 0110 0010 0011 00010 000 -> 2b 11 88 00 (padded)
  assertEquals(adtsConfig(hex(`2b 11 88 00`)), {
    objectType: 5,
    coreObjectType: 2,
    samplingIndex: 6,
    channelConfiguration: 2,
  });
});

Deno.test("adtsConfig() leaves out configs ADTS cannot express and throws ProtocolError on a truncated one", () => {
  // samplingFrequencyIndex 15: an explicit 24-bit rate follows. 00010 1111 <24 bits> 0001
  assertEquals(adtsConfig(hex(`17 80 00 00 08`)), undefined, "explicit rate");
  // channelConfiguration 0: the layout is in a program_config_element.
  assertEquals(adtsConfig(hex(`12 00`)), undefined, "PCE layout");
  // audioObjectType 23 (ER AAC LD): two bits of profile cannot say it.
  assertEquals(adtsConfig(hex(`ba 08`)), undefined, "AAC LD");
  // audioObjectType 31 + 6 bits: 42 (USAC).
  assertEquals(adtsConfig(hex(`f9 46 20 00`)), undefined, "escaped object type");
  assertThrows(() => adtsConfig(hex(`12`)), ProtocolError, "Cannot read AudioSpecificConfig");
});

Deno.test("adtsHeader() writes the header ffmpeg writes before a 258-byte LC frame", () => {
  assertEquals(
    adtsHeader(adtsConfig(LC_44K_MONO)!, 258),
    hex(`
      ff f1             # syncword, MPEG-4, layer 0, protection_absent
      50                # profile 1 (LC), sampling_frequency_index 4, private 0, channel bit 2: 0
      40                # channel_configuration bits 1..0: 01; aac_frame_length bits 12..11: 0
      21 3f             # aac_frame_length 265 (7 + 258), adts_buffer_fullness 0x7FF starts
      fc                # buffer fullness ends, one raw data block
    `),
  );
});

Deno.test("adtsHeader() takes a frame up to 8184 bytes and refuses a longer one", () => {
  const c = adtsConfig(LC_44K_MONO)!;
  const h = adtsHeader(c, MAX_ADTS_PAYLOAD);
  assertEquals([h[3] & 3, h[4], h[5] >> 5], [3, 0xff, 7], "aac_frame_length 8191");
  assertThrows(
    () => adtsHeader(c, MAX_ADTS_PAYLOAD + 1),
    RangeError,
    "Cannot write ADTS header: AAC frame is 8185 bytes, limit 8184",
  );
});
