/**
 * ADTS, the framing AAC takes in an MPEG-2 transport stream (stream_type
 * 0x0F): a 7-byte header before each raw AAC frame, made from the stream's
 * AudioSpecificConfig (ISO/IEC 14496-3 1.A.2.2.1 adts_fixed_header and
 * 1.A.2.2.2 adts_variable_header; ISO/IEC 13818-7 6.2).
 *
 * ADTS has two bits for the object type, so it carries AAC Main, LC, SSR and
 * LTP (object types 1 to 4). HE-AAC with explicit signalling (5, 29) goes as
 * its AAC LC core with the core sampling rate, as ffmpeg writes it; decoders
 * find the SBR and PS data in the frames (implicit signalling). A config
 * ADTS cannot express (an explicit 24-bit sampling rate, a channel layout
 * given by a program_config_element, another object type) is not carried.
 *
 * @module
 */
import { parseAudioSpecificConfig } from "../codec_info.ts";

/** 1.A.2.2.1: no CRC (protection_absent 1), so the header is 7 bytes. */
export const ADTS_HEADER_SIZE = 7;
/** 1.A.2.2.2: aac_frame_length, header included, is 13 bits. */
export const MAX_ADTS_FRAME = 0x1fff;
/** The longest raw AAC frame one ADTS frame holds. */
export const MAX_ADTS_PAYLOAD = MAX_ADTS_FRAME - ADTS_HEADER_SIZE;

/** 1.6.2.1: audioObjectType 31 escapes to a 6-bit extension (types 32 and up, none of which ADTS carries). */
const OBJECT_TYPE_ESCAPE = 31;
/** 1.6.3.4 Table 1.18: samplingFrequencyIndex 0..12 name rates; 13, 14 are reserved and 15 escapes to 24 bits. */
const MAX_SAMPLING_INDEX = 12;
/** 1.A.2.2.1 profile_ObjectType: audioObjectType - 1, two bits. */
const MAX_ADTS_OBJECT_TYPE = 4;
/** 1.6.3.5 Table 1.19: channelConfiguration 1..7 name layouts; 0 is a program_config_element. */
const MAX_CHANNEL_CONFIGURATION = 7;
/** 1.A.2.2.2: adts_buffer_fullness 0x7FF means a variable bit rate. */
const BUFFER_FULLNESS_VBR = 0x7ff;

/** The fixed part of every ADTS header of a stream. */
export interface AdtsConfig {
  /** The object type the AudioSpecificConfig signals (2 LC, 5 HE-AAC, 29 HE-AACv2): for `mp4a.40.N`. */
  readonly objectType: number;
  /** The object type ADTS carries (1..4): the core type under HE-AAC. */
  readonly coreObjectType: number;
  /** sampling_frequency_index of the core coder, 0..12. */
  readonly samplingIndex: number;
  /** channel_configuration, 1..7. */
  readonly channelConfiguration: number;
}

/**
 * The ADTS fields for an AudioSpecificConfig, or undefined when ADTS cannot
 * carry it. A config that ends early throws ProtocolError (code "aac_config").
 */
export function adtsConfig(asc: Uint8Array): AdtsConfig | undefined {
  const c = parseAudioSpecificConfig(asc);
  if ((asc[0] >> 3) === OBJECT_TYPE_ESCAPE) return undefined;
  // samplingFrequencyIndex: the 4 bits after the 5-bit audioObjectType, the core rate under explicit SBR.
  const samplingIndex = ((asc[0] & 0x07) << 1) | (asc[1] >> 7);
  if (
    c.coreObjectType < 1 || c.coreObjectType > MAX_ADTS_OBJECT_TYPE || samplingIndex > MAX_SAMPLING_INDEX ||
    c.channelConfiguration < 1 || c.channelConfiguration > MAX_CHANNEL_CONFIGURATION
  ) return undefined;
  return {
    objectType: c.objectType,
    coreObjectType: c.coreObjectType,
    samplingIndex,
    channelConfiguration: c.channelConfiguration,
  };
}

/**
 * The 7-byte ADTS header for a raw AAC frame of `rawLength` bytes. A frame
 * over MAX_ADTS_PAYLOAD throws RangeError.
 */
export function adtsHeader(c: AdtsConfig, rawLength: number): Uint8Array {
  const length = ADTS_HEADER_SIZE + rawLength;
  if (length > MAX_ADTS_FRAME) {
    throw new RangeError(
      `Cannot write ADTS header: AAC frame is ${rawLength} bytes, limit ${MAX_ADTS_PAYLOAD}`,
    );
  }
  const profile = c.coreObjectType - 1;
  const ch = c.channelConfiguration;
  return Uint8Array.of(
    0xff, // syncword 0xFFF, bits 11..4
    0xf1, // syncword bits 3..0, ID 0 (MPEG-4), layer 00, protection_absent 1
    (profile << 6) | (c.samplingIndex << 2) | (ch >> 2), // profile, sampling_frequency_index, private_bit 0
    ((ch & 3) << 6) | (length >> 11), // original_copy, home, copyright bits 0; aac_frame_length bits 12..11
    (length >> 3) & 0xff,
    ((length & 7) << 5) | (BUFFER_FULLNESS_VBR >> 6),
    (BUFFER_FULLNESS_VBR & 0x3f) << 2, // number_of_raw_data_blocks_in_frame 0: one raw block
  );
}
