/**
 * What a stream carries, read from its FLV tag bodies (the same bytes as RTMP
 * audio and video message bodies): codec names, profile and level, picture
 * size and frame rate, sample rate and channels. For the admin API and stream
 * snapshots, so these are pure functions that never throw on what a
 * publisher sends: what cannot be read is left out (`videoInfo` and
 * `audioInfo`). The strict parsers below them (`parseAudioSpecificConfig`)
 * throw ProtocolError.
 *
 * Sources:
 * - legacy FLV headers: FLV spec v10.1 E.4.2.1 (AUDIODATA: SoundFormat,
 *   SoundRate, SoundType), E.4.3.1 (VIDEODATA: CodecID);
 * - Enhanced RTMP (veovera v1/v2): ExVideoTagHeader and ExAudioTagHeader,
 *   whose FourCC names the codec;
 * - H.264: the AVCDecoderConfigurationRecord (`parseAvcConfig`, ISO/IEC
 *   14496-15 5.3.3.1) and its first SPS (`parseSps`, H.264 7.3.2.1.1 and
 *   E.1.1: profile_idc, level_idc, size after cropping, VUI frame rate);
 * - HEVC: HEVCDecoderConfigurationRecord (ISO/IEC 14496-15 8.3.3.1.2:
 *   general_profile_idc, general_level_idc; no SPS parsing, so no size);
 * - AV1: AV1CodecConfigurationRecord (AV1-ISOBMFF 2.3.3: seq_profile,
 *   seq_level_idx_0); VP9: VPCodecConfigurationRecord (VP-ISOBMFF 2.2);
 * - AAC: AudioSpecificConfig (ISO/IEC 14496-3 1.6.2.1: audioObjectType,
 *   samplingFrequencyIndex or an explicit rate, channelConfiguration, and
 *   explicit SBR/PS signalling);
 * - Opus: the ID header (RFC 7845 5.1, "OpusHead").
 *
 * Bounds: a configuration record longer than MAX_CONFIG_BYTES, or an SPS
 * longer than MAX_SPS_BYTES, is not parsed (the codec name is still given).
 *
 * @module
 */
import { ProtocolError } from "../errors.ts";
import { parseSps } from "../wasm/nal.ts";
import { parseAvcConfig } from "./avc.ts";
import {
  AacPacketType,
  AvcPacketType,
  ExAudioPacketType,
  ExVideoPacketType,
  SoundFormat,
  SoundRate,
  SoundType,
  VideoCodecId,
} from "./flv.ts";

/** A configuration record longer than this is not parsed, in bytes. */
export const MAX_CONFIG_BYTES = 64 * 1024;
/** An SPS longer than this is not parsed, in bytes (real ones are under 100; scaling lists add a few hundred). */
export const MAX_SPS_BYTES = 1024;

/** What a video stream is. Fields that cannot be read are absent. */
export interface VideoCodecInfo {
  /** "H.264", "HEVC", "AV1", "VP9", "VP6", ... */
  codec: string;
  /** e.g. "High", "Main", "Constrained Baseline". */
  profile?: string;
  /** e.g. "3.1", "1b". */
  level?: string;
  /** Displayed size in pixels, after cropping. */
  width?: number;
  height?: number;
  /** Frames per second from the bitstream's timing (H.264 VUI). */
  frameRate?: number;
}

/** What an audio stream is. Fields that cannot be read are absent. */
export interface AudioCodecInfo {
  /** "AAC", "MP3", "Opus", "Speex", ... */
  codec: string;
  /** Output sample rate in Hz (for HE-AAC, the SBR rate). */
  sampleRate?: number;
  channels?: number;
  /** e.g. "LC", "HE-AAC", "HE-AACv2". */
  profile?: string;
}

// ---------------------------------------------------------------------------------------------
// Tables

/** Enhanced RTMP video FourCCs (veovera Enhanced RTMP v1, "FourCC values"; v2 adds VP8). */
export const VideoFourCc = {
  /** "avc1": H.264; the sequence start is an AVCDecoderConfigurationRecord. */
  Avc: "avc1",
  /** "hvc1": HEVC; the sequence start is an HEVCDecoderConfigurationRecord. */
  Hevc: "hvc1",
  /** "av01": AV1; the sequence start is an AV1CodecConfigurationRecord. */
  Av1: "av01",
  /** "vp09": VP9; the sequence start is a VPCodecConfigurationRecord. */
  Vp9: "vp09",
  /** "vp08": VP8. */
  Vp8: "vp08",
} as const;
export type VideoFourCc = typeof VideoFourCc[keyof typeof VideoFourCc];

const VIDEO_FOURCC_NAMES: Readonly<Record<VideoFourCc, string>> = {
  [VideoFourCc.Avc]: "H.264",
  [VideoFourCc.Hevc]: "HEVC",
  [VideoFourCc.Av1]: "AV1",
  [VideoFourCc.Vp9]: "VP9",
  [VideoFourCc.Vp8]: "VP8",
};

/** Enhanced RTMP audio FourCCs (veovera Enhanced RTMP v2, "FourCC values"). */
export const AudioFourCc = {
  /** "Opus": the sequence start is an Opus ID header (RFC 7845 5.1). */
  Opus: "Opus",
  /** "fLaC": FLAC. */
  Flac: "fLaC",
  /** "ac-3": AC-3. */
  Ac3: "ac-3",
  /** "ec-3": E-AC-3. */
  Eac3: "ec-3",
  /** "mp4a": AAC; the sequence start is an AudioSpecificConfig. */
  Aac: "mp4a",
  /** ".mp3": MP3. */
  Mp3: ".mp3",
} as const;
export type AudioFourCc = typeof AudioFourCc[keyof typeof AudioFourCc];

const AUDIO_FOURCC_NAMES: Readonly<Record<AudioFourCc, string>> = {
  [AudioFourCc.Opus]: "Opus",
  [AudioFourCc.Flac]: "FLAC",
  [AudioFourCc.Ac3]: "AC-3",
  [AudioFourCc.Eac3]: "E-AC-3",
  [AudioFourCc.Aac]: "AAC",
  [AudioFourCc.Mp3]: "MP3",
};

/**
 * Legacy CodecID values beyond the FLV spec's table: 12 for HEVC and 13 for AV1 are a widespread
 * extension (the "Chinese FLV" of SRS, nginx-http-flv and many CDNs) from before Enhanced RTMP.
 */
export const ExtVideoCodecId = {
  /** 12: HEVC behind an AVC-style header (packet type, composition time, then the record). */
  Hevc: 12,
  /** 13: AV1 behind an AVC-style header. */
  Av1: 13,
} as const;
export type ExtVideoCodecId = typeof ExtVideoCodecId[keyof typeof ExtVideoCodecId];

const LEGACY_VIDEO_NAMES: Readonly<Record<number, string>> = {
  [VideoCodecId.SorensonH263]: "Sorenson H.263",
  [VideoCodecId.ScreenVideo]: "Screen Video",
  [VideoCodecId.Vp6]: "VP6",
  [VideoCodecId.Vp6Alpha]: "VP6 Alpha",
  [VideoCodecId.ScreenVideo2]: "Screen Video 2",
  [VideoCodecId.Avc]: "H.264",
  [ExtVideoCodecId.Hevc]: "HEVC",
  [ExtVideoCodecId.Av1]: "AV1",
};

const LEGACY_AUDIO_NAMES: Readonly<Record<number, string>> = {
  [SoundFormat.LinearPcmPlatformEndian]: "PCM",
  [SoundFormat.Adpcm]: "ADPCM",
  [SoundFormat.Mp3]: "MP3",
  [SoundFormat.LinearPcmLittleEndian]: "PCM",
  [SoundFormat.Nellymoser16kMono]: "Nellymoser",
  [SoundFormat.Nellymoser8kMono]: "Nellymoser",
  [SoundFormat.Nellymoser]: "Nellymoser",
  [SoundFormat.G711ALaw]: "G.711 A-law",
  [SoundFormat.G711MuLaw]: "G.711 mu-law",
  [SoundFormat.Aac]: "AAC",
  [SoundFormat.Speex]: "Speex",
  [SoundFormat.Mp38k]: "MP3",
  [SoundFormat.DeviceSpecific]: "Device-specific",
};

/** E.4.2.1 SoundRate in Hz. */
const SOUND_RATE_HZ: Readonly<Record<SoundRate, number>> = {
  [SoundRate.Rate5k5]: 5512,
  [SoundRate.Rate11k]: 11025,
  [SoundRate.Rate22k]: 22050,
  [SoundRate.Rate44k]: 44100,
};

/** E.4.2.1: formats whose rate and channels are fixed, whatever the SoundRate and SoundType bits say. */
const FIXED_AUDIO: Readonly<Record<number, { sampleRate: number; channels?: number }>> = {
  [SoundFormat.Nellymoser16kMono]: { sampleRate: 16000, channels: 1 },
  [SoundFormat.Nellymoser8kMono]: { sampleRate: 8000, channels: 1 },
  [SoundFormat.Mp38k]: { sampleRate: 8000 },
  [SoundFormat.Speex]: { sampleRate: 16000, channels: 1 },
  [SoundFormat.G711ALaw]: { sampleRate: 8000, channels: 1 },
  [SoundFormat.G711MuLaw]: { sampleRate: 8000, channels: 1 },
};

/** profile_idc names (H.264 Annex A.2, G.10.1, H.10.1, I.10.1, J.10.1). */
const AVC_PROFILE_NAMES: Readonly<Record<number, string>> = {
  66: "Baseline", // A.2.1
  77: "Main", // A.2.2
  88: "Extended", // A.2.3
  100: "High", // A.2.4
  110: "High 10", // A.2.5
  122: "High 4:2:2", // A.2.6
  244: "High 4:4:4 Predictive", // A.2.7
  44: "CAVLC 4:4:4 Intra", // A.2.11
  83: "Scalable Baseline", // G.10.1.1
  86: "Scalable High", // G.10.1.2
  118: "Multiview High", // H.10.1.1
  128: "Stereo High", // H.10.1.2
  134: "MFC High", // H.10.1.3
  135: "MFC Depth High", // I.10.1.2
  138: "Multiview Depth High", // I.10.1.1
  139: "Enhanced Multiview Depth High", // J.10.1
};

/** The constraint_set flags byte, set0 the top bit (H.264 7.4.2.1.1). */
const CONSTRAINT_SET1 = 0x40;
const CONSTRAINT_SET3 = 0x10;

/** general_profile_idc names (H.265 A.3). */
const HEVC_PROFILE_NAMES: Readonly<Record<number, string>> = {
  1: "Main", // A.3.2
  2: "Main 10", // A.3.3
  3: "Main Still Picture", // A.3.4
  4: "Range Extensions", // A.3.5
  5: "High Throughput", // A.3.6
  9: "Screen Content Coding", // A.3.7
};

/** seq_profile names (AV1 spec 6.4.1, Annex A.2). */
const AV1_PROFILE_NAMES: Readonly<Record<number, string>> = { 0: "Main", 1: "High", 2: "Professional" };

/** seq_level_idx 31: no level constraint (AV1 spec 6.4.1). */
const AV1_LEVEL_MAX = 31;

/** ISO/IEC 14496-3 1.5.1.1 Table 1.1 audioObjectType names (those heard in FLV and RTMP). */
export const AacObjectType = {
  /** 1: AAC Main. */
  Main: 1,
  /** 2: AAC LC (low complexity): nearly every stream. */
  Lc: 2,
  /** 3: AAC SSR. */
  Ssr: 3,
  /** 4: AAC LTP. */
  Ltp: 4,
  /** 5: SBR: HE-AAC (explicit signalling; the core object type follows). */
  Sbr: 5,
  /** 6: AAC Scalable. */
  Scalable: 6,
  /** 23: ER AAC LD. */
  Ld: 23,
  /** 29: PS: HE-AACv2 (explicit signalling, SBR plus parametric stereo). */
  Ps: 29,
  /** 31: escape: the object type is 32 plus the next 6 bits. */
  Escape: 31,
  /** 39: ER AAC ELD. */
  Eld: 39,
  /** 42: USAC (xHE-AAC). */
  Usac: 42,
} as const;
export type AacObjectType = typeof AacObjectType[keyof typeof AacObjectType];

const AAC_PROFILE_NAMES: Readonly<Record<number, string>> = {
  [AacObjectType.Main]: "Main",
  [AacObjectType.Lc]: "LC",
  [AacObjectType.Ssr]: "SSR",
  [AacObjectType.Ltp]: "LTP",
  [AacObjectType.Sbr]: "HE-AAC",
  [AacObjectType.Scalable]: "Scalable",
  [AacObjectType.Ld]: "LD",
  [AacObjectType.Ps]: "HE-AACv2",
  [AacObjectType.Eld]: "ELD",
  [AacObjectType.Usac]: "xHE-AAC",
};

/** ISO/IEC 14496-3 1.6.3.4 Table 1.18 samplingFrequencyIndex 0..12, Hz (13, 14 reserved; 15 explicit). */
const AAC_SAMPLE_RATES: readonly number[] = [
  96000,
  88200,
  64000,
  48000,
  44100,
  32000,
  24000,
  22050,
  16000,
  12000,
  11025,
  8000,
  7350,
];
/** samplingFrequencyIndex 15: a 24-bit samplingFrequency follows. */
const AAC_EXPLICIT_RATE = 15;

/** ISO/IEC 14496-3 1.6.3.5 Table 1.19 (and 23003-1 for 11..14) channelConfiguration -> channels; 0: in a PCE. */
const AAC_CHANNELS: Readonly<Record<number, number>> = {
  1: 1,
  2: 2,
  3: 3,
  4: 4,
  5: 5,
  6: 6,
  7: 8,
  11: 7,
  12: 8,
  13: 24,
  14: 8,
};

/** Opus decodes at 48 kHz whatever its ID header's input_sample_rate says (RFC 7845 5.1). */
const OPUS_RATE = 48000;
const OPUS_MAGIC = "OpusHead";

// ---------------------------------------------------------------------------------------------
// Video

/**
 * What a video tag body says: the codec from its CodecID or FourCC, and for a
 * sequence header (start) the profile, level and, for H.264, size and frame
 * rate. Undefined for an empty body or an Enhanced RTMP packet type whose
 * FourCC is not where v1 puts it (multitrack, ModEx).
 */
export function videoInfo(payload: Uint8Array): VideoCodecInfo | undefined {
  if (payload.length === 0) return undefined;
  const b0 = payload[0];
  if (b0 & 0x80) {
    // Enhanced RTMP: bit 7 IsExHeader, bits 4-6 FrameType, bits 0-3 VideoPacketType, then the FourCC.
    const packetType = b0 & 0x0f;
    if (packetType > ExVideoPacketType.Mpeg2TsSequenceStart || payload.length < 5) return undefined;
    const fourCc = readFourCc(payload, 1);
    const codec = nameOf(VIDEO_FOURCC_NAMES, fourCc) ?? printable(fourCc);
    if (packetType !== ExVideoPacketType.SequenceStart) return { codec };
    return { codec, ...videoConfig(fourCc, payload.subarray(5)) };
  }
  const codecId = b0 & 0x0f;
  const codec = LEGACY_VIDEO_NAMES[codecId] ?? `CodecID ${codecId}`;
  const avcStyle = codecId === VideoCodecId.Avc || codecId === ExtVideoCodecId.Hevc ||
    codecId === ExtVideoCodecId.Av1;
  // E.4.3.2 AVCVIDEOPACKET: AVCPacketType, CompositionTime (SI24), then the record for a sequence header.
  if (!avcStyle || payload.length < 5 || payload[1] !== AvcPacketType.SequenceHeader) return { codec };
  const fourCc = codecId === VideoCodecId.Avc
    ? VideoFourCc.Avc
    : codecId === ExtVideoCodecId.Hevc
    ? VideoFourCc.Hevc
    : VideoFourCc.Av1;
  return { codec, ...videoConfig(fourCc, payload.subarray(5)) };
}

/** The details a configuration record gives; {} when it cannot be read. */
function videoConfig(fourCc: string, record: Uint8Array): Omit<VideoCodecInfo, "codec"> {
  if (record.length > MAX_CONFIG_BYTES) return {};
  try {
    switch (fourCc) {
      case VideoFourCc.Avc:
        return avcDetails(record);
      case VideoFourCc.Hevc:
        return hevcDetails(record);
      case VideoFourCc.Av1:
        return av1Details(record);
      case VideoFourCc.Vp9:
        return vp9Details(record);
      default:
        return {};
    }
  } catch {
    return {}; // a malformed record: the codec name alone
  }
}

function avcDetails(record: Uint8Array): Omit<VideoCodecInfo, "codec"> {
  const config = parseAvcConfig(record);
  const sps = config.sps[0];
  // Without an SPS, the record's own indications give profile and level.
  const fromRecord = {
    profile: avcProfileName(config.profileIdc, config.profileCompatibility),
    level: avcLevelName(config.levelIdc, config.profileIdc, config.profileCompatibility),
  };
  if (!sps || sps.length > MAX_SPS_BYTES) return fromRecord;
  const info = parseSps(sps);
  return {
    profile: avcProfileName(info.profileIdc, info.constraintFlags),
    level: avcLevelName(info.levelIdc, info.profileIdc, info.constraintFlags),
    width: info.width,
    height: info.height,
    ...(info.frameRate !== undefined && { frameRate: info.frameRate }),
  };
}

/** An H.264 profile's name; Baseline with constraint_set1 is Constrained Baseline (A.2.1.1). */
export function avcProfileName(profileIdc: number, constraintFlags: number): string {
  if (profileIdc === 66 && constraintFlags & CONSTRAINT_SET1) return "Constrained Baseline";
  return AVC_PROFILE_NAMES[profileIdc] ?? `profile_idc ${profileIdc}`;
}

/**
 * An H.264 level's name from level_idc (ten times the level): 31 is "3.1";
 * 9, or 11 with constraint_set3 in Baseline, Main or Extended, is "1b" (A.3.1, A.3.2).
 */
export function avcLevelName(levelIdc: number, profileIdc: number, constraintFlags: number): string {
  if (levelIdc === 9) return "1b";
  if (
    levelIdc === 11 && constraintFlags & CONSTRAINT_SET3 && (profileIdc === 66 || profileIdc === 77 ||
      profileIdc === 88)
  ) return "1b";
  return tenths(levelIdc);
}

/** HEVCDecoderConfigurationRecord bytes 1 (profile space, tier, general_profile_idc) and 12 (general_level_idc). */
function hevcDetails(record: Uint8Array): Omit<VideoCodecInfo, "codec"> {
  if (record.length < 13 || record[0] !== 1) return {};
  const profileIdc = record[1] & 0x1f;
  const levelIdc = record[12];
  return {
    profile: HEVC_PROFILE_NAMES[profileIdc] ?? `general_profile_idc ${profileIdc}`,
    // general_level_idc is 30 times the level (H.265 A.4): 93 is 3.1, 120 is 4.
    level: tenths(levelIdc / 3),
  };
}

/** AV1CodecConfigurationRecord: marker and version (0x81), then seq_profile (3 bits), seq_level_idx_0 (5 bits). */
function av1Details(record: Uint8Array): Omit<VideoCodecInfo, "codec"> {
  if (record.length < 2 || record[0] !== 0x81) return {};
  const profile = record[1] >> 5;
  const levelIdx = record[1] & 0x1f;
  return {
    profile: AV1_PROFILE_NAMES[profile] ?? `seq_profile ${profile}`,
    // Annex A.3: seq_level_idx is (major - 2) * 4 + minor.
    level: levelIdx === AV1_LEVEL_MAX ? "max" : `${2 + (levelIdx >> 2)}.${levelIdx & 3}`,
  };
}

/**
 * VPCodecConfigurationRecord: profile, level (ten times the level), ... Some
 * writers put the vpcC box's FullBox header (version 1, flags 0) first; a
 * record cannot start 01 00 00 00 (profile 1 has no level 0), so that is skipped.
 */
function vp9Details(record: Uint8Array): Omit<VideoCodecInfo, "codec"> {
  let p = 0;
  if (record.length >= 6 && record[0] === 1 && record[1] === 0 && record[2] === 0 && record[3] === 0) p = 4;
  if (record.length < p + 2 || record[p] > 3) return {};
  return { profile: String(record[p]), level: tenths(record[p + 1]) };
}

// ---------------------------------------------------------------------------------------------
// Audio

/**
 * What an audio tag body says: the codec from its SoundFormat or FourCC and,
 * for legacy formats, the header's rate and channels; for an AAC sequence
 * header, the AudioSpecificConfig's; for an Opus sequence start, its ID
 * header's. Undefined for an empty body.
 */
export function audioInfo(payload: Uint8Array): AudioCodecInfo | undefined {
  if (payload.length === 0) return undefined;
  const b0 = payload[0];
  const format = b0 >> 4;
  if (format === SoundFormat.ExHeader) {
    // Enhanced RTMP: bits 0-3 AudioPacketType, then the FourCC (for sequence start and coded frames).
    const packetType = b0 & 0x0f;
    if (
      (packetType !== ExAudioPacketType.SequenceStart && packetType !== ExAudioPacketType.CodedFrames) ||
      payload.length < 5
    ) return undefined;
    const fourCc = readFourCc(payload, 1);
    const codec = nameOf(AUDIO_FOURCC_NAMES, fourCc) ?? printable(fourCc);
    if (packetType !== ExAudioPacketType.SequenceStart) return { codec };
    const body = payload.subarray(5);
    if (fourCc === AudioFourCc.Aac) return { codec, ...aacDetails(body) };
    if (fourCc === AudioFourCc.Opus) return { codec, ...opusDetails(body) };
    return { codec };
  }
  const codec = LEGACY_AUDIO_NAMES[format] ?? `SoundFormat ${format}`;
  if (format === SoundFormat.Aac) {
    // E.4.2.1: for AAC, SoundRate and SoundType are always 3 and 1; only the AudioSpecificConfig says.
    if (payload.length < 2 || payload[1] !== AacPacketType.SequenceHeader) return { codec };
    return { codec, ...aacDetails(payload.subarray(2)) };
  }
  const fixed = FIXED_AUDIO[format];
  const sampleRate = fixed?.sampleRate ?? SOUND_RATE_HZ[((b0 >> 2) & 3) as SoundRate];
  const channels = fixed?.channels ?? ((b0 & 1) === SoundType.Stereo ? 2 : 1);
  return { codec, sampleRate, channels };
}

function aacDetails(asc: Uint8Array): Omit<AudioCodecInfo, "codec"> {
  if (asc.length > MAX_CONFIG_BYTES) return {};
  try {
    const c = parseAudioSpecificConfig(asc);
    return {
      ...(c.sampleRate > 0 && { sampleRate: c.sampleRate }),
      ...(c.channels > 0 && { channels: c.channels }),
      profile: AAC_PROFILE_NAMES[c.objectType] ?? `audioObjectType ${c.objectType}`,
    };
  } catch {
    return {};
  }
}

/** RFC 7845 5.1 ID header: "OpusHead", version, channel count, pre-skip, input_sample_rate, ... */
function opusDetails(head: Uint8Array): Omit<AudioCodecInfo, "codec"> {
  if (head.length < 10 || String.fromCharCode(...head.subarray(0, 8)) !== OPUS_MAGIC) {
    return { sampleRate: OPUS_RATE };
  }
  return { sampleRate: OPUS_RATE, channels: head[9] };
}

/** An AudioSpecificConfig, as far as a server needs it. */
export interface AacAudioConfig {
  /** The signalled audioObjectType: 5 (SBR) or 29 (PS) for explicit HE-AAC, else the core type. */
  objectType: number;
  /** The core coder's audioObjectType (2, LC, under HE-AAC). */
  coreObjectType: number;
  /** The output sample rate in Hz: the SBR rate for HE-AAC; 0 for a reserved index. */
  sampleRate: number;
  /** The core coder's sample rate in Hz. */
  coreSampleRate: number;
  /** channelConfiguration (0: given by a program_config_element). */
  channelConfiguration: number;
  /** Output channels; 0 when the channelConfiguration does not say. HE-AACv2 mono core is stereo out. */
  channels: number;
}

/**
 * Parses the start of an AudioSpecificConfig (ISO/IEC 14496-3 1.6.2.1):
 * audioObjectType (with its escape), samplingFrequencyIndex (or a 24-bit
 * samplingFrequency), channelConfiguration and, for object types 5 and 29,
 * the extension sampling frequency and the core object type. Data that ends
 * early throws ProtocolError (code "aac_config"); the rest of the config
 * (GASpecificConfig) is not read.
 */
export function parseAudioSpecificConfig(data: Uint8Array): AacAudioConfig {
  const r = new BitReader(data, "AudioSpecificConfig");
  const objectType = readObjectType(r);
  const coreSampleRate = readSampleRate(r);
  const channelConfiguration = r.bits(4);
  let channels = AAC_CHANNELS[channelConfiguration] ?? 0;
  let sampleRate = coreSampleRate;
  let coreObjectType = objectType;
  if (objectType === AacObjectType.Sbr || objectType === AacObjectType.Ps) {
    sampleRate = readSampleRate(r); // extensionSamplingFrequencyIndex
    coreObjectType = readObjectType(r);
    if (objectType === AacObjectType.Ps && channelConfiguration === 1) channels = 2;
  }
  return { objectType, coreObjectType, sampleRate, coreSampleRate, channelConfiguration, channels };
}

/** GetAudioObjectType() (1.6.2.1.1): 5 bits, 31 escapes to 32 + 6 bits. */
function readObjectType(r: BitReader): number {
  const t = r.bits(5);
  return t === AacObjectType.Escape ? 32 + r.bits(6) : t;
}

/** samplingFrequencyIndex, or 15 and a 24-bit samplingFrequency; 0 for a reserved index. */
function readSampleRate(r: BitReader): number {
  const index = r.bits(4);
  if (index === AAC_EXPLICIT_RATE) return r.bits(24);
  return AAC_SAMPLE_RATES[index] ?? 0;
}

/** Most significant bit first, at most 24 bits a read, over at most MAX_CONFIG_BYTES bytes. */
class BitReader {
  #data: Uint8Array;
  #what: string;
  #bit = 0;

  constructor(data: Uint8Array, what: string) {
    if (data.length > MAX_CONFIG_BYTES) {
      throw new ProtocolError(
        "aac_config",
        `Cannot read ${what}: ${data.length} bytes, limit ${MAX_CONFIG_BYTES}`,
      );
    }
    this.#data = data;
    this.#what = what;
  }

  bits(n: number): number {
    if (this.#bit + n > this.#data.length * 8) {
      throw new ProtocolError(
        "aac_config",
        `Cannot read ${this.#what}: ${n} bits at bit ${this.#bit} run past the end (${
          this.#data.length * 8
        } bits)`,
      );
    }
    let v = 0;
    for (let k = 0; k < n; k++, this.#bit++) {
      v = (v << 1) | ((this.#data[this.#bit >> 3] >> (7 - (this.#bit & 7))) & 1);
    }
    return v >>> 0;
  }
}

// ---------------------------------------------------------------------------------------------
// Helpers

function readFourCc(data: Uint8Array, at: number): string {
  return String.fromCharCode(data[at], data[at + 1], data[at + 2], data[at + 3]);
}

function nameOf<K extends string>(table: Readonly<Record<K, string>>, key: string): string | undefined {
  return Object.hasOwn(table, key) ? table[key as K] : undefined;
}

/** An unknown FourCC as text, or its hex when it is not printable ASCII. */
function printable(fourCc: string): string {
  if (/^[\x20-\x7e]{4}$/.test(fourCc)) return fourCc;
  return [...fourCc].map((c) => c.charCodeAt(0).toString(16).padStart(2, "0")).join("");
}

/** Ten times a level as its name: 30 is "3", 31 is "3.1". */
function tenths(v: number): string {
  const r = Math.round(v);
  return r % 10 === 0 ? String(r / 10) : (r / 10).toFixed(1);
}
