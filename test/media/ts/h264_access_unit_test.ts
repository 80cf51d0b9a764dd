import { parseAvcConfig } from "../../../src/media/avc.ts";
import { annexBParameterSets, annexBParts, MAX_NAL_UNITS } from "../../../src/media/ts/h264_access_unit.ts";
import { ProtocolError } from "../../../src/errors.ts";
import { avccToAnnexB } from "../../../src/wasm/nal.ts";
import { assertEquals, assertThrows } from "../../_util/assert.ts";
import { hex } from "../../fixtures/annotated_hex.ts";
import { AVC_CONFIG_BASELINE } from "../../fixtures/flv_fixtures.ts";
import { ANNEXB_SAMPLE_NORMALIZED, AVCC_SAMPLE, AVCC_SAMPLE_1, concat } from "../../fixtures/nal_fixtures.ts";

const PARAMS = annexBParameterSets(parseAvcConfig(AVC_CONFIG_BASELINE));

/** The parts joined, and a check that `length` is their sum. */
function joined(r: { parts: Uint8Array[]; length: number }): Uint8Array {
  const out = concat(r.parts);
  assertEquals(out.length, r.length, "length is the sum of the parts");
  return out;
}

const IDR = hex(`00 00 00 06  65 88 84 00 33 ff    # IDR slice start`);
const SLICE = hex(`00 00 00 03  41 9a 02            # non-IDR slice start (type 1)`);

Deno.test("annexBParameterSets() puts each SPS and PPS of the record behind a start code", () => {
  assertEquals(
    PARAMS,
    hex(`
      00 00 00 01  67 42 c0 0d da 05 06 7e 78 40 00 00 03 00 40 00 00 0c a1   # SPS
      00 00 00 01  68 ce 3c 80                                                # PPS
    `),
  );
});

Deno.test("annexBParts() keeps a frame's own leading delimiter, SPS and PPS and adds nothing", () => {
  // AVCC_SAMPLE: AUD, SPS, PPS, IDR, SEI: what avccToAnnexB() gives, byte for byte.
  assertEquals(joined(annexBParts(AVCC_SAMPLE, 4, PARAMS, true)), ANNEXB_SAMPLE_NORMALIZED);
  assertEquals(joined(annexBParts(AVCC_SAMPLE_1, 1, PARAMS, true)), ANNEXB_SAMPLE_NORMALIZED);
  assertEquals(joined(annexBParts(AVCC_SAMPLE, 4, PARAMS, true)), avccToAnnexB(AVCC_SAMPLE, 4));
});

Deno.test("annexBParts() puts a delimiter first and the parameter sets before an IDR slice", () => {
  assertEquals(
    joined(annexBParts(IDR, 4, PARAMS, true)),
    concat([
      hex(`00 00 00 01  09 f0     # access unit delimiter, primary_pic_type 7`),
      PARAMS,
      hex(`00 00 00 01  65 88 84 00 33 ff`),
    ]),
  );
  // An IDR slice in a frame not flagged as a keyframe gets them too.
  assertEquals(joined(annexBParts(IDR, 4, PARAMS, false)), joined(annexBParts(IDR, 4, PARAMS, true)));
});

Deno.test("annexBParts() gives an inter frame only the delimiter", () => {
  assertEquals(
    joined(annexBParts(SLICE, 4, PARAMS, false)),
    hex(`00 00 00 01 09 f0  00 00 00 01 41 9a 02`),
  );
});

Deno.test("annexBParts() inserts the parameter sets after the frame's own delimiter", () => {
  const avcc = concat([hex(`00 00 00 02 09 10    # AUD, primary_pic_type 0`), IDR]);
  assertEquals(
    joined(annexBParts(avcc, 4, PARAMS, true)),
    concat([hex(`00 00 00 01 09 10`), PARAMS, hex(`00 00 00 01 65 88 84 00 33 ff`)]),
  );
});

Deno.test("annexBParts() inserts both parameter sets when the frame carries only its SPS", () => {
  const avcc = concat([hex(`00 00 00 04 67 42 c0 0d`), IDR]);
  assertEquals(
    joined(annexBParts(avcc, 4, PARAMS, true)),
    concat([hex(`00 00 00 01 09 f0`), PARAMS, hex(`00 00 00 01 67 42 c0 0d  00 00 00 01 65 88 84 00 33 ff`)]),
  );
});

Deno.test("annexBParts() drops a delimiter that is not first and skips empty NAL units", () => {
  const avcc = concat([SLICE, hex(`00 00 00 00`), hex(`00 00 00 02 09 f0`), hex(`00 00 00 02 41 01`)]);
  assertEquals(
    joined(annexBParts(avcc, 4, undefined, false)),
    hex(`00 00 00 01 09 f0  00 00 00 01 41 9a 02  00 00 00 01 41 01`),
  );
});

Deno.test("annexBParts() without parameter sets leaves a keyframe as it is", () => {
  assertEquals(
    joined(annexBParts(IDR, 4, undefined, true)),
    hex(`00 00 00 01 09 f0  00 00 00 01 65 88 84 00 33 ff`),
  );
});

Deno.test("annexBParts() refers to the frame's bytes instead of copying them", () => {
  const r = annexBParts(IDR, 4, PARAMS, true);
  const view = r.parts[r.parts.length - 1];
  assertEquals(view.buffer, IDR.buffer);
  assertEquals(view.byteOffset, IDR.byteOffset + 4);
});

Deno.test("annexBParts() throws ProtocolError for a length past the end, a cut prefix or too many units", () => {
  assertThrows(
    () => annexBParts(hex(`00 00 00 09 65 88`), 4, undefined, true),
    ProtocolError,
    "Cannot convert AVCC to Annex B: NAL unit at byte 0 has length 9, 2 bytes left",
  );
  assertThrows(
    () => annexBParts(concat([SLICE, hex(`00 00`)]), 4, undefined, false),
    ProtocolError,
    "Cannot convert AVCC to Annex B: length prefix at byte 7 needs 4 bytes, 2 left",
  );
  const many = new Uint8Array((MAX_NAL_UNITS + 1) * 2).fill(0x01); // 1-byte lengths of 1, NAL header 0x01
  assertThrows(
    () => annexBParts(many, 1, undefined, false),
    ProtocolError,
    "Cannot convert AVCC to Annex B: over 1024 NAL units in one access unit",
  );
  assertEquals(annexBParts(many.subarray(2), 1, undefined, false).parts.length, 1 + 2 * MAX_NAL_UNITS);
  assertThrows(
    () => annexBParts(IDR, 3, undefined, true),
    RangeError,
    "lengthSize must be 1, 2 or 4, current 3",
  );
});
