/**
 * RFC 6381 codec strings (the `codecs` parameter, HLS `CODECS`) for the
 * codecs an fMP4 track carries here:
 * - H.264: `avc1.PPCCLL` (RFC 6381 3.3, ISO/IEC 14496-15 annex E): the
 *   AVCDecoderConfigurationRecord's AVCProfileIndication,
 *   profile_compatibility and AVCLevelIndication as six hex digits;
 * - AAC: `mp4a.40.AOT` (RFC 6381 3.3): objectTypeIndication 0x40 (ISO/IEC
 *   14496-3 audio) and the AudioSpecificConfig's audioObjectType in decimal
 *   (2 for LC, 5 for HE-AAC, 29 for HE-AACv2, as signalled).
 *
 * @module
 */
import { parseAvcConfig } from "../avc.ts";
import { parseAudioSpecificConfig } from "../codec_info.ts";

/** objectTypeIndication for ISO/IEC 14496-3 audio (ISO/IEC 14496-1 Table 5, the MP4RA list). */
export const AUDIO_OBJECT_TYPE_INDICATION = 0x40;

function hex2(v: number): string {
  return v.toString(16).padStart(2, "0");
}

/** `avc1.` and the record's profile, compatibility and level bytes; throws ProtocolError for a malformed record. */
export function avcCodecString(record: Uint8Array): string {
  const c = parseAvcConfig(record);
  return `avc1.${hex2(c.profileIdc)}${hex2(c.profileCompatibility)}${hex2(c.levelIdc)}`;
}

/** `mp4a.40.` and the signalled audioObjectType; throws ProtocolError for a malformed config. */
export function aacCodecString(asc: Uint8Array): string {
  const c = parseAudioSpecificConfig(asc);
  return `mp4a.${AUDIO_OBJECT_TYPE_INDICATION.toString(16)}.${c.objectType}`;
}
