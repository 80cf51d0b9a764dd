/**
 * RTMP chunk mux (Adobe RTMP Specification 1.0, 5.3) on the process-wide
 * `codec` instance. The packer is `wasm/assembly/chunk_write.ts`; its
 * pure-TypeScript twin, with the same API and output, is
 * `test/_util/chunk_writer_ref.ts`.
 *
 * One copy in (the payload, right-aligned in the CODEC_OUT region), one pass
 * in WASM that moves it down in place as the chunk headers go in, one copy out.
 *
 * @module
 */
import type { ChunkMessage } from "./chunk_reader.ts";
import { abi, codec } from "./module.ts";

/**
 * The first chunk's header (5.3.1.2): "full" is a type 0 header (timestamp,
 * length, type, message stream id); "delta" is a type 1 header (timestamp
 * delta, length, type), for a message on the same message stream id as the
 * previous one on its chunk stream.
 */
export type HeaderForm = "full" | "delta";

const A = abi as Readonly<Record<string, number>>;
const OUT_PTR = A.CODEC_OUT_PTR;
const OUT_SIZE = A.CODEC_OUT_SIZE;
/** 5.3.1.1: chunk stream ids: 1-byte form below 64, 2-byte form below 320, 3-byte form up to 65599. */
const MIN_CSID = 2;
const TWO_BYTE_CSID = 64;
const THREE_BYTE_CSID = 320;
const MAX_CSID = 65599;
/** 5.3.1.2: the largest message length a 3-byte field holds. */
const MAX_LENGTH_FIELD = 0xffffff;
/** 5.3.1.3: a timestamp (or delta) from this value up goes in the 4-byte extended field. */
const EXTENDED_MARK = 0xffffff;
/** The largest header a chunk can carry: a 3-byte basic header, a type 0 header, an extended timestamp. */
const MAX_HEADER = 3 + 11 + 4;
/** 5.3.1.2: the format bits of the first chunk's header for each form. */
const FORMAT: Record<HeaderForm, number> = { full: 0, delta: 1 };

/**
 * Bytes that `encodeMessage()` writes for a payload of `payloadLength` bytes:
 * the first chunk's header, then a type 3 basic header (and extended timestamp)
 * per further chunk.
 */
export function chunkedLength(
  payloadLength: number,
  chunkSize: number,
  csid: number,
  form: HeaderForm,
  extended: boolean,
): number {
  const basic = csid < TWO_BYTE_CSID ? 1 : csid < THREE_BYTE_CSID ? 2 : 3;
  const ext = extended ? 4 : 0;
  const chunks = Math.max(1, Math.ceil(payloadLength / chunkSize));
  return payloadLength + basic + (form === "full" ? 11 : 7) + ext + (chunks - 1) * (basic + ext);
}

/**
 * Packs one message into chunks of `chunkSize` payload bytes. "full" writes a
 * type 0 header, "delta" a type 1 header with `msg.timestamp - prevTimestamp`
 * (mod 2^32); later chunks get type 3 headers. A timestamp or delta of
 * 0xFFFFFF or more goes in an extended timestamp after the header and after
 * every type 3 basic header. Returns a new array the caller owns.
 */
export function encodeMessage(
  msg: ChunkMessage,
  chunkSize: number,
  form: HeaderForm = "full",
  prevTimestamp = 0,
): Uint8Array {
  checkEncodeArgs(msg, chunkSize, form);
  const { payload, csid, typeId } = msg;
  const length = payload.length;
  const fmt = FORMAT[form];
  const field = (form === "full" ? msg.timestamp : msg.timestamp - prevTimestamp) >>> 0;
  const streamId = msg.streamId >>> 0;
  const total = chunkedLength(length, chunkSize, csid, form, field >= EXTENDED_MARK);
  const { exports: ex, u8 } = codec();
  if (total <= OUT_SIZE) {
    // Right-aligned in the output region: chunkEncode moves it down as the headers go in.
    const inAt = total - length;
    u8.set(payload, OUT_PTR + inAt);
    const n = ex.chunkEncode(inAt, length, 0, length, chunkSize, csid, fmt, typeId, streamId, field);
    if (n !== total) throw new RangeError(`Cannot encode a message: status ${n}, expected ${total} bytes`);
    return u8.slice(OUT_PTR, OUT_PTR + n);
  }
  // Too big for the region in one call: pack it in pieces whose output is sure to fit.
  const out = new Uint8Array(total);
  const piece = Math.floor((OUT_SIZE - 2 * MAX_HEADER) / (1 + MAX_HEADER / chunkSize));
  let written = 0;
  for (let off = 0; off < length; off += piece) {
    const len = Math.min(piece, length - off);
    const inAt = OUT_SIZE - len;
    u8.set(payload.subarray(off, off + len), OUT_PTR + inAt);
    const n = ex.chunkEncode(inAt, len, off, length, chunkSize, csid, fmt, typeId, streamId, field);
    if (n < 0) throw new RangeError(`Cannot encode a message: status ${n}`);
    out.set(u8.subarray(OUT_PTR, OUT_PTR + n), written);
    written += n;
  }
  return out;
}

/** Throws RangeError for arguments the chunk format cannot carry (shared with the TypeScript twin). */
export function checkEncodeArgs(msg: ChunkMessage, chunkSize: number, form: HeaderForm): void {
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
