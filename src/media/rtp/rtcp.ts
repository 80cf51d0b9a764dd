/**
 * RTCP (RFC 3550 6): the sender report a sender sends so that players can
 * map its RTP timestamps to wall-clock time and line tracks up (6.4.1), the
 * receiver report a player sends back (6.4.2), source description with a
 * CNAME (6.5.1) and goodbye (6.6); built for sending, and read from a
 * compound packet (6.1) as a player or publisher sends it.
 *
 * Every packet starts with the same 4 bytes: V=2, P, a 5-bit count (report
 * blocks, or sources for SDES and BYE), the packet type, and the length in
 * 32-bit words minus one. A compound packet is such packets back to back.
 *
 * Reading is bounded: a compound packet over RTCP_MAX_COMPOUND_SIZE bytes
 * or of more than RTCP_MAX_PACKETS packets, a packet of another version,
 * one whose length runs past the end or is too short for its count, throws
 * ProtocolError (code "rtcp"). Packet types other than these come back as
 * `{ type: "other" }`; SDES items are read for their CNAMEs only.
 *
 * @module
 */
import { ProtocolError } from "../../errors.ts";
import type { NtpTime } from "./clock.ts";

/** RFC 3550 12.1: RTCP packet types. */
export const RtcpPacketType = {
  /** 200: sender report (6.4.1). */
  SenderReport: 200,
  /** 201: receiver report (6.4.2). */
  ReceiverReport: 201,
  /** 202: source description (6.5). */
  SourceDescription: 202,
  /** 203: goodbye (6.6). */
  Goodbye: 203,
  /** 204: application-defined (6.7). */
  ApplicationDefined: 204,
} as const;
export type RtcpPacketType = typeof RtcpPacketType[keyof typeof RtcpPacketType];

/** RFC 3550 12.2: SDES item types (the one a compound packet must carry is CNAME). */
export const SdesItem = {
  /** 0: end of the item list of a chunk. */
  End: 0,
  /** 1: canonical end-point identifier (6.5.1). */
  Cname: 1,
} as const;

/** RFC 3550 6.4.1: the common header (4), then SSRC (4), NTP (8), RTP timestamp, packet and octet counts. */
const SR_SIZE = 28;
/** RFC 3550 6.4.2: the common header and the reporter's SSRC. */
const RR_SIZE = 8;
/** RFC 3550 6.4.1: a report block is 24 bytes. */
const REPORT_BLOCK_SIZE = 24;
/** RFC 3550 6.4.1: RC, SC are 5 bits. */
export const MAX_REPORT_BLOCKS = 31;
/** The largest compound packet read (a UDP datagram, an interleaved frame). */
export const RTCP_MAX_COMPOUND_SIZE = 65535;
/** The most packets one compound packet may hold; senders put 2 or 3 together. */
export const RTCP_MAX_PACKETS = 32;
/** RFC 3550 6.5: an SDES item's text is at most 255 bytes. */
const MAX_ITEM_LENGTH = 255;
/** RFC 3550 6.6: the reason's length is one byte. */
const MAX_REASON_LENGTH = 255;

/** RFC 3550 6.4.1: one reception report block, about one source. */
export interface ReportBlock {
  /** SSRC_n: the source this block is about. */
  readonly ssrc: number;
  /** Fraction of packets lost since the last report, in 1/256 (0..255). */
  readonly fractionLost: number;
  /** Cumulative packets lost (signed 24 bits: duplicates can make it negative). */
  readonly cumulativeLost: number;
  /** Extended highest sequence number received: cycles in the high 16 bits. */
  readonly highestSequence: number;
  /** Interarrival jitter, in timestamp units. */
  readonly jitter: number;
  /** LSR: the middle 32 bits of the last sender report's NTP timestamp (0: none yet). */
  readonly lastSenderReport: number;
  /** DLSR: delay since that sender report, in 1/65536 s. */
  readonly delaySinceLastSenderReport: number;
}

/** RFC 3550 6.4.1: what a sender reports. */
export interface SenderReport {
  readonly type: "sr";
  readonly ssrc: number;
  /** The wall-clock time the report was sent. */
  readonly ntp: NtpTime;
  /** The RTP timestamp of that same instant, on the sender's media clock. */
  readonly rtpTimestamp: number;
  /** Packets sent since the start (mod 2^32). */
  readonly packetCount: number;
  /** Payload octets sent since the start, headers and padding not counted (mod 2^32). */
  readonly octetCount: number;
  readonly reports: readonly ReportBlock[];
}

/** RFC 3550 6.4.2: what a receiver reports. */
export interface ReceiverReport {
  readonly type: "rr";
  /** The reporter's SSRC. */
  readonly ssrc: number;
  readonly reports: readonly ReportBlock[];
}

/** RFC 3550 6.5: the CNAME of each source described. */
export interface SourceDescription {
  readonly type: "sdes";
  readonly cnames: readonly { readonly ssrc: number; readonly cname: string }[];
}

/** RFC 3550 6.6: sources leaving. */
export interface Goodbye {
  readonly type: "bye";
  readonly ssrcs: readonly number[];
  readonly reason?: string;
}

/** A packet of a type not read here (APP, XR, feedback, ...). */
export interface OtherRtcp {
  readonly type: "other";
  readonly packetType: number;
}

export type RtcpPacket = SenderReport | ReceiverReport | SourceDescription | Goodbye | OtherRtcp;

// ---- building

function checkU32(v: number, what: string, who: string): void {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) {
    throw new RangeError(`Cannot build ${who}: ${what} must be an integer in 0..4294967295, current ${v}`);
  }
}

function checkBlocks(blocks: readonly ReportBlock[], who: string): void {
  if (blocks.length > MAX_REPORT_BLOCKS) {
    throw new RangeError(`Cannot build ${who}: ${blocks.length} report blocks, limit ${MAX_REPORT_BLOCKS}`);
  }
}

function header(v: DataView, at: number, count: number, type: RtcpPacketType, bytes: number): void {
  v.setUint8(at, 0x80 | count); // V=2, P=0
  v.setUint8(at + 1, type);
  v.setUint16(at + 2, bytes / 4 - 1);
}

function putBlocks(v: DataView, at: number, blocks: readonly ReportBlock[]): void {
  for (const b of blocks) {
    v.setUint32(at, b.ssrc);
    const lost = Math.max(-0x800000, Math.min(0x7fffff, Math.trunc(b.cumulativeLost)));
    v.setUint32(at + 4, ((b.fractionLost & 0xff) << 24 | (lost & 0xffffff)) >>> 0);
    v.setUint32(at + 8, b.highestSequence >>> 0);
    v.setUint32(at + 12, b.jitter >>> 0);
    v.setUint32(at + 16, b.lastSenderReport >>> 0);
    v.setUint32(at + 20, b.delaySinceLastSenderReport >>> 0);
    at += REPORT_BLOCK_SIZE;
  }
}

/** What a sender report needs. */
export interface SenderReportInput {
  readonly ssrc: number;
  readonly ntp: NtpTime;
  readonly rtpTimestamp: number;
  readonly packetCount: number;
  readonly octetCount: number;
  readonly reports?: readonly ReportBlock[];
  /** When given, an SDES packet with this CNAME follows, as RFC 3550 6.1 asks of a compound packet. */
  readonly cname?: string;
}

/** A sender report (with an SDES CNAME when asked), in a new array. Fields out of range throw RangeError. */
export function buildSenderReport(sr: SenderReportInput): Uint8Array {
  const who = "RTCP sender report";
  const reports = sr.reports ?? [];
  checkBlocks(reports, who);
  checkU32(sr.ssrc, "SSRC", who);
  checkU32(sr.ntp.seconds, "NTP seconds", who);
  checkU32(sr.ntp.fraction, "NTP fraction", who);
  checkU32(sr.rtpTimestamp, "RTP timestamp", who);
  const srBytes = SR_SIZE + REPORT_BLOCK_SIZE * reports.length;
  const sdes = sr.cname === undefined ? undefined : buildSourceDescription(sr.ssrc, sr.cname);
  const out = new Uint8Array(srBytes + (sdes?.length ?? 0));
  const v = new DataView(out.buffer);
  header(v, 0, reports.length, RtcpPacketType.SenderReport, srBytes);
  v.setUint32(4, sr.ssrc);
  v.setUint32(8, sr.ntp.seconds);
  v.setUint32(12, sr.ntp.fraction);
  v.setUint32(16, sr.rtpTimestamp);
  v.setUint32(20, sr.packetCount >>> 0);
  v.setUint32(24, sr.octetCount >>> 0);
  putBlocks(v, SR_SIZE, reports);
  if (sdes) out.set(sdes, srBytes);
  return out;
}

/** A receiver report (with an SDES CNAME when given), in a new array. */
export function buildReceiverReport(
  ssrc: number,
  reports: readonly ReportBlock[],
  cname?: string,
): Uint8Array {
  const who = "RTCP receiver report";
  checkBlocks(reports, who);
  checkU32(ssrc, "SSRC", who);
  const rrBytes = RR_SIZE + REPORT_BLOCK_SIZE * reports.length;
  const sdes = cname === undefined ? undefined : buildSourceDescription(ssrc, cname);
  const out = new Uint8Array(rrBytes + (sdes?.length ?? 0));
  const v = new DataView(out.buffer);
  header(v, 0, reports.length, RtcpPacketType.ReceiverReport, rrBytes);
  v.setUint32(4, ssrc);
  putBlocks(v, RR_SIZE, reports);
  if (sdes) out.set(sdes, rrBytes);
  return out;
}

/** An SDES packet with one chunk: `ssrc` and its CNAME (RFC 3550 6.5.1), padded to 32 bits. */
export function buildSourceDescription(ssrc: number, cname: string): Uint8Array {
  const who = "RTCP source description";
  checkU32(ssrc, "SSRC", who);
  const text = new TextEncoder().encode(cname);
  if (text.length > MAX_ITEM_LENGTH) {
    throw new RangeError(`Cannot build ${who}: CNAME is ${text.length} bytes, limit ${MAX_ITEM_LENGTH}`);
  }
  // header, SSRC, CNAME type and length, the text, at least one null octet (the end item), to 32 bits
  const bytes = Math.ceil((8 + 2 + text.length + 1) / 4) * 4;
  const out = new Uint8Array(bytes);
  const v = new DataView(out.buffer);
  header(v, 0, 1, RtcpPacketType.SourceDescription, bytes);
  v.setUint32(4, ssrc);
  out[8] = SdesItem.Cname;
  out[9] = text.length;
  out.set(text, 10);
  return out;
}

/** A goodbye for `ssrcs` (RFC 3550 6.6), with an optional reason, in a new array. */
export function buildGoodbye(ssrcs: readonly number[], reason?: string): Uint8Array {
  const who = "RTCP goodbye";
  if (ssrcs.length > MAX_REPORT_BLOCKS) {
    throw new RangeError(`Cannot build ${who}: ${ssrcs.length} sources, limit ${MAX_REPORT_BLOCKS}`);
  }
  for (const s of ssrcs) checkU32(s, "SSRC", who);
  const text = reason === undefined ? undefined : new TextEncoder().encode(reason);
  if (text && text.length > MAX_REASON_LENGTH) {
    throw new RangeError(`Cannot build ${who}: reason is ${text.length} bytes, limit ${MAX_REASON_LENGTH}`);
  }
  const bytes = 4 + 4 * ssrcs.length + (text ? Math.ceil((1 + text.length) / 4) * 4 : 0);
  const out = new Uint8Array(bytes);
  const v = new DataView(out.buffer);
  header(v, 0, ssrcs.length, RtcpPacketType.Goodbye, bytes);
  ssrcs.forEach((s, i) => v.setUint32(4 + 4 * i, s));
  if (text) {
    out[4 + 4 * ssrcs.length] = text.length;
    out.set(text, 5 + 4 * ssrcs.length);
  }
  return out;
}

// ---- reading

function fail(detail: string): never {
  throw new ProtocolError("rtcp", `Cannot read RTCP packet: ${detail}`);
}

function readBlocks(v: DataView, at: number, count: number): ReportBlock[] {
  const out: ReportBlock[] = [];
  for (let i = 0; i < count; i++, at += REPORT_BLOCK_SIZE) {
    const word = v.getUint32(at + 4);
    out.push({
      ssrc: v.getUint32(at),
      fractionLost: word >>> 24,
      cumulativeLost: (word << 8) >> 8, // signed 24 bits
      highestSequence: v.getUint32(at + 8),
      jitter: v.getUint32(at + 12),
      lastSenderReport: v.getUint32(at + 16),
      delaySinceLastSenderReport: v.getUint32(at + 20),
    });
  }
  return out;
}

function readSdes(b: Uint8Array, v: DataView, start: number, end: number, count: number): SourceDescription {
  const cnames: { ssrc: number; cname: string }[] = [];
  let at = start;
  for (let c = 0; c < count; c++) {
    if (at + 4 > end) fail(`SDES chunk ${c} at byte ${at} is cut short`);
    const ssrc = v.getUint32(at);
    at += 4;
    for (;;) {
      if (at >= end) fail(`SDES chunk ${c} has no end item`);
      const type = b[at];
      if (type === SdesItem.End) {
        at = (Math.floor((at - start) / 4) + 1) * 4 + start; // to the next 32-bit boundary
        break;
      }
      if (at + 2 > end || at + 2 + b[at + 1] > end) fail(`SDES item at byte ${at} runs past the packet`);
      const n = b[at + 1];
      if (type === SdesItem.Cname) {
        cnames.push({ ssrc, cname: new TextDecoder().decode(b.subarray(at + 2, at + 2 + n)) });
      }
      at += 2 + n;
    }
  }
  return { type: "sdes", cnames };
}

/**
 * The packets of a compound RTCP packet (or of one packet), in order. See the
 * module doc for the bounds and errors.
 */
export function readRtcp(compound: Uint8Array): RtcpPacket[] {
  const n = compound.length;
  if (n > RTCP_MAX_COMPOUND_SIZE) fail(`it is ${n} bytes, limit ${RTCP_MAX_COMPOUND_SIZE}`);
  if (n < 4) fail(`it is ${n} bytes, shorter than the 4-byte header`);
  const v = new DataView(compound.buffer, compound.byteOffset, n);
  const out: RtcpPacket[] = [];
  for (let at = 0; at < n;) {
    if (out.length === RTCP_MAX_PACKETS) fail(`more than ${RTCP_MAX_PACKETS} packets in one compound packet`);
    if (at + 4 > n) fail(`a packet header at byte ${at} is cut short`);
    const b0 = compound[at];
    if (b0 >> 6 !== 2) fail(`version is ${b0 >> 6} at byte ${at}, expected 2`);
    const count = b0 & 0x1f;
    const type = compound[at + 1];
    const bytes = (v.getUint16(at + 2) + 1) * 4;
    if (at + bytes > n) fail(`a packet of ${bytes} bytes at byte ${at} runs past the end (${n})`);
    let end = at + bytes;
    if (b0 & 0x20) {
      const pad = compound[end - 1];
      if (pad === 0 || pad > bytes - 4) fail(`padding of ${pad} bytes in a packet of ${bytes}`);
      end -= pad;
    }
    const need = (size: number, what: string) => {
      if (at + size > end) fail(`${what} needs ${size} bytes, the packet has ${end - at}`);
    };
    if (type === RtcpPacketType.SenderReport) {
      need(SR_SIZE + REPORT_BLOCK_SIZE * count, `a sender report with ${count} blocks`);
      out.push({
        type: "sr",
        ssrc: v.getUint32(at + 4),
        ntp: { seconds: v.getUint32(at + 8), fraction: v.getUint32(at + 12) },
        rtpTimestamp: v.getUint32(at + 16),
        packetCount: v.getUint32(at + 20),
        octetCount: v.getUint32(at + 24),
        reports: readBlocks(v, at + SR_SIZE, count),
      });
    } else if (type === RtcpPacketType.ReceiverReport) {
      need(RR_SIZE + REPORT_BLOCK_SIZE * count, `a receiver report with ${count} blocks`);
      out.push({ type: "rr", ssrc: v.getUint32(at + 4), reports: readBlocks(v, at + RR_SIZE, count) });
    } else if (type === RtcpPacketType.SourceDescription) {
      out.push(readSdes(compound, v, at + 4, end, count));
    } else if (type === RtcpPacketType.Goodbye) {
      need(4 + 4 * count, `a goodbye for ${count} sources`);
      const ssrcs: number[] = [];
      for (let i = 0; i < count; i++) ssrcs.push(v.getUint32(at + 4 + 4 * i));
      const r = at + 4 + 4 * count;
      let reason: string | undefined;
      if (r < end) {
        const len = compound[r];
        if (r + 1 + len > end) fail(`a goodbye reason of ${len} bytes runs past the packet`);
        reason = new TextDecoder().decode(compound.subarray(r + 1, r + 1 + len));
      }
      out.push({ type: "bye", ssrcs, ...(reason !== undefined && { reason }) });
    } else {
      out.push({ type: "other", packetType: type });
    }
    at += bytes;
  }
  return out;
}
