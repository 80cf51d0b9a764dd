/**
 * H.264 over RTP, receiving side (RFC 6184, packetization-mode 1): RTP
 * packets of one source in, FLV-tag-bodied frames for the hub out (RTSP
 * publish in).
 *
 * ## Access units
 *
 * Single NAL unit packets (types 1..23), STAP-A (24, split into its units)
 * and FU-A (28, reassembled from S to E) add NAL units to the access unit of
 * their RTP timestamp. The access unit ends at a packet with the marker bit
 * (5.1), or when a packet of another timestamp arrives (a sender that leaves
 * the marker off). It becomes one AVC NALU frame: FrameType key when it holds
 * an IDR slice, else inter; its NAL units behind 4-byte lengths;
 * CompositionTime 0. The timestamp is the RTP timestamp (the presentation
 * time, RFC 6184 5.1) in milliseconds from the track's base (the first
 * packet's, or `clockBase` from RTP-Info). The decode time is not in RTP, so
 * a stream with B-frames comes out with timestamps in presentation order and
 * composition offsets of 0: what the hub's timeline and players make of that
 * is up to them (telling DTS from PTS would need the slice headers' picture
 * order counts).
 *
 * ## Parameter sets
 *
 * SPS and PPS NAL units, in band or from the SDP (`setParameterSets`), are
 * taken out of the frames and kept; when both are known and differ from the
 * last pair, a sequence header frame (an AVCDecoderConfigurationRecord with
 * 4-byte lengths, `buildAvcConfig`) goes out before the frame that follows.
 * The last SPS and last PPS are kept (one of each: a stream that switches
 * between several PPS ids is not carried).
 *
 * ## Loss, bounds and what is dropped
 *
 * Nothing is emitted until an IDR access unit with known parameter sets
 * arrives. A gap in sequence numbers (`RtpReceiver`) drops the access unit in
 * progress and the one of the packet after the gap (its first packets may be
 * the lost ones), and then every access unit until the next IDR; so does an
 * FU-A that breaks (a middle or end without a start, a start before the last
 * one ended, one still open when the timestamp changes or the marker comes),
 * a malformed STAP-A, and the interleaved-mode types (STAP-B, MTAP, FU-B).
 * An access unit over `maxAccessUnitSize` bytes or `maxNalUnits` NAL units is
 * dropped at the cap, and its remaining packets with it. Each drop is counted
 * in `stats`, never thrown: only a packet that is not RTP at all throws
 * ProtocolError (`readRtpPacket`). Memory held is at most one access unit
 * (its packets' payloads are copied in, so the caller may reuse its buffers).
 *
 * @module
 */
import { buildAvcConfig, NalUnitType, nalUnitType } from "../avc.ts";
import { AvcPacketType, TagType } from "../flv.ts";
import { ClockRate, RtpTimeline } from "./clock.ts";
import { FuHeader, NalHeader, readStapA, RtpH264Type } from "./h264_payload.ts";
import { readRtpPacket } from "./rtp_header.ts";
import { type RtpFrame, RtpReceiver } from "./rtp_receiver.ts";
import { AVC_BODY_HEADER_SIZE, avcSequenceHeaderBody, writeAvcBodyHeader } from "../tag_body.ts";

/** The default cap on an access unit, in bytes of its frame: the FLV reader's default tag cap. */
export const DEFAULT_MAX_ACCESS_UNIT_SIZE = 8 * 1024 * 1024;
/** The default cap on NAL units per access unit (as the packetizer's MAX_NAL_UNITS). */
export const DEFAULT_MAX_NAL_UNITS = 1024;
/** AVCC lengths in the frames made: 4 bytes (lengthSizeMinusOne 3). */
const LENGTH_SIZE = 4;

/** Options for `H264Depacketizer`. */
export interface H264DepacketizerOptions {
  /** Bytes of one frame's body at most (lengths and NAL units), 1024..2^30; default 8 MiB. */
  readonly maxAccessUnitSize?: number;
  /** NAL units per access unit at most, 1..65536; default 1024. */
  readonly maxNalUnits?: number;
  /** Take only packets of this payload type (the SDP's); others are counted and dropped. */
  readonly payloadType?: number;
  /** The RTP timestamp of time 0 (RTP-Info rtptime); default the first packet's. */
  readonly clockBase?: number;
}

/** What was dropped, and why (see the module doc). */
export interface H264DepacketizerStats {
  /** Access units emitted as frames. */
  frames: number;
  /** Access units lost to a sequence gap, a broken FU-A or a malformed or unsupported packet. */
  brokenAccessUnits: number;
  /** Access units dropped at the size or NAL unit cap. */
  oversizedAccessUnits: number;
  /** Whole access units skipped while waiting for an IDR (at the start, after a drop). */
  skippedAccessUnits: number;
  /** Packets of another payload type, or of reserved NAL types (0, 30, 31). */
  ignoredPackets: number;
}

/** One NAL unit being collected: its pieces (copies) and length. */
interface Nal {
  readonly parts: Uint8Array[];
  length: number;
}

function bounded(v: number | undefined, def: number, lo: number, hi: number, what: string): number {
  const x = v ?? def;
  if (!Number.isInteger(x) || x < lo || x > hi) {
    throw new RangeError(
      `Cannot make H.264 depacketizer: ${what} must be an integer in ${lo}..${hi}, current ${x}`,
    );
  }
  return x;
}

function sameUnits(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  return a !== undefined && b !== undefined && a.length === b.length && a.every((v, i) => v === b[i]);
}

/** Turns one source's H.264 RTP packets into hub frames. See the module doc for the rules. */
export class H264Depacketizer {
  /** Sequence numbers, loss and the RTCP report block of the source. */
  readonly receiver: RtpReceiver = new RtpReceiver();
  readonly stats: H264DepacketizerStats = {
    frames: 0,
    brokenAccessUnits: 0,
    oversizedAccessUnits: 0,
    skippedAccessUnits: 0,
    ignoredPackets: 0,
  };
  readonly #maxBytes: number;
  readonly #maxNals: number;
  readonly #payloadType: number | undefined;
  readonly #timeline: RtpTimeline;

  /** The access unit in progress: its RTP timestamp, time, NAL units and frame bytes. */
  #au: { timestamp: number; ms: number; nals: Nal[]; bytes: number } | undefined;
  /** The FU-A in progress (its NAL is the last of #au.nals). */
  #fu: Nal | undefined;
  /** The RTP timestamp whose packets are being discarded (a broken or oversized access unit). */
  #discarding: number | undefined;
  #waitIdr = true;
  #sps: Uint8Array | undefined;
  #pps: Uint8Array | undefined;
  /** The SPS and PPS of the last sequence header emitted. */
  #sentSps: Uint8Array | undefined;
  #sentPps: Uint8Array | undefined;

  constructor(opts: H264DepacketizerOptions = {}) {
    this.#maxBytes = bounded(
      opts.maxAccessUnitSize,
      DEFAULT_MAX_ACCESS_UNIT_SIZE,
      1024,
      2 ** 30,
      "maxAccessUnitSize",
    );
    this.#maxNals = bounded(opts.maxNalUnits, DEFAULT_MAX_NAL_UNITS, 1, 65536, "maxNalUnits");
    this.#payloadType = opts.payloadType;
    this.#timeline = new RtpTimeline(ClockRate.Video, opts.clockBase);
  }

  /**
   * Parameter sets from outside the stream (the SDP's sprop-parameter-sets):
   * the sequence header frame when they complete or change the pair, else
   * undefined. Its timestamp is 0.
   */
  setParameterSets(sps: readonly Uint8Array[], pps: readonly Uint8Array[]): RtpFrame | undefined {
    for (const u of sps) if (u.length > 0 && nalUnitType(u[0]) === NalUnitType.Sps) this.#sps = u.slice();
    for (const u of pps) if (u.length > 0 && nalUnitType(u[0]) === NalUnitType.Pps) this.#pps = u.slice();
    return this.#sequenceHeader(0);
  }

  /** One RTP packet (a UDP datagram, an interleaved frame's body): the frames it completes, often none. */
  push(packet: Uint8Array): RtpFrame[] {
    const p = readRtpPacket(packet);
    if (this.#payloadType !== undefined && p.payloadType !== this.#payloadType) {
      this.stats.ignoredPackets++;
      return [];
    }
    const gap = this.receiver.accept(p);
    if (gap === undefined) return [];
    const out: RtpFrame[] = [];
    const ms = this.#timeline.ms(p.timestamp);
    if (gap > 0) {
      // The access unit in progress lost its end, and this packet's may have lost its start.
      const counted = this.#au?.timestamp === p.timestamp || this.#discarding === p.timestamp;
      this.#break();
      if (!counted) this.stats.brokenAccessUnits++;
      this.#discarding = p.timestamp;
      this.#waitIdr = true;
    }
    if (this.#au && this.#au.timestamp !== p.timestamp) this.#finish(out);
    if (this.#discarding !== undefined) {
      if (this.#discarding === p.timestamp) return out;
      this.#discarding = undefined;
    }
    this.#au ??= { timestamp: p.timestamp, ms, nals: [], bytes: AVC_BODY_HEADER_SIZE };
    this.#payload(p.payload);
    if (p.marker && this.#au) this.#finish(out);
    return out;
  }

  /** The access unit in progress as a frame if it is whole (at the end of the stream), else nothing. */
  flush(): RtpFrame[] {
    const out: RtpFrame[] = [];
    if (this.#au) this.#finish(out);
    return out;
  }

  #payload(payload: Uint8Array): void {
    if (payload.length === 0) return this.#ignore();
    const type = payload[0] & NalHeader.Type;
    if (type >= 1 && type <= 23) {
      this.#add(payload.slice(), true);
      return;
    }
    if (type === RtpH264Type.StapA) {
      let units: Uint8Array[];
      try {
        units = readStapA(payload);
      } catch {
        return this.#break();
      }
      for (const u of units) if (!this.#add(u.slice(), true)) return;
      return;
    }
    if (type === RtpH264Type.FuA) return this.#fragment(payload);
    if (
      type === RtpH264Type.StapB || type === RtpH264Type.Mtap16 || type === RtpH264Type.Mtap24 ||
      type === RtpH264Type.FuB
    ) return this.#break();
    this.#ignore(); // 0, 30, 31: reserved (RFC 6184 5.2 Table 1: to be ignored)
  }

  #fragment(payload: Uint8Array): void {
    if (payload.length < 3) return this.#break();
    const fu = payload[1];
    const piece = payload.slice(2);
    if (fu & FuHeader.Start) {
      if (this.#fu) return this.#break();
      const header = Uint8Array.of(
        (payload[0] & (NalHeader.Forbidden | NalHeader.Nri)) | (fu & NalHeader.Type),
      );
      if (!this.#add(header, false)) return;
      if (!this.#grow(piece)) return;
    } else {
      if (!this.#fu) return this.#break();
      if (!this.#grow(piece)) return;
    }
    if (fu & FuHeader.End) this.#fu = undefined;
  }

  /** Adds a NAL unit (or an FU-A's header byte, `whole` false) to the access unit; false when it broke a cap. */
  #add(first: Uint8Array, whole: boolean): boolean {
    const au = this.#au!;
    if (this.#fu && whole) {
      this.#break(); // a new NAL unit while an FU-A is open: its end never came
      return false;
    }
    if (au.nals.length === this.#maxNals || au.bytes + LENGTH_SIZE + first.length > this.#maxBytes) {
      this.#oversize();
      return false;
    }
    const nal: Nal = { parts: [first], length: first.length };
    au.nals.push(nal);
    au.bytes += LENGTH_SIZE + first.length;
    if (!whole) this.#fu = nal;
    return true;
  }

  #grow(piece: Uint8Array): boolean {
    const au = this.#au!;
    if (au.bytes + piece.length > this.#maxBytes) {
      this.#oversize();
      return false;
    }
    this.#fu!.parts.push(piece);
    this.#fu!.length += piece.length;
    au.bytes += piece.length;
    return true;
  }

  #ignore(): void {
    this.stats.ignoredPackets++;
  }

  /** Drops the access unit in progress as broken; the rest of its packets are discarded. */
  #break(): void {
    if (this.#au) {
      this.stats.brokenAccessUnits++;
      this.#discarding = this.#au.timestamp;
    }
    this.#drop();
  }

  #oversize(): void {
    this.stats.oversizedAccessUnits++;
    this.#discarding = this.#au?.timestamp;
    this.#drop();
  }

  #drop(): void {
    this.#au = undefined;
    this.#fu = undefined;
    this.#waitIdr = true;
  }

  #sequenceHeader(ms: number): RtpFrame | undefined {
    const sps = this.#sps;
    const pps = this.#pps;
    if (!sps || !pps || (sameUnits(sps, this.#sentSps) && sameUnits(pps, this.#sentPps))) return undefined;
    let record: Uint8Array;
    try {
      record = buildAvcConfig({ sps: [sps], pps: [pps], lengthSize: LENGTH_SIZE });
    } catch {
      return undefined; // an SPS too short or odd to describe: wait for a better one
    }
    this.#sentSps = sps;
    this.#sentPps = pps;
    return {
      type: TagType.Video,
      timestamp: ms,
      data: avcSequenceHeaderBody(record),
      keyframe: false,
      sequenceHeader: true,
    };
  }

  /** Ends the access unit in progress: its frame (and a sequence header before it) into `out`. */
  #finish(out: RtpFrame[]): void {
    const au = this.#au!;
    if (this.#fu) return this.#break(); // its last FU-A never ended
    this.#au = undefined;
    const media: Nal[] = [];
    let keyframe = false;
    let bytes = AVC_BODY_HEADER_SIZE;
    for (const nal of au.nals) {
      const type = nalUnitType(nal.parts[0][0]);
      if (type === NalUnitType.Sps || type === NalUnitType.Pps) {
        const whole = nal.parts.length === 1 ? nal.parts[0] : concat(nal.parts, nal.length);
        if (type === NalUnitType.Sps) this.#sps = whole;
        else this.#pps = whole;
        continue;
      }
      if (type === NalUnitType.Idr) keyframe = true;
      media.push(nal);
      bytes += LENGTH_SIZE + nal.length;
    }
    const header = this.#sequenceHeader(au.ms);
    if (header) out.push(header);
    if (media.length === 0) return;
    if (this.#waitIdr) {
      if (!keyframe || !this.#sentSps) {
        this.stats.skippedAccessUnits++;
        return;
      }
      this.#waitIdr = false;
    }
    const data = new Uint8Array(bytes);
    writeAvcBodyHeader(data, keyframe, AvcPacketType.Nalu);
    let o = AVC_BODY_HEADER_SIZE;
    for (const nal of media) {
      new DataView(data.buffer).setUint32(o, nal.length);
      o += LENGTH_SIZE;
      for (const part of nal.parts) {
        data.set(part, o);
        o += part.length;
      }
    }
    this.stats.frames++;
    out.push({ type: TagType.Video, timestamp: au.ms, data, keyframe, sequenceHeader: false });
  }
}

function concat(parts: readonly Uint8Array[], length: number): Uint8Array {
  const out = new Uint8Array(length);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
