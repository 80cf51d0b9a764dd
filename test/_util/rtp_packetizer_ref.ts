/**
 * The plain-TypeScript twin of `src/wasm/rtp_packetizer.ts` (same API, same
 * checks, same bytes), for differential tests and the bench: it writes each
 * packet's interleaved frame header, RTP header and FU-A bytes into the
 * array it returns and copies the NAL units in piece by piece.
 *
 * @module
 */
import {
  checkNalPacketizing,
  FU_A_HEADER_SIZE,
  INTERLEAVED_HEADER_SIZE,
  nalPacketCount,
  type NalPacketizing,
  RTP_HEADER_SIZE,
  RTP_MAX_PAYLOAD_SIZE,
  RTP_MIN_PAYLOAD_SIZE,
  RTP_PACKET_OVERHEAD,
} from "../../src/wasm/rtp_packetizer.ts";

export {
  nalPacketCount,
  type NalPacketizing,
  RTP_HEADER_SIZE,
  RTP_MAX_PAYLOAD_SIZE,
  RTP_MIN_PAYLOAD_SIZE,
  RTP_PACKET_OVERHEAD,
};

/** RFC 2326 10.12 '$'; RFC 3550 5.1 V=2 and the marker bit; RFC 6184 5.8 FU-A type 28, S and E. */
const MAGIC = 0x24;
const V2 = 0x80;
const MARKER = 0x80;
const FU_A = 28;
const FU_START = 0x80;
const FU_END = 0x40;

/** See `packetizeNals` in src/wasm/rtp_packetizer.ts. */
export function packetizeNals(units: readonly Uint8Array[], opts: NalPacketizing): Uint8Array {
  const { bytes } = checkNalPacketizing(units, opts);
  const out = new Uint8Array(bytes);
  const { payloadType, ssrc, timestamp, maxPayloadSize } = opts;
  const channel = opts.channel ?? 0;
  let seq = opts.sequence;
  let o = 0;
  const header = (payload: number, marker: boolean) => {
    out[o] = MAGIC;
    out[o + 1] = channel;
    const length = RTP_HEADER_SIZE + payload;
    out[o + 2] = length >> 8;
    out[o + 3] = length & 0xff;
    const r = o + INTERLEAVED_HEADER_SIZE;
    out[r] = V2;
    out[r + 1] = (marker ? MARKER : 0) | payloadType;
    out[r + 2] = seq >> 8;
    out[r + 3] = seq & 0xff;
    out[r + 4] = timestamp >>> 24;
    out[r + 5] = (timestamp >>> 16) & 0xff;
    out[r + 6] = (timestamp >>> 8) & 0xff;
    out[r + 7] = timestamp & 0xff;
    out[r + 8] = ssrc >>> 24;
    out[r + 9] = (ssrc >>> 16) & 0xff;
    out[r + 10] = (ssrc >>> 8) & 0xff;
    out[r + 11] = ssrc & 0xff;
    seq = (seq + 1) & 0xffff;
    o += RTP_PACKET_OVERHEAD;
  };
  const room = maxPayloadSize - FU_A_HEADER_SIZE;
  units.forEach((u, i) => {
    const last = i === units.length - 1 && opts.marker === true;
    if (u.length <= maxPayloadSize) {
      header(u.length, last);
      out.set(u, o);
      o += u.length;
      return;
    }
    const nal = u[0];
    for (let from = 1; from < u.length;) {
      const k = Math.min(room, u.length - from);
      const end = from + k === u.length;
      header(FU_A_HEADER_SIZE + k, last && end);
      out[o] = (nal & 0xe0) | FU_A;
      out[o + 1] = (from === 1 ? FU_START : 0) | (end ? FU_END : 0) | (nal & 0x1f);
      out.set(u.subarray(from, from + k), o + FU_A_HEADER_SIZE);
      o += FU_A_HEADER_SIZE + k;
      from += k;
    }
  });
  return out;
}
