/**
 * Interleaved binary data (RFC 2326 10.12, RFC 7826 14): RTP and RTCP packets
 * carried on the RTSP TCP connection itself, between RTSP messages. Each is
 * framed as `$` (0x24), a one-byte channel id, the packet's length (16 bits,
 * big-endian) and the packet; the channels a stream uses are agreed in the
 * Transport header's `interleaved=` parameter (even for RTP, the next odd one
 * for RTCP, by convention).
 *
 * The packetizers produce their packets in this form, back to back in one
 * array per access unit, so a TCP session writes them as they are and a UDP
 * session sends the packets inside them (`rtpPackets`). Reading frames off a
 * TCP connection, between RTSP messages, is `RtspReader`'s
 * (`src/rtsp/reader.ts`): it hands the packets inside to the depacketizers.
 * This file has the layout, the writers, and the helpers over a packetizer's
 * own output.
 *
 * @module
 */
import { INTERLEAVED_HEADER_SIZE } from "../../wasm/rtp_packetizer.ts";

/** The interleaved frame layout (RFC 2326 10.12). */
export const Interleaved = {
  /** The magic byte that starts a frame: ASCII "$". */
  Magic: 0x24,
  /** "$", the channel, the 16-bit length (the WASM packetizer writes the same). */
  HeaderSize: INTERLEAVED_HEADER_SIZE,
  /** The channel identifier is one octet. */
  MaxChannel: 0xff,
  /** The length is two octets: the most a frame can carry. */
  MaxPayload: 0xffff,
} as const;

/** `Interleaved.HeaderSize` and `Interleaved.Magic` by their flat names (the RTSP session's scan). */
export { INTERLEAVED_HEADER_SIZE };
export const INTERLEAVED_MAGIC = Interleaved.Magic;

/** One interleaved frame: its channel and payload (an RTP or RTCP packet). */
export interface InterleavedFrame {
  readonly type: "interleaved";
  /** 0..255, as agreed in the Transport header. */
  readonly channel: number;
  /** The packet; a new array the receiver owns. */
  readonly payload: Uint8Array;
}

function checkChannel(action: string, channel: number): void {
  if (!Number.isInteger(channel) || channel < 0 || channel > Interleaved.MaxChannel) {
    throw new RangeError(
      `Cannot ${action}: current channel ${channel} is outside 0..${Interleaved.MaxChannel}`,
    );
  }
}

function bad(what: string): never {
  throw new RangeError(`Cannot read interleaved frames: ${what}`);
}

/**
 * Writes the 4-byte header of a frame of `length` bytes on `channel` into `out`
 * at `at`, for a sender that lays many packets out in one buffer. A channel
 * outside 0..255 or a length over 65535 is misuse (RangeError): an RTP
 * packetizer never makes one.
 */
export function writeInterleavedHeader(out: Uint8Array, at: number, channel: number, length: number): void {
  checkChannel("write interleaved frame", channel);
  if (!Number.isInteger(length) || length < 0 || length > Interleaved.MaxPayload) {
    throw new RangeError(
      `Cannot write interleaved frame: current length ${length}, limit ${Interleaved.MaxPayload}`,
    );
  }
  out[at] = Interleaved.Magic;
  out[at + 1] = channel;
  out[at + 2] = length >> 8;
  out[at + 3] = length & 0xff;
}

/** One packet (RTP or RTCP) in an interleaved frame on `channel`, in a new array (errors as the header's). */
export function interleave(packet: Uint8Array, channel: number): Uint8Array {
  const out = new Uint8Array(Interleaved.HeaderSize + packet.length);
  writeInterleavedHeader(out, 0, channel, packet.length);
  out.set(packet, Interleaved.HeaderSize);
  return out;
}

/**
 * The packets inside back-to-back interleaved frames, as views of `framed`
 * (one per UDP datagram). Bytes that are not whole frames throw RangeError:
 * the input is a packetizer's own output, not wire input.
 */
export function rtpPackets(framed: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let o = 0; o < framed.length;) {
    if (o + Interleaved.HeaderSize > framed.length) bad(`a frame header at byte ${o} is cut short`);
    if (framed[o] !== Interleaved.Magic) bad(`byte ${o} is 0x${framed[o].toString(16)}, expected 0x24`);
    const n = (framed[o + 2] << 8) | framed[o + 3];
    const start = o + Interleaved.HeaderSize;
    if (start + n > framed.length) bad(`a frame at byte ${o} of ${n} bytes runs past the end`);
    out.push(framed.subarray(start, start + n));
    o = start + n;
  }
  return out;
}

/** The number of frames in `framed` (see `rtpPackets`). */
export function frameCount(framed: Uint8Array): number {
  let count = 0;
  for (let o = 0; o + Interleaved.HeaderSize <= framed.length; count++) {
    o += Interleaved.HeaderSize + ((framed[o + 2] << 8) | framed[o + 3]);
  }
  return count;
}

/**
 * `framed` with every frame on `channel`: the same array when they already
 * are, else a copy (packed bytes are shared between sessions: never rewrite
 * them in place).
 */
export function withChannel(framed: Uint8Array, channel: number): Uint8Array {
  checkChannel("set interleaved channel", channel);
  let copy: Uint8Array | undefined;
  for (let o = 0; o + Interleaved.HeaderSize <= framed.length;) {
    if (framed[o + 1] !== channel) {
      copy ??= framed.slice();
      copy[o + 1] = channel;
    }
    o += Interleaved.HeaderSize + ((framed[o + 2] << 8) | framed[o + 3]);
  }
  return copy ?? framed;
}
