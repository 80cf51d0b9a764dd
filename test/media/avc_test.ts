import { ProtocolError } from "../../src/errors.ts";
import { buildAvcConfig, NalUnitType, nalUnitType, parseAvcConfig } from "../../src/media/avc.ts";
import { AvcPacketType, FlvReader, readVideoTagHeader, TagType } from "../../src/media/flv.ts";
import { parseSps, scanAnnexB } from "../../src/wasm/nal.ts";
import { assertEquals, assertThrows } from "../_util/assert.ts";
import { expectOnlyProtocolError, mutations, seededRandom, truncations } from "../_util/mutate.ts";
import { hex } from "../fixtures/annotated_hex.ts";
import { AVC_CONFIG_BASELINE, encodeFlv, flvToAnnexB } from "../fixtures/flv_fixtures.ts";
import { PPS_BASELINE, SPS_BASELINE_320X180, SPS_HIGH_SCALING_1080P } from "../fixtures/nal_fixtures.ts";

Deno.test("nalUnitType() reads the type from a NAL unit's first byte (Table 7-1)", () => {
  assertEquals(nalUnitType(0x67), NalUnitType.Sps);
  assertEquals(nalUnitType(0x68), NalUnitType.Pps);
  assertEquals(nalUnitType(0x65), NalUnitType.Idr);
  assertEquals(nalUnitType(0x41), NalUnitType.Slice);
  assertEquals(nalUnitType(0x06), NalUnitType.Sei);
  assertEquals(nalUnitType(0x09), NalUnitType.Aud);
});

Deno.test("buildAvcConfig() writes the record of the annotated fixture from an SPS and a PPS", () => {
  assertEquals(buildAvcConfig({ sps: [SPS_BASELINE_320X180], pps: [PPS_BASELINE] }), AVC_CONFIG_BASELINE);
});

Deno.test("parseAvcConfig() reads the annotated fixture back", () => {
  assertEquals(parseAvcConfig(AVC_CONFIG_BASELINE), {
    version: 1,
    profileIdc: 66,
    profileCompatibility: 0xc0,
    levelIdc: 13,
    lengthSize: 4,
    sps: [SPS_BASELINE_320X180],
    pps: [PPS_BASELINE],
  });
});

Deno.test("buildAvcConfig() adds the High profile tail, read from the SPS", () => {
  const record = buildAvcConfig({ sps: [SPS_HIGH_SCALING_1080P], pps: [PPS_BASELINE], lengthSize: 2 });
  assertEquals(
    record.subarray(0, 6),
    hex(`01 64 00 28 fd e1`),
    "version, profile 100, flags, level 40, 2-byte lengths, 1 SPS",
  );
  assertEquals(
    record.subarray(record.length - 4),
    hex(`
      fd                      # reserved '111111'b, chroma_format 1
      f8                      # reserved '11111'b, bit_depth_luma_minus8 0
      f8                      # reserved '11111'b, bit_depth_chroma_minus8 0
      00                      # numOfSequenceParameterSetExt 0
    `),
  );
  assertEquals(parseAvcConfig(record), {
    version: 1,
    profileIdc: 100,
    profileCompatibility: 0,
    levelIdc: 40,
    lengthSize: 2,
    sps: [SPS_HIGH_SCALING_1080P],
    pps: [PPS_BASELINE],
    ext: { chromaFormat: 1, bitDepthLuma: 8, bitDepthChroma: 8, spsExt: [] },
  });
});

Deno.test("buildAvcConfig() refuses counts, sizes and length sizes the record cannot hold", () => {
  assertThrows(() => buildAvcConfig({ sps: [], pps: [] }), RangeError, "0 SPS, expected 1..31");
  assertThrows(
    () => buildAvcConfig({ sps: [SPS_BASELINE_320X180], pps: [], lengthSize: 3 as 4 }),
    RangeError,
    "lengthSize must be 1, 2 or 4, current 3",
  );
  assertThrows(
    () => buildAvcConfig({ sps: [SPS_BASELINE_320X180], pps: [new Uint8Array(70000)] }),
    RangeError,
    "a parameter set is 70000 bytes, limit 65535",
  );
});

Deno.test("parseAvcConfig() rejects every truncation of the fixture, naming what is missing", () => {
  for (const cut of truncations(AVC_CONFIG_BASELINE)) {
    const e = assertThrows(() => parseAvcConfig(cut), ProtocolError);
    assertEquals(e.code, "avc_config");
  }
  assertThrows(
    () => parseAvcConfig(AVC_CONFIG_BASELINE.subarray(0, 20)),
    ProtocolError,
    "Cannot read AVCDecoderConfigurationRecord: sequenceParameterSetNALUnit at byte 8 needs 19 bytes, 12 left",
  );
  const v2 = AVC_CONFIG_BASELINE.slice();
  v2[0] = 2;
  assertThrows(() => parseAvcConfig(v2), ProtocolError, "configurationVersion is 2, expected 1");
  const random = seededRandom(0xac);
  for (const m of mutations(AVC_CONFIG_BASELINE, random, 500)) expectOnlyProtocolError(m, parseAvcConfig);
});

Deno.test("parseAvcConfig() of ffmpeg's FLV sequence header gives the SPS and PPS of the same stream in Annex B", async () => {
  const flv = await encodeFlv({ width: 1280, height: 720, profile: "high" });
  const sequenceHeader = new FlvReader().push(flv).find((t) =>
    t.type === TagType.Video && readVideoTagHeader(t.data).avcPacketType === AvcPacketType.SequenceHeader
  );
  const record = sequenceHeader!.data.subarray(5);
  const config = parseAvcConfig(record);

  const annexB = await flvToAnnexB(flv);
  const units = scanAnnexB(annexB).map((s) => annexB.subarray(s.offset, s.offset + s.length));
  assertEquals(config.sps, [units.find((n) => nalUnitType(n[0]) === NalUnitType.Sps)!]);
  assertEquals(config.pps, [units.find((n) => nalUnitType(n[0]) === NalUnitType.Pps)!]);
  assertEquals(config.lengthSize, 4);

  const sps = parseSps(config.sps[0]);
  assertEquals([config.profileIdc, config.profileCompatibility, config.levelIdc], [
    100,
    sps.constraintFlags,
    sps.levelIdc,
  ]);
  assertEquals([sps.width, sps.height], [1280, 720]);
  // FFmpeg writes the High profile tail; rebuilding from the parts gives its bytes exactly.
  assertEquals(config.ext, { chromaFormat: 1, bitDepthLuma: 8, bitDepthChroma: 8, spsExt: [] });
  assertEquals(buildAvcConfig({ sps: config.sps, pps: config.pps }), record);
});
