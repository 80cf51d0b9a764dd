/**
 * The RTP fixed header (RFC 3550 5.1): read from a received packet, with its
 * CSRC list, header extension (5.3.1) and padding (5.1 P) stepped over to
 * the payload, and written for a packet to send (12 bytes: no CSRC, no
 * extension, no padding, as a single-source sender writes it).
 *
 * ```
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * |V=2|P|X|  CC   |M|     PT      |       sequence number         |
 * |                           timestamp                           |
 * |           synchronization source (SSRC) identifier            |
 * |            contributing source (CSRC) identifiers             | (CC of them)
 * ```
 *
 * A packet longer than RTP_MAX_PACKET_SIZE, shorter than its header, of
 * another version, or whose CSRC list, extension or padding run past its end
 * throws ProtocolError (code "rtp").
 *
 * @module
 */
import { ProtocolError } from "../../errors.ts";

/** RFC 3550 5.1: version 2, the only one. */
export const RTP_VERSION = 2;
/** RFC 3550 5.1: the fixed header, with no CSRC. */
export const RTP_FIXED_HEADER_SIZE = 12;
/** The largest packet read: a UDP datagram or an interleaved frame's 16-bit length (RFC 2326 10.12). */
export const RTP_MAX_PACKET_SIZE = 65535;
/** RFC 3550 5.1: 2^16 sequence numbers, 2^32 timestamps. */
export const SEQUENCE_RANGE = 0x10000;
export const TIMESTAMP_RANGE = 0x1_0000_0000;

/** The bits of the first two header bytes (RFC 3550 5.1). */
const Bits = {
  /** Byte 0 bits 7-6: V. */
  VersionShift: 6,
  /** Byte 0 bit 5: P, padding octets at the end, the last one their count. */
  Padding: 0x20,
  /** Byte 0 bit 4: X, one header extension after the CSRC list (5.3.1). */
  Extension: 0x10,
  /** Byte 0 bits 3-0: CC, the CSRC count. */
  CsrcCount: 0x0f,
  /** Byte 1 bit 7: M, the marker. */
  Marker: 0x80,
  /** Byte 1 bits 6-0: PT, the payload type. */
  PayloadType: 0x7f,
} as const;

/** The fields a sender writes. */
export interface RtpHeaderFields {
  readonly marker: boolean;
  /** 0..127. */
  readonly payloadType: number;
  /** 0..65535. */
  readonly sequence: number;
  /** 0..2^32-1. */
  readonly timestamp: number;
  /** 0..2^32-1. */
  readonly ssrc: number;
}

/** A received packet: its header fields and a view of its payload. */
export interface RtpPacket extends RtpHeaderFields {
  /** Contributing sources (a mixer's), usually none. */
  readonly csrc: readonly number[];
  /** The header extension's profile-defined 16 bits (5.3.1), when X is set. */
  readonly extensionProfile?: number;
  /** The payload, padding removed: a view of the packet's bytes. */
  readonly payload: Uint8Array;
}

function fail(detail: string): never {
  throw new ProtocolError("rtp", `Cannot read RTP packet: ${detail}`);
}

function u32(b: Uint8Array, at: number): number {
  return ((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) >>> 0;
}

/** Reads one RTP packet (a whole UDP datagram or interleaved frame body). See the module doc for errors. */
export function readRtpPacket(packet: Uint8Array): RtpPacket {
  const n = packet.length;
  if (n > RTP_MAX_PACKET_SIZE) fail(`it is ${n} bytes, limit ${RTP_MAX_PACKET_SIZE}`);
  if (n < RTP_FIXED_HEADER_SIZE) {
    fail(`it is ${n} bytes, shorter than the ${RTP_FIXED_HEADER_SIZE}-byte header`);
  }
  const b0 = packet[0];
  const version = b0 >> Bits.VersionShift;
  if (version !== RTP_VERSION) fail(`version is ${version}, expected ${RTP_VERSION}`);
  const cc = b0 & Bits.CsrcCount;
  let at = RTP_FIXED_HEADER_SIZE + 4 * cc;
  if (at > n) fail(`${cc} CSRC need ${at} bytes, current length ${n}`);
  const csrc: number[] = [];
  for (let i = 0; i < cc; i++) csrc.push(u32(packet, RTP_FIXED_HEADER_SIZE + 4 * i));
  let extensionProfile: number | undefined;
  if (b0 & Bits.Extension) {
    if (at + 4 > n) fail(`the header extension at byte ${at} needs 4 bytes, ${n - at} left`);
    extensionProfile = (packet[at] << 8) | packet[at + 1];
    const words = (packet[at + 2] << 8) | packet[at + 3];
    at += 4 + 4 * words;
    if (at > n) fail(`the header extension of ${words} words runs to byte ${at}, current length ${n}`);
  }
  let end = n;
  if (b0 & Bits.Padding) {
    const pad = packet[n - 1];
    if (pad === 0 || pad > n - at) fail(`padding of ${pad} bytes, allowed 1..${n - at}`);
    end -= pad;
  }
  const b1 = packet[1];
  return {
    marker: (b1 & Bits.Marker) !== 0,
    payloadType: b1 & Bits.PayloadType,
    sequence: (packet[2] << 8) | packet[3],
    timestamp: u32(packet, 4),
    ssrc: u32(packet, 8),
    csrc,
    ...(extensionProfile !== undefined && { extensionProfile }),
    payload: packet.subarray(at, end),
  };
}

/**
 * Writes a 12-byte header (V=2, no padding, extension or CSRC) at `at`.
 * Fields out of range throw RangeError.
 */
export function writeRtpHeader(out: Uint8Array, at: number, h: RtpHeaderFields): void {
  const int = (v: number, max: number, what: string) => {
    if (!Number.isInteger(v) || v < 0 || v > max) {
      throw new RangeError(`Cannot write RTP header: ${what} must be an integer in 0..${max}, current ${v}`);
    }
  };
  int(h.payloadType, Bits.PayloadType, "payload type");
  int(h.sequence, SEQUENCE_RANGE - 1, "sequence number");
  int(h.timestamp, TIMESTAMP_RANGE - 1, "timestamp");
  int(h.ssrc, TIMESTAMP_RANGE - 1, "SSRC");
  out[at] = RTP_VERSION << Bits.VersionShift;
  out[at + 1] = (h.marker ? Bits.Marker : 0) | h.payloadType;
  out[at + 2] = h.sequence >> 8;
  out[at + 3] = h.sequence & 0xff;
  const v = new DataView(out.buffer, out.byteOffset + at + 4, 8);
  v.setUint32(0, h.timestamp);
  v.setUint32(4, h.ssrc);
}
