/**
 * H.264 / AVC in plain TypeScript: the NAL unit type table (ITU-T H.264
 * Table 7-1) and the AVCDecoderConfigurationRecord (ISO/IEC 14496-15
 * 5.3.3.1), which an FLV or RTMP AVC sequence header carries and MP4's avcC
 * box holds. NAL scanning, AVCC conversion and SPS parsing are WASM hot paths
 * in `src/wasm/nal.ts`.
 *
 * @module
 */
import { ProtocolError } from "../errors.ts";
import { RbspReader } from "./rbsp.ts";

/** nal_unit_type (H.264 7.4.1, Table 7-1): the low 5 bits of a NAL unit's first byte. */
export const NalUnitType = {
  /** 0: unspecified. */
  Unspecified: 0,
  /** 1: coded slice of a non-IDR picture (slice_layer_without_partitioning_rbsp). */
  Slice: 1,
  /** 2: coded slice data partition A. */
  SliceDataA: 2,
  /** 3: coded slice data partition B. */
  SliceDataB: 3,
  /** 4: coded slice data partition C. */
  SliceDataC: 4,
  /** 5: coded slice of an IDR picture: a random access point. */
  Idr: 5,
  /** 6: supplemental enhancement information (SEI). */
  Sei: 6,
  /** 7: sequence parameter set. */
  Sps: 7,
  /** 8: picture parameter set. */
  Pps: 8,
  /** 9: access unit delimiter. */
  Aud: 9,
  /** 10: end of sequence. */
  EndOfSequence: 10,
  /** 11: end of stream. */
  EndOfStream: 11,
  /** 12: filler data. */
  Filler: 12,
  /** 13: sequence parameter set extension. */
  SpsExtension: 13,
  /** 14: prefix NAL unit (Annex G, SVC). */
  Prefix: 14,
  /** 15: subset sequence parameter set (Annexes G, H). */
  SubsetSps: 15,
  /** 16: depth parameter set (Annex J). */
  DepthParameterSet: 16,
  /** 19: coded slice of an auxiliary coded picture without partitioning. */
  AuxiliarySlice: 19,
  /** 20: coded slice extension (Annexes G, H). */
  SliceExtension: 20,
  /** 21: coded slice extension for a depth view component (Annexes I, J). */
  SliceExtensionDepth: 21,
} as const;
export type NalUnitType = typeof NalUnitType[keyof typeof NalUnitType];

/** The nal_unit_type of a NAL unit whose first byte is `header`. */
export function nalUnitType(header: number): number {
  return header & 0x1f;
}

/**
 * profile_idc values (H.264 Annex A, G, H, I) whose SPS carries
 * chroma_format_idc and bit depths (7.3.2.1.1).
 */
export const HIGH_PROFILES: ReadonlySet<number> = new Set([
  100, // A.2.4 High
  110, // A.2.5 High 10 (and High 10 Intra)
  122, // A.2.6 High 4:2:2 (and Intra)
  244, // A.2.7 High 4:4:4 Predictive (and Intra)
  44, // A.2.11 CAVLC 4:4:4 Intra
  83, // G.10.1.1 Scalable Baseline
  86, // G.10.1.2 Scalable High (and Intra)
  118, // H.10.1.1 Multiview High
  128, // H.10.1.2 Stereo High
  138, // I.10.1.1 Multiview Depth High
  139, // J.10.1 Enhanced Multiview Depth High
  134, // H.10.1.3 MFC High
  135, // I.10.1.2 MFC Depth High
]);

/**
 * profile_idc values for which the record ends with chroma_format,
 * bit depths and SPS extensions (ISO/IEC 14496-15 5.3.3.1.2).
 */
const RECORD_EXTENSION_PROFILES: ReadonlySet<number> = new Set([100, 110, 122, 144]);

/** Baseline (66), Main (77) and Extended (88): their SPS has no chroma format, so no record tail either. */
const NO_EXTENSION_PROFILES: ReadonlySet<number> = new Set([66, 77, 88]);

/** An AVCDecoderConfigurationRecord (ISO/IEC 14496-15 5.3.3.1.2). */
export interface AvcConfig {
  /** configurationVersion: 1. */
  readonly version: number;
  /** AVCProfileIndication: profile_idc of the SPSes. */
  readonly profileIdc: number;
  /** profile_compatibility: the constraint_set flags byte of the SPSes. */
  readonly profileCompatibility: number;
  /** AVCLevelIndication: level_idc. */
  readonly levelIdc: number;
  /** lengthSizeMinusOne + 1: bytes in each NAL unit length of the stream (1, 2 or 4). */
  readonly lengthSize: number;
  /** sequenceParameterSetNALUnit: whole SPS NAL units, header byte included. */
  readonly sps: readonly Uint8Array[];
  /** pictureParameterSetNALUnit: whole PPS NAL units. */
  readonly pps: readonly Uint8Array[];
  /** The high-profile tail, when the record carries one. */
  readonly ext?: AvcConfigExtension;
}

/** The record's high-profile tail. */
export interface AvcConfigExtension {
  /** chroma_format_idc. */
  readonly chromaFormat: number;
  readonly bitDepthLuma: number;
  readonly bitDepthChroma: number;
  /** sequenceParameterSetExtNALUnit. */
  readonly spsExt: readonly Uint8Array[];
}

/** What to build a record from. */
export interface AvcConfigInput {
  /** 1 to 31 SPS NAL units; the first gives profile, compatibility and level. */
  readonly sps: readonly Uint8Array[];
  /** 0 to 255 PPS NAL units. */
  readonly pps: readonly Uint8Array[];
  /** Default 4. */
  readonly lengthSize?: 1 | 2 | 4;
  /**
   * The high-profile tail. When omitted for profiles 100, 110, 122 and 144, it
   * is read from the first SPS (chroma_format_idc, bit depths; no SPS extensions).
   */
  readonly ext?: AvcConfigExtension;
}

function fail(detail: string): never {
  throw new ProtocolError("avc_config", `Cannot read AVCDecoderConfigurationRecord: ${detail}`);
}

/** Builds an AVCDecoderConfigurationRecord. Misuse (counts, sizes, lengthSize) throws RangeError. */
export function buildAvcConfig(input: AvcConfigInput): Uint8Array {
  const { sps, pps } = input;
  const lengthSize = input.lengthSize ?? 4;
  if (sps.length < 1 || sps.length > 31) {
    throw new RangeError(`Cannot build AVCDecoderConfigurationRecord: ${sps.length} SPS, expected 1..31`);
  }
  if (pps.length > 255) {
    throw new RangeError(`Cannot build AVCDecoderConfigurationRecord: ${pps.length} PPS, limit 255`);
  }
  if (lengthSize !== 1 && lengthSize !== 2 && lengthSize !== 4) {
    throw new RangeError(
      `Cannot build AVCDecoderConfigurationRecord: lengthSize must be 1, 2 or 4, current ${lengthSize}`,
    );
  }
  const first = sps[0];
  if (first.length < 4) {
    throw new RangeError(
      `Cannot build AVCDecoderConfigurationRecord: SPS is ${first.length} bytes, expected 4 or more`,
    );
  }
  const profileIdc = first[1];
  const ext = RECORD_EXTENSION_PROFILES.has(profileIdc) ? input.ext ?? readExtension(first) : undefined;
  const units = [...sps, ...pps, ...(ext?.spsExt ?? [])];
  for (const u of units) {
    if (u.length > 0xffff) {
      throw new RangeError(
        `Cannot build AVCDecoderConfigurationRecord: a parameter set is ${u.length} bytes, limit 65535`,
      );
    }
  }
  const size = 7 + units.reduce((n, u) => n + 2 + u.length, 0) + (ext ? 4 : 0);
  const out = new Uint8Array(size);
  out[0] = 1; // configurationVersion
  out[1] = profileIdc; // AVCProfileIndication
  out[2] = first[2]; // profile_compatibility
  out[3] = first[3]; // AVCLevelIndication
  out[4] = 0xfc | (lengthSize - 1); // reserved '111111'b, lengthSizeMinusOne
  out[5] = 0xe0 | sps.length; // reserved '111'b, numOfSequenceParameterSets
  let o = 6;
  const put = (u: Uint8Array) => {
    out[o] = u.length >> 8;
    out[o + 1] = u.length;
    out.set(u, o + 2);
    o += 2 + u.length;
  };
  sps.forEach(put);
  out[o++] = pps.length; // numOfPictureParameterSets
  pps.forEach(put);
  if (ext) {
    out[o++] = 0xfc | ext.chromaFormat; // reserved '111111'b, chroma_format
    out[o++] = 0xf8 | (ext.bitDepthLuma - 8); // reserved '11111'b, bit_depth_luma_minus8
    out[o++] = 0xf8 | (ext.bitDepthChroma - 8); // reserved '11111'b, bit_depth_chroma_minus8
    out[o++] = ext.spsExt.length; // numOfSequenceParameterSetExt
    ext.spsExt.forEach(put);
  }
  return out;
}

/** Parses an AVCDecoderConfigurationRecord; malformed input throws ProtocolError (code "avc_config"). */
export function parseAvcConfig(data: Uint8Array): AvcConfig {
  let p = 0;
  const need = (n: number, what: string) => {
    if (p + n > data.length) fail(`${what} at byte ${p} needs ${n} bytes, ${data.length - p} left`);
  };
  const units = (count: number, what: string) => {
    const list: Uint8Array[] = [];
    for (let i = 0; i < count; i++) {
      need(2, `${what} length`);
      const n = (data[p] << 8) | data[p + 1];
      p += 2;
      need(n, what);
      list.push(data.slice(p, p + n));
      p += n;
    }
    return list;
  };
  need(6, "the fixed header");
  const version = data[0];
  if (version !== 1) fail(`configurationVersion is ${version}, expected 1`);
  const profileIdc = data[1];
  const profileCompatibility = data[2];
  const levelIdc = data[3];
  const lengthSizeMinusOne = data[4] & 3;
  if (lengthSizeMinusOne === 2) fail("lengthSizeMinusOne is 2, expected 0, 1 or 3");
  const numSps = data[5] & 0x1f;
  p = 6;
  const sps = units(numSps, "sequenceParameterSetNALUnit");
  need(1, "numOfPictureParameterSets");
  const numPps = data[p++];
  const pps = units(numPps, "pictureParameterSetNALUnit");
  let ext: AvcConfigExtension | undefined;
  // Many writers leave the tail out even for high profiles, and FFmpeg writes
  // it for every profile but Baseline, Main and Extended: read it whenever it
  // is there and the profile can have one.
  if (!NO_EXTENSION_PROFILES.has(profileIdc) && p < data.length) {
    need(4, "the high profile extension");
    const chromaFormat = data[p] & 3;
    const bitDepthLuma = (data[p + 1] & 7) + 8;
    const bitDepthChroma = (data[p + 2] & 7) + 8;
    const numExt = data[p + 3];
    p += 4;
    ext = {
      chromaFormat,
      bitDepthLuma,
      bitDepthChroma,
      spsExt: units(numExt, "sequenceParameterSetExtNALUnit"),
    };
  }
  return {
    version,
    profileIdc,
    profileCompatibility,
    levelIdc,
    lengthSize: lengthSizeMinusOne + 1,
    sps,
    pps,
    ...(ext && { ext }),
  };
}

/**
 * chroma_format_idc and bit depths from the start of a high-profile SPS
 * (7.3.2.1.1: they follow profile, flags, level and seq_parameter_set_id).
 * Only the few Exp-Golomb fields before them are read; the full parser is
 * `parseSps` in src/wasm/nal.ts.
 */
function readExtension(sps: Uint8Array): AvcConfigExtension {
  // RBSP from byte 4 on (after header, profile_idc, flags, level_idc).
  const r = new RbspReader(
    sps,
    4,
    16,
    (what) => new RangeError(`Cannot build AVCDecoderConfigurationRecord: in the SPS, ${what}`),
  );
  const ue = () => r.ue();
  const read1 = () => r.bit();
  ue(); // seq_parameter_set_id
  const chromaFormat = ue();
  if (chromaFormat === 3) read1(); // separate_colour_plane_flag
  const bitDepthLuma = ue() + 8;
  const bitDepthChroma = ue() + 8;
  if (chromaFormat > 3 || bitDepthLuma > 14 || bitDepthChroma > 14) {
    throw new RangeError(
      `Cannot build AVCDecoderConfigurationRecord: SPS has chroma_format_idc ${chromaFormat}, bit depths ${bitDepthLuma}/${bitDepthChroma}`,
    );
  }
  return { chromaFormat, bitDepthLuma, bitDepthChroma, spsExt: [] };
}
