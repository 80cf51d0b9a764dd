/**
 * MediaFrame: one audio, video or data message as the hub carries it. The
 * payload is an FLV tag body (the same bytes as an RTMP audio/video/data
 * message body), owned by the frame and shared read-only with every
 * subscriber. Packed forms (RTMP chunks, FLV tag) are cached on the frame the
 * first time a subscriber needs them: pack once, write many.
 *
 * @module
 */
import {
  AacPacketType,
  AvcPacketType,
  ExAudioPacketType,
  ExVideoPacketType,
  SoundFormat,
  TagType,
  VideoCodecId,
  VideoFrameType,
} from "./flv.ts";

export {
  AacPacketType,
  AvcPacketType,
  ExAudioPacketType,
  ExVideoPacketType,
  SoundFormat,
  VideoCodecId,
  VideoFrameType,
};

/**
 * Frame kinds. The numbers are the FLV tag types (FLV spec v10.1 E.4.1), which
 * are also the RTMP message type ids (RTMP spec 7.1.4, 7.1.5, 7.1.2).
 */
export const FrameKind = {
  /** FLV TagType 8 / RTMP message type 8. */
  Audio: TagType.Audio,
  /** FLV TagType 9 / RTMP message type 9. */
  Video: TagType.Video,
  /** FLV TagType 18 (script data) / RTMP message type 18 (AMF0 data). */
  Data: TagType.ScriptData,
} as const;
export type FrameKind = typeof FrameKind[keyof typeof FrameKind];

/** One frame on its way through the hub. */
export interface MediaFrame {
  readonly kind: FrameKind;
  /** Hub timestamp in ms: monotonic per stream, rebased to start at 0. */
  readonly timestamp: number;
  /** The FLV tag body; never mutated once the frame enters the hub. */
  readonly payload: Uint8Array;
  /** A video keyframe that is not a sequence header: where a player may start. */
  readonly keyframe: boolean;
  /** A decoder configuration (AVC/AAC sequence header or an enhanced sequence start). */
  readonly sequenceHeader: boolean;
  /** Position of this frame among its stream's frames of the same kind (1, 2, ...). */
  readonly seq: number;
  /** Timestamp of the previous frame of the same kind in the stream (for delta headers); -1 if none. */
  readonly prevTimestamp: number;
  /** Packed forms, filled on first use by an output and shared by all its subscribers. */
  packed: Partial<Record<string, Uint8Array>>;
}

/** What the payload says about a frame: keyframe and sequence-header flags. */
export function classify(kind: number, payload: Uint8Array): { keyframe: boolean; sequenceHeader: boolean } {
  if (payload.length === 0) return { keyframe: false, sequenceHeader: false };
  const b0 = payload[0];
  if (kind === FrameKind.Video) {
    if (b0 & 0x80) {
      // Enhanced RTMP: bit 7 IsExHeader, bits 4-6 FrameType, bits 0-3 PacketType.
      const frameType = (b0 >> 4) & 0x07;
      const packetType = b0 & 0x0f;
      const sequenceHeader = packetType === ExVideoPacketType.SequenceStart;
      const coded = packetType === ExVideoPacketType.CodedFrames ||
        packetType === ExVideoPacketType.CodedFramesX;
      return { keyframe: coded && frameType === VideoFrameType.Key, sequenceHeader };
    }
    const frameType = b0 >> 4;
    const codecId = b0 & 0x0f;
    if (codecId === VideoCodecId.Avc) {
      const packetType = payload.length > 1 ? payload[1] : -1;
      return {
        keyframe: packetType === AvcPacketType.Nalu && frameType === VideoFrameType.Key,
        sequenceHeader: packetType === AvcPacketType.SequenceHeader,
      };
    }
    return { keyframe: frameType === VideoFrameType.Key, sequenceHeader: false };
  }
  if (kind === FrameKind.Audio) {
    const format = b0 >> 4;
    if (format === SoundFormat.Aac) {
      return {
        keyframe: false,
        sequenceHeader: payload.length > 1 && payload[1] === AacPacketType.SequenceHeader,
      };
    }
    if (format === SoundFormat.ExHeader) {
      return { keyframe: false, sequenceHeader: (b0 & 0x0f) === ExAudioPacketType.SequenceStart };
    }
  }
  return { keyframe: false, sequenceHeader: false };
}
