// MPEG-2 transport stream packetizing (ISO/IEC 13818-1 2.4.3.2 - 2.4.3.5) for
// the codec role. The host is src/wasm/ts_packetizer.ts; its plain-TypeScript
// twin, with the same API and bytes, is test/_util/ts_packetizer_ref.ts.
//
//   tsPacketize(inAt, length, pid, cc, randomAccess, pcr) -> output bytes or ST_*
//
// Splits one PES packet (header and payload, `length` bytes), which the host
// put at CODEC_OUT_PTR + inAt, into 188-byte transport packets written from
// CODEC_OUT_PTR, in place: the PES moves down as the packet headers go in
// before each piece of it. The host right-aligns the PES (inAt = output size -
// length), so every header ends at or below the first PES byte still to move
// and every memory.copy writes below where it reads (see chunk_write.ts for why
// that direction matters).
//
// Every packet carries payload, so the continuity_counter goes up by one per
// packet, from `cc` (mod 16). The first packet has payload_unit_start_indicator
// set and, when asked, an adaptation field with random_access_indicator and a
// PCR (`pcr` in 27 MHz units, below 2^33 * 300; negative for none). The last
// packet is filled to 188 bytes with adaptation field stuffing: one byte
// (adaptation_field_length 0) or two (length 1, flags 0) are the short forms,
// more are flags 0 and 0xFF bytes.

import { CODEC_OUT_PTR, CODEC_OUT_SIZE, ST_BAD_ARGUMENT, ST_INPUT_TOO_LONG, ST_OUTPUT_TOO_LONG, TS_MAX_PES_SIZE } from "./abi";

/** 2.4.3.2: every transport packet is 188 bytes, 4 of them the header. */
const PACKET_SIZE: i32 = 188;
const HEADER_SIZE: i32 = 4;
const PAYLOAD_ROOM: i32 = PACKET_SIZE - HEADER_SIZE;
/** 2.4.3.3 sync_byte. */
const SYNC_BYTE: u8 = 0x47;
/** 2.4.3.3 Table 2-3: 0x1FFF is the null packet PID. */
const MAX_PID: i32 = 0x1ffe;
/** 2.4.3.3: payload_unit_start_indicator, in header byte 1. */
const PUSI: u32 = 0x40;
/** 2.4.3.3 Table 2-5 adaptation_field_control, in header byte 3: payload only, or adaptation field and payload. */
const AFC_PAYLOAD: u32 = 0x10;
const AFC_BOTH: u32 = 0x30;
/** 2.4.3.4 adaptation field flags: random_access_indicator, PCR_flag. */
const AF_RANDOM_ACCESS: u8 = 0x40;
const AF_PCR: u8 = 0x10;
/** Adaptation field bytes with flags only (length, flags) and with a PCR (length, flags, 6 PCR bytes). */
const AF_FLAGS_SIZE: i32 = 2;
const AF_PCR_SIZE: i32 = 8;
/** 2.4.3.5: stuffing_byte. */
const STUFFING: u8 = 0xff;
/** 2.4.2.2: PCR = base (90 kHz, 33 bits) * 300 + extension (27 MHz, 0..299). */
const PCR_EXT_PER_BASE: u64 = 300;
const PCR_RANGE: f64 = 2576980377600; // 2^33 * 300

/** The bytes of packets for a PES of `length` bytes whose first packet has `first` adaptation field bytes. */
// @ts-ignore: decorator
@inline function packetsLength(length: i32, first: i32): i32 {
  const c1 = PAYLOAD_ROOM - first;
  if (length <= c1) return PACKET_SIZE;
  return PACKET_SIZE * (1 + (length - c1 + PAYLOAD_ROOM - 1) / PAYLOAD_ROOM);
}

/** Writes the 6 PCR bytes (2.4.3.4: base 33 bits, 6 reserved bits set, extension 9 bits). */
// @ts-ignore: decorator
@inline function putPcr(p: usize, pcr: u64): void {
  const base = pcr / PCR_EXT_PER_BASE;
  const ext = <u32>(pcr % PCR_EXT_PER_BASE);
  store<u8>(p, <u8>(base >> 25));
  store<u8>(p, <u8>(base >> 17), 1);
  store<u8>(p, <u8>(base >> 9), 2);
  store<u8>(p, <u8>(base >> 1), 3);
  store<u8>(p, <u8>((<u32>(base & 1) << 7) | 0x7e | (ext >> 8)), 4);
  store<u8>(p, <u8>ext, 5);
}

export function tsPacketize(inAt: i32, length: i32, pid: i32, cc: i32, randomAccess: i32, pcr: f64): i32 {
  if (length < 1 || length > TS_MAX_PES_SIZE) return ST_INPUT_TOO_LONG;
  if (pid < 0 || pid > MAX_PID || cc < 0 || cc > 15) return ST_BAD_ARGUMENT;
  const withPcr = pcr >= 0;
  if (withPcr && !(pcr < PCR_RANGE)) return ST_BAD_ARGUMENT;
  const ra = randomAccess != 0;
  const first: i32 = withPcr ? AF_PCR_SIZE : ra ? AF_FLAGS_SIZE : 0;
  const total = packetsLength(length, first);
  if (total > CODEC_OUT_SIZE) return ST_OUTPUT_TOO_LONG;
  // A header must never overwrite PES bytes not yet moved.
  if (inAt < total - length || inAt > CODEC_OUT_SIZE - length) return ST_BAD_ARGUMENT;

  let dst = <usize>CODEC_OUT_PTR;
  let src = <usize>CODEC_OUT_PTR + <usize>inAt;
  let left = length;
  let c = <u32>cc;
  let fields = first; // adaptation field bytes this packet needs besides stuffing
  let start = true;
  while (left > 0) {
    const room = PAYLOAD_ROOM - fields;
    const n = min(room, left);
    const af = fields + room - n; // stuffing only where the PES runs out: the last packet
    store<u8>(dst, SYNC_BYTE);
    store<u8>(dst, <u8>((start ? PUSI : 0) | (<u32>pid >> 8)), 1); // transport_error 0, priority 0, PID high
    store<u8>(dst, <u8>pid, 2);
    store<u8>(dst, <u8>((af > 0 ? AFC_BOTH : AFC_PAYLOAD) | c), 3); // not scrambled
    let p = dst + <usize>HEADER_SIZE;
    if (af > 0) {
      store<u8>(p, <u8>(af - 1)); // adaptation_field_length
      if (af > 1) {
        let flags: u8 = 0;
        if (start && ra) flags |= AF_RANDOM_ACCESS;
        if (start && withPcr) flags |= AF_PCR;
        store<u8>(p, flags, 1);
        let q = p + 2;
        if (start && withPcr) {
          putPcr(q, <u64>pcr);
          q += 6;
        }
        const end = p + <usize>af;
        if (end > q) memory.fill(q, STUFFING, end - q);
      }
      p += <usize>af;
    }
    memory.copy(p, src, <usize>n);
    dst += <usize>PACKET_SIZE;
    src += <usize>n;
    left -= n;
    c = (c + 1) & 15;
    fields = 0;
    start = false;
  }
  return total;
}
