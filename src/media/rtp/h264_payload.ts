/**
 * The H.264 RTP payload format's structures (RFC 6184): the payload
 * structure types of the first byte (5.2, 5.4), STAP-A aggregation (5.7.1)
 * and the FU-A indicator and header (5.8). Splitting NAL units into FU-A
 * packets is the WASM hot path `src/wasm/rtp_packetizer.ts`; this file is
 * what both directions share.
 *
 * Sluice speaks packetization-mode 1, non-interleaved (5.4 Table 3): single
 * NAL unit packets, STAP-A and FU-A. STAP-B, MTAP and FU-B belong to the
 * interleaved mode and are refused by the depacketizer.
 *
 * @module
 */
import { ProtocolError } from "../../errors.ts";

/** RFC 6184 5.2 Table 1: the type field of the payload's first byte (1..23 are single NAL unit packets). */
export const RtpH264Type = {
  /** 24: single-time aggregation packet A (5.7.1). */
  StapA: 24,
  /** 25: single-time aggregation packet B, with a DON (interleaved mode). */
  StapB: 25,
  /** 26: multi-time aggregation packet, 16-bit timestamp offsets (interleaved mode). */
  Mtap16: 26,
  /** 27: multi-time aggregation packet, 24-bit timestamp offsets (interleaved mode). */
  Mtap24: 27,
  /** 28: fragmentation unit A (5.8). */
  FuA: 28,
  /** 29: fragmentation unit B, with a DON (interleaved mode). */
  FuB: 29,
} as const;
export type RtpH264Type = typeof RtpH264Type[keyof typeof RtpH264Type];

/** RFC 6184 5.3: the NAL unit header's F bit, NRI and type (also the first byte of STAP-A and the FU indicator). */
export const NalHeader = {
  Forbidden: 0x80,
  Nri: 0x60,
  Type: 0x1f,
} as const;

/** RFC 6184 5.8: the FU header's S (start), E (end) and R bits; its low 5 bits are the NAL unit's type. */
export const FuHeader = {
  Start: 0x80,
  End: 0x40,
  Reserved: 0x20,
} as const;

/** RFC 6184 5.7.1: each aggregated unit has a 16-bit size before it. */
export const STAP_A_SIZE_FIELD = 2;
/** The largest NAL unit a STAP-A can aggregate (its size field is 16 bits). */
export const STAP_A_MAX_UNIT = 0xffff;

/**
 * A STAP-A payload aggregating `units` (5.7.1): the header byte (F set if any
 * unit's F is set, NRI the greatest of theirs, type 24), then each unit behind
 * its 16-bit size, in a new array. Empty units and units over 65535 bytes
 * throw RangeError.
 */
export function buildStapA(units: readonly Uint8Array[]): Uint8Array {
  let size = 1;
  let f = 0;
  let nri = 0;
  for (const u of units) {
    if (u.length === 0 || u.length > STAP_A_MAX_UNIT) {
      throw new RangeError(`Cannot build STAP-A: a unit is ${u.length} bytes, allowed 1..${STAP_A_MAX_UNIT}`);
    }
    f |= u[0] & NalHeader.Forbidden;
    nri = Math.max(nri, u[0] & NalHeader.Nri);
    size += STAP_A_SIZE_FIELD + u.length;
  }
  const out = new Uint8Array(size);
  out[0] = f | nri | RtpH264Type.StapA;
  let o = 1;
  for (const u of units) {
    out[o] = u.length >> 8;
    out[o + 1] = u.length & 0xff;
    out.set(u, o + STAP_A_SIZE_FIELD);
    o += STAP_A_SIZE_FIELD + u.length;
  }
  return out;
}

/**
 * The NAL units of a STAP-A payload (header byte first), as views of it. A
 * size of 0 or running past the end throws ProtocolError (code "stap_a").
 */
export function readStapA(payload: Uint8Array): Uint8Array[] {
  const units: Uint8Array[] = [];
  for (let o = 1; o < payload.length;) {
    if (o + STAP_A_SIZE_FIELD > payload.length) {
      throw new ProtocolError("stap_a", `Cannot read STAP-A: a size at byte ${o} is cut short`);
    }
    const n = (payload[o] << 8) | payload[o + 1];
    o += STAP_A_SIZE_FIELD;
    if (n === 0 || o + n > payload.length) {
      throw new ProtocolError(
        "stap_a",
        `Cannot read STAP-A: a unit at byte ${o - STAP_A_SIZE_FIELD} of ${n} bytes, ${
          payload.length - o
        } left`,
      );
    }
    units.push(payload.subarray(o, o + n));
    o += n;
  }
  if (units.length === 0) {
    throw new ProtocolError("stap_a", "Cannot read STAP-A: current payload has no units");
  }
  return units;
}
