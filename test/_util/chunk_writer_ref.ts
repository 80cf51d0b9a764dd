/**
 * The pure-TypeScript twin of `src/wasm/chunk_writer.ts`: the same API and
 * byte-for-byte the same output, written plainly.
 *
 * @module
 */
import type { RtmpMessage } from "../../src/rtmp/message.ts";
import type { HeaderForm } from "../../src/wasm/chunk_writer.ts";
import { abi } from "../../src/wasm/module.ts";

export type { HeaderForm };

/** 5.3.1.1: chunk stream ids: 1-byte form below 64, 2-byte form below 320, 3-byte form up to 65599. */
const MIN_CSID = 2;
const TWO_BYTE_CSID = 64;
const THREE_BYTE_CSID = 320;
const MAX_CSID = 65599;
/** 5.3.1.2: the largest message length a 3-byte field holds. */
const MAX_LENGTH_FIELD = 0xffffff;
/** 5.3.1.3: a timestamp (or delta) from this value up goes in the 4-byte extended field. */
const EXTENDED_MARK = 0xffffff;
/** 5.3.1.2: type 0 and type 1 message header sizes. */
const MESSAGE_HEADER_BYTES: Record<HeaderForm, number> = { full: 11, delta: 7 };
/** 5.3.1.2: chunk formats. */
const FMT = { full: 0, delta: 1, continuation: 3 } as const;

/** Bytes `encodeMessage()` writes for a payload of `payloadLength` bytes. */
export function chunkedLength(
  payloadLength: number,
  chunkSize: number,
  csid: number,
  form: HeaderForm,
  extended: boolean,
): number {
  const perChunk = basicHeaderLength(csid) + (extended ? 4 : 0);
  const chunks = payloadLength === 0 ? 1 : Math.ceil(payloadLength / chunkSize);
  return payloadLength + MESSAGE_HEADER_BYTES[form] + chunks * perChunk;
}

/** Packs one message into chunks of `chunkSize` payload bytes; returns a new array the caller owns. */
export function encodeMessage(
  msg: RtmpMessage,
  chunkSize: number,
  form: HeaderForm = "full",
  prevTimestamp = 0,
): Uint8Array {
  checkEncodeArgs(msg, chunkSize, form);
  const { payload, csid } = msg;
  const field = (form === "full" ? msg.timestamp : msg.timestamp - prevTimestamp) >>> 0;
  const extended = field >= EXTENDED_MARK;
  const out = new Uint8Array(chunkedLength(payload.length, chunkSize, csid, form, extended));
  const view = new DataView(out.buffer);
  let at = writeBasicHeader(out, 0, FMT[form], csid);
  writeU24(out, at, Math.min(field, EXTENDED_MARK));
  writeU24(out, at + 3, payload.length);
  out[at + 6] = msg.typeId;
  at += 7;
  if (form === "full") {
    view.setUint32(at, msg.streamId >>> 0, true);
    at += 4;
  }
  for (let off = 0; off === 0 || off < payload.length; off += chunkSize) {
    if (off > 0) at = writeBasicHeader(out, at, FMT.continuation, csid);
    if (extended) {
      view.setUint32(at, field);
      at += 4;
    }
    const piece = payload.subarray(off, off + chunkSize);
    out.set(piece, at);
    at += piece.length;
  }
  return out;
}

function writeU24(out: Uint8Array, at: number, v: number): void {
  out[at] = v >>> 16;
  out[at + 1] = v >>> 8;
  out[at + 2] = v;
}

function basicHeaderLength(csid: number): number {
  return csid < TWO_BYTE_CSID ? 1 : csid < THREE_BYTE_CSID ? 2 : 3;
}

function writeBasicHeader(out: Uint8Array, at: number, fmt: number, csid: number): number {
  switch (basicHeaderLength(csid)) {
    case 1:
      out[at] = fmt << 6 | csid;
      return at + 1;
    case 2:
      out[at] = fmt << 6;
      out[at + 1] = csid - TWO_BYTE_CSID;
      return at + 2;
    default:
      out[at] = fmt << 6 | 1;
      out[at + 1] = (csid - TWO_BYTE_CSID) & 0xff;
      out[at + 2] = (csid - TWO_BYTE_CSID) >> 8;
      return at + 3;
  }
}

function checkEncodeArgs(msg: RtmpMessage, chunkSize: number, form: HeaderForm): void {
  if (!Number.isInteger(chunkSize) || chunkSize < 1 || chunkSize > abi.MAX_CHUNK_SIZE) {
    throw new RangeError(`Cannot encode with chunk size ${chunkSize}: allowed 1..${abi.MAX_CHUNK_SIZE}`);
  }
  if (!Number.isInteger(msg.csid) || msg.csid < MIN_CSID || msg.csid > MAX_CSID) {
    throw new RangeError(`Cannot encode on chunk stream ${msg.csid}: allowed ${MIN_CSID}..${MAX_CSID}`);
  }
  if (!Number.isInteger(msg.typeId) || msg.typeId < 0 || msg.typeId > 0xff) {
    throw new RangeError(`Cannot encode message type ${msg.typeId}: allowed 0..255`);
  }
  if (msg.payload.length > MAX_LENGTH_FIELD) {
    throw new RangeError(`Cannot encode a message of ${msg.payload.length} bytes: limit ${MAX_LENGTH_FIELD}`);
  }
  if (form !== "full" && form !== "delta") {
    throw new TypeError(`Cannot encode with header form ${form}: use "full" or "delta"`);
  }
}
