/**
 * Protocol control messages (Adobe RTMP Specification 1.0, 5.4) and user
 * control events (6.2, 7.1.7): typed builders that return whole
 * {@linkcode RtmpMessage}s on chunk stream 2, message stream 0, and one
 * parser, {@linkcode parseControl}, that checks payload lengths and values.
 *
 * Set Chunk Size is checked against the protocol's own range (1 to
 * 0x7FFFFFFF, high bit zero); the session applies its own, smaller cap.
 *
 * @module
 */

import { ChunkStreamId, MessageType, type RtmpMessage } from "./message.ts";
import { ProtocolError } from "../errors.ts";

/** User control event types (7.1.7; 6.2 for the message itself). */
export const UserControlEvent = {
  /** 7.1.7: the server tells the client a stream became functional; data: stream id. */
  StreamBegin: 0,
  /** 7.1.7: playback of a stream is over; data: stream id. */
  StreamEof: 1,
  /** 7.1.7: no more data on a stream for now; data: stream id. */
  StreamDry: 2,
  /** 7.1.7: the client's buffer length; data: stream id, milliseconds. */
  SetBufferLength: 3,
  /** 7.1.7: the stream is recorded; data: stream id. */
  StreamIsRecorded: 4,
  /** 7.1.7: the server checks the client is alive; data: a timestamp. */
  PingRequest: 6,
  /** 7.1.7: the answer to a ping request; data: the request's timestamp. */
  PingResponse: 7,
} as const;
export type UserControlEvent = typeof UserControlEvent[keyof typeof UserControlEvent];

/** Set Peer Bandwidth limit types (5.4.5). */
export const PeerBandwidthLimit = {
  /** 5.4.5: limit output to the window size. */
  Hard: 0,
  /** 5.4.5: limit output to this window or the current one, whichever is smaller. */
  Soft: 1,
  /** 5.4.5: Hard if the previous limit was Hard, otherwise ignore. */
  Dynamic: 2,
} as const;
export type PeerBandwidthLimit = typeof PeerBandwidthLimit[keyof typeof PeerBandwidthLimit];

/** Largest Set Chunk Size value (5.4.1: 31 bits, the high bit must be zero). */
export const MAX_CHUNK_SIZE = 0x7fffffff;

/** A parsed protocol control message or user control event. */
export type Control =
  /** 5.4.1 */
  | { kind: "setChunkSize"; chunkSize: number }
  /** 5.4.2 */
  | { kind: "abort"; csid: number }
  /** 5.4.3 */
  | { kind: "acknowledgement"; sequenceNumber: number }
  /** 5.4.4 */
  | { kind: "windowAckSize"; windowSize: number }
  /** 5.4.5 */
  | { kind: "setPeerBandwidth"; windowSize: number; limitType: PeerBandwidthLimit }
  /** 7.1.7 */
  | { kind: "streamBegin"; streamId: number }
  | { kind: "streamEof"; streamId: number }
  | { kind: "streamDry"; streamId: number }
  | { kind: "setBufferLength"; streamId: number; bufferLength: number }
  | { kind: "streamIsRecorded"; streamId: number }
  | { kind: "pingRequest"; timestamp: number }
  | { kind: "pingResponse"; timestamp: number }
  /** A user control event type Sluice does not know (e.g. SWF verification, 26/27); `data` is a view. */
  | { kind: "unknownUserControl"; eventType: number; data: Uint8Array };

/** The message type ids {@linkcode parseControl} takes. */
export function isControlType(typeId: number): boolean {
  return typeId === MessageType.SetChunkSize || typeId === MessageType.Abort ||
    typeId === MessageType.Acknowledgement || typeId === MessageType.UserControl ||
    typeId === MessageType.WindowAckSize || typeId === MessageType.SetPeerBandwidth;
}

/**
 * Parses a protocol control message (types 1, 2, 3, 5, 6) or user control
 * message (type 4). A payload of the wrong length, a chunk size out of range
 * or an unknown bandwidth limit type throws ProtocolError; another message
 * type throws TypeError.
 */
export function parseControl(msg: RtmpMessage): Control {
  const p = msg.payload;
  const view = new DataView(p.buffer, p.byteOffset, p.byteLength);
  switch (msg.typeId) {
    case MessageType.SetChunkSize: {
      expectLength(p, 4, "Set Chunk Size");
      const chunkSize = view.getUint32(0);
      if (chunkSize > MAX_CHUNK_SIZE || chunkSize === 0) {
        throw new ProtocolError(
          "control_chunk_size",
          `Cannot set chunk size: current ${chunkSize}, allowed 1..${MAX_CHUNK_SIZE}`,
        );
      }
      return { kind: "setChunkSize", chunkSize };
    }
    case MessageType.Abort:
      expectLength(p, 4, "Abort");
      return { kind: "abort", csid: view.getUint32(0) };
    case MessageType.Acknowledgement:
      expectLength(p, 4, "Acknowledgement");
      return { kind: "acknowledgement", sequenceNumber: view.getUint32(0) };
    case MessageType.WindowAckSize:
      expectLength(p, 4, "Window Acknowledgement Size");
      return { kind: "windowAckSize", windowSize: view.getUint32(0) };
    case MessageType.SetPeerBandwidth: {
      expectLength(p, 5, "Set Peer Bandwidth");
      const limitType = p[4];
      if (limitType > PeerBandwidthLimit.Dynamic) {
        throw new ProtocolError(
          "control_limit_type",
          `Cannot read Set Peer Bandwidth: current limit type ${limitType}, allowed 0..2`,
        );
      }
      return {
        kind: "setPeerBandwidth",
        windowSize: view.getUint32(0),
        limitType: limitType as PeerBandwidthLimit,
      };
    }
    case MessageType.UserControl:
      return parseUserControl(p, view);
    default:
      throw new TypeError(`Cannot parse control message: current type id ${msg.typeId} is not 1..6`);
  }
}

function parseUserControl(p: Uint8Array, view: DataView): Control {
  if (p.length < 2) {
    throw new ProtocolError(
      "control_length",
      `Cannot read User Control event type: current payload ${p.length} bytes, need 2`,
    );
  }
  const eventType = view.getUint16(0);
  switch (eventType) {
    case UserControlEvent.StreamBegin:
      expectLength(p, 6, "StreamBegin");
      return { kind: "streamBegin", streamId: view.getUint32(2) };
    case UserControlEvent.StreamEof:
      expectLength(p, 6, "StreamEOF");
      return { kind: "streamEof", streamId: view.getUint32(2) };
    case UserControlEvent.StreamDry:
      expectLength(p, 6, "StreamDry");
      return { kind: "streamDry", streamId: view.getUint32(2) };
    case UserControlEvent.SetBufferLength:
      expectLength(p, 10, "SetBufferLength");
      return { kind: "setBufferLength", streamId: view.getUint32(2), bufferLength: view.getUint32(6) };
    case UserControlEvent.StreamIsRecorded:
      expectLength(p, 6, "StreamIsRecorded");
      return { kind: "streamIsRecorded", streamId: view.getUint32(2) };
    case UserControlEvent.PingRequest:
      expectLength(p, 6, "PingRequest");
      return { kind: "pingRequest", timestamp: view.getUint32(2) };
    case UserControlEvent.PingResponse:
      expectLength(p, 6, "PingResponse");
      return { kind: "pingResponse", timestamp: view.getUint32(2) };
    default:
      return { kind: "unknownUserControl", eventType, data: p.subarray(2) };
  }
}

function expectLength(p: Uint8Array, length: number, what: string): void {
  if (p.length !== length) {
    throw new ProtocolError(
      "control_length",
      `Cannot read ${what}: current payload ${p.length} bytes, expected ${length}`,
    );
  }
}

/** Builds the message for any {@linkcode Control} value (the inverse of {@linkcode parseControl}). */
export function encodeControl(control: Control, timestamp = 0): RtmpMessage {
  switch (control.kind) {
    case "setChunkSize":
      return setChunkSize(control.chunkSize, timestamp);
    case "abort":
      return abort(control.csid, timestamp);
    case "acknowledgement":
      return acknowledgement(control.sequenceNumber, timestamp);
    case "windowAckSize":
      return windowAckSize(control.windowSize, timestamp);
    case "setPeerBandwidth":
      return setPeerBandwidth(control.windowSize, control.limitType, timestamp);
    case "streamBegin":
      return streamBegin(control.streamId, timestamp);
    case "streamEof":
      return streamEof(control.streamId, timestamp);
    case "streamDry":
      return streamDry(control.streamId, timestamp);
    case "setBufferLength":
      return setBufferLength(control.streamId, control.bufferLength, timestamp);
    case "streamIsRecorded":
      return streamIsRecorded(control.streamId, timestamp);
    case "pingRequest":
      return pingRequest(control.timestamp, timestamp);
    case "pingResponse":
      return pingResponse(control.timestamp, timestamp);
    case "unknownUserControl": {
      const payload = new Uint8Array(2 + control.data.length);
      new DataView(payload.buffer).setUint16(0, u16(control.eventType, "user control event type"));
      payload.set(control.data, 2);
      return message(MessageType.UserControl, payload, timestamp);
    }
  }
}

/** 5.4.1 Set Chunk Size: `size` must be 1..0x7FFFFFFF. */
export function setChunkSize(size: number, timestamp = 0): RtmpMessage {
  if (!Number.isInteger(size) || size < 1 || size > MAX_CHUNK_SIZE) {
    throw new RangeError(`Cannot build Set Chunk Size: current ${size}, allowed 1..${MAX_CHUNK_SIZE}`);
  }
  return u32Message(MessageType.SetChunkSize, size, timestamp);
}

/** 5.4.2 Abort Message: drop the partly received message on chunk stream `csid`. */
export function abort(csid: number, timestamp = 0): RtmpMessage {
  return u32Message(MessageType.Abort, u32(csid, "chunk stream id"), timestamp);
}

/** 5.4.3 Acknowledgement: the bytes received so far (wraps at 2^32). */
export function acknowledgement(sequenceNumber: number, timestamp = 0): RtmpMessage {
  return u32Message(MessageType.Acknowledgement, u32(sequenceNumber, "sequence number"), timestamp);
}

/** 5.4.4 Window Acknowledgement Size: acknowledge after this many bytes. */
export function windowAckSize(windowSize: number, timestamp = 0): RtmpMessage {
  return u32Message(MessageType.WindowAckSize, u32(windowSize, "window size"), timestamp);
}

/** 5.4.5 Set Peer Bandwidth. */
export function setPeerBandwidth(
  windowSize: number,
  limitType: PeerBandwidthLimit,
  timestamp = 0,
): RtmpMessage {
  if (limitType !== 0 && limitType !== 1 && limitType !== 2) {
    throw new RangeError(`Cannot build Set Peer Bandwidth: current limit type ${limitType}, allowed 0..2`);
  }
  const payload = new Uint8Array(5);
  new DataView(payload.buffer).setUint32(0, u32(windowSize, "window size"));
  payload[4] = limitType;
  return message(MessageType.SetPeerBandwidth, payload, timestamp);
}

/** 7.1.7 StreamBegin. */
export function streamBegin(streamId: number, timestamp = 0): RtmpMessage {
  return userControl(UserControlEvent.StreamBegin, [u32(streamId, "stream id")], timestamp);
}

/** 7.1.7 StreamEOF. */
export function streamEof(streamId: number, timestamp = 0): RtmpMessage {
  return userControl(UserControlEvent.StreamEof, [u32(streamId, "stream id")], timestamp);
}

/** 7.1.7 StreamDry. */
export function streamDry(streamId: number, timestamp = 0): RtmpMessage {
  return userControl(UserControlEvent.StreamDry, [u32(streamId, "stream id")], timestamp);
}

/** 7.1.7 SetBufferLength (client to server): buffer length in milliseconds. */
export function setBufferLength(streamId: number, bufferLength: number, timestamp = 0): RtmpMessage {
  return userControl(
    UserControlEvent.SetBufferLength,
    [u32(streamId, "stream id"), u32(bufferLength, "buffer length")],
    timestamp,
  );
}

/** 7.1.7 StreamIsRecorded. */
export function streamIsRecorded(streamId: number, timestamp = 0): RtmpMessage {
  return userControl(UserControlEvent.StreamIsRecorded, [u32(streamId, "stream id")], timestamp);
}

/** 7.1.7 PingRequest: `pingTimestamp` is the server's local time, echoed by the response. */
export function pingRequest(pingTimestamp: number, timestamp = 0): RtmpMessage {
  return userControl(UserControlEvent.PingRequest, [u32(pingTimestamp, "ping timestamp")], timestamp);
}

/** 7.1.7 PingResponse: echoes the request's timestamp. */
export function pingResponse(pingTimestamp: number, timestamp = 0): RtmpMessage {
  return userControl(UserControlEvent.PingResponse, [u32(pingTimestamp, "ping timestamp")], timestamp);
}

function userControl(event: UserControlEvent, fields: number[], timestamp: number): RtmpMessage {
  const payload = new Uint8Array(2 + 4 * fields.length);
  const view = new DataView(payload.buffer);
  view.setUint16(0, event);
  fields.forEach((v, i) => view.setUint32(2 + 4 * i, v));
  return message(MessageType.UserControl, payload, timestamp);
}

function u32Message(typeId: MessageType, value: number, timestamp: number): RtmpMessage {
  const payload = new Uint8Array(4);
  new DataView(payload.buffer).setUint32(0, value);
  return message(typeId, payload, timestamp);
}

function message(typeId: MessageType, payload: Uint8Array, timestamp: number): RtmpMessage {
  return {
    csid: ChunkStreamId.Control,
    typeId,
    streamId: 0,
    timestamp: u32(timestamp, "timestamp"),
    payload,
  };
}

function u32(v: number, what: string): number {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) {
    throw new RangeError(`Cannot build control message: current ${what} ${v}, allowed 0..4294967295`);
  }
  return v;
}

function u16(v: number, what: string): number {
  if (!Number.isInteger(v) || v < 0 || v > 0xffff) {
    throw new RangeError(`Cannot build control message: current ${what} ${v}, allowed 0..65535`);
  }
  return v;
}
