// RTMP chunk mux (Adobe RTMP Specification 1.0, section 5.3) for the codec
// role. The host is src/wasm/chunk_writer.ts; its pure-TypeScript twin is
// test/_util/chunk_writer_ref.ts.
//
//   chunkEncode(inAt, pieceLength, offset, messageLength, chunkSize, csid,
//               fmt, typeId, streamId, timestampField) -> output bytes or ST_*
//
// Packs the message bytes [offset, offset + pieceLength), which the host put at
// CODEC_OUT_PTR + inAt, into chunks written from CODEC_OUT_PTR, in place: the
// payload moves down as the headers go in before it. inAt must leave room for
// every header (inAt >= output size - pieceLength); the host right-aligns the
// payload (inAt = output size - pieceLength) so each move goes down by the
// headers still to come. That keeps every memory.copy from writing just above
// where it reads (1 to 31 bytes above, modulo 4 KiB), which a copy with input
// and output in different regions did for the common 12-byte header and which
// the CPU runs ten times slower (store-to-load false dependencies).
//
// At offset 0 the first chunk gets a type 0 (fmt 0: timestampField is the
// timestamp) or type 1 (fmt 1: it is the delta) header; every later chunk a
// type 3 header. When timestampField is 0xFFFFFF or more, the 3-byte field
// holds 0xFFFFFF and a 4-byte extended timestamp follows the message header
// and every type 3 basic header. A whole message is one call; the host splits
// a message whose chunks do not fit the region into pieces (any offsets), and
// the bytes are the same.

import { CODEC_OUT_PTR, CODEC_OUT_SIZE, MAX_CHUNK_SIZE, ST_BAD_ARGUMENT, ST_OUTPUT_TOO_LONG } from "./abi";
import { putU24, putU32, putU32LE } from "./be";

/** 5.3.1.3: the 3-byte field value that announces an extended timestamp. */
const EXTENDED_MARK: u32 = 0xffffff;
/** 5.3.1.2: the largest message length a 3-byte field holds. */
const MAX_LENGTH_FIELD: i32 = 0xffffff;
/** 5.3.1.1: the smallest and largest chunk stream ids (2-byte form from 64, 3-byte form from 320). */
const MIN_CSID: i32 = 2;
const MAX_CSID: i32 = 65599;
const CSID_OFFSET: i32 = 64;
const TWO_BYTE_LIMIT: i32 = 320;
/** 5.3.1.2: type 3 chunks, the continuation format. */
const FMT_CONTINUATION: i32 = 3;

export function chunkEncode(
  inAt: i32,
  pieceLength: i32,
  offset: i32,
  messageLength: i32,
  chunkSize: i32,
  csid: i32,
  fmt: i32,
  typeId: i32,
  streamId: u32,
  timestampField: u32,
): i32 {
  if (pieceLength < 0 || inAt < 0 || inAt > CODEC_OUT_SIZE - pieceLength || offset < 0) {
    return ST_BAD_ARGUMENT;
  }
  if (messageLength < 0 || messageLength > MAX_LENGTH_FIELD) return ST_BAD_ARGUMENT;
  if (messageLength - offset < pieceLength) return ST_BAD_ARGUMENT;
  if (chunkSize < 1 || chunkSize > MAX_CHUNK_SIZE) return ST_BAD_ARGUMENT;
  if (csid < MIN_CSID || csid > MAX_CSID || (fmt != 0 && fmt != 1) || <u32> typeId > 0xff) {
    return ST_BAD_ARGUMENT;
  }
  const extended = timestampField >= EXTENDED_MARK;
  const ext: i32 = extended ? 4 : 0;
  const basic: i32 = csid < CSID_OFFSET ? 1 : csid < TWO_BYTE_LIMIT ? 2 : 3;

  // Size first, so a piece that does not fit writes nothing.
  const end = offset + pieceLength;
  const from = max(offset, 1);
  const continuations = end > from
    ? (end + chunkSize - 1) / chunkSize - (from + chunkSize - 1) / chunkSize
    : 0;
  let size = <i64> pieceLength + <i64> continuations * <i64> (basic + ext);
  if (offset == 0) size += <i64> (basic + (fmt == 0 ? 11 : 7) + ext);
  if (size > <i64> CODEC_OUT_SIZE) return ST_OUTPUT_TOO_LONG;
  if (<i64> inAt < size - <i64> pieceLength) return ST_BAD_ARGUMENT; // a header would overwrite unread payload

  let dst = <usize> CODEC_OUT_PTR;
  let src = <usize> CODEC_OUT_PTR + <usize> inAt;
  let o = offset;
  let room = chunkSize - offset % chunkSize;
  if (offset == 0) {
    dst = putBasicHeader(dst, fmt, csid);
    putU24(dst, extended ? EXTENDED_MARK : timestampField);
    if (fmt == 0) {
      putU24(dst + 3, <u32> messageLength);
      store<u8>(dst + 6, <u8> typeId);
      putU32LE(dst + 7, streamId);
      dst += 11;
    } else {
      putU24(dst + 3, <u32> messageLength);
      store<u8>(dst + 6, <u8> typeId);
      dst += 7;
    }
    if (extended) {
      putU32(dst, timestampField);
      dst += 4;
    }
  } else if (room == chunkSize && o < end) {
    room = 0; // the piece starts on a chunk boundary: the loop writes its type 3 header
  }
  while (o < end) {
    if (room == 0) {
      dst = putBasicHeader(dst, FMT_CONTINUATION, csid);
      if (extended) {
        putU32(dst, timestampField);
        dst += 4;
      }
      room = chunkSize;
    }
    const n = min(room, end - o);
    memory.copy(dst, src, <usize> n);
    dst += <usize> n;
    src += <usize> n;
    o += n;
    room -= n;
  }
  return <i32> (dst - <usize> CODEC_OUT_PTR);
}

/** Writes a 1-, 2- or 3-byte basic header (5.3.1.1); returns the address after it. */
function putBasicHeader(dst: usize, fmt: i32, csid: i32): usize {
  const top = <u8> (fmt << 6);
  if (csid < CSID_OFFSET) {
    store<u8>(dst, top | <u8> csid);
    return dst + 1;
  }
  const v = csid - CSID_OFFSET;
  if (csid < TWO_BYTE_LIMIT) {
    store<u8>(dst, top);
    store<u8>(dst + 1, <u8> v);
    return dst + 2;
  }
  store<u8>(dst, top | 1);
  store<u8>(dst + 1, <u8> v);
  store<u8>(dst + 2, <u8> (v >> 8));
  return dst + 3;
}
