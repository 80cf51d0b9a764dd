/**
 * H.264 NAL unit work on the process-wide codec instance: Annex B scanning,
 * Annex B <-> AVCC conversion and SPS parsing (ITU-T H.264 Annex B, 7.3.2.1.1,
 * E.1.1; ISO/IEC 14496-15 for the length-prefixed form). The WASM side is
 * `wasm/assembly/nal_scan.ts`; its plain-TypeScript twin, run by the same
 * tests, is `test/_util/nal_ref.ts`.
 *
 * Every function copies its input into the codec input region (at most
 * `CODEC_IN_SIZE` bytes) and returns values or arrays the caller owns; no view
 * into WASM memory escapes. Malformed input throws `ProtocolError` with the
 * module's status code and a message naming the value and the limit.
 *
 * ## What WASM buys
 *
 * The Annex B scan tests 64 positions per step with eight overlapping v128
 * loads and one branch (`findStartCode` in nal_scan.ts), where the twin can at
 * best skip three bytes per step; on a 1 Mbit/s 720p x264 stream it runs at
 * about 10 GB/s against 2.7 GB/s, input copy included, whole or one access
 * unit (4 KB) per call. `annexBToAvcc` adds a `memory.copy` per NAL unit and
 * one copy out: 2.5 GB/s against 1.2 to 2 GB/s. `avccToAnnexB` has nothing to
 * search (it hops from length to length), so the copies into and out of WASM
 * memory cost what the scan saves, and both run at about 3.2 GB/s.
 *
 * @module
 */
import { abi, check, codec, copyOut } from "./module.ts";

/** Where a NAL unit's payload (header byte onwards) sits in the scanned bytes. */
export interface NalSpan {
  readonly offset: number;
  readonly length: number;
}

/** What an SPS says about the coded video (H.264 7.4.2.1.1, E.2.1). */
export interface SpsInfo {
  /** profile_idc (A.2): 66 Baseline, 77 Main, 88 Extended, 100 High, ... */
  readonly profileIdc: number;
  /** constraint_set0_flag..constraint_set5_flag and reserved_zero_2bits: one byte, set0 the top bit. */
  readonly constraintFlags: number;
  /** level_idc: ten times the level number (31 is level 3.1; 9 is level 1b). */
  readonly levelIdc: number;
  /** seq_parameter_set_id, 0..31. */
  readonly spsId: number;
  /** chroma_format_idc: 0 monochrome, 1 4:2:0, 2 4:2:2, 3 4:4:4 (1 unless a high profile says otherwise). */
  readonly chromaFormatIdc: number;
  /** separate_colour_plane_flag (4:4:4 coded as three monochrome planes). */
  readonly separateColourPlane: boolean;
  /** BitDepthY, 8..14. */
  readonly bitDepthLuma: number;
  /** BitDepthC, 8..14. */
  readonly bitDepthChroma: number;
  /** log2 of MaxFrameNum (log2_max_frame_num_minus4 + 4). */
  readonly log2MaxFrameNum: number;
  /** pic_order_cnt_type, 0..2. */
  readonly picOrderCntType: number;
  /** max_num_ref_frames. */
  readonly maxNumRefFrames: number;
  /** frame_mbs_only_flag: false when the stream may hold fields (interlaced). */
  readonly frameMbsOnly: boolean;
  /** Width of the decoded frame before cropping, luma samples (a multiple of 16). */
  readonly codedWidth: number;
  /** Height of the decoded frame before cropping, luma samples. */
  readonly codedHeight: number;
  /** Frame cropping in luma samples (the offsets times CropUnitX/CropUnitY). */
  readonly crop: {
    readonly left: number;
    readonly right: number;
    readonly top: number;
    readonly bottom: number;
  };
  /** Displayed width in luma samples, after cropping. */
  readonly width: number;
  /** Displayed height in luma samples, after cropping. */
  readonly height: number;
  /** VUI timing_info, when present. */
  readonly timing?: {
    readonly numUnitsInTick: number;
    readonly timeScale: number;
    readonly fixedFrameRate: boolean;
  };
  /** Frames per second from timing_info: time_scale / (2 * num_units_in_tick) (E.2.1), when present. */
  readonly frameRate?: number;
}

/**
 * Names of the SPS syntax elements in the order of the field ids in
 * `nal_scan.ts` (F_*); errors name the element that broke.
 */
const SPS_FIELDS = [
  "forbidden_zero_bit",
  "nal_ref_idc",
  "nal_unit_type",
  "profile_idc",
  "constraint_set flags",
  "level_idc",
  "seq_parameter_set_id",
  "chroma_format_idc",
  "separate_colour_plane_flag",
  "bit_depth_luma_minus8",
  "bit_depth_chroma_minus8",
  "qpprime_y_zero_transform_bypass_flag",
  "seq_scaling_matrix_present_flag",
  "seq_scaling_list_present_flag",
  "delta_scale",
  "log2_max_frame_num_minus4",
  "pic_order_cnt_type",
  "log2_max_pic_order_cnt_lsb_minus4",
  "delta_pic_order_always_zero_flag",
  "offset_for_non_ref_pic",
  "offset_for_top_to_bottom_field",
  "num_ref_frames_in_pic_order_cnt_cycle",
  "offset_for_ref_frame",
  "max_num_ref_frames",
  "gaps_in_frame_num_value_allowed_flag",
  "pic_width_in_mbs_minus1",
  "pic_height_in_map_units_minus1",
  "frame_mbs_only_flag",
  "mb_adaptive_frame_field_flag",
  "direct_8x8_inference_flag",
  "frame_cropping_flag",
  "frame_crop_left_offset",
  "frame_crop_right_offset",
  "frame_crop_top_offset",
  "frame_crop_bottom_offset",
  "horizontal frame cropping",
  "vertical frame cropping",
  "vui_parameters_present_flag",
  "aspect_ratio_info_present_flag",
  "aspect_ratio_idc",
  "sar_width",
  "sar_height",
  "overscan_info_present_flag",
  "overscan_appropriate_flag",
  "video_signal_type_present_flag",
  "video_format",
  "video_full_range_flag",
  "colour_description_present_flag",
  "colour_primaries",
  "transfer_characteristics",
  "matrix_coefficients",
  "chroma_loc_info_present_flag",
  "chroma_sample_loc_type_top_field",
  "chroma_sample_loc_type_bottom_field",
  "timing_info_present_flag",
  "num_units_in_tick",
  "time_scale",
  "fixed_frame_rate_flag",
] as const;

/** Error reasons in detail word 0 of parseSps (R_* in nal_scan.ts). */
const SpsReason = { Truncated: 1, Range: 2, LongCode: 3, NotSps: 4 } as const;
/** Error kinds in detail word 0 of avccToAnnexB (AVCC_* in nal_scan.ts). */
const AvccReason = { PrefixCut: 1, UnitCut: 2 } as const;

/** Status codes, read from the module's exports like every ABI constant (AbiExports lists only the memory map). */
const { ST_INPUT_TOO_LONG, ST_OUTPUT_TOO_LONG, ST_BAD_ARGUMENT } = abi as unknown as Readonly<
  Record<string, number>
>;

const IN = abi.CODEC_IN_PTR;
const OUT = abi.CODEC_OUT_PTR;
/**
 * annexBToAvcc writes half a page into the output region: input and output
 * would otherwise sit a multiple of 4 KiB apart and each NAL unit be copied a
 * byte or so above where it was read, which stalls memory.copy on 4K aliasing
 * (2 GB/s instead of 30; see nal_scan.ts).
 */
const AVCC_OUT = OUT + 2048;
/** The spans region as i32 words: spans, SPS records and error details. */
const SPANS = abi.CODEC_SPANS_PTR >> 2;

/** Detail word k of the last call's error (u32). */
function word(k: number): number {
  return codec().i32[SPANS + k] >>> 0;
}

/** Copies `data` into the input region, or throws ST_INPUT_TOO_LONG naming `what`. */
function load(data: Uint8Array, what: string): void {
  if (data.length > abi.CODEC_IN_SIZE) {
    check(
      ST_INPUT_TOO_LONG,
      () => `Cannot ${what}: input is ${data.length} bytes, limit ${abi.CODEC_IN_SIZE}`,
    );
  }
  codec().u8.set(data, IN);
}

function checkLengthSize(lengthSize: number, what: string): void {
  if (lengthSize !== 1 && lengthSize !== 2 && lengthSize !== 4) {
    throw new RangeError(`Cannot ${what}: lengthSize must be 1, 2 or 4, current ${lengthSize}`);
  }
}

/**
 * The NAL units of an Annex B byte stream: payloads after 3-byte (00 00 01)
 * and 4-byte (00 00 00 01) start codes, trailing zero bytes trimmed, empty
 * units and bytes before the first start code skipped. At most
 * `CODEC_SPANS_CAP` units.
 */
export function scanAnnexB(data: Uint8Array): NalSpan[] {
  const what = "scan Annex B";
  load(data, what);
  const { exports, i32 } = codec();
  const n = exports.nalScan(IN, data.length) as number;
  check(n, () => `Cannot ${what}: ${word(0)} NAL units, limit ${abi.CODEC_SPANS_CAP}`);
  const spans: NalSpan[] = new Array(n);
  for (let i = 0, w = SPANS; i < n; i++, w += 2) spans[i] = { offset: i32[w], length: i32[w + 1] };
  return spans;
}

/**
 * Annex B -> AVCC: each NAL unit (as `scanAnnexB` finds them) behind its
 * big-endian length of `lengthSize` bytes (1, 2 or 4; ISO/IEC 14496-15
 * lengthSizeMinusOne + 1). Returns a new array the caller owns.
 */
export function annexBToAvcc(data: Uint8Array, lengthSize = 4): Uint8Array {
  const what = "convert Annex B to AVCC";
  checkLengthSize(lengthSize, what);
  load(data, what);
  const n = codec().exports.annexBToAvcc(IN, data.length, AVCC_OUT, lengthSize) as number;
  check(
    n,
    () =>
      n === ST_BAD_ARGUMENT
        ? `Cannot ${what}: NAL unit at byte ${word(0)} is ${word(1)} bytes, limit ${
          word(2)
        } for a ${lengthSize}-byte length`
        : `Cannot ${what}: output over ${word(0)} bytes`,
  );
  return copyOut(codec(), AVCC_OUT, n);
}

/**
 * AVCC -> Annex B: each length-prefixed NAL unit behind a 4-byte start code;
 * zero-length units are dropped. Returns a new array the caller owns.
 */
export function avccToAnnexB(data: Uint8Array, lengthSize = 4): Uint8Array {
  const what = "convert AVCC to Annex B";
  checkLengthSize(lengthSize, what);
  load(data, what);
  const n = codec().exports.avccToAnnexB(IN, data.length, lengthSize) as number;
  check(n, () => {
    if (n === ST_OUTPUT_TOO_LONG) return `Cannot ${what}: output is ${word(0)} bytes, limit ${word(1)}`;
    return word(0) === AvccReason.PrefixCut
      ? `Cannot ${what}: length prefix at byte ${word(1)} needs ${word(2)} bytes, ${word(3)} left`
      : `Cannot ${what}: NAL unit at byte ${word(1)} has length ${word(2)}, ${word(3)} bytes left`;
  });
  return copyOut(codec(), OUT, n);
}

/**
 * Parses a sequence parameter set NAL unit (its 1-byte header included):
 * emulation prevention removed, scaling lists skipped, cropping applied, VUI
 * read as far as timing_info. A truncated or out-of-range SPS throws
 * ST_BAD_BITSTREAM naming the syntax element.
 */
export function parseSps(nal: Uint8Array): SpsInfo {
  const what = "parse SPS";
  load(nal, what);
  const { exports, i32 } = codec();
  check(exports.parseSps(IN, nal.length) as number, () => {
    const field = SPS_FIELDS[word(1)];
    switch (word(0)) {
      case SpsReason.Truncated:
        return `Cannot ${what}: ${field} at bit ${word(2)} runs past the end (${word(3)} bits)`;
      case SpsReason.Range:
        return `Cannot ${what}: ${field} is ${word(2)}, limit ${word(3)}`;
      case SpsReason.LongCode:
        return `Cannot ${what}: ${field} at bit ${word(2)} has an Exp-Golomb code over 32 bits`;
      default:
        return `Cannot ${what}: nal_unit_type is ${word(2)}, expected 7`;
    }
  });
  const r = (k: number) => i32[SPANS + k] >>> 0;
  const timing = r(20) !== 0
    ? { numUnitsInTick: r(21), timeScale: r(22), fixedFrameRate: r(23) !== 0 }
    : undefined;
  return {
    profileIdc: r(0),
    constraintFlags: r(1),
    levelIdc: r(2),
    spsId: r(3),
    chromaFormatIdc: r(4),
    separateColourPlane: r(5) !== 0,
    bitDepthLuma: r(6),
    bitDepthChroma: r(7),
    log2MaxFrameNum: r(8),
    picOrderCntType: r(9),
    maxNumRefFrames: r(10),
    frameMbsOnly: r(11) !== 0,
    codedWidth: r(12),
    codedHeight: r(13),
    crop: { left: r(14), right: r(15), top: r(16), bottom: r(17) },
    width: r(18),
    height: r(19),
    ...(timing && { timing }),
    ...(timing && timing.numUnitsInTick > 0 && timing.timeScale > 0 &&
      { frameRate: timing.timeScale / (2 * timing.numUnitsInTick) }),
  };
}
