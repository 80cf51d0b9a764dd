/**
 * The plain-TypeScript twin of `src/wasm/nal.ts` (same API, same limits, same
 * error messages), for differential tests and for the bench to show what the
 * WASM path buys. Status codes and limits come from the module's exports so the
 * two cannot drift; everything else is ordinary TypeScript over `Uint8Array`.
 *
 * @module
 */
import { abi, check } from "../../src/wasm/module.ts";
import type { NalSpan, SpsInfo } from "../../src/wasm/nal.ts";

/** Status codes, read from the module's exports like every ABI constant (AbiExports lists only the memory map). */
const { ST_INPUT_TOO_LONG, ST_OUTPUT_TOO_LONG, ST_BAD_ARGUMENT, ST_BAD_BITSTREAM } =
  abi as unknown as Readonly<
    Record<string, number>
  >;

function checkInput(data: Uint8Array, what: string): void {
  if (data.length > abi.CODEC_IN_SIZE) {
    check(
      ST_INPUT_TOO_LONG,
      () => `Cannot ${what}: input is ${data.length} bytes, limit ${abi.CODEC_IN_SIZE}`,
    );
  }
}

function checkLengthSize(lengthSize: number, what: string): void {
  if (lengthSize !== 1 && lengthSize !== 2 && lengthSize !== 4) {
    throw new RangeError(`Cannot ${what}: lengthSize must be 1, 2 or 4, current ${lengthSize}`);
  }
}

/**
 * The offset of the next 00 00 01 at or after `from`, or -1. Looks at the
 * third byte of each candidate first: above 1 it rules out three positions at
 * once, so compressed data is crossed about three bytes per step.
 */
function findStartCode(d: Uint8Array, from: number): number {
  const n = d.length;
  let i = from;
  while (i + 2 < n) {
    const c = d[i + 2];
    if (c > 1) i += 3;
    else if (c === 1 && d[i + 1] === 0 && d[i] === 0) return i;
    else i++;
  }
  return -1;
}

/** Calls `each(start, end)` for every non-empty NAL unit, trailing zeros trimmed. */
function forEachNal(d: Uint8Array, each: (start: number, end: number) => void): void {
  let sc = findStartCode(d, 0);
  while (sc >= 0) {
    const start = sc + 3;
    const next = findStartCode(d, start);
    let end = next < 0 ? d.length : next;
    while (end > start && d[end - 1] === 0) end--;
    if (end > start) each(start, end);
    sc = next;
  }
}

/** See `scanAnnexB` in src/wasm/nal.ts. */
export function scanAnnexB(data: Uint8Array): NalSpan[] {
  const what = "scan Annex B";
  checkInput(data, what);
  const spans: NalSpan[] = [];
  forEachNal(data, (start, end) => spans.push({ offset: start, length: end - start }));
  if (spans.length > abi.CODEC_SPANS_CAP) {
    check(
      ST_OUTPUT_TOO_LONG,
      () => `Cannot ${what}: ${spans.length} NAL units, limit ${abi.CODEC_SPANS_CAP}`,
    );
  }
  return spans;
}

/** See `annexBToAvcc` in src/wasm/nal.ts. */
export function annexBToAvcc(data: Uint8Array, lengthSize = 4): Uint8Array {
  const what = "convert Annex B to AVCC";
  checkLengthSize(lengthSize, what);
  checkInput(data, what);
  const limit = lengthSize === 4 ? 0xffffffff : 2 ** (8 * lengthSize) - 1;
  const spans: number[] = [];
  let size = 0;
  forEachNal(data, (start, end) => {
    spans.push(start, end);
    size += lengthSize + end - start;
  });
  const out = new Uint8Array(size);
  let o = 0;
  for (let i = 0; i < spans.length; i += 2) {
    const start = spans[i];
    const n = spans[i + 1] - start;
    if (n > limit) {
      check(
        ST_BAD_ARGUMENT,
        () =>
          `Cannot ${what}: NAL unit at byte ${start} is ${n} bytes, limit ${limit} for a ${lengthSize}-byte length`,
      );
    }
    for (let k = lengthSize - 1; k >= 0; k--) out[o++] = (n >>> (8 * k)) & 0xff;
    out.set(data.subarray(start, start + n), o);
    o += n;
  }
  return out;
}

/** See `avccToAnnexB` in src/wasm/nal.ts. */
export function avccToAnnexB(data: Uint8Array, lengthSize = 4): Uint8Array {
  const what = "convert AVCC to Annex B";
  checkLengthSize(lengthSize, what);
  checkInput(data, what);
  const len = data.length;
  const readLength = (p: number) => {
    let n = 0;
    for (let k = 0; k < lengthSize; k++) n = n * 256 + data[p + k];
    return n;
  };
  let size = 0;
  for (let p = 0; p < len;) {
    const left = len - p;
    if (left < lengthSize) {
      check(
        ST_BAD_BITSTREAM,
        () => `Cannot ${what}: length prefix at byte ${p} needs ${lengthSize} bytes, ${left} left`,
      );
    }
    const n = readLength(p);
    if (n > left - lengthSize) {
      check(
        ST_BAD_BITSTREAM,
        () => `Cannot ${what}: NAL unit at byte ${p} has length ${n}, ${left - lengthSize} bytes left`,
      );
    }
    if (n > 0) size += 4 + n;
    p += lengthSize + n;
  }
  if (size > abi.CODEC_OUT_SIZE) {
    check(ST_OUTPUT_TOO_LONG, () => `Cannot ${what}: output is ${size} bytes, limit ${abi.CODEC_OUT_SIZE}`);
  }
  const out = new Uint8Array(size);
  let o = 0;
  for (let p = 0; p < len;) {
    const n = readLength(p);
    p += lengthSize;
    if (n > 0) {
      out[o + 3] = 1;
      out.set(data.subarray(p, p + n), o + 4);
      o += 4 + n;
    }
    p += n;
  }
  return out;
}

/** Profiles whose SPS carries chroma_format_idc, bit depths and scaling lists (7.3.2.1.1). */
const HIGH_PROFILES = new Set([100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135]);

/** Reads bits MSB first from an RBSP; throws at the first bit it lacks. */
class BitReader {
  #d: Uint8Array;
  #pos = 0;
  #total: number;

  constructor(rbsp: Uint8Array) {
    this.#d = rbsp;
    this.#total = rbsp.length * 8;
  }

  #truncated(field: string, start: number): never {
    return fail(`${field} at bit ${start} runs past the end (${this.#total} bits)`);
  }

  #bit(): number {
    const p = this.#pos++;
    return (this.#d[p >> 3] >> (7 - (p & 7))) & 1;
  }

  /** u(n), n <= 32. */
  u(n: number, field: string): number {
    if (this.#pos + n > this.#total) this.#truncated(field, this.#pos);
    let v = 0;
    for (let k = 0; k < n; k++) v = v * 2 + this.#bit();
    return v;
  }

  /** ue(v) (9.1). */
  ue(field: string): number {
    const start = this.#pos;
    let zeros = 0;
    while (true) {
      if (this.#pos >= this.#total) this.#truncated(field, start);
      if (this.#bit() !== 0) break;
      if (++zeros > 31) fail(`${field} at bit ${start} has an Exp-Golomb code over 32 bits`);
    }
    if (this.#pos + zeros > this.#total) this.#truncated(field, start);
    let suffix = 0;
    for (let k = 0; k < zeros; k++) suffix = suffix * 2 + this.#bit();
    return 2 ** zeros - 1 + suffix;
  }

  /** se(v) (9.1.1). */
  se(field: string): number {
    const k = this.ue(field);
    return k % 2 === 1 ? (k + 1) / 2 : -(k / 2);
  }

  /** ue(v) that may not exceed `limit`. */
  ueMax(field: string, limit: number): number {
    const v = this.ue(field);
    if (v > limit) fail(`${field} is ${v}, limit ${limit}`);
    return v;
  }
}

function fail(detail: string): never {
  check(ST_BAD_BITSTREAM, () => `Cannot parse SPS: ${detail}`);
  throw new Error("unreachable");
}

/** The RBSP of a NAL unit: every 00 00 03 loses its 03 (7.4.1). */
function unescape(nal: Uint8Array): Uint8Array {
  const out = new Uint8Array(nal.length);
  let n = 0;
  let zeros = 0;
  for (const b of nal) {
    if (zeros >= 2 && b === 3) {
      zeros = 0;
      continue;
    }
    out[n++] = b;
    zeros = b === 0 ? zeros + 1 : 0;
  }
  return out.subarray(0, n);
}

/** See `parseSps` in src/wasm/nal.ts. */
export function parseSps(nal: Uint8Array): SpsInfo {
  checkInput(nal, "parse SPS");
  const r = new BitReader(unescape(nal));
  const forbidden = r.u(1, "forbidden_zero_bit");
  if (forbidden !== 0) fail(`forbidden_zero_bit is ${forbidden}, limit 0`);
  r.u(2, "nal_ref_idc");
  const nalType = r.u(5, "nal_unit_type");
  if (nalType !== 7) fail(`nal_unit_type is ${nalType}, expected 7`);

  const profileIdc = r.u(8, "profile_idc");
  const constraintFlags = r.u(8, "constraint_set flags");
  const levelIdc = r.u(8, "level_idc");
  const spsId = r.ueMax("seq_parameter_set_id", 31);
  let chromaFormatIdc = 1;
  let separateColourPlane = 0;
  let bitDepthLuma = 8;
  let bitDepthChroma = 8;
  if (HIGH_PROFILES.has(profileIdc)) {
    chromaFormatIdc = r.ueMax("chroma_format_idc", 3);
    if (chromaFormatIdc === 3) separateColourPlane = r.u(1, "separate_colour_plane_flag");
    bitDepthLuma = 8 + r.ueMax("bit_depth_luma_minus8", 6);
    bitDepthChroma = 8 + r.ueMax("bit_depth_chroma_minus8", 6);
    r.u(1, "qpprime_y_zero_transform_bypass_flag");
    if (r.u(1, "seq_scaling_matrix_present_flag")) {
      const lists = chromaFormatIdc !== 3 ? 8 : 12;
      for (let i = 0; i < lists; i++) {
        if (r.u(1, "seq_scaling_list_present_flag")) skipScalingList(r, i < 6 ? 16 : 64);
      }
    }
  }
  const log2MaxFrameNum = 4 + r.ueMax("log2_max_frame_num_minus4", 12);
  const picOrderCntType = r.ueMax("pic_order_cnt_type", 2);
  if (picOrderCntType === 0) {
    r.ueMax("log2_max_pic_order_cnt_lsb_minus4", 12);
  } else if (picOrderCntType === 1) {
    r.u(1, "delta_pic_order_always_zero_flag");
    r.se("offset_for_non_ref_pic");
    r.se("offset_for_top_to_bottom_field");
    const cycle = r.ueMax("num_ref_frames_in_pic_order_cnt_cycle", 255);
    for (let i = 0; i < cycle; i++) r.se("offset_for_ref_frame");
  }
  const maxNumRefFrames = r.ueMax("max_num_ref_frames", 16);
  r.u(1, "gaps_in_frame_num_value_allowed_flag");
  const widthInMbs = r.ueMax("pic_width_in_mbs_minus1", 1023) + 1;
  const heightInMapUnits = r.ueMax("pic_height_in_map_units_minus1", 1023) + 1;
  const frameMbsOnly = r.u(1, "frame_mbs_only_flag");
  if (!frameMbsOnly) r.u(1, "mb_adaptive_frame_field_flag");
  r.u(1, "direct_8x8_inference_flag");

  // Frame size and cropping (7.4.2.1.1, equations 7-13 to 7-20).
  const codedWidth = widthInMbs * 16;
  const codedHeight = (2 - frameMbsOnly) * heightInMapUnits * 16;
  const chromaArrayType = separateColourPlane ? 0 : chromaFormatIdc;
  const subWidthC = chromaArrayType === 3 ? 1 : 2;
  const subHeightC = chromaArrayType === 1 ? 2 : 1;
  const cropUnitX = chromaArrayType === 0 ? 1 : subWidthC;
  const cropUnitY = chromaArrayType === 0 ? 2 - frameMbsOnly : subHeightC * (2 - frameMbsOnly);
  const crop = { left: 0, right: 0, top: 0, bottom: 0 };
  if (r.u(1, "frame_cropping_flag")) {
    crop.left = r.ue("frame_crop_left_offset") * cropUnitX;
    crop.right = r.ue("frame_crop_right_offset") * cropUnitX;
    crop.top = r.ue("frame_crop_top_offset") * cropUnitY;
    crop.bottom = r.ue("frame_crop_bottom_offset") * cropUnitY;
    const h = crop.left + crop.right;
    if (h > codedWidth - 1) {
      fail(`horizontal frame cropping is ${Math.min(h, 0xffffffff)}, limit ${codedWidth - 1}`);
    }
    const v = crop.top + crop.bottom;
    if (v > codedHeight - 1) {
      fail(`vertical frame cropping is ${Math.min(v, 0xffffffff)}, limit ${codedHeight - 1}`);
    }
  }

  // VUI (E.1.1), as far as timing_info.
  let timing: SpsInfo["timing"];
  if (r.u(1, "vui_parameters_present_flag")) {
    // aspect_ratio_idc 255 is Extended_SAR (Table E-1).
    if (r.u(1, "aspect_ratio_info_present_flag") && r.u(8, "aspect_ratio_idc") === 255) {
      r.u(16, "sar_width");
      r.u(16, "sar_height");
    }
    if (r.u(1, "overscan_info_present_flag")) r.u(1, "overscan_appropriate_flag");
    if (r.u(1, "video_signal_type_present_flag")) {
      r.u(3, "video_format");
      r.u(1, "video_full_range_flag");
      if (r.u(1, "colour_description_present_flag")) {
        r.u(8, "colour_primaries");
        r.u(8, "transfer_characteristics");
        r.u(8, "matrix_coefficients");
      }
    }
    if (r.u(1, "chroma_loc_info_present_flag")) {
      r.ue("chroma_sample_loc_type_top_field");
      r.ue("chroma_sample_loc_type_bottom_field");
    }
    if (r.u(1, "timing_info_present_flag")) {
      const numUnitsInTick = r.u(32, "num_units_in_tick");
      const timeScale = r.u(32, "time_scale");
      timing = { numUnitsInTick, timeScale, fixedFrameRate: r.u(1, "fixed_frame_rate_flag") !== 0 };
    }
  }
  return {
    profileIdc,
    constraintFlags,
    levelIdc,
    spsId,
    chromaFormatIdc,
    separateColourPlane: separateColourPlane !== 0,
    bitDepthLuma,
    bitDepthChroma,
    log2MaxFrameNum,
    picOrderCntType,
    maxNumRefFrames,
    frameMbsOnly: frameMbsOnly !== 0,
    codedWidth,
    codedHeight,
    crop,
    width: codedWidth - crop.left - crop.right,
    height: codedHeight - crop.top - crop.bottom,
    ...(timing && { timing }),
    ...(timing && timing.numUnitsInTick > 0 && timing.timeScale > 0 &&
      { frameRate: timing.timeScale / (2 * timing.numUnitsInTick) }),
  };
}

/** scaling_list() (7.3.2.1.1.1), read only to move past it. */
function skipScalingList(r: BitReader, size: number): void {
  let last = 8;
  let next = 8;
  for (let j = 0; j < size; j++) {
    if (next !== 0) next = (last + (r.se("delta_scale") & 255)) & 255;
    if (next !== 0) last = next;
  }
}
