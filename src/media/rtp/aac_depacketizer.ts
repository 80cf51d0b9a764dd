/**
 * AAC over RTP, receiving side (RFC 3640 mpeg4-generic, AAC-hbr by default):
 * RTP packets of one source in, FLV AAC frames for the hub out (RTSP publish
 * in).
 *
 * A payload is the AU-headers-length (16 bits, in bits), the AU-headers,
 * padded to a byte, then the access units back to back (3.2.1). Each
 * AU-header is an AU-size of `sizeLength` bits and an AU-Index (the first)
 * or AU-Index-delta (the rest) of `indexLength` / `indexDeltaLength` bits;
 * the SDP's fmtp gives the three (AAC-hbr: 13, 3, 3; AAC-lbr: 6, 2, 2). No
 * CTS, DTS or RAP fields are read: a stream whose fmtp declares them is not
 * carried (the caller checks the fmtp). The n-th access unit of a packet is
 * at RTP time timestamp + index * frameLength (3.2.3.1; indices count from
 * the first, index deltas of 0 meaning consecutive units).
 *
 * An access unit larger than the rest of its packet is a fragment (3.2.3.3):
 * it continues in the next packets of the same timestamp, one AU-header each
 * repeating the size, until it is whole. A gap in sequence numbers, a change
 * of timestamp, or a fragment that would run past its declared size drops the
 * fragment (counted). Audio needs no keyframe, so the next whole access unit
 * goes out as usual.
 *
 * Frames are timed in milliseconds from the track's base (the first packet's
 * RTP timestamp, or `clockBase`), on the clock rate of the SDP's rtpmap.
 * Malformed payloads are counted and dropped; only a packet that is not RTP
 * throws ProtocolError. At most one fragmented access unit is held, bounded
 * by 2^sizeLength - 1 bytes.
 *
 * @module
 */
import { parseAudioSpecificConfig } from "../codec_info.ts";
import { AacPacketType, TagType } from "../flv.ts";
import { RtpTimeline } from "./clock.ts";
import { readRtpPacket } from "./rtp_header.ts";
import { type RtpFrame, RtpReceiver } from "./rtp_receiver.ts";
import { aacBody } from "../tag_body.ts";
import { AAC_FRAME_SAMPLES, AacHbr } from "./aac_packetizer.ts";

/** The most access units one packet may hold; a 1400-byte packet of AAC LC holds a handful. */
export const MAX_AUS_PER_PACKET = 256;

/** Options for `AacDepacketizer`: the SDP's rtpmap and fmtp. */
export interface AacDepacketizerOptions {
  /** The AudioSpecificConfig (fmtp `config`, hex decoded). */
  readonly config: Uint8Array;
  /** fmtp sizeLength, 1..16; default 13. */
  readonly sizeLength?: number;
  /** fmtp indexLength, 0..8; default 3. */
  readonly indexLength?: number;
  /** fmtp indexDeltaLength, 0..8; default 3. */
  readonly indexDeltaLength?: number;
  /** The rtpmap clock rate; default the config's (output) sampling rate. */
  readonly clockRate?: number;
  /** RTP ticks per access unit; default 1024 times clockRate over the config's core sampling rate. */
  readonly frameLength?: number;
  /** Take only packets of this payload type; others are counted and dropped. */
  readonly payloadType?: number;
  /** The RTP timestamp of time 0 (RTP-Info rtptime); default the first packet's. */
  readonly clockBase?: number;
}

/** What was dropped, and why (see the module doc). */
export interface AacDepacketizerStats {
  /** Access units emitted as frames. */
  frames: number;
  /** Payloads whose AU-headers or sizes do not add up. */
  malformedPackets: number;
  /** Fragmented access units dropped (a gap, a timestamp change, an overrun). */
  brokenFragments: number;
  /** Packets of another payload type. */
  ignoredPackets: number;
}

function bounded(v: number | undefined, def: number, lo: number, hi: number, what: string): number {
  const x = v ?? def;
  if (!Number.isInteger(x) || x < lo || x > hi) {
    throw new RangeError(
      `Cannot make AAC depacketizer: ${what} must be an integer in ${lo}..${hi}, current ${x}`,
    );
  }
  return x;
}

/** Reads `n` bits (n <= 16) from `b` at bit offset `at`, big-endian. */
function bits(b: Uint8Array, at: number, n: number): number {
  let v = 0;
  for (let i = 0; i < n; i++) {
    const bit = at + i;
    v = (v << 1) | ((b[bit >> 3] >> (7 - (bit & 7))) & 1);
  }
  return v;
}

/** Turns one source's AAC RTP packets into hub frames. See the module doc for the rules. */
export class AacDepacketizer {
  readonly receiver: RtpReceiver = new RtpReceiver();
  readonly stats: AacDepacketizerStats = {
    frames: 0,
    malformedPackets: 0,
    brokenFragments: 0,
    ignoredPackets: 0,
  };
  readonly clockRate: number;
  readonly frameLength: number;
  readonly #config: Uint8Array;
  readonly #sizeLength: number;
  readonly #indexLength: number;
  readonly #deltaLength: number;
  readonly #payloadType: number | undefined;
  readonly #timeline: RtpTimeline;
  /** The fragmented access unit in progress. */
  #fragment: { timestamp: number; size: number; parts: Uint8Array[]; got: number } | undefined;

  /** A config that is not an AudioSpecificConfig throws ProtocolError; options out of range RangeError. */
  constructor(opts: AacDepacketizerOptions) {
    const c = parseAudioSpecificConfig(opts.config);
    this.#config = opts.config.slice();
    this.#sizeLength = bounded(opts.sizeLength, AacHbr.SizeLength, 1, 16, "sizeLength");
    this.#indexLength = bounded(opts.indexLength, AacHbr.IndexLength, 0, 8, "indexLength");
    this.#deltaLength = bounded(opts.indexDeltaLength, AacHbr.IndexDeltaLength, 0, 8, "indexDeltaLength");
    this.clockRate = bounded(opts.clockRate, c.sampleRate, 1, 10_000_000, "clockRate");
    const ticks = c.coreSampleRate > 0
      ? Math.round((AAC_FRAME_SAMPLES * this.clockRate) / c.coreSampleRate)
      : 0;
    this.frameLength = bounded(opts.frameLength, ticks || AAC_FRAME_SAMPLES, 1, 1 << 20, "frameLength");
    this.#payloadType = opts.payloadType;
    this.#timeline = new RtpTimeline(this.clockRate, opts.clockBase);
  }

  /** The AAC sequence header frame (timestamp 0) for the config: push it to the hub first. */
  sequenceHeader(): RtpFrame {
    return {
      type: TagType.Audio,
      timestamp: 0,
      data: aacBody(AacPacketType.SequenceHeader, this.#config),
      keyframe: false,
      sequenceHeader: true,
    };
  }

  /** One RTP packet: the AAC frames it completes, in order. */
  push(packet: Uint8Array): RtpFrame[] {
    const p = readRtpPacket(packet);
    if (this.#payloadType !== undefined && p.payloadType !== this.#payloadType) {
      this.stats.ignoredPackets++;
      return [];
    }
    const gap = this.receiver.accept(p);
    if (gap === undefined) return [];
    const base = this.#timeline.ticks(p.timestamp);
    if (this.#fragment && (gap > 0 || this.#fragment.timestamp !== p.timestamp)) this.#dropFragment();
    const b = p.payload;
    if (b.length < 2) return this.#malformed();
    const headerBits = (b[0] << 8) | b[1];
    const data = 2 + Math.ceil(headerBits / 8);
    if (data > b.length) return this.#malformed();
    const out: RtpFrame[] = [];
    const units: { size: number; index: number }[] = [];
    for (let at = 0, index = 0; at < headerBits;) {
      const indexBits = units.length === 0 ? this.#indexLength : this.#deltaLength;
      if (at + this.#sizeLength + indexBits > headerBits || units.length === MAX_AUS_PER_PACKET) {
        return this.#malformed();
      }
      const size = bits(b, 16 + at, this.#sizeLength);
      const idx = bits(b, 16 + at + this.#sizeLength, indexBits);
      index = units.length === 0 ? 0 : index + idx + 1;
      units.push({ size, index });
      at += this.#sizeLength + indexBits;
    }
    let o = data;
    if (units.length === 1 && (units[0].size > b.length - o || this.#fragment)) {
      return this.#fragmentPiece(p.timestamp, base, units[0].size, b.subarray(o), out);
    }
    for (const u of units) {
      if (u.size > b.length - o) return this.#malformed(out);
      if (u.size > 0) out.push(this.#frame(base + u.index * this.frameLength, b.subarray(o, o + u.size)));
      o += u.size;
    }
    return out;
  }

  #fragmentPiece(
    timestamp: number,
    base: number,
    size: number,
    piece: Uint8Array,
    out: RtpFrame[],
  ): RtpFrame[] {
    let f = this.#fragment;
    if (f && f.size !== size) {
      this.#dropFragment();
      f = undefined;
    }
    f ??= this.#fragment = { timestamp, size, parts: [], got: 0 };
    if (f.got + piece.length > size) {
      this.#dropFragment();
      return out;
    }
    f.parts.push(piece.slice());
    f.got += piece.length;
    if (f.got === size) {
      this.#fragment = undefined;
      const au = new Uint8Array(size);
      let o = 0;
      for (const part of f.parts) {
        au.set(part, o);
        o += part.length;
      }
      out.push(this.#frame(base, au));
    }
    return out;
  }

  #frame(ticks: number, au: Uint8Array): RtpFrame {
    this.stats.frames++;
    return {
      type: TagType.Audio,
      timestamp: Math.round((ticks * 1000) / this.clockRate),
      data: aacBody(AacPacketType.Raw, au),
      keyframe: false,
      sequenceHeader: false,
    };
  }

  #dropFragment(): void {
    this.#fragment = undefined;
    this.stats.brokenFragments++;
  }

  #malformed(out: RtpFrame[] = []): RtpFrame[] {
    this.stats.malformedPackets++;
    return out;
  }
}
