/**
 * The pure-TypeScript twin of `src/wasm/chunk_writer.ts`: the same API and
 * byte-for-byte the same output, written plainly.
 *
 * @module
 */
import type { RtmpMessage } from "../../src/rtmp/message.ts";
import { checkEncodeArgs, type HeaderForm } from "../../src/wasm/chunk_writer.ts";

export type { HeaderForm };

/** 5.3.1.1: chunk stream ids: 1-byte form below 64, 2-byte form below 320, 3-byte form up to 65599. */
const TWO_BYTE_CSID = 64;
const THREE_BYTE_CSID = 320;
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
