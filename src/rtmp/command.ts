/**
 * Command messages (Adobe RTMP Specification 1.0, 7.1.1 and 7.2) and data
 * messages (7.1.2): decoding what peers send, and encoding what the server
 * answers.
 *
 * Both AMF0 forms (types 20 and 18) and both AMF3 forms (types 17 and 15)
 * decode through {@linkcode unwrapAmf3Payload}: an AMF3 command or data
 * message is a 0x00 format byte followed by AMF0 values, any of which may
 * switch to AMF3 with the 0x11 marker. Responses are always AMF0 on type 20,
 * even to clients that connected with `objectEncoding: 3`; nginx-rtmp does the
 * same (its connect `_result` goes out as an AMF0 command and only echoes the
 * client's objectEncoding in the info object), and Flash-era clients accept it.
 *
 * @module
 */

import { type AmfLimits, decodeAmf0, encodeAmf0 } from "../amf/amf0.ts";
import { type AmfObject, type AmfValue, EcmaArray } from "../amf/value.ts";
import { ChunkStreamId, MessageType, type RtmpMessage } from "./message.ts";
import { ProtocolError } from "../errors.ts";

/** Command names Sluice handles or sends (RTMP spec 7.2, plus the de facto ones encoders use). */
export const CommandName = {
  /** 7.2.1.1 */
  Connect: "connect",
  /** 7.2.1.2: a call with no handler gets `_error`. */
  Call: "call",
  /** 7.2.1.3 */
  CreateStream: "createStream",
  /** 7.2.2.1 */
  Play: "play",
  /** 7.2.2.2 */
  Play2: "play2",
  /** 7.2.2.3 */
  DeleteStream: "deleteStream",
  /** 7.2.2.4 */
  ReceiveAudio: "receiveAudio",
  /** 7.2.2.5 */
  ReceiveVideo: "receiveVideo",
  /** 7.2.2.6 */
  Publish: "publish",
  /** 7.2.2.7 */
  Seek: "seek",
  /** 7.2.2.8 */
  Pause: "pause",
  /** Not in the spec: ffmpeg and librtmp send it when they stop a stream. */
  CloseStream: "closeStream",
  /** Not in the spec (FMS): sent by OBS and ffmpeg before publishing. */
  ReleaseStream: "releaseStream",
  /** Not in the spec (FMS): sent by OBS and ffmpeg before publishing. */
  FcPublish: "FCPublish",
  /** Not in the spec (FMS): sent by OBS and ffmpeg when they stop publishing. */
  FcUnpublish: "FCUnpublish",
  /** Not in the spec (FMS): players ask a stream's duration. */
  GetStreamLength: "getStreamLength",
  /** 7.2.1.1: the success answer to a call. */
  Result: "_result",
  /** 7.2.1.1: the failure answer to a call. */
  Error: "_error",
  /** 7.2.2: status events on a stream or the connection. */
  OnStatus: "onStatus",
  /** Not in the spec (FMS): bandwidth check done, sent after connect. */
  OnBwDone: "onBWDone",
  /** Not in the spec (FMS): answer to FCPublish. */
  OnFcPublish: "onFCPublish",
} as const;
export type CommandName = typeof CommandName[keyof typeof CommandName];

/** Data message names (7.1.2; the FLV script data names). */
export const DataName = {
  /** A publisher's wrapper: "store this data frame for players"; its second value is the real name. */
  SetDataFrame: "@setDataFrame",
  /** A publisher's wrapper: "forget the stored data frame". */
  ClearDataFrame: "@clearDataFrame",
  /** Stream metadata (width, height, codecs, ...). */
  OnMetaData: "onMetaData",
  /** Sent to players so that Flash allows raw access to audio and video. */
  RtmpSampleAccess: "|RtmpSampleAccess",
} as const;
export type DataName = typeof DataName[keyof typeof DataName];

/** The `level` of a status info object (7.2.1.1, 7.2.2). */
export const StatusLevel = {
  Status: "status",
  Warning: "warning",
  Error: "error",
} as const;
export type StatusLevel = typeof StatusLevel[keyof typeof StatusLevel];

/** Status `code` strings (7.2.1.1, 7.2.2 and the NetStatusEvent codes of Flash). */
export const StatusCode = {
  /** 7.2.1.1: connect succeeded. */
  ConnectSuccess: "NetConnection.Connect.Success",
  /** 7.2.1.1: connect refused (bad app, bad credentials). */
  ConnectRejected: "NetConnection.Connect.Rejected",
  /** Connect failed. */
  ConnectFailed: "NetConnection.Connect.Failed",
  /** The server closed the connection. */
  ConnectClosed: "NetConnection.Connect.Closed",
  /** A call has no handler. */
  CallFailed: "NetConnection.Call.Failed",
  /** 7.2.2.6: publishing started. */
  PublishStart: "NetStream.Publish.Start",
  /** 7.2.2.6: the stream name is already published or not allowed. */
  PublishBadName: "NetStream.Publish.BadName",
  /** 7.2.2.6: the stream stopped being published. */
  UnpublishSuccess: "NetStream.Unpublish.Success",
  /** 7.2.2.1: a playlist was reset before play started. */
  PlayReset: "NetStream.Play.Reset",
  /** 7.2.2.1: playback started. */
  PlayStart: "NetStream.Play.Start",
  /** 7.2.2.1: playback stopped. */
  PlayStop: "NetStream.Play.Stop",
  /** 7.2.2.1: the stream does not exist. */
  PlayStreamNotFound: "NetStream.Play.StreamNotFound",
  /** Playback failed for another reason. */
  PlayFailed: "NetStream.Play.Failed",
  /** The publisher of a stream being played stopped. */
  PlayUnpublishNotify: "NetStream.Play.UnpublishNotify",
  /** A publisher started on a stream being played. */
  PlayPublishNotify: "NetStream.Play.PublishNotify",
  /** 7.2.2.7: seek done. */
  SeekNotify: "NetStream.Seek.Notify",
  /** Seek refused (live streams). */
  SeekFailed: "NetStream.Seek.Failed",
  /** 7.2.2.8: paused. */
  PauseNotify: "NetStream.Pause.Notify",
  /** 7.2.2.8: resumed. */
  UnpauseNotify: "NetStream.Unpause.Notify",
  /** A stream-level failure with no better code. */
  StreamFailed: "NetStream.Failed",
} as const;
export type StatusCode = typeof StatusCode[keyof typeof StatusCode];

/** A decoded command message. */
export interface Command {
  /** The procedure name, e.g. "connect" (see {@linkcode CommandName}). */
  name: string;
  /** The transaction id; 0 when the sender expects no answer. */
  transactionId: number;
  /** The command object: connect's properties, or `null` for most stream commands. */
  commandObject: AmfValue;
  /** The optional arguments after the command object. */
  args: AmfValue[];
}

/** A decoded data message. */
export interface DataMessage {
  /** The data name, e.g. "onMetaData"; for an @setDataFrame wrapper, the wrapped name. */
  name: string;
  /** True when the sender wrapped the data in @setDataFrame (a publisher storing metadata). */
  setDataFrame: boolean;
  /** The values after the name. */
  args: AmfValue[];
}

/** The format byte that starts an AMF3 command or data payload (7.1.1, 7.1.2). */
const AMF3_FORMAT_AMF0 = 0x00;

/**
 * Decodes the values of a command or data message payload of any form:
 * types 20 and 18 are AMF0; types 17 and 15 start with a 0x00 format byte
 * (skipped; if it is missing the payload is read as AMF0 from the start),
 * then AMF0 values in which 0x11 switches one value to AMF3.
 * Throws TypeError for any other type id, ProtocolError for bad bytes.
 */
export function unwrapAmf3Payload(
  typeId: number,
  payload: Uint8Array,
  limits?: Partial<AmfLimits>,
): AmfValue[] {
  switch (typeId) {
    case MessageType.CommandAmf0:
    case MessageType.DataAmf0:
      return decodeAmf0(payload, limits);
    case MessageType.CommandAmf3:
    case MessageType.DataAmf3: {
      const start = payload.length > 0 && payload[0] === AMF3_FORMAT_AMF0 ? 1 : 0;
      return decodeAmf0(payload.subarray(start), limits);
    }
    default:
      throw new TypeError(
        `Cannot unwrap AMF payload: current type id ${typeId} is not a command or data type`,
      );
  }
}

/**
 * Decodes a command message (types 20 and 17). The first value must be the
 * name (a string); a missing transaction id reads as 0 and a missing command
 * object as `null`. Throws TypeError for another message type, ProtocolError
 * for bad bytes or a missing name.
 */
export function decodeCommand(msg: RtmpMessage, limits?: Partial<AmfLimits>): Command {
  if (msg.typeId !== MessageType.CommandAmf0 && msg.typeId !== MessageType.CommandAmf3) {
    throw new TypeError(`Cannot decode command: current type id ${msg.typeId} is not 20 or 17`);
  }
  const values = unwrapAmf3Payload(msg.typeId, msg.payload, limits);
  const name = values[0];
  if (typeof name !== "string") {
    throw new ProtocolError(
      "command_name",
      `Cannot decode command: current first value is ${kindOf(name)}, expected a string name`,
    );
  }
  const transactionId = values.length > 1 ? values[1] : 0;
  if (typeof transactionId !== "number") {
    throw new ProtocolError(
      "command_transaction",
      `Cannot decode command ${name}: current transaction id is ${kindOf(transactionId)}, expected a number`,
    );
  }
  return {
    name,
    transactionId,
    commandObject: values.length > 2 ? values[2] : null,
    args: values.slice(3),
  };
}

/**
 * Decodes a data message (types 18 and 15). An `@setDataFrame` wrapper is
 * removed: `name` is then the wrapped name (usually onMetaData) and
 * `setDataFrame` is true. Throws TypeError for another message type,
 * ProtocolError for bad bytes or a missing name.
 */
export function decodeData(msg: RtmpMessage, limits?: Partial<AmfLimits>): DataMessage {
  if (msg.typeId !== MessageType.DataAmf0 && msg.typeId !== MessageType.DataAmf3) {
    throw new TypeError(`Cannot decode data message: current type id ${msg.typeId} is not 18 or 15`);
  }
  return splitDataValues(unwrapAmf3Payload(msg.typeId, msg.payload, limits));
}

/** The name, wrapper flag and values of a data message's decoded values (see decodeData). */
function splitDataValues(values: AmfValue[]): DataMessage {
  const first = values[0];
  if (typeof first !== "string") {
    throw new ProtocolError(
      "data_name",
      `Cannot decode data message: current first value is ${kindOf(first)}, expected a string name`,
    );
  }
  if (first !== DataName.SetDataFrame) return { name: first, setDataFrame: false, args: values.slice(1) };
  const name = values[1];
  if (typeof name !== "string") {
    throw new ProtocolError(
      "data_name",
      `Cannot decode @setDataFrame: current second value is ${kindOf(name)}, expected a string name`,
    );
  }
  return { name, setDataFrame: true, args: values.slice(2) };
}

/** A publisher's data message as players get it (see {@linkcode normalizeData}). */
export interface PlayerData {
  /** An AMF0 data payload (type 18): the name, then the values, with no `@setDataFrame` wrapper. */
  readonly payload: Uint8Array;
  /** The data is `onMetaData`: the stream keeps it and sends it first to every player that joins. */
  readonly metadata: boolean;
}

/** Options for {@linkcode normalizeData}. */
export interface NormalizeDataOptions {
  /** Decoding limits (AMF nesting, sizes). */
  readonly limits?: Partial<AmfLimits>;
  /**
   * Keys removed from an onMetaData object or ECMA array, e.g. `duration` and `filesize` of an FLV file
   * played out as a live stream. Default none.
   */
  readonly omitKeys?: readonly string[];
}

/**
 * Turns a publisher's data message (an RTMP type 18 or 15 payload, or the
 * body of an FLV script data tag, which is type 18) into what players expect:
 *
 * - `@setDataFrame, onMetaData, {...}` and a bare `onMetaData, {...}`, in AMF0
 *   or AMF3, become the AMF0 payload `onMetaData, {...}` with `metadata` true;
 * - another AMF0 data message passes through byte for byte, or without its
 *   `@setDataFrame` wrapper when it has one;
 * - `@clearDataFrame` (an instruction to the server) and other AMF3 data
 *   messages give `undefined`: players get nothing.
 *
 * Throws TypeError for a type id that is not 18 or 15, ProtocolError for bad bytes or a missing name.
 */
export function normalizeData(
  typeId: number,
  payload: Uint8Array,
  options: NormalizeDataOptions = {},
): PlayerData | undefined {
  if (typeId !== MessageType.DataAmf0 && typeId !== MessageType.DataAmf3) {
    throw new TypeError(`Cannot normalize data message: current type id ${typeId} is not 18 or 15`);
  }
  const data = splitDataValues(unwrapAmf3Payload(typeId, payload, options.limits));
  if (data.name === DataName.OnMetaData) {
    const omit = options.omitKeys ?? [];
    const args = omit.length === 0 ? data.args : data.args.map((v) => withoutKeys(v, omit));
    return { payload: encodeData(DataName.OnMetaData, ...args), metadata: true };
  }
  if (data.name === DataName.ClearDataFrame || typeId !== MessageType.DataAmf0) return undefined;
  return { payload: data.setDataFrame ? encodeData(data.name, ...data.args) : payload, metadata: false };
}

/** `value` without `keys` when it is an anonymous object or an ECMA array; otherwise `value` itself. */
function withoutKeys(value: AmfValue, keys: readonly string[]): AmfValue {
  const drop = (o: AmfObject): AmfObject =>
    Object.fromEntries(Object.entries(o).filter(([k]) => !keys.includes(k)));
  if (value instanceof EcmaArray) return new EcmaArray(drop(value.properties));
  if (value !== null && typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
    return drop(value as AmfObject);
  }
  return value;
}

/** Encodes a command payload (AMF0, for type 20): name, transaction id, command object, args. */
export function encodeCommand(
  name: string,
  transactionId: number,
  commandObject: AmfValue,
  ...args: AmfValue[]
): Uint8Array {
  return encodeAmf0(name, transactionId, commandObject, ...args);
}

/** Encodes a data payload (AMF0, for type 18): name then values, e.g. `encodeData("onMetaData", meta)`. */
export function encodeData(name: string, ...args: AmfValue[]): Uint8Array {
  return encodeAmf0(name, ...args);
}

/** Builds a status info object: `{ level, code, description, ...extra }`. */
export function statusInfo(
  level: StatusLevel,
  code: StatusCode | string,
  description: string,
  extra?: AmfObject,
): AmfObject {
  return { level, code, description, ...extra };
}

/** What a server tells a client about itself in connect's `_result` (7.2.1.1). */
export interface ConnectResultOptions {
  /** The server version string. Default "FMS/3,0,1,123", which players and encoders recognize. */
  fmsVer?: string;
  /** Capability bits. Default 31, as FMS 3 and nginx-rtmp. */
  capabilities?: number;
  /** Connection mode. Default 1. */
  mode?: number;
  /** The objectEncoding the client asked for (0 or 3); echoed in the info object. Default 0. */
  objectEncoding?: number;
  /** Description in the info object. Default "Connection succeeded." */
  description?: string;
  /** More info object fields (e.g. `data: new EcmaArray({ version: "..." })`). */
  extra?: AmfObject;
}

/** Encodes connect's `_result` (7.2.1.1): server properties, then NetConnection.Connect.Success. */
export function encodeConnectResult(transactionId: number, options: ConnectResultOptions = {}): Uint8Array {
  const properties: AmfObject = {
    fmsVer: options.fmsVer ?? "FMS/3,0,1,123",
    capabilities: options.capabilities ?? 31,
    mode: options.mode ?? 1,
  };
  const info = statusInfo(
    StatusLevel.Status,
    StatusCode.ConnectSuccess,
    options.description ?? "Connection succeeded.",
    { objectEncoding: options.objectEncoding ?? 0, ...options.extra },
  );
  return encodeCommand(CommandName.Result, transactionId, properties, info);
}

/** Encodes `_result` for a call: `encodeResult(tid, null, streamId)` answers createStream. */
export function encodeResult(
  transactionId: number,
  commandObject: AmfValue,
  ...args: AmfValue[]
): Uint8Array {
  return encodeCommand(CommandName.Result, transactionId, commandObject, ...args);
}

/** Encodes `_error` for a call, with an info object (usually from {@linkcode statusInfo}). */
export function encodeError(transactionId: number, info: AmfObject): Uint8Array {
  return encodeCommand(CommandName.Error, transactionId, null, info);
}

/** Encodes `onStatus` (7.2.2): transaction id 0, null command object, the info object. */
export function encodeOnStatus(info: AmfObject): Uint8Array {
  return encodeCommand(CommandName.OnStatus, 0, null, info);
}

// ---- whole messages: what the server session, the client and RTMP VOD send (one copy for all three)

/** A command message (type 20) on the command chunk stream; timestamp 0. */
export function commandMessage(streamId: number, payload: Uint8Array): RtmpMessage {
  return { csid: ChunkStreamId.Command, typeId: MessageType.CommandAmf0, streamId, timestamp: 0, payload };
}

/** An `onStatus` command message on `streamId`: `{ level, code, description, ...extra }`. */
export function statusMessage(
  streamId: number,
  level: StatusLevel,
  code: StatusCode | string,
  description: string,
  extra?: AmfObject,
): RtmpMessage {
  return commandMessage(streamId, encodeOnStatus(statusInfo(level, code, description, extra)));
}

/** A data message (type 18) on the data chunk stream, e.g. `|RtmpSampleAccess` or onMetaData. */
export function dataMessage(streamId: number, payload: Uint8Array, timestamp = 0): RtmpMessage {
  return { csid: ChunkStreamId.Data, typeId: MessageType.DataAmf0, streamId, timestamp, payload };
}

function kindOf(v: AmfValue): string {
  if (v === null) return "null";
  if (v === undefined) return "missing or undefined";
  if (Array.isArray(v)) return "an array";
  if (typeof v === "object") return v.constructor?.name ?? "an object";
  return `a ${typeof v}`;
}
