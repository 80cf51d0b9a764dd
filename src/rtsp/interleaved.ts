/**
 * Interleaved binary data (RFC 2326 10.12): RTP and RTCP packets carried on
 * the RTSP TCP connection itself, between RTSP messages. Each is framed as
 * `$` (0x24), a one-byte channel id, a two-byte big-endian length and that
 * many bytes of payload; the channels a stream uses are agreed in the
 * Transport header's `interleaved=` parameter (even for RTP, the next odd one
 * for RTCP, by convention). `RtspReader` (./reader.ts) reads these frames out
 * of the stream; this file has their layout and the writer.
 *
 * @module
 */

/** The interleaved frame layout (RFC 2326 10.12). */
export const Interleaved = {
  /** The magic byte that starts a frame: ASCII "$". */
  Magic: 0x24,
  /** "$", the channel, the 16-bit length. */
  HeaderSize: 4,
  /** The channel identifier is one octet. */
  MaxChannel: 0xff,
  /** The length is two octets: the most a frame can carry. */
  MaxPayload: 0xffff,
} as const;

/** One interleaved frame: its channel and payload (an RTP or RTCP packet). */
export interface InterleavedFrame {
  readonly type: "interleaved";
  /** 0..255, as agreed in the Transport header. */
  readonly channel: number;
  /** The packet; a new array the receiver owns. */
  readonly payload: Uint8Array;
}

/**
 * Frames `payload` for `channel`: the 4-byte header and the payload in one new
 * array. A channel outside 0..255 or a payload over 65535 bytes is misuse
 * (RangeError): an RTP packetizer never makes one.
 */
export function writeInterleaved(channel: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(Interleaved.HeaderSize + payload.length);
  writeInterleavedHeader(out, 0, channel, payload.length);
  out.set(payload, Interleaved.HeaderSize);
  return out;
}

/**
 * Writes the 4-byte header of a frame of `length` bytes on `channel` into `out`
 * at `at`, for a sender that lays many packets out in one buffer.
 */
export function writeInterleavedHeader(out: Uint8Array, at: number, channel: number, length: number): void {
  if (!Number.isInteger(channel) || channel < 0 || channel > Interleaved.MaxChannel) {
    throw new RangeError(
      `Cannot write interleaved frame: current channel ${channel} is outside 0..${Interleaved.MaxChannel}`,
    );
  }
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
