// RTP packetizing of H.264 NAL units for the codec role: the RTP fixed header
// (RFC 3550 5.1), single NAL unit packets (RFC 6184 5.6) and FU-A fragments
// (RFC 6184 5.8), each packet behind the 4-byte interleaved frame header of
// RTSP over TCP (RFC 2326 10.12: '$', channel, length). The host is
// src/wasm/rtp_packetizer.ts; its plain-TypeScript twin, with the same API and
// bytes, is test/_util/rtp_packetizer_ref.ts.
//
//   rtpPacketizeNals(count, maxPayload, ssrc, sequence, timestamp, payloadType, marker, channel)
//     -> output bytes or ST_*
//
// The host copies `count` NAL units (header byte first) back to back into the
// output region, right-aligned (the last one ends where the packets will
// end), and writes one native (offset from CODEC_OUT_PTR, length) i32 pair
// per unit in the spans region. Each unit becomes one single NAL unit packet
// when it fits `maxPayload` bytes, else FU-A packets carrying maxPayload - 2
// bytes of it each (the NAL header byte goes into the FU indicator and FU
// header). Packets are written from CODEC_OUT_PTR in place: a packet adds at
// least 12 bytes to what it carries, so with the units right-aligned every
// header ends at or below the first unit byte still to move, and every
// memory.copy writes below where it reads (see ts_packet.ts).
//
// Sequence numbers go up by one per packet from `sequence` (mod 2^16); every
// packet has `timestamp`, `ssrc` and `payloadType`; the last packet has the
// marker bit when `marker` is set (RFC 6184 5.1: the last packet of an access
// unit).

import { CODEC_OUT_PTR, CODEC_OUT_SIZE, CODEC_SPANS_CAP, CODEC_SPANS_PTR, ST_BAD_ARGUMENT, ST_INPUT_TOO_LONG, ST_OUTPUT_TOO_LONG } from "./abi";
import { putU16, putU32 } from "./be";

/** RFC 2326 10.12: '$', the channel, and the packet's length (16 bits). */
const INTERLEAVED_SIZE: i32 = 4;
const INTERLEAVED_MAGIC: u8 = 0x24;
/** RFC 3550 5.1: the fixed header with no CSRC is 12 bytes; V=2, P=0, X=0, CC=0 is 0x80. */
const RTP_HEADER_SIZE: i32 = 12;
const RTP_V2: u8 = 0x80;
const RTP_MARKER: u32 = 0x80;
/** What goes before every payload. */
const PACKET_HEADER: i32 = INTERLEAVED_SIZE + RTP_HEADER_SIZE;
/** RFC 6184 5.8: FU indicator and FU header. */
const FU_A_HEADER: i32 = 2;
/** RFC 6184 5.4 Table 1: FU-A is NAL unit type 28. */
const FU_A: u32 = 28;
/** RFC 6184 5.8: FU header bits S (start) and E (end); the indicator keeps F and NRI. */
const FU_START: u32 = 0x80;
const FU_END: u32 = 0x40;
const F_NRI: u32 = 0xe0;
const NAL_TYPE: u32 = 0x1f;
/** An FU-A carries one byte at least (RFC 6184 5.8); an interleaved frame at most 65535 bytes (RFC 2326 10.12). */
const MIN_PAYLOAD: i32 = FU_A_HEADER + 1;
const MAX_PAYLOAD: i32 = 65535 - RTP_HEADER_SIZE;

/** Writes the interleaved frame header and the RTP fixed header of a packet of `payload` bytes at `dst`. */
// @ts-ignore: decorator
@inline function putHeaders(dst: usize, channel: u32, payload: i32, mpt: u32, seq: u32, ts: u32, ssrc: u32): void {
  store<u8>(dst, INTERLEAVED_MAGIC);
  store<u8>(dst, <u8>channel, 1);
  putU16(dst + 2, <u32>(RTP_HEADER_SIZE + payload));
  store<u8>(dst, RTP_V2, 4); // version 2, no padding, no extension, no CSRC
  store<u8>(dst, <u8>mpt, 5); // marker and payload type
  putU16(dst + 6, seq & 0xffff);
  putU32(dst + 8, ts);
  putU32(dst + 12, ssrc);
}

export function rtpPacketizeNals(
  count: i32,
  maxPayload: i32,
  ssrc: i32,
  sequence: i32,
  timestamp: i32,
  payloadType: i32,
  marker: i32,
  channel: i32,
): i32 {
  if (count < 1 || count > CODEC_SPANS_CAP) return ST_INPUT_TOO_LONG;
  if (maxPayload < MIN_PAYLOAD || maxPayload > MAX_PAYLOAD) return ST_BAD_ARGUMENT;
  if (sequence < 0 || sequence > 0xffff || payloadType < 0 || payloadType > 127) return ST_BAD_ARGUMENT;
  if (channel < 0 || channel > 255) return ST_BAD_ARGUMENT;
  const room = maxPayload - FU_A_HEADER;
  // The whole output first: it must fit the region and end where the last unit ends.
  let total: i64 = 0;
  let prevEnd: i32 = 0;
  for (let i = 0; i < count; i++) {
    const s = <usize>CODEC_SPANS_PTR + (<usize>i << 3);
    const at = load<i32>(s);
    const n = load<i32>(s, 4);
    if (n < 1 || at < prevEnd || at > CODEC_OUT_SIZE - n) return ST_BAD_ARGUMENT;
    prevEnd = at + n;
    if (n <= maxPayload) total += PACKET_HEADER + n;
    else total += <i64>((n - 1 + room - 1) / room) * (PACKET_HEADER + FU_A_HEADER) + (n - 1);
  }
  if (total > <i64>CODEC_OUT_SIZE) return ST_OUTPUT_TOO_LONG;
  if (<i64>prevEnd != total) return ST_BAD_ARGUMENT; // not right-aligned

  let dst = <usize>CODEC_OUT_PTR;
  let seq = <u32>sequence;
  const pt = <u32>payloadType;
  const ts = <u32>timestamp;
  const id = <u32>ssrc;
  const ch = <u32>channel;
  for (let i = 0; i < count; i++) {
    const s = <usize>CODEC_SPANS_PTR + (<usize>i << 3);
    const src = <usize>CODEC_OUT_PTR + <usize>load<i32>(s);
    const n = load<i32>(s, 4);
    const last = i == count - 1;
    if (n <= maxPayload) {
      // RFC 6184 5.6: the NAL unit is the payload.
      if (dst + <usize>PACKET_HEADER > src) return ST_BAD_ARGUMENT;
      putHeaders(dst, ch, n, (last && marker != 0 ? RTP_MARKER : 0) | pt, seq, ts, id);
      memory.copy(dst + <usize>PACKET_HEADER, src, <usize>n);
      dst += <usize>(PACKET_HEADER + n);
      seq++;
      continue;
    }
    // RFC 6184 5.8: FU-A, the NAL header byte split into the FU indicator (F, NRI, type 28) and
    // the FU header (S, E, R = 0, the unit's type); the fragments carry the bytes after it.
    const nal = <u32>load<u8>(src);
    const indicator = <u8>((nal & F_NRI) | FU_A);
    let from = src + 1;
    let left = n - 1;
    let first = true;
    while (left > 0) {
      const k = min(room, left);
      if (dst + <usize>(PACKET_HEADER + FU_A_HEADER) > from) return ST_BAD_ARGUMENT;
      const end = k == left;
      putHeaders(dst, ch, FU_A_HEADER + k, (last && end && marker != 0 ? RTP_MARKER : 0) | pt, seq, ts, id);
      store<u8>(dst, indicator, PACKET_HEADER);
      store<u8>(dst, <u8>((first ? FU_START : 0) | (end ? FU_END : 0) | (nal & NAL_TYPE)), PACKET_HEADER + 1);
      memory.copy(dst + <usize>(PACKET_HEADER + FU_A_HEADER), from, <usize>k);
      dst += <usize>(PACKET_HEADER + FU_A_HEADER + k);
      from += <usize>k;
      left -= k;
      seq++;
      first = false;
    }
  }
  return <i32>total;
}
