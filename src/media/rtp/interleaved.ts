/**
 * Interleaved frames: how RTP and RTCP packets ride an RTSP TCP connection
 * (RFC 2326 10.12, RFC 7826 14): '$' (0x24), a one-byte channel, the
 * packet's length (16 bits, big-endian), the packet. The packetizers produce
 * their packets in this form, back to back in one array per access unit, so
 * a TCP session writes them as they are and a UDP session sends the packets
 * inside them (`rtpPackets`).
 *
 * Reading frames off a TCP connection, between RTSP messages, is the RTSP
 * layer's: it hands the packets inside to the depacketizers.
 *
 * @module
 */
import { INTERLEAVED_HEADER_SIZE } from "../../wasm/rtp_packetizer.ts";

export { INTERLEAVED_HEADER_SIZE };

/** RFC 2326 10.12: the first byte of an interleaved frame. */
export const INTERLEAVED_MAGIC = 0x24;
/** RFC 2326 10.12: the length is 16 bits. */
export const MAX_INTERLEAVED_PACKET = 0xffff;

function bad(what: string): never {
  throw new RangeError(`Cannot read interleaved frames: ${what}`);
}

/**
 * The packets inside back-to-back interleaved frames, as views of `framed`
 * (one per UDP datagram). Bytes that are not whole frames throw RangeError:
 * the input is a packetizer's own output, not wire input.
 */
export function rtpPackets(framed: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let o = 0; o < framed.length;) {
    if (o + INTERLEAVED_HEADER_SIZE > framed.length) bad(`a frame header at byte ${o} is cut short`);
    if (framed[o] !== INTERLEAVED_MAGIC) bad(`byte ${o} is 0x${framed[o].toString(16)}, expected 0x24`);
    const n = (framed[o + 2] << 8) | framed[o + 3];
    const start = o + INTERLEAVED_HEADER_SIZE;
    if (start + n > framed.length) bad(`a frame at byte ${o} of ${n} bytes runs past the end`);
    out.push(framed.subarray(start, start + n));
    o = start + n;
  }
  return out;
}

/** The number of frames in `framed` (see `rtpPackets`). */
export function frameCount(framed: Uint8Array): number {
  let count = 0;
  for (let o = 0; o + INTERLEAVED_HEADER_SIZE <= framed.length; count++) {
    o += INTERLEAVED_HEADER_SIZE + ((framed[o + 2] << 8) | framed[o + 3]);
  }
  return count;
}

/**
 * `framed` with every frame on `channel`: the same array when they already
 * are, else a copy (packed bytes are shared between sessions: never rewrite
 * them in place).
 */
export function withChannel(framed: Uint8Array, channel: number): Uint8Array {
  if (!Number.isInteger(channel) || channel < 0 || channel > 255) {
    throw new RangeError(`Cannot set interleaved channel: must be an integer in 0..255, current ${channel}`);
  }
  let copy: Uint8Array | undefined;
  for (let o = 0; o + INTERLEAVED_HEADER_SIZE <= framed.length;) {
    if (framed[o + 1] !== channel) {
      copy ??= framed.slice();
      copy[o + 1] = channel;
    }
    o += INTERLEAVED_HEADER_SIZE + ((framed[o + 2] << 8) | framed[o + 3]);
  }
  return copy ?? framed;
}

/** One packet (RTP or RTCP) in an interleaved frame on `channel`, in a new array. */
export function interleave(packet: Uint8Array, channel: number): Uint8Array {
  if (packet.length > MAX_INTERLEAVED_PACKET) {
    throw new RangeError(
      `Cannot frame packet: it is ${packet.length} bytes, limit ${MAX_INTERLEAVED_PACKET}`,
    );
  }
  if (!Number.isInteger(channel) || channel < 0 || channel > 255) {
    throw new RangeError(`Cannot frame packet: channel must be an integer in 0..255, current ${channel}`);
  }
  const out = new Uint8Array(INTERLEAVED_HEADER_SIZE + packet.length);
  out[0] = INTERLEAVED_MAGIC;
  out[1] = channel;
  out[2] = packet.length >> 8;
  out[3] = packet.length & 0xff;
  out.set(packet, INTERLEAVED_HEADER_SIZE);
  return out;
}
