// H.264 byte-stream work for the codec role (ITU-T H.264, Annex B and 7.3.2.1.1):
//
//   nalScan       Annex B -> NAL unit spans in the spans region
//   annexBToAvcc  Annex B -> length-prefixed NAL units (ISO/IEC 14496-15) in the output region
//   avccToAnnexB  length-prefixed -> Annex B with 4-byte start codes in the output region
//   parseSps      a sequence parameter set -> a record of i32 fields in the spans region
//
// Input is (ptr, len) in the codec input region. On a negative status the first
// words of the spans region say what went wrong (the "detail" words below); the
// host turns them into the error message. No function allocates or traps on any
// input: every read is bounded by len.
//
// The host twin of every function is test/_util/nal_ref.ts; one test suite runs
// against both, so messages and limits must agree word for word.

import {
  CODEC_OUT_PTR,
  CODEC_OUT_SIZE,
  CODEC_SPANS_CAP,
  CODEC_SPANS_PTR,
  ST_BAD_ARGUMENT,
  ST_BAD_BITSTREAM,
  ST_OK,
  ST_OUTPUT_TOO_LONG,
} from "./abi";
import { getU16, getU32, putU16, putU32 } from "./be";

export const NAL_SCAN_VERSION: i32 = 1;

// @ts-ignore: decorator
@inline function detail(i: i32, v: u32): void {
  store<u32>(<usize>CODEC_SPANS_PTR + (<usize>i << 2), v);
}

// ---- start code search

/**
 * The offset (from base) of the next start code prefix 00 00 01 at or after
 * `from`, or -1. For 16 positions p at a time, two overlapping unaligned v128
 * loads give whether data[p] and data[p+1] are both zero. In
 * compressed slice data that pair is rare (emulation prevention turns every
 * 00 00 0x, x <= 3, into 00 00 03 0x), so nearly every 64-byte step is eight
 * loads, eight compares, seven ands and ors and one branch; the byte after a
 * pair is checked only for the few positions a mask names.
 */
function findStartCode(base: usize, from: i32, len: i32): i32 {
  let i = from;
  const zero = i8x16.splat(0);
  // 64 positions per step while bytes i..i+64 are inside the input, with one
  // branch on the or of four 16-position masks.
  while (i + 65 <= len) {
    const p = base + <usize>i;
    const m0 = v128.and(i8x16.eq(v128.load(p), zero), i8x16.eq(v128.load(p, 1), zero));
    const m1 = v128.and(i8x16.eq(v128.load(p, 16), zero), i8x16.eq(v128.load(p, 17), zero));
    const m2 = v128.and(i8x16.eq(v128.load(p, 32), zero), i8x16.eq(v128.load(p, 33), zero));
    const m3 = v128.and(i8x16.eq(v128.load(p, 48), zero), i8x16.eq(v128.load(p, 49), zero));
    if (v128.any_true(v128.or(v128.or(m0, m1), v128.or(m2, m3)))) {
      let at = firstOne(base, i, i8x16.bitmask(m0), len);
      if (at < 0) at = firstOne(base, i + 16, i8x16.bitmask(m1), len);
      if (at < 0) at = firstOne(base, i + 32, i8x16.bitmask(m2), len);
      if (at < 0) at = firstOne(base, i + 48, i8x16.bitmask(m3), len);
      if (at >= 0) return at;
    }
    i += 64;
  }
  // The same 16 positions at a time while bytes i..i+16 are inside, then bytewise.
  while (i + 17 <= len) {
    const p = base + <usize>i;
    const m = v128.and(i8x16.eq(v128.load(p), zero), i8x16.eq(v128.load(p, 1), zero));
    const at = firstOne(base, i, i8x16.bitmask(m), len);
    if (at >= 0) return at;
    i += 16;
  }
  while (i + 2 < len) {
    const p = base + <usize>i;
    if (load<u8>(p) == 0 && load<u8>(p, 1) == 0 && load<u8>(p, 2) == 1) return i;
    i++;
  }
  return -1;
}

/**
 * Of the zero pairs at i + (each set bit of pairs), the first followed by 01
 * inside the input, or -1.
 */
// @ts-ignore: decorator
@inline function firstOne(base: usize, i: i32, pairs: i32, len: i32): i32 {
  let found = -1;
  while (pairs != 0) {
    const at = i + ctz(pairs);
    if (at + 2 < len && load<u8>(base + <usize>at, 2) == 1) {
      found = at;
      break;
    }
    pairs &= pairs - 1;
  }
  return found;
}

/** End of the NAL unit in [start, end) once trailing_zero_8bits are dropped (B.1). */
// @ts-ignore: decorator
@inline function trimZeros(base: usize, start: i32, end: i32): i32 {
  while (end > start && load<u8>(base + <usize>end - 1) == 0) end--;
  return end;
}

// ---- Annex B scan

/**
 * Writes an (offset, length) i32 pair per NAL unit to the spans region: the
 * payload after its 3- or 4-byte start code, trailing zero bytes trimmed, empty
 * units skipped, bytes before the first start code ignored. Returns the count.
 * ST_OUTPUT_TOO_LONG past CODEC_SPANS_CAP units; detail word 0 is the count.
 */
export function nalScan(ptr: usize, len: i32): i32 {
  let count = 0;
  let sc = findStartCode(ptr, 0, len);
  while (sc >= 0) {
    const start = sc + 3;
    const next = findStartCode(ptr, start, len);
    const end = trimZeros(ptr, start, next < 0 ? len : next);
    if (end > start) {
      if (count < CODEC_SPANS_CAP) {
        const s = <usize>CODEC_SPANS_PTR + (<usize>count << 3);
        store<i32>(s, start);
        store<i32>(s, end - start, 4);
      }
      count++;
    }
    sc = next;
  }
  if (count > CODEC_SPANS_CAP) {
    detail(0, count);
    return ST_OUTPUT_TOO_LONG;
  }
  return count;
}

// ---- Annex B <-> AVCC

/**
 * Annex B -> each NAL unit (as nalScan finds them) behind a big-endian length
 * of lengthSize (1, 2 or 4; the host checks) bytes, written at `out` inside the
 * output region. Returns the output length. ST_BAD_ARGUMENT when a unit is too
 * long for the length field: detail words (offset, length, limit).
 * ST_OUTPUT_TOO_LONG cannot happen for input that fits the input region (at
 * worst 4 bytes become 5) but is checked anyway: detail word 0 is the room.
 *
 * Where `out` sits matters: the regions are 9 MiB apart, a multiple of 4 KiB,
 * so writing each unit a byte or two above where it was read makes every
 * load in memory.copy alias (in its low 12 address bits) a store just made,
 * and the copy ran at 2 GB/s instead of 30. The host starts the output half a
 * page further on (src/wasm/nal.ts).
 */
export function annexBToAvcc(ptr: usize, len: i32, out: usize, lengthSize: i32): i32 {
  const room = <i32>(<usize>CODEC_OUT_PTR + <usize>CODEC_OUT_SIZE - out);
  const limit: u32 = lengthSize == 4 ? 0xffffffff : (<u32>1 << (<u32>lengthSize << 3)) - 1;
  let o = 0;
  let sc = findStartCode(ptr, 0, len);
  while (sc >= 0) {
    const start = sc + 3;
    const next = findStartCode(ptr, start, len);
    const end = trimZeros(ptr, start, next < 0 ? len : next);
    const n = end - start;
    if (n > 0) {
      if (<u32>n > limit) {
        detail(0, start);
        detail(1, n);
        detail(2, limit);
        return ST_BAD_ARGUMENT;
      }
      if (o + lengthSize + n > room) {
        detail(0, room);
        return ST_OUTPUT_TOO_LONG;
      }
      const d = out + <usize>o;
      if (lengthSize == 4) putU32(d, n);
      else if (lengthSize == 2) putU16(d, n);
      else store<u8>(d, <u8>n);
      memory.copy(d + <usize>lengthSize, ptr + <usize>start, n);
      o += lengthSize + n;
    }
    sc = next;
  }
  return o;
}

/** AVCC error kinds in detail word 0. */
const AVCC_PREFIX_CUT: u32 = 1;
const AVCC_UNIT_CUT: u32 = 2;

/**
 * Length-prefixed NAL units -> Annex B with 00 00 00 01 start codes in the
 * output region; zero-length units are dropped. Returns the output length.
 * ST_BAD_BITSTREAM for a length prefix or a unit that runs past the end:
 * detail words (kind, offset, needed, left). ST_OUTPUT_TOO_LONG when the result
 * would not fit the output region: detail words (size, limit). Nothing is
 * written unless the whole input is well formed.
 */
export function avccToAnnexB(ptr: usize, len: i32, lengthSize: i32): i32 {
  // Pass 1: validate and size.
  let p = 0;
  let size: u64 = 0;
  while (p < len) {
    const left = len - p;
    if (left < lengthSize) {
      detail(0, AVCC_PREFIX_CUT);
      detail(1, p);
      detail(2, lengthSize);
      detail(3, left);
      return ST_BAD_BITSTREAM;
    }
    const n = readLength(ptr + <usize>p, lengthSize);
    if (<u64>n > <u64>(left - lengthSize)) {
      detail(0, AVCC_UNIT_CUT);
      detail(1, p);
      detail(2, n);
      detail(3, left - lengthSize);
      return ST_BAD_BITSTREAM;
    }
    if (n > 0) size += 4 + <u64>n;
    p += lengthSize + <i32>n;
  }
  if (size > <u64>CODEC_OUT_SIZE) {
    detail(0, <u32>size);
    detail(1, CODEC_OUT_SIZE);
    return ST_OUTPUT_TOO_LONG;
  }
  // Pass 2: copy.
  const out = <usize>CODEC_OUT_PTR;
  let o: usize = 0;
  p = 0;
  while (p < len) {
    const n = <i32>readLength(ptr + <usize>p, lengthSize);
    p += lengthSize;
    if (n > 0) {
      putU32(out + o, 1);
      memory.copy(out + o + 4, ptr + <usize>p, n);
      o += 4 + <usize>n;
    }
    p += n;
  }
  return <i32>o;
}

// @ts-ignore: decorator
@inline function readLength(p: usize, lengthSize: i32): u32 {
  return lengthSize == 4 ? getU32(p) : lengthSize == 2 ? getU16(p) : <u32>load<u8>(p);
}

// ---- SPS (7.3.2.1.1, E.1.1)

// The record parseSps writes to the spans region, i32 words in this order
// (src/wasm/nal.ts reads them by the same indices):
//   0 profile_idc          1 constraint_set flags byte   2 level_idc
//   3 seq_parameter_set_id 4 chroma_format_idc           5 separate_colour_plane_flag
//   6 BitDepthY            7 BitDepthC                   8 log2(MaxFrameNum)
//   9 pic_order_cnt_type  10 max_num_ref_frames         11 frame_mbs_only_flag
//  12 coded width         13 coded height (luma samples, before cropping)
//  14 crop left           15 crop right  16 crop top    17 crop bottom (luma samples)
//  18 width               19 height (after cropping)
//  20 timing_info_present_flag  21 num_units_in_tick (u32)  22 time_scale (u32)
//  23 fixed_frame_rate_flag

// Error detail words: (reason, field, a, b).
/** A field runs past the end: a = its first bit, b = bits in the RBSP. */
const R_TRUNCATED: u32 = 1;
/** A field is above its limit: a = value, b = limit. */
const R_RANGE: u32 = 2;
/** An Exp-Golomb code has more than 31 leading zero bits: a = its first bit. */
const R_LONG_CODE: u32 = 3;
/** The NAL unit is not an SPS: a = nal_unit_type. */
const R_NOT_SPS: u32 = 4;

// Field ids for error details; src/wasm/nal.ts names them in this order.
const F_FORBIDDEN_ZERO_BIT = 0;
const F_NAL_REF_IDC = 1;
const F_NAL_UNIT_TYPE = 2;
const F_PROFILE_IDC = 3;
const F_CONSTRAINT_FLAGS = 4;
const F_LEVEL_IDC = 5;
const F_SPS_ID = 6;
const F_CHROMA_FORMAT_IDC = 7;
const F_SEPARATE_COLOUR_PLANE_FLAG = 8;
const F_BIT_DEPTH_LUMA_MINUS8 = 9;
const F_BIT_DEPTH_CHROMA_MINUS8 = 10;
const F_QPPRIME_Y_ZERO_TRANSFORM_BYPASS_FLAG = 11;
const F_SEQ_SCALING_MATRIX_PRESENT_FLAG = 12;
const F_SEQ_SCALING_LIST_PRESENT_FLAG = 13;
const F_DELTA_SCALE = 14;
const F_LOG2_MAX_FRAME_NUM_MINUS4 = 15;
const F_PIC_ORDER_CNT_TYPE = 16;
const F_LOG2_MAX_PIC_ORDER_CNT_LSB_MINUS4 = 17;
const F_DELTA_PIC_ORDER_ALWAYS_ZERO_FLAG = 18;
const F_OFFSET_FOR_NON_REF_PIC = 19;
const F_OFFSET_FOR_TOP_TO_BOTTOM_FIELD = 20;
const F_NUM_REF_FRAMES_IN_PIC_ORDER_CNT_CYCLE = 21;
const F_OFFSET_FOR_REF_FRAME = 22;
const F_MAX_NUM_REF_FRAMES = 23;
const F_GAPS_IN_FRAME_NUM_VALUE_ALLOWED_FLAG = 24;
const F_PIC_WIDTH_IN_MBS_MINUS1 = 25;
const F_PIC_HEIGHT_IN_MAP_UNITS_MINUS1 = 26;
const F_FRAME_MBS_ONLY_FLAG = 27;
const F_MB_ADAPTIVE_FRAME_FIELD_FLAG = 28;
const F_DIRECT_8X8_INFERENCE_FLAG = 29;
const F_FRAME_CROPPING_FLAG = 30;
const F_FRAME_CROP_LEFT_OFFSET = 31;
const F_FRAME_CROP_RIGHT_OFFSET = 32;
const F_FRAME_CROP_TOP_OFFSET = 33;
const F_FRAME_CROP_BOTTOM_OFFSET = 34;
const F_HORIZONTAL_CROP = 35;
const F_VERTICAL_CROP = 36;
const F_VUI_PARAMETERS_PRESENT_FLAG = 37;
const F_ASPECT_RATIO_INFO_PRESENT_FLAG = 38;
const F_ASPECT_RATIO_IDC = 39;
const F_SAR_WIDTH = 40;
const F_SAR_HEIGHT = 41;
const F_OVERSCAN_INFO_PRESENT_FLAG = 42;
const F_OVERSCAN_APPROPRIATE_FLAG = 43;
const F_VIDEO_SIGNAL_TYPE_PRESENT_FLAG = 44;
const F_VIDEO_FORMAT = 45;
const F_VIDEO_FULL_RANGE_FLAG = 46;
const F_COLOUR_DESCRIPTION_PRESENT_FLAG = 47;
const F_COLOUR_PRIMARIES = 48;
const F_TRANSFER_CHARACTERISTICS = 49;
const F_MATRIX_COEFFICIENTS = 50;
const F_CHROMA_LOC_INFO_PRESENT_FLAG = 51;
const F_CHROMA_SAMPLE_LOC_TYPE_TOP_FIELD = 52;
const F_CHROMA_SAMPLE_LOC_TYPE_BOTTOM_FIELD = 53;
const F_TIMING_INFO_PRESENT_FLAG = 54;
const F_NUM_UNITS_IN_TICK = 55;
const F_TIME_SCALE = 56;
const F_FIXED_FRAME_RATE_FLAG = 57;

// Bit reader over the RBSP (emulation prevention removed) in the output region.
// The first error sticks: later reads return 0 without moving, so every loop
// bound read after it is 0 and the parse runs to its end without a trap.
let bitPos: u32 = 0;
let bitTotal: u32 = 0;
let errReason: u32 = 0;

function fail(reason: u32, field: i32, a: u32, b: u32): void {
  if (errReason != 0) return;
  errReason = reason;
  detail(0, reason);
  detail(1, field);
  detail(2, a);
  detail(3, b);
}

// @ts-ignore: decorator
@inline function bit(): u32 {
  const v = (<u32>load<u8>(<usize>CODEC_OUT_PTR + <usize>(bitPos >> 3)) >> (7 - (bitPos & 7))) & 1;
  bitPos++;
  return v;
}

/** u(n), n <= 32. */
function u(n: u32, field: i32): u32 {
  if (errReason != 0) return 0;
  if (bitPos + n > bitTotal) {
    fail(R_TRUNCATED, field, bitPos, bitTotal);
    return 0;
  }
  let v: u32 = 0;
  for (let k: u32 = 0; k < n; k++) v = (v << 1) | bit();
  return v;
}

/** ue(v) (9.1): up to 31 leading zeros, so the value fits a u32. */
function ue(field: i32): u32 {
  if (errReason != 0) return 0;
  const start = bitPos;
  let zeros: u32 = 0;
  while (true) {
    if (bitPos >= bitTotal) {
      fail(R_TRUNCATED, field, start, bitTotal);
      return 0;
    }
    if (bit() != 0) break;
    if (++zeros > 31) {
      fail(R_LONG_CODE, field, start, 0);
      return 0;
    }
  }
  if (bitPos + zeros > bitTotal) {
    fail(R_TRUNCATED, field, start, bitTotal);
    return 0;
  }
  let suffix: u32 = 0;
  for (let k: u32 = 0; k < zeros; k++) suffix = (suffix << 1) | bit();
  return ((<u32>1 << zeros) - 1) + suffix;
}

/** se(v) (9.1.1): codeNum k maps to (-1)^(k+1) * Ceil(k / 2). */
function se(field: i32): i32 {
  const k = ue(field);
  return (k & 1) != 0 ? <i32>((k >> 1) + 1) : -<i32>(k >> 1);
}

/** ue(v) capped at limit; above it the error sticks and 0 is returned. */
function ueMax(field: i32, limit: u32): u32 {
  const v = ue(field);
  if (v > limit) {
    fail(R_RANGE, field, v, limit);
    return 0;
  }
  return v;
}

/** scaling_list() (7.3.2.1.1.1), read only to move past it. */
function skipScalingList(size: i32): void {
  let last = 8;
  let next = 8;
  for (let j = 0; j < size; j++) {
    if (next != 0) next = (last + (se(F_DELTA_SCALE) & 255)) & 255;
    if (next != 0) last = next;
  }
}

// @ts-ignore: decorator
@inline function isHighProfile(p: u32): bool {
  return p == 100 || p == 110 || p == 122 || p == 244 || p == 44 || p == 83 || p == 86 ||
    p == 118 || p == 128 || p == 138 || p == 139 || p == 134 || p == 135;
}

/**
 * Parses the SPS NAL unit (with its 1-byte header) at (ptr, len). Returns
 * ST_OK with the record above in the spans region, or ST_BAD_BITSTREAM with
 * detail words (reason, field, a, b). Uses the output region as scratch.
 */
export function parseSps(ptr: usize, len: i32): i32 {
  // Emulation prevention (7.4.1): drop the 03 of every 00 00 03.
  const rbsp = <usize>CODEC_OUT_PTR;
  let n = 0;
  let zeros = 0;
  for (let i = 0; i < len; i++) {
    const b = load<u8>(ptr + <usize>i);
    if (zeros >= 2 && b == 3) {
      zeros = 0;
      continue;
    }
    store<u8>(rbsp + <usize>n, b);
    n++;
    zeros = b == 0 ? zeros + 1 : 0;
  }
  bitPos = 0;
  bitTotal = <u32>n << 3;
  errReason = 0;

  // nal_unit_header (7.3.1)
  const forbidden = u(1, F_FORBIDDEN_ZERO_BIT);
  if (forbidden != 0) fail(R_RANGE, F_FORBIDDEN_ZERO_BIT, forbidden, 0);
  u(2, F_NAL_REF_IDC);
  const nalType = u(5, F_NAL_UNIT_TYPE);
  if (errReason == 0 && nalType != 7) fail(R_NOT_SPS, F_NAL_UNIT_TYPE, nalType, 7);

  const profileIdc = u(8, F_PROFILE_IDC);
  const constraintFlags = u(8, F_CONSTRAINT_FLAGS);
  const levelIdc = u(8, F_LEVEL_IDC);
  const spsId = ueMax(F_SPS_ID, 31);
  let chromaFormatIdc: u32 = 1;
  let separateColourPlane: u32 = 0;
  let bitDepthLuma: u32 = 8;
  let bitDepthChroma: u32 = 8;
  if (isHighProfile(profileIdc)) {
    chromaFormatIdc = ueMax(F_CHROMA_FORMAT_IDC, 3);
    if (chromaFormatIdc == 3) separateColourPlane = u(1, F_SEPARATE_COLOUR_PLANE_FLAG);
    bitDepthLuma = 8 + ueMax(F_BIT_DEPTH_LUMA_MINUS8, 6);
    bitDepthChroma = 8 + ueMax(F_BIT_DEPTH_CHROMA_MINUS8, 6);
    u(1, F_QPPRIME_Y_ZERO_TRANSFORM_BYPASS_FLAG);
    if (u(1, F_SEQ_SCALING_MATRIX_PRESENT_FLAG) != 0) {
      const lists = chromaFormatIdc != 3 ? 8 : 12;
      for (let i = 0; i < lists; i++) {
        if (u(1, F_SEQ_SCALING_LIST_PRESENT_FLAG) != 0) skipScalingList(i < 6 ? 16 : 64);
      }
    }
  }
  const log2MaxFrameNum = 4 + ueMax(F_LOG2_MAX_FRAME_NUM_MINUS4, 12);
  const pocType = ueMax(F_PIC_ORDER_CNT_TYPE, 2);
  if (pocType == 0) {
    ueMax(F_LOG2_MAX_PIC_ORDER_CNT_LSB_MINUS4, 12);
  } else if (pocType == 1) {
    u(1, F_DELTA_PIC_ORDER_ALWAYS_ZERO_FLAG);
    se(F_OFFSET_FOR_NON_REF_PIC);
    se(F_OFFSET_FOR_TOP_TO_BOTTOM_FIELD);
    const cycle = ueMax(F_NUM_REF_FRAMES_IN_PIC_ORDER_CNT_CYCLE, 255);
    for (let i: u32 = 0; i < cycle; i++) se(F_OFFSET_FOR_REF_FRAME);
  }
  const maxNumRefFrames = ueMax(F_MAX_NUM_REF_FRAMES, 16);
  u(1, F_GAPS_IN_FRAME_NUM_VALUE_ALLOWED_FLAG);
  const widthInMbs = ueMax(F_PIC_WIDTH_IN_MBS_MINUS1, 1023) + 1;
  const heightInMapUnits = ueMax(F_PIC_HEIGHT_IN_MAP_UNITS_MINUS1, 1023) + 1;
  const frameMbsOnly = u(1, F_FRAME_MBS_ONLY_FLAG);
  if (frameMbsOnly == 0) u(1, F_MB_ADAPTIVE_FRAME_FIELD_FLAG);
  u(1, F_DIRECT_8X8_INFERENCE_FLAG);

  // Frame size and cropping (7.4.2.1.1, equations 7-13 to 7-20).
  const codedWidth = widthInMbs * 16;
  const codedHeight = (2 - frameMbsOnly) * heightInMapUnits * 16;
  const chromaArrayType = separateColourPlane != 0 ? 0 : chromaFormatIdc;
  const subWidthC: u32 = chromaArrayType == 3 ? 1 : 2;
  const subHeightC: u32 = chromaArrayType == 1 ? 2 : 1;
  const cropUnitX: u32 = chromaArrayType == 0 ? 1 : subWidthC;
  const cropUnitY: u32 = chromaArrayType == 0 ? 2 - frameMbsOnly : subHeightC * (2 - frameMbsOnly);
  let cropLeft: u64 = 0;
  let cropRight: u64 = 0;
  let cropTop: u64 = 0;
  let cropBottom: u64 = 0;
  if (u(1, F_FRAME_CROPPING_FLAG) != 0) {
    cropLeft = <u64>ue(F_FRAME_CROP_LEFT_OFFSET) * cropUnitX;
    cropRight = <u64>ue(F_FRAME_CROP_RIGHT_OFFSET) * cropUnitX;
    cropTop = <u64>ue(F_FRAME_CROP_TOP_OFFSET) * cropUnitY;
    cropBottom = <u64>ue(F_FRAME_CROP_BOTTOM_OFFSET) * cropUnitY;
    const h = cropLeft + cropRight;
    if (h > <u64>codedWidth - 1) {
      fail(R_RANGE, F_HORIZONTAL_CROP, h > 0xffffffff ? 0xffffffff : <u32>h, codedWidth - 1);
    }
    const v = cropTop + cropBottom;
    if (v > <u64>codedHeight - 1) {
      fail(R_RANGE, F_VERTICAL_CROP, v > 0xffffffff ? 0xffffffff : <u32>v, codedHeight - 1);
    }
  }

  // VUI (E.1.1), as far as timing_info.
  let timing: u32 = 0;
  let numUnitsInTick: u32 = 0;
  let timeScale: u32 = 0;
  let fixedFrameRate: u32 = 0;
  if (u(1, F_VUI_PARAMETERS_PRESENT_FLAG) != 0) {
    if (u(1, F_ASPECT_RATIO_INFO_PRESENT_FLAG) != 0) {
      // Extended_SAR (Table E-1)
      if (u(8, F_ASPECT_RATIO_IDC) == 255) {
        u(16, F_SAR_WIDTH);
        u(16, F_SAR_HEIGHT);
      }
    }
    if (u(1, F_OVERSCAN_INFO_PRESENT_FLAG) != 0) u(1, F_OVERSCAN_APPROPRIATE_FLAG);
    if (u(1, F_VIDEO_SIGNAL_TYPE_PRESENT_FLAG) != 0) {
      u(3, F_VIDEO_FORMAT);
      u(1, F_VIDEO_FULL_RANGE_FLAG);
      if (u(1, F_COLOUR_DESCRIPTION_PRESENT_FLAG) != 0) {
        u(8, F_COLOUR_PRIMARIES);
        u(8, F_TRANSFER_CHARACTERISTICS);
        u(8, F_MATRIX_COEFFICIENTS);
      }
    }
    if (u(1, F_CHROMA_LOC_INFO_PRESENT_FLAG) != 0) {
      ue(F_CHROMA_SAMPLE_LOC_TYPE_TOP_FIELD);
      ue(F_CHROMA_SAMPLE_LOC_TYPE_BOTTOM_FIELD);
    }
    timing = u(1, F_TIMING_INFO_PRESENT_FLAG);
    if (timing != 0) {
      numUnitsInTick = u(32, F_NUM_UNITS_IN_TICK);
      timeScale = u(32, F_TIME_SCALE);
      fixedFrameRate = u(1, F_FIXED_FRAME_RATE_FLAG);
    }
  }
  if (errReason != 0) return ST_BAD_BITSTREAM;

  const r = <usize>CODEC_SPANS_PTR;
  store<u32>(r, profileIdc, 0);
  store<u32>(r, constraintFlags, 4);
  store<u32>(r, levelIdc, 8);
  store<u32>(r, spsId, 12);
  store<u32>(r, chromaFormatIdc, 16);
  store<u32>(r, separateColourPlane, 20);
  store<u32>(r, bitDepthLuma, 24);
  store<u32>(r, bitDepthChroma, 28);
  store<u32>(r, log2MaxFrameNum, 32);
  store<u32>(r, pocType, 36);
  store<u32>(r, maxNumRefFrames, 40);
  store<u32>(r, frameMbsOnly, 44);
  store<u32>(r, codedWidth, 48);
  store<u32>(r, codedHeight, 52);
  store<u32>(r, <u32>cropLeft, 56);
  store<u32>(r, <u32>cropRight, 60);
  store<u32>(r, <u32>cropTop, 64);
  store<u32>(r, <u32>cropBottom, 68);
  store<u32>(r, codedWidth - <u32>(cropLeft + cropRight), 72);
  store<u32>(r, codedHeight - <u32>(cropTop + cropBottom), 76);
  store<u32>(r, timing, 80);
  store<u32>(r, numUnitsInTick, 84);
  store<u32>(r, timeScale, 88);
  store<u32>(r, fixedFrameRate, 92);
  return ST_OK;
}
