/**
 * RTP packetizing of H.264 NAL units on the process-wide codec instance: the
 * RTP fixed header (RFC 3550 5.1), single NAL unit packets (RFC 6184 5.6)
 * and FU-A fragmentation (RFC 6184 5.8), every packet behind the 4-byte
 * interleaved frame header of RTSP over TCP (RFC 2326 10.12, RFC 7826 14).
 * The WASM side is `wasm/assembly/rtp_packet.ts`; its plain-TypeScript twin,
 * run by the same tests, is `test/_util/rtp_packetizer_ref.ts`.
 *
 * ## The output: one array of interleaved frames
 *
 * The packets of one call come back to back in one new array the caller
 * owns, each as `24 ch len16` then the RTP packet (`len16` = its length). An
 * RTSP session over TCP writes the whole array in one write (when its channel
 * is the one packed; `src/media/rtp/interleaved.ts` rewrites it otherwise);
 * over UDP it sends each packet, a view 4 bytes into each frame, as one
 * datagram (`rtpPackets()` there walks the frames). One array per access unit
 * is what a muxer caches on `frame.packed` and shares between sessions.
 *
 * ## Sizes
 *
 * `maxPayloadSize` bounds the RTP payload: the NAL unit of a single NAL unit
 * packet, or the FU indicator, FU header and fragment of an FU-A. An RTP
 * packet is at most maxPayloadSize + 12 bytes (no CSRC, no extension), a UDP
 * datagram the same, an interleaved frame 4 more. RTP_MAX_PAYLOAD_SIZE
 * (65495) is the most that fits a UDP datagram over IPv4 (65535 - 20 - 8 -
 * 12), and so the interleaved frame's 16-bit length too.
 *
 * ## What WASM buys
 *
 * Little, as for MPEG-TS packetizing. `deno task bench micro` packs each
 * video frame of a ~1 Mbit/s 640x360 H.264 stream (access units of 3.9 KB
 * median, 12.9 KB at most) in one call at 1400-byte payloads: 2,250 to 3,550
 * MB/s through WASM and 2,300 to 3,150 MB/s through the twin over five runs
 * on a loaded 2-core machine (best of 7 rounds each; WASM/TS 0.83 to 1.18).
 * At 200-byte payloads, seven times the fragments, WASM keeps 2,300 to
 * 2,700 MB/s and the twin drops to 2,100 (1.1 to 1.3). Both are bound by
 * copies and the one array each call returns: the twin writes the headers
 * into that array and copies each fragment into it once (a `subarray()` and
 * a `set()` per fragment); WASM copies each unit in once, moves it down per
 * packet with `memory.copy`, and slices the result out, three passes over
 * the bytes for one call across the boundary. The module keeps the path in
 * WASM so that all packing shares one boundary.
 *
 * @module
 */
import { abi, codec } from "./module.ts";

/** RFC 3550 5.1: the fixed header, no CSRC and no extension. */
export const RTP_HEADER_SIZE = 12;
/** RFC 2326 10.12: '$' (0x24), the channel, the packet's length (16 bits, big-endian). */
export const INTERLEAVED_HEADER_SIZE = 4;
/** What each packet of the output adds to its payload: the interleaved frame header and the RTP header. */
export const RTP_PACKET_OVERHEAD = INTERLEAVED_HEADER_SIZE + RTP_HEADER_SIZE;
/** RFC 6184 5.8: FU indicator and FU header. */
export const FU_A_HEADER_SIZE = 2;
/** The smallest payload: an FU-A must carry one byte of its NAL unit. */
export const RTP_MIN_PAYLOAD_SIZE = FU_A_HEADER_SIZE + 1;
/** The largest payload: a UDP datagram over IPv4 (65535 - 20 - 8) less the RTP header. */
export const RTP_MAX_PAYLOAD_SIZE = 65535 - 20 - 8 - RTP_HEADER_SIZE;
/** The most NAL units one call takes (the spans region's records). */
export const RTP_MAX_UNITS: number = abi.CODEC_SPANS_CAP;
/** The largest output of one call (the codec output region). */
export const RTP_MAX_OUTPUT: number = abi.CODEC_OUT_SIZE;

/** How to packetize the NAL units of one call (usually one access unit). */
export interface NalPacketizing {
  /** RFC 3550 5.1 PT, 0..127 (H.264 takes a dynamic one, 96..127). */
  readonly payloadType: number;
  /** RFC 3550 5.1 SSRC, 0..2^32-1. */
  readonly ssrc: number;
  /** The first packet's sequence number, 0..65535; the next call starts at (sequence + packets) mod 2^16. */
  readonly sequence: number;
  /** RFC 3550 5.1 timestamp of every packet, 0..2^32-1 (RFC 6184 5.1: 90 kHz, the presentation time). */
  readonly timestamp: number;
  /** The largest RTP payload, RTP_MIN_PAYLOAD_SIZE..RTP_MAX_PAYLOAD_SIZE (see the module doc). */
  readonly maxPayloadSize: number;
  /** Sets the marker bit on the last packet (RFC 6184 5.1: the last packet of an access unit). */
  readonly marker?: boolean;
  /** The interleaved channel, 0..255; default 0. */
  readonly channel?: number;
}

/** The packets and bytes `packetizeNals` makes of units of these lengths. */
export interface NalPacketCount {
  readonly packets: number;
  /** Bytes of the output: interleaved frames, RTP headers and payloads. */
  readonly bytes: number;
}

function isU32(v: number): boolean {
  return Number.isInteger(v) && v >= 0 && v <= 0xffffffff;
}

function intIn(v: number, lo: number, hi: number): boolean {
  return Number.isInteger(v) && v >= lo && v <= hi;
}

/** The packets `packetizeNals` makes of units of these lengths (each 1 byte or more) at `maxPayloadSize`. */
export function nalPacketCount(
  units: readonly { readonly length: number }[],
  maxPayloadSize: number,
): NalPacketCount {
  const room = maxPayloadSize - FU_A_HEADER_SIZE;
  let packets = 0;
  let bytes = 0;
  for (const { length: n } of units) {
    if (n <= maxPayloadSize) {
      packets++;
      bytes += RTP_PACKET_OVERHEAD + n;
    } else {
      const k = Math.ceil((n - 1) / room);
      packets += k;
      bytes += k * (RTP_PACKET_OVERHEAD + FU_A_HEADER_SIZE) + n - 1;
    }
  }
  return { packets, bytes };
}

/**
 * Throws RangeError for units or options the packetizer refuses (shared with
 * the TypeScript twin, so both say the same); returns what the call makes.
 */
export function checkNalPacketizing(units: readonly Uint8Array[], opts: NalPacketizing): NalPacketCount {
  const fail = (what: string): never => {
    throw new RangeError(`Cannot packetize NAL units: ${what}`);
  };
  if (units.length < 1 || units.length > RTP_MAX_UNITS) {
    fail(`there are ${units.length}, allowed 1..${RTP_MAX_UNITS}`);
  }
  for (const u of units) if (u.length === 0) fail("one is empty, current length 0");
  if (!intIn(opts.maxPayloadSize, RTP_MIN_PAYLOAD_SIZE, RTP_MAX_PAYLOAD_SIZE)) {
    fail(
      `maxPayloadSize must be an integer in ${RTP_MIN_PAYLOAD_SIZE}..${RTP_MAX_PAYLOAD_SIZE}, current ${opts.maxPayloadSize}`,
    );
  }
  if (!intIn(opts.payloadType, 0, 127)) {
    fail(`payload type must be an integer in 0..127, current ${opts.payloadType}`);
  }
  if (!isU32(opts.ssrc)) fail(`SSRC must be an integer in 0..4294967295, current ${opts.ssrc}`);
  if (!intIn(opts.sequence, 0, 0xffff)) {
    fail(`sequence number must be an integer in 0..65535, current ${opts.sequence}`);
  }
  if (!isU32(opts.timestamp)) {
    fail(`timestamp must be an integer in 0..4294967295, current ${opts.timestamp}`);
  }
  const channel = opts.channel ?? 0;
  if (!intIn(channel, 0, 255)) fail(`channel must be an integer in 0..255, current ${channel}`);
  const count = nalPacketCount(units, opts.maxPayloadSize);
  if (count.bytes > RTP_MAX_OUTPUT) fail(`the packets are ${count.bytes} bytes, limit ${RTP_MAX_OUTPUT}`);
  return count;
}

/**
 * The RTP packets of `units` (whole NAL units, header byte first, in order)
 * as interleaved frames in a new array the caller owns (see the module doc).
 * Misuse (no units, an empty one, too many, options out of range, output
 * over RTP_MAX_OUTPUT) throws RangeError.
 */
export function packetizeNals(units: readonly Uint8Array[], opts: NalPacketizing): Uint8Array {
  const { bytes } = checkNalPacketizing(units, opts);
  const { exports, u8, i32 } = codec();
  let length = 0;
  for (const u of units) length += u.length;
  // Right-aligned: the last unit ends where the packets end.
  let at = bytes - length;
  let w = abi.CODEC_SPANS_PTR >> 2;
  for (const u of units) {
    u8.set(u, abi.CODEC_OUT_PTR + at);
    i32[w++] = at;
    i32[w++] = u.length;
    at += u.length;
  }
  const n = exports.rtpPacketizeNals(
    units.length,
    opts.maxPayloadSize,
    opts.ssrc,
    opts.sequence,
    opts.timestamp,
    opts.payloadType,
    opts.marker ? 1 : 0,
    opts.channel ?? 0,
  ) as number;
  if (n !== bytes) throw new RangeError(`Cannot packetize NAL units: status ${n}, expected ${bytes} bytes`);
  return u8.slice(abi.CODEC_OUT_PTR, abi.CODEC_OUT_PTR + n);
}
