/**
 * H.264 elementary streams for the file source tests: made by ffmpeg (libx264)
 * at test time with a known frame count, and rewritten without VUI timing
 * (x264 always writes timing_info, so a stream without it is made by cutting
 * the VUI off every SPS).
 *
 * @module
 */
import { scanAnnexB } from "../../src/wasm/nal.ts";
import { concat, run } from "../fixtures/nal_fixtures.ts";

/** What to encode: testsrc2 at `size` and `fps`, exactly `frames` pictures. */
export interface AnnexBOptions {
  frames: number;
  /** Default "640x360". */
  size?: string;
  /** Default 25. */
  fps?: number;
  /** Keyframe interval in frames. Default 50. */
  gop?: number;
  /** B-frames. Default 0. */
  bframes?: number;
  /** Slices per picture. Default 1. */
  slices?: number;
  /** Insert an access unit delimiter before every picture. Default false. */
  aud?: boolean;
  /** libx264 profile. Default "high". */
  profile?: string;
}

/** An H.264 Annex B stream from ffmpeg's testsrc2 and libx264 (a scene-cut-free GOP pattern). */
export function makeAnnexB(o: AnnexBOptions): Promise<Uint8Array> {
  const gop = o.gop ?? 50;
  const params = [`scenecut=0`, `slices=${o.slices ?? 1}`].join(":");
  return run("ffmpeg", [
    ...["-hide_banner", "-nostdin", "-loglevel", "error"],
    ...["-f", "lavfi", "-i", `testsrc2=size=${o.size ?? "640x360"}:rate=${o.fps ?? 25}`],
    ...["-frames:v", String(o.frames), "-pix_fmt", "yuv420p", "-c:v", "libx264", "-preset", "veryfast"],
    ...["-profile:v", o.profile ?? "high", "-g", String(gop), "-keyint_min", String(gop)],
    ...["-bf", String(o.bframes ?? 0), "-x264-params", params],
    ...(o.aud ? ["-bsf:v", "h264_metadata=aud=insert"] : []),
    ...["-f", "h264", "-"],
  ]);
}

/** The same stream as FLV, by ffmpeg's stream copy (what ffmpeg makes of it, to compare with). */
export function annexBToFlv(annexB: Uint8Array, fps = 25): Promise<Uint8Array> {
  return run("ffmpeg", [
    ...["-hide_banner", "-nostdin", "-loglevel", "error", "-framerate", String(fps), "-f", "h264"],
    ...["-i", "pipe:0", "-c:v", "copy", "-f", "flv", "-"],
  ], annexB);
}

/** `annexB` with every SPS cut after its frame cropping: vui_parameters_present_flag 0, so no timing. */
export function withoutVui(annexB: Uint8Array): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const s of scanAnnexB(annexB)) {
    const nal = annexB.subarray(s.offset, s.offset + s.length);
    parts.push(new Uint8Array([0, 0, 0, 1]), (nal[0] & 0x1f) === 7 ? spsWithoutVui(nal) : nal);
  }
  return concat(parts);
}

/** Profiles whose SPS carries chroma_format_idc and the rest (H.264 7.3.2.1.1). */
const HIGH_PROFILES = new Set([100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135]);

/**
 * An SPS NAL unit rewritten with vui_parameters_present_flag = 0: its RBSP is
 * read up to that flag (H.264 7.3.2.1.1; scaling matrices are not supported),
 * the flag is written 0, then rbsp_trailing_bits, then emulation prevention.
 */
export function spsWithoutVui(nal: Uint8Array): Uint8Array {
  const rbsp = unescape(nal);
  let pos = 8; // after the NAL unit header
  const u = (n: number) => {
    let v = 0;
    for (let k = 0; k < n; k++, pos++) v = v * 2 + ((rbsp[pos >> 3] >> (7 - (pos & 7))) & 1);
    return v;
  };
  const ue = () => {
    let zeros = 0;
    while (u(1) === 0) zeros++;
    return 2 ** zeros - 1 + u(zeros);
  };
  const profile = u(8);
  u(16); // constraint flags, level_idc
  ue(); // seq_parameter_set_id
  if (HIGH_PROFILES.has(profile)) {
    if (ue() === 3) u(1); // chroma_format_idc, separate_colour_plane_flag
    ue(); // bit_depth_luma_minus8
    ue(); // bit_depth_chroma_minus8
    u(1); // qpprime_y_zero_transform_bypass_flag
    if (u(1)) throw new RangeError("Cannot cut the VUI off this SPS: it has scaling matrices");
  }
  ue(); // log2_max_frame_num_minus4
  const pocType = ue();
  if (pocType === 0) ue();
  else if (pocType === 1) throw new RangeError("Cannot cut the VUI off this SPS: pic_order_cnt_type 1");
  ue(); // max_num_ref_frames
  u(1); // gaps_in_frame_num_value_allowed_flag
  ue(); // pic_width_in_mbs_minus1
  ue(); // pic_height_in_map_units_minus1
  if (!u(1)) u(1); // frame_mbs_only_flag, mb_adaptive_frame_field_flag
  u(1); // direct_8x8_inference_flag
  if (u(1)) { for (let k = 0; k < 4; k++) ue(); // frame_cropping_flag and the four offsets
   }
  // Bits [0, pos) stay; then vui_parameters_present_flag = 0, rbsp_stop_one_bit, alignment zeros.
  const bits = pos + 2;
  const out = new Uint8Array(Math.ceil(bits / 8));
  for (let b = 0; b < pos; b++) {
    if ((rbsp[b >> 3] >> (7 - (b & 7))) & 1) out[b >> 3] |= 0x80 >> (b & 7);
  }
  out[(pos + 1) >> 3] |= 0x80 >> ((pos + 1) & 7);
  return escape(out);
}

/** RBSP from a NAL unit: 00 00 03 loses its 03 (7.4.1). */
function unescape(nal: Uint8Array): Uint8Array {
  const out: number[] = [];
  let zeros = 0;
  for (const b of nal) {
    if (zeros >= 2 && b === 3) {
      zeros = 0;
      continue;
    }
    out.push(b);
    zeros = b === 0 ? zeros + 1 : 0;
  }
  return Uint8Array.from(out);
}

/** NAL unit from an RBSP: 00 00 followed by 00..03 gets a 03 between (7.4.1). */
function escape(rbsp: Uint8Array): Uint8Array {
  const out: number[] = [];
  let zeros = 0;
  for (const b of rbsp) {
    if (zeros >= 2 && b <= 3) {
      out.push(3);
      zeros = 0;
    }
    out.push(b);
    zeros = b === 0 ? zeros + 1 : 0;
  }
  return Uint8Array.from(out);
}
