/**
 * Status events as Sluice's client reads them from `onStatus` and `_error`
 * (RTMP 1.0, 7.2.1.1 and 7.2.2), and the error a refused command rejects with.
 *
 * @module
 */
import { type AmfObject, type AmfValue, EcmaArray } from "../../amf/value.ts";

/** A status info object from `onStatus` or `_error` (7.2.1.1, 7.2.2). */
export interface StatusEvent {
  type: "status";
  /** e.g. "NetStream.Play.Start" (see StatusCode). */
  code: string;
  /** "status", "warning" or "error". */
  level: string;
  description: string;
  /** The whole info object. */
  info: AmfObject;
}

/** The server answered a command with an error status (`_error`, or `onStatus` with level "error"). */
export class RtmpStatusError extends Error {
  /** e.g. "NetStream.Publish.BadName". */
  readonly code: string;
  readonly level: string;
  readonly description: string;

  constructor(what: string, status: StatusEvent, options?: ErrorOptions) {
    super(`Cannot ${what}: current status ${status.code} (${status.description})`, options);
    this.name = "RtmpStatusError";
    this.code = status.code;
    this.level = status.level;
    this.description = status.description;
  }
}

/** A status event from an info object (or an ECMA array, as some servers send); missing fields read as "". */
export function statusOf(value: AmfValue): StatusEvent {
  let info: AmfObject = {};
  if (value instanceof EcmaArray) info = value.properties;
  else if (value !== null && typeof value === "object") {
    const proto = Object.getPrototypeOf(value);
    if (proto === Object.prototype || proto === null) info = value as AmfObject;
  }
  const str = (v: AmfValue) => typeof v === "string" ? v : "";
  return {
    type: "status",
    code: str(info.code),
    level: str(info.level),
    description: str(info.description),
    info,
  };
}

/** What publishers and players share of their connection (RtmpClient implements it). */
export interface ClientChannel {
  readonly closed: boolean;
  /** Why the connection ended; "" while open. */
  readonly closeReason: string;
  /** Resolves with the close reason once the connection has ended. */
  readonly done: Promise<string>;
  /** The local end of the socket. */
  readonly localAddr: Deno.NetAddr;
  /** Sends a command with transaction id 0 (FCUnpublish, deleteStream). */
  sendStreamCommand(streamId: number, name: string, ...args: (string | number)[]): Promise<void>;
  close(): Promise<void>;
}
