/**
 * One H.264 access unit as an MPEG-2 transport stream carries it (ISO/IEC
 * 13818-1 2.14: an Annex B byte stream, each access unit starting with an
 * access unit delimiter), made from the length-prefixed NAL units of an FLV
 * or RTMP AVC packet (ISO/IEC 14496-15 5.3.2) without copying them: the
 * result is a list of parts, start codes and views of the caller's bytes,
 * that the transport packetizer copies once.
 *
 * In order: an access unit delimiter (H.264 7.3.2.4), the frame's own when
 * its first NAL unit is one, else a new one (a delimiter anywhere else would
 * start a new access unit, so it is dropped); then, before a keyframe that
 * does not carry both its own SPS and PPS, the parameter sets of the last
 * sequence header, so that every keyframe decodes alone (an HLS segment, a
 * player joining); then the frame's NAL units, each behind a 4-byte start
 * code (Annex B.1.1, zero_byte and start_code_prefix_one_3bytes).
 *
 * @module
 */
import { ProtocolError } from "../../errors.ts";
import type { AvcConfig } from "../avc.ts";
import { NalUnitType, nalUnitType } from "../avc.ts";

/** Annex B.1.1: zero_byte and start_code_prefix_one_3bytes. */
const START_CODE: Uint8Array = Uint8Array.of(0, 0, 0, 1);
/**
 * 7.3.2.4: an access unit delimiter NAL unit (nal_ref_idc 0, type 9) with
 * primary_pic_type 7 (any slice type) and the RBSP stop bit: 09 F0, behind
 * its start code.
 */
const AUD: Uint8Array = Uint8Array.of(0, 0, 0, 1, NalUnitType.Aud, 0xf0);
/** NAL units one access unit may hold; real encoders write a handful (slices, SEI), a few hundred at most. */
export const MAX_NAL_UNITS = 1024;

/** An access unit in Annex B form, as parts to write in order. */
export interface AnnexBParts {
  /** Start codes, delimiter, parameter sets and views of the frame's NAL units. Shared bytes: never mutate them. */
  readonly parts: Uint8Array[];
  /** The sum of the parts' lengths. */
  readonly length: number;
}

/** The SPS and PPS of a decoder configuration, each behind a start code, in one array. */
export function annexBParameterSets(config: AvcConfig): Uint8Array {
  const units = [...config.sps, ...config.pps];
  const out = new Uint8Array(units.reduce((n, u) => n + START_CODE.length + u.length, 0));
  let o = 0;
  for (const u of units) {
    out.set(START_CODE, o);
    out.set(u, o + START_CODE.length);
    o += START_CODE.length + u.length;
  }
  return out;
}

function fail(detail: string): never {
  throw new ProtocolError("avcc", `Cannot convert AVCC to Annex B: ${detail}`);
}

/**
 * The Annex B parts of one access unit from its AVCC bytes (NAL units behind
 * big-endian lengths of `lengthSize` bytes, 1, 2 or 4). `parameterSets` (from
 * `annexBParameterSets`) go in when `keyframe` is set or an IDR slice is
 * present, unless the frame has both an SPS and a PPS. Zero-length units
 * are skipped; a length running past the end, or more than MAX_NAL_UNITS
 * units, throws ProtocolError (code "avcc").
 */
export function annexBParts(
  avcc: Uint8Array,
  lengthSize: number,
  parameterSets: Uint8Array | undefined,
  keyframe: boolean,
): AnnexBParts {
  if (lengthSize !== 1 && lengthSize !== 2 && lengthSize !== 4) {
    throw new RangeError(
      `Cannot convert AVCC to Annex B: lengthSize must be 1, 2 or 4, current ${lengthSize}`,
    );
  }
  const units: Uint8Array[] = [];
  let sps = false;
  let pps = false;
  let idr = false;
  for (let p = 0; p < avcc.length;) {
    if (p + lengthSize > avcc.length) {
      fail(`length prefix at byte ${p} needs ${lengthSize} bytes, ${avcc.length - p} left`);
    }
    let n = 0;
    for (let k = 0; k < lengthSize; k++) n = n * 256 + avcc[p + k];
    p += lengthSize;
    if (n > avcc.length - p) {
      fail(`NAL unit at byte ${p - lengthSize} has length ${n}, ${avcc.length - p} bytes left`);
    }
    if (n === 0) continue;
    if (units.length === MAX_NAL_UNITS) fail(`over ${MAX_NAL_UNITS} NAL units in one access unit`);
    const unit = avcc.subarray(p, p + n);
    p += n;
    const type = nalUnitType(unit[0]);
    if (type === NalUnitType.Aud && units.length > 0) continue; // only a leading delimiter belongs here
    if (type === NalUnitType.Sps) sps = true;
    else if (type === NalUnitType.Pps) pps = true;
    else if (type === NalUnitType.Idr) idr = true;
    units.push(unit);
  }
  const parts: Uint8Array[] = [];
  let length = 0;
  let i = 0;
  if (units.length > 0 && nalUnitType(units[0][0]) === NalUnitType.Aud) {
    parts.push(START_CODE, units[0]);
    length += START_CODE.length + units[0].length;
    i = 1;
  } else {
    parts.push(AUD);
    length += AUD.length;
  }
  if (parameterSets && (keyframe || idr) && !(sps && pps)) {
    parts.push(parameterSets);
    length += parameterSets.length;
  }
  for (; i < units.length; i++) {
    parts.push(START_CODE, units[i]);
    length += START_CODE.length + units[i].length;
  }
  return { parts, length };
}
