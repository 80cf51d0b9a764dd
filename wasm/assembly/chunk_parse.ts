// RTMP chunk demux (Adobe RTMP Specification 1.0, section 5.3) for the conn
// role: one instance per connection. The host is src/wasm/chunk_reader.ts;
// its pure-TypeScript twin is test/_util/chunk_reader_ref.ts.
//
// ## Calls
//
//   chunkInit(maxMessageLength, maxChunkSize) -> status
//       Resets the state; the peer's chunk size starts at 128.
//   chunkParse(n) -> events (>= 0) or an ST_* error
//       Parses n socket bytes the host read to CONN_READ_PTR, after any
//       carried header bytes. Writes events (below) from CONN_EVENTS_PTR.
//   chunkResume() -> events (>= 0) or an ST_* error
//       When CHUNK_STATE_MORE is 1 the events region filled up: the host
//       consumes the events and calls this for the rest of the same bytes.
//
// Parsing never allocates. A chunk header that is incomplete when the bytes
// run out is copied (memory.copy) to end at CONN_READ_PTR, inside the input
// region's carry area, so the next read appends to it. Payload bytes are
// reported as soon as they arrive, as spans of the input region; the span
// views are valid until the next call. Consecutive chunks of one message in
// the same call are joined in place: the later chunk's payload is moved down
// over the chunk header between them and the previous span grows, so a message
// that arrived whole is one span however small the chunk size.
//
// Set Chunk Size (5.4.1) and Abort Message (5.4.2) are applied here the moment
// they complete, before the next chunk header is parsed, and are still
// reported as messages. They are applied whatever their chunk stream and
// message stream ids; a longer payload uses its first 4 bytes.
//
// Timestamps (5.3.1.2): a type 0 header sets the timestamp and a zero delta;
// type 1 and 2 headers add their delta and remember it; a type 3 chunk that
// starts a message adds the remembered delta; a type 3 continuation keeps
// the message's timestamp. A type 0-2 header whose 3-byte timestamp field is
// 0xFFFFFF is followed by a 4-byte extended timestamp, and so is every type 3
// chunk after it on that chunk stream; the repeated field is read and ignored.
//
// ## Event records: CONN_EVENTS_PTR + i * EVENT_SIZE, 8 native i32 words
//
//   word 0  kind | typeId << 8       kind: CHUNK_EV_SPAN or CHUNK_EV_DISCARD
//   word 1  csid                     chunk stream id, 2..65599
//   word 2  message stream id        u32
//   word 3  timestamp                u32, absolute
//   word 4  message length           bytes
//   word 5  offset                   of this span within the message
//   word 6  span address             in the input region
//   word 7  span length              bytes (0 for an empty message)
//
//   CHUNK_EV_SPAN     payload bytes of a message; the message is complete when
//                     offset + span length == message length.
//   CHUNK_EV_DISCARD  an Abort Message dropped the partial message on csid
//                     (words 2-7 are zero).
//
// ## State: CONN_STATE_PTR onwards (CHUNK_STATE_USED bytes)
//
//   +0   chunk size             the peer's, applied to payload bytes per chunk
//   +4   max message length     cap on a header's message length
//   +8   max chunk size         cap on Set Chunk Size
//   +12  carry                  carried header bytes, ending at CONN_READ_PTR
//   +16  more                   1 when a call stopped because events filled up
//   +20  resume position        address to continue from when more is 1
//   +24  resume end             end of the valid bytes when more is 1
//   +28  current slot           address of the slot whose chunk payload is
//                               being read, 0 between chunks
//   +32  current left           payload bytes left in the current chunk
//   +36  open                   slots in use (distinct csids seen)
//   +40  error status           the ST_* code once failed; every call returns it
//   +44  error reason           CHUNK_ERR_*, picks the host's message
//   +48  error csid
//   +52  error value            the offending value (u32)
//   +56  error limit            the limit it broke
//   +64  slots                  MAX_CHUNK_STREAMS slots of SLOT_SIZE (48) bytes
//
// A slot, one per chunk stream seen (never freed; a full table is
// ST_TOO_MANY_CHUNK_STREAMS):
//
//   +0   csid
//   +4   timestamp              of the current or last message
//   +8   delta                  remembered for type 3 chunks that start a message
//   +12  message length
//   +16  type id
//   +20  message stream id
//   +24  received               payload bytes of the current message so far
//   +28  flags                  F_EXTENDED, F_BUSY (a message is in progress)
//   +32  control bytes          first 4 payload bytes of a type 1 or 2 message

import {
  CONN_CARRY_SIZE,
  CONN_EVENTS_CAP,
  CONN_EVENTS_PTR,
  CONN_INPUT_SIZE,
  CONN_READ_PTR,
  CONN_STATE_PTR,
  EVENT_SIZE,
  MAX_CHUNK_SIZE,
  MAX_CHUNK_STREAMS,
  MAX_MESSAGE_LENGTH,
  ST_BAD_ARGUMENT,
  ST_BAD_CHUNK_SIZE,
  ST_BAD_HEADER,
  ST_INPUT_TOO_LONG,
  ST_MESSAGE_TOO_LONG,
  ST_OK,
  ST_TOO_MANY_CHUNK_STREAMS,
} from "./abi";
import { getU24, getU32, getU32LE } from "./be";

// ---- event kinds and record words (the host reads these exports)

/** Payload bytes of a message. */
export const CHUNK_EV_SPAN: i32 = 1;
/** An Abort Message dropped the partial message on a chunk stream. */
export const CHUNK_EV_DISCARD: i32 = 2;

export const CHUNK_EV_KIND_TYPE: i32 = 0;
export const CHUNK_EV_CSID: i32 = 1;
export const CHUNK_EV_STREAM_ID: i32 = 2;
export const CHUNK_EV_TIMESTAMP: i32 = 3;
export const CHUNK_EV_LENGTH: i32 = 4;
export const CHUNK_EV_OFFSET: i32 = 5;
export const CHUNK_EV_PTR: i32 = 6;
export const CHUNK_EV_SPAN_LENGTH: i32 = 7;

// ---- error reasons: the host composes the message from reason, csid, value, limit

/** A type 1-3 chunk on a chunk stream with no previous header (value: the format). */
export const CHUNK_ERR_NO_PREVIOUS_HEADER: i32 = 1;
/** A type 0-2 header while a message is incomplete (value: bytes so far, limit: its length). */
export const CHUNK_ERR_MESSAGE_IN_PROGRESS: i32 = 2;
/** A message length over the cap (value: the length, limit: the cap). */
export const CHUNK_ERR_MESSAGE_TOO_LONG: i32 = 3;
/** Set Chunk Size outside 1..the cap (value: the size, limit: the cap). */
export const CHUNK_ERR_CHUNK_SIZE: i32 = 4;
/** A Set Chunk Size message shorter than 4 bytes (value: its length, limit: 4). */
export const CHUNK_ERR_SET_CHUNK_SIZE_SHORT: i32 = 5;
/** An Abort Message shorter than 4 bytes (value: its length, limit: 4). */
export const CHUNK_ERR_ABORT_SHORT: i32 = 6;
/** A new chunk stream with the table full (value: the csid, limit: the table size). */
export const CHUNK_ERR_TOO_MANY_CHUNK_STREAMS: i32 = 7;

// ---- state layout (offsets from CONN_STATE_PTR; see the table above)

/** The state fields the host reads, as absolute addresses. */
export const CHUNK_STATE_CHUNK_SIZE: i32 = CONN_STATE_PTR + 0;
export const CHUNK_STATE_MORE: i32 = CONN_STATE_PTR + 16;
export const CHUNK_STATE_ERR_REASON: i32 = CONN_STATE_PTR + 44;
export const CHUNK_STATE_ERR_CSID: i32 = CONN_STATE_PTR + 48;
export const CHUNK_STATE_ERR_VALUE: i32 = CONN_STATE_PTR + 52;
export const CHUNK_STATE_ERR_LIMIT: i32 = CONN_STATE_PTR + 56;
/** Carried header bytes (they end at CONN_READ_PTR) and slots in use: what a host saving the state needs. */
export const CHUNK_STATE_CARRY: i32 = CONN_STATE_PTR + 12;
export const CHUNK_STATE_OPEN: i32 = CONN_STATE_PTR + 36;

const S_CHUNK_SIZE: usize = <usize> CHUNK_STATE_CHUNK_SIZE;
const S_MAX_MESSAGE: usize = CONN_STATE_PTR + 4;
const S_MAX_CHUNK: usize = CONN_STATE_PTR + 8;
const S_CARRY: usize = <usize> CHUNK_STATE_CARRY;
const S_MORE: usize = <usize> CHUNK_STATE_MORE;
const S_POS: usize = CONN_STATE_PTR + 20;
const S_END: usize = CONN_STATE_PTR + 24;
const S_CUR: usize = CONN_STATE_PTR + 28;
const S_CUR_LEFT: usize = CONN_STATE_PTR + 32;
const S_OPEN: usize = <usize> CHUNK_STATE_OPEN;
const S_ERR_STATUS: usize = CONN_STATE_PTR + 40;
const S_ERR_REASON: usize = <usize> CHUNK_STATE_ERR_REASON;
const S_ERR_CSID: usize = <usize> CHUNK_STATE_ERR_CSID;
const S_ERR_VALUE: usize = <usize> CHUNK_STATE_ERR_VALUE;
const S_ERR_LIMIT: usize = <usize> CHUNK_STATE_ERR_LIMIT;
const SLOTS_OFFSET: i32 = 64;
/** Where the slots start, and each one's size: the state in use is up to the last open slot. */
export const CHUNK_SLOTS_PTR: i32 = CONN_STATE_PTR + SLOTS_OFFSET;
export const CHUNK_SLOT_SIZE: i32 = 48;
const S_SLOTS: usize = <usize> CHUNK_SLOTS_PTR;

const SLOT_SIZE: i32 = CHUNK_SLOT_SIZE;
const SL_CSID: usize = 0;
const SL_TS: usize = 4;
const SL_DELTA: usize = 8;
const SL_LEN: usize = 12;
const SL_TYPE: usize = 16;
const SL_STREAM: usize = 20;
const SL_RECV: usize = 24;
const SL_FLAGS: usize = 28;
const SL_CTL: usize = 32;

const F_EXTENDED: i32 = 1;
const F_BUSY: i32 = 2;

/** Bytes of the state region in use; a test holds it within CONN_STATE_SIZE. */
export const CHUNK_STATE_USED: i32 = SLOTS_OFFSET + MAX_CHUNK_STREAMS * SLOT_SIZE;

// Byte offsets of the event record words.
const E_KIND_TYPE: usize = <usize> CHUNK_EV_KIND_TYPE << 2;
const E_CSID: usize = <usize> CHUNK_EV_CSID << 2;
const E_STREAM_ID: usize = <usize> CHUNK_EV_STREAM_ID << 2;
const E_TIMESTAMP: usize = <usize> CHUNK_EV_TIMESTAMP << 2;
const E_LENGTH: usize = <usize> CHUNK_EV_LENGTH << 2;
const E_OFFSET: usize = <usize> CHUNK_EV_OFFSET << 2;
const E_PTR: usize = <usize> CHUNK_EV_PTR << 2;
const E_SPAN_LENGTH: usize = <usize> CHUNK_EV_SPAN_LENGTH << 2;

// ---- wire constants

/** 5.4.1: the chunk size until the peer sends Set Chunk Size. */
const DEFAULT_CHUNK_SIZE: i32 = 128;
/** 5.4.1 Set Chunk Size message type id. */
const TYPE_SET_CHUNK_SIZE: i32 = 1;
/** 5.4.2 Abort Message type id. */
const TYPE_ABORT: i32 = 2;
/** 5.3.1.3: a 3-byte timestamp field of 0xFFFFFF means a 4-byte extended timestamp follows. */
const EXTENDED_MARK: u32 = 0xffffff;
/** 5.3.1.1: chunk stream ids 0 and 1 in the first byte select the 2- and 3-byte forms, offset by 64. */
const CSID_OFFSET: i32 = 64;
/** 5.3.1.2: message header bytes for formats 0, 1, 2, 3, one per byte: 11, 7, 3, 0. */
const MESSAGE_HEADER_BYTES: u32 = 0x0003070b;

// ---- calls

export function chunkInit(maxMessageLength: i32, maxChunkSize: i32): i32 {
  if (maxMessageLength < 0 || maxMessageLength > MAX_MESSAGE_LENGTH) return ST_BAD_ARGUMENT;
  if (maxChunkSize < 1 || maxChunkSize > MAX_CHUNK_SIZE) return ST_BAD_ARGUMENT;
  memory.fill(CONN_STATE_PTR, 0, <usize> CHUNK_STATE_USED);
  store<i32>(S_CHUNK_SIZE, DEFAULT_CHUNK_SIZE);
  store<i32>(S_MAX_MESSAGE, maxMessageLength);
  store<i32>(S_MAX_CHUNK, maxChunkSize);
  return ST_OK;
}

export function chunkParse(n: i32): i32 {
  const failed = load<i32>(S_ERR_STATUS);
  if (failed != 0) return failed;
  if (n < 0 || n > CONN_INPUT_SIZE - CONN_CARRY_SIZE) return ST_INPUT_TOO_LONG;
  const carry = <usize> load<i32>(S_CARRY);
  store<i32>(S_CARRY, 0);
  return run(<usize> CONN_READ_PTR - carry, <usize> CONN_READ_PTR + <usize> n);
}

export function chunkResume(): i32 {
  const failed = load<i32>(S_ERR_STATUS);
  if (failed != 0) return failed;
  if (load<i32>(S_MORE) == 0) return 0;
  return run(<usize> load<i32>(S_POS), <usize> load<i32>(S_END));
}

// ---- the parser

function run(start: usize, end: usize): i32 {
  let pos = start;
  let ev: i32 = 0;
  let cur = <usize> load<i32>(S_CUR);
  let left = load<i32>(S_CUR_LEFT);
  store<i32>(S_MORE, 0);
  while (true) {
    // Each step below writes at most two events (a span, then a discard).
    if (ev > CONN_EVENTS_CAP - 2) {
      store<i32>(S_CUR, <i32> cur);
      store<i32>(S_CUR_LEFT, left);
      store<i32>(S_MORE, 1);
      store<i32>(S_POS, <i32> pos);
      store<i32>(S_END, <i32> end);
      return ev;
    }
    const avail = <i32> (end - pos);
    if (left > 0) {
      // Inside a chunk's payload.
      if (avail == 0) break;
      const take = min(left, avail);
      ev = emitSpan(cur, pos, take, ev);
      pos += <usize> take;
      left -= take;
      if (left == 0 && load<i32>(cur + SL_RECV) == load<i32>(cur + SL_LEN)) {
        ev = complete(cur, ev);
        if (ev < 0) return ev;
      }
      continue;
    }

    // A chunk header: basic header (5.3.1.1), message header (5.3.1.2), extended timestamp (5.3.1.3).
    if (avail < 1) break;
    const b0 = <i32> load<u8>(pos);
    const fmt = b0 >> 6;
    let csid = b0 & 0x3f;
    let hl: i32 = 1;
    if (csid < 2) {
      hl = csid + 2;
      if (avail < hl) break;
      csid = CSID_OFFSET + <i32> load<u8>(pos + 1);
      if (hl == 3) csid += <i32> load<u8>(pos + 2) << 8;
    }
    const mh = <i32> ((MESSAGE_HEADER_BYTES >> (<u32> fmt << 3)) & 0xff);
    if (avail < hl + mh) break;
    const slot = findSlot(csid);
    if (slot == 0 && fmt != 0) return fail(ST_BAD_HEADER, CHUNK_ERR_NO_PREVIOUS_HEADER, csid, fmt, 0);
    const mp = pos + <usize> hl;
    const field: u32 = fmt < 3 ? getU24(mp) : 0;
    const extended = fmt < 3 ? field == EXTENDED_MARK : (load<i32>(slot + SL_FLAGS) & F_EXTENDED) != 0;
    const total = hl + mh + (extended ? 4 : 0);
    if (avail < total) break;
    const busy = slot != 0 && (load<i32>(slot + SL_FLAGS) & F_BUSY) != 0;
    if (busy && fmt != 3) {
      return fail(
        ST_BAD_HEADER,
        CHUNK_ERR_MESSAGE_IN_PROGRESS,
        csid,
        load<i32>(slot + SL_RECV),
        load<i32>(slot + SL_LEN),
      );
    }
    let length: i32 = 0;
    if (fmt <= 1) {
      length = <i32> getU24(mp + 3);
      const cap = load<i32>(S_MAX_MESSAGE);
      if (length > cap) return fail(ST_MESSAGE_TOO_LONG, CHUNK_ERR_MESSAGE_TOO_LONG, csid, length, cap);
    }
    let s = slot;
    if (s == 0) {
      const open = load<i32>(S_OPEN);
      if (open >= MAX_CHUNK_STREAMS) {
        return fail(
          ST_TOO_MANY_CHUNK_STREAMS,
          CHUNK_ERR_TOO_MANY_CHUNK_STREAMS,
          csid,
          csid,
          MAX_CHUNK_STREAMS,
        );
      }
      s = S_SLOTS + <usize> (open * SLOT_SIZE);
      store<i32>(S_OPEN, open + 1);
      store<i32>(s + SL_CSID, csid);
    }
    const value: u32 = extended ? getU32(mp + <usize> mh) : field;
    let flags = load<i32>(s + SL_FLAGS);
    if (fmt < 3) flags = extended ? flags | F_EXTENDED : flags & ~F_EXTENDED;
    if (fmt == 0) {
      store<u32>(s + SL_TS, value);
      store<u32>(s + SL_DELTA, 0);
      store<i32>(s + SL_LEN, length);
      store<i32>(s + SL_TYPE, <i32> load<u8>(mp + 6));
      store<u32>(s + SL_STREAM, getU32LE(mp + 7));
    } else if (fmt < 3) {
      store<u32>(s + SL_TS, load<u32>(s + SL_TS) + value);
      store<u32>(s + SL_DELTA, value);
      if (fmt == 1) {
        store<i32>(s + SL_LEN, length);
        store<i32>(s + SL_TYPE, <i32> load<u8>(mp + 6));
      }
    } else if (!busy) {
      store<u32>(s + SL_TS, load<u32>(s + SL_TS) + load<u32>(s + SL_DELTA));
    }
    if (!busy) {
      store<i32>(s + SL_RECV, 0);
      flags |= F_BUSY;
    }
    store<i32>(s + SL_FLAGS, flags);
    pos += <usize> total;
    cur = s;
    left = min(load<i32>(S_CHUNK_SIZE), load<i32>(s + SL_LEN) - load<i32>(s + SL_RECV));
    if (left == 0) {
      // An empty message: its one chunk has no payload.
      ev = emitSpan(s, pos, 0, ev);
      ev = complete(s, ev);
      if (ev < 0) return ev;
    }
  }

  // Out of bytes: carry an incomplete header over to the next read.
  const carry = end - pos;
  if (carry != 0) memory.copy(<usize> CONN_READ_PTR - carry, pos, carry);
  store<i32>(S_CARRY, <i32> carry);
  store<i32>(S_CUR, <i32> cur);
  store<i32>(S_CUR_LEFT, left);
  return ev;
}

/** The slot of a chunk stream, or 0 when it has none yet. */
function findSlot(csid: i32): usize {
  const n = <usize> load<i32>(S_OPEN);
  let s = S_SLOTS;
  const end = S_SLOTS + n * <usize> SLOT_SIZE;
  while (s < end) {
    if (load<i32>(s + SL_CSID) == csid) return s;
    s += <usize> SLOT_SIZE;
  }
  return 0;
}

/** Reports `len` payload bytes at `ptr` for the message on `s`; returns the event count. */
function emitSpan(s: usize, ptr: usize, len: i32, ev: i32): i32 {
  const recv = load<i32>(s + SL_RECV);
  const type = load<i32>(s + SL_TYPE);
  if (recv < 4 && (type == TYPE_SET_CHUNK_SIZE || type == TYPE_ABORT)) {
    const n = min(4 - recv, len);
    for (let i = 0; i < n; i++) store<u8>(s + SL_CTL + <usize> (recv + i), load<u8>(ptr + <usize> i));
  }
  store<i32>(s + SL_RECV, recv + len);
  const csid = load<i32>(s + SL_CSID);
  if (ev > 0 && recv > 0) {
    // The previous event continues this message: join the bytes to it in place.
    const last = <usize> CONN_EVENTS_PTR + <usize> (ev - 1) * <usize> EVENT_SIZE;
    const lastLen = load<i32>(last + E_SPAN_LENGTH);
    if (
      (load<i32>(last + E_KIND_TYPE) & 0xff) == CHUNK_EV_SPAN && load<i32>(last + E_CSID) == csid &&
      load<i32>(last + E_OFFSET) + lastLen == recv
    ) {
      memory.copy(<usize> load<i32>(last + E_PTR) + <usize> lastLen, ptr, <usize> len);
      store<i32>(last + E_SPAN_LENGTH, lastLen + len);
      return ev;
    }
  }
  const e = <usize> CONN_EVENTS_PTR + <usize> ev * <usize> EVENT_SIZE;
  store<i32>(e + E_KIND_TYPE, CHUNK_EV_SPAN | (type << 8));
  store<i32>(e + E_CSID, csid);
  store<i32>(e + E_STREAM_ID, load<i32>(s + SL_STREAM));
  store<i32>(e + E_TIMESTAMP, load<i32>(s + SL_TS));
  store<i32>(e + E_LENGTH, load<i32>(s + SL_LEN));
  store<i32>(e + E_OFFSET, recv);
  store<i32>(e + E_PTR, <i32> ptr);
  store<i32>(e + E_SPAN_LENGTH, len);
  return ev + 1;
}

/** A message on `s` completed: applies it if it is a control message; returns the event count or an error. */
function complete(s: usize, ev: i32): i32 {
  store<i32>(s + SL_FLAGS, load<i32>(s + SL_FLAGS) & ~F_BUSY);
  const type = load<i32>(s + SL_TYPE);
  if (type != TYPE_SET_CHUNK_SIZE && type != TYPE_ABORT) return ev;
  const csid = load<i32>(s + SL_CSID);
  const length = load<i32>(s + SL_LEN);
  if (type == TYPE_SET_CHUNK_SIZE) {
    if (length < 4) return fail(ST_BAD_CHUNK_SIZE, CHUNK_ERR_SET_CHUNK_SIZE_SHORT, csid, length, 4);
    // 5.4.1: 31 bits, the high bit zero; anything from 2^31 up is over every cap.
    const size = getU32(s + SL_CTL);
    const cap = load<i32>(S_MAX_CHUNK);
    if (size < 1 || size > <u32> cap) {
      return fail(ST_BAD_CHUNK_SIZE, CHUNK_ERR_CHUNK_SIZE, csid, <i32> size, cap);
    }
    store<i32>(S_CHUNK_SIZE, <i32> size);
    return ev;
  }
  if (length < 4) return fail(ST_BAD_HEADER, CHUNK_ERR_ABORT_SHORT, csid, length, 4);
  const target = getU32(s + SL_CTL);
  if (target > 0xffff + <u32> CSID_OFFSET) return ev;
  const t = findSlot(<i32> target);
  if (t == 0 || (load<i32>(t + SL_FLAGS) & F_BUSY) == 0) return ev;
  store<i32>(t + SL_FLAGS, load<i32>(t + SL_FLAGS) & ~F_BUSY);
  store<i32>(t + SL_RECV, 0);
  const e = <usize> CONN_EVENTS_PTR + <usize> ev * <usize> EVENT_SIZE;
  memory.fill(e, 0, <usize> EVENT_SIZE);
  store<i32>(e + E_KIND_TYPE, CHUNK_EV_DISCARD);
  store<i32>(e + E_CSID, <i32> target);
  return ev + 1;
}

/** Records an error for the host to describe; every later call returns the same status. */
function fail(status: i32, reason: i32, csid: i32, value: i32, limit: i32): i32 {
  store<i32>(S_ERR_STATUS, status);
  store<i32>(S_ERR_REASON, reason);
  store<i32>(S_ERR_CSID, csid);
  store<i32>(S_ERR_VALUE, value);
  store<i32>(S_ERR_LIMIT, limit);
  return status;
}
