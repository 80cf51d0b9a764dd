/**
 * RTMP messages as the wire layer hands them up and takes them down:
 * the message header fields plus an owned payload.
 *
 * @module
 */
import type { ChunkMessage } from "../wasm/chunk_reader.ts";

/** Message type ids (Adobe RTMP Specification 1.0). */
export const MessageType = {
  /** 5.4.1 Set Chunk Size: 4 bytes, high bit zero. */
  SetChunkSize: 1,
  /** 5.4.2 Abort Message: 4-byte chunk stream id. */
  Abort: 2,
  /** 5.4.3 Acknowledgement: 4-byte sequence number (bytes received so far). */
  Acknowledgement: 3,
  /** 6.2 / 7.1.7 User Control Message: 2-byte event type + event data. */
  UserControl: 4,
  /** 5.4.4 Window Acknowledgement Size: 4 bytes. */
  WindowAckSize: 5,
  /** 5.4.5 Set Peer Bandwidth: 4-byte window + 1-byte limit type. */
  SetPeerBandwidth: 6,
  /** 7.1.4 Audio Message (FLV audio tag body). */
  Audio: 8,
  /** 7.1.5 Video Message (FLV video tag body). */
  Video: 9,
  /** 7.1.2 Data Message, AMF3 wrapper. */
  DataAmf3: 15,
  /** 7.1.3 Shared Object Message, AMF3. */
  SharedObjectAmf3: 16,
  /** 7.1.1 Command Message, AMF3 wrapper. */
  CommandAmf3: 17,
  /** 7.1.2 Data Message, AMF0 (e.g. @setDataFrame / onMetaData). */
  DataAmf0: 18,
  /** 7.1.3 Shared Object Message, AMF0. */
  SharedObjectAmf0: 19,
  /** 7.1.1 Command Message, AMF0 (connect, createStream, publish, play, ...). */
  CommandAmf0: 20,
  /** 7.1.6 Aggregate Message: a run of FLV-tag-like sub-messages. */
  Aggregate: 22,
} as const;
export type MessageType = typeof MessageType[keyof typeof MessageType];

/**
 * Chunk stream ids Sluice sends on (5.3.1.1: 2 is reserved for protocol
 * control messages; the rest are the server's choice, as nginx-rtmp's).
 */
export const ChunkStreamId = {
  /** 5.3.1.1: protocol control and user control messages. */
  Control: 2,
  /** Commands and their responses. */
  Command: 3,
  /** Audio of a stream. */
  Audio: 4,
  /** Data messages (onMetaData, |RtmpSampleAccess). */
  Data: 5,
  /** Video of a stream. */
  Video: 6,
} as const;
export type ChunkStreamId = typeof ChunkStreamId[keyof typeof ChunkStreamId];

/**
 * The chunk stream an audio (8), video (9) or data (18) message goes out on: one per kind, so each
 * kind's delta headers follow its own timestamps.
 */
export function mediaChunkStream(typeId: number): ChunkStreamId {
  return typeId === MessageType.Audio
    ? ChunkStreamId.Audio
    : typeId === MessageType.Video
    ? ChunkStreamId.Video
    : ChunkStreamId.Data;
}

/**
 * One whole RTMP message: the chunk layer's `ChunkMessage` (the WASM demux and mux speak it, so it is
 * declared there, on the layer below), under the name the protocol code uses.
 */
export type RtmpMessage = ChunkMessage;
