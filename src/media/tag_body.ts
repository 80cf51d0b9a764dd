/**
 * The FLV tag bodies (the hub's frame payloads) that MPEG-TS and RTP carry: H.264 in
 * an AVCVIDEOPACKET and AAC in an AACAUDIODATA (FLV spec v10.1 E.4.3.2,
 * E.4.2.2), legacy or Enhanced RTMP (`avc1`, `mp4a`). Read for the
 * packetizers and muxers, written for the depacketizers.
 *
 * Shared by every muxer that unwraps them (MPEG-TS, RTP).
 *
 * @module
 */
import { AudioFourCc, VideoFourCc } from "./codec_info.ts";
import {
  AacPacketType,
  AvcPacketType,
  ExAudioPacketType,
  ExVideoPacketType,
  SoundFormat,
  SoundRate,
  SoundSize,
  SoundType,
  VideoCodecId,
  VideoFrameType,
} from "./flv.ts";

/** E.4.3.1 + E.4.3.2: FrameType/CodecID, AVCPacketType, CompositionTime (SI24). */
export const AVC_BODY_HEADER_SIZE = 5;
/** E.4.2.1 + E.4.2.2: the sound byte and AACPacketType. */
export const AAC_BODY_HEADER_SIZE = 2;
/** E.4.2.1: "If the SoundFormat indicates AAC, the SoundType should be set to 1 (stereo) and the SoundRate 3 (44 kHz)". */
const AAC_SOUND_BYTE = (SoundFormat.Aac << 4) | (SoundRate.Rate44k << 2) | (SoundSize.Bits16 << 1) |
  SoundType.Stereo;

/** A coded AVC frame: its composition time (ms) and its length-prefixed NAL units. */
export interface AvcFrameBody {
  readonly cts: number;
  readonly avcc: Uint8Array;
}

/** FLV SI24 (E.4.3.2 CompositionTime) at `at`. */
function si24(b: Uint8Array, at: number): number {
  return ((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8)) >> 8;
}

function fourCcIs(b: Uint8Array, at: number, fourCc: string): boolean {
  return b.length >= at + 4 && String.fromCharCode(b[at], b[at + 1], b[at + 2], b[at + 3]) === fourCc;
}

/** A video tag body's AVCDecoderConfigurationRecord, or undefined for anything else. */
export function avcRecord(p: Uint8Array): Uint8Array | undefined {
  if (p.length < 5) return undefined;
  if (p[0] & 0x80) {
    const ok = (p[0] & 0x0f) === ExVideoPacketType.SequenceStart && fourCcIs(p, 1, VideoFourCc.Avc);
    return ok ? p.subarray(5) : undefined;
  }
  const ok = (p[0] & 0x0f) === VideoCodecId.Avc && p[1] === AvcPacketType.SequenceHeader;
  return ok ? p.subarray(AVC_BODY_HEADER_SIZE) : undefined;
}

/** A video tag body's AVC NAL units and composition time, or undefined for anything else. */
export function avcFrame(p: Uint8Array): AvcFrameBody | undefined {
  if (p.length === 0) return undefined;
  if (p[0] & 0x80) {
    if (!fourCcIs(p, 1, VideoFourCc.Avc)) return undefined;
    const type = p[0] & 0x0f;
    if (type === ExVideoPacketType.CodedFrames && p.length >= 8) {
      return { cts: si24(p, 5), avcc: p.subarray(8) };
    }
    if (type === ExVideoPacketType.CodedFramesX) return { cts: 0, avcc: p.subarray(5) };
    return undefined;
  }
  if ((p[0] & 0x0f) !== VideoCodecId.Avc || p.length < 5 || p[1] !== AvcPacketType.Nalu) return undefined;
  return { cts: si24(p, 2), avcc: p.subarray(AVC_BODY_HEADER_SIZE) };
}

/** An audio tag body's AudioSpecificConfig, or undefined for anything else. */
export function aacConfig(p: Uint8Array): Uint8Array | undefined {
  if (p.length < 2) return undefined;
  const format = p[0] >> 4;
  if (format === SoundFormat.ExHeader) {
    const ok = (p[0] & 0x0f) === ExAudioPacketType.SequenceStart && fourCcIs(p, 1, AudioFourCc.Aac);
    return ok ? p.subarray(5) : undefined;
  }
  return format === SoundFormat.Aac && p[1] === AacPacketType.SequenceHeader
    ? p.subarray(AAC_BODY_HEADER_SIZE)
    : undefined;
}

/** An audio tag body's raw AAC frame, or undefined for anything else. */
export function aacFrame(p: Uint8Array): Uint8Array | undefined {
  if (p.length < 2) return undefined;
  const format = p[0] >> 4;
  if (format === SoundFormat.ExHeader) {
    const ok = (p[0] & 0x0f) === ExAudioPacketType.CodedFrames && fourCcIs(p, 1, AudioFourCc.Aac);
    return ok ? p.subarray(5) : undefined;
  }
  return format === SoundFormat.Aac && p[1] === AacPacketType.Raw
    ? p.subarray(AAC_BODY_HEADER_SIZE)
    : undefined;
}

/** Writes the 5-byte AVCVIDEOPACKET header at the start of `out`. */
export function writeAvcBodyHeader(
  out: Uint8Array,
  keyframe: boolean,
  packetType: AvcPacketType,
  cts = 0,
): void {
  out[0] = ((keyframe ? VideoFrameType.Key : VideoFrameType.Inter) << 4) | VideoCodecId.Avc;
  out[1] = packetType;
  out[2] = (cts >> 16) & 0xff;
  out[3] = (cts >> 8) & 0xff;
  out[4] = cts & 0xff;
}

/** An AVC sequence header tag body for a decoder configuration record, in a new array. */
export function avcSequenceHeaderBody(record: Uint8Array): Uint8Array {
  const out = new Uint8Array(AVC_BODY_HEADER_SIZE + record.length);
  writeAvcBodyHeader(out, true, AvcPacketType.SequenceHeader);
  out.set(record, AVC_BODY_HEADER_SIZE);
  return out;
}

/** An AAC tag body (sequence header or raw frame) in a new array. */
export function aacBody(packetType: AacPacketType, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(AAC_BODY_HEADER_SIZE + data.length);
  out[0] = AAC_SOUND_BYTE;
  out[1] = packetType;
  out.set(data, AAC_BODY_HEADER_SIZE);
  return out;
}
