/**
 * H.264 over RTP, sending side (RFC 6184, packetization-mode 1): hub video
 * frames in, RTP packets out as interleaved frames (`interleaved.ts`), one
 * array per access unit.
 *
 * - Each NAL unit of a frame (AVCC, lengths of the size the sequence header
 *   says) is one single NAL unit packet when it fits `maxPayloadSize`, else
 *   FU-A fragments (`src/wasm/rtp_packetizer.ts`, WASM with a TS twin).
 * - Before every keyframe (an IDR) that does not carry both its own SPS and
 *   PPS, the last sequence header's SPS and PPS go first, aggregated in one
 *   STAP-A (5.7.1), or as their own packets if the STAP-A does not fit.
 * - The marker bit is on the last packet of each access unit (5.1).
 * - The RTP timestamp is the presentation time at 90 kHz: hub timestamp
 *   (DTS) plus the frame's composition time, from the (random) initial
 *   timestamp. With B-frames, timestamps go up and down in decode order, as
 *   RFC 6184 expects.
 *
 * ## One packetizer per stream, bytes shared
 *
 * `packetize` caches its result on `frame.packed.rtp` (RTP_PACKED_KEY), and
 * the packets carry this packetizer's SSRC and sequence numbers. So ONE
 * packetizer per stream and track packs every frame once, in hub order, and
 * every RTSP session of the stream sends the same bytes (a session whose
 * interleaved channel differs takes `withChannel()`, a copy). A session that
 * joins later sees a jump in sequence numbers at its first packet, which is
 * no loss to a receiver (RTP-Info in the PLAY response names the first).
 *
 * ## Caps and errors
 *
 * An access unit of more than MAX_NAL_UNITS NAL units, or whose AVCC
 * lengths run past its end, throws ProtocolError (code "avcc"); a malformed
 * sequence header throws ProtocolError from `parseAvcConfig`; both leave the
 * packetizer as it was. Frames of other codecs, and video before a sequence
 * header, pack to no bytes.
 *
 * @module
 */
import { ProtocolError } from "../../errors.ts";
import { type AvcConfig, NalUnitType, nalUnitType, parseAvcConfig } from "../avc.ts";
import { FrameKind, type MediaFrame } from "../frame.ts";
import { nalPacketCount, packetizeNals } from "../../wasm/rtp_packetizer.ts";
import { ClockRate, type RtpClock } from "./clock.ts";
import { buildStapA, STAP_A_MAX_UNIT } from "./h264_payload.ts";
import { RTP_PACKED_KEY, RtpSender, type RtpSenderOptions } from "./rtp_sender.ts";
import { avcFrame, avcRecord } from "../tag_body.ts";

/** NAL units one access unit may hold (as `src/media/ts/h264_access_unit.ts`). */
export const MAX_NAL_UNITS = 1024;

const NOTHING = new Uint8Array(0);

interface Track {
  readonly record: Uint8Array;
  readonly config: AvcConfig;
  /** What goes before a keyframe lacking its parameter sets: one STAP-A, or the SPS and PPS themselves. */
  readonly parameterUnits: readonly Uint8Array[];
}

function sameBytes(a: Uint8Array | undefined, b: Uint8Array): boolean {
  return a !== undefined && a.length === b.length && a.every((v, i) => v === b[i]);
}

function fail(detail: string): never {
  throw new ProtocolError("avcc", `Cannot packetize H.264 frame: ${detail}`);
}

/** The NAL units of an AVCC buffer (views), zero-length ones skipped. See the module doc for errors. */
export function avccUnits(avcc: Uint8Array, lengthSize: number): Uint8Array[] {
  const units: Uint8Array[] = [];
  for (let p = 0; p < avcc.length;) {
    if (p + lengthSize > avcc.length) {
      fail(`length prefix at byte ${p} needs ${lengthSize} bytes, ${avcc.length - p} left`);
    }
    let n = 0;
    for (let k = 0; k < lengthSize; k++) n = n * 256 + avcc[p + k];
    p += lengthSize;
    if (n > avcc.length - p) {
      fail(`NAL unit at byte ${p - lengthSize} has length ${n}, ${avcc.length - p} bytes left`);
    }
    if (n === 0) continue;
    if (units.length === MAX_NAL_UNITS) fail(`over ${MAX_NAL_UNITS} NAL units in one access unit`);
    units.push(avcc.subarray(p, p + n));
    p += n;
  }
  return units;
}

/** Packs one stream's H.264 frames into RTP packets. See the module doc for the rules. */
export class H264Packetizer {
  /** Numbering, clock (90 kHz) and counts; `sender.senderReport()` for RTCP. */
  readonly sender: RtpSender;
  #track: Track | undefined;

  constructor(opts: RtpSenderOptions = {}) {
    this.sender = new RtpSender(opts, ClockRate.Video);
  }

  /** The decoder configuration last configured. */
  get config(): AvcConfig | undefined {
    return this.#track?.config;
  }

  /**
   * A video sequence header (legacy or Enhanced RTMP `avc1`): remembers its
   * SPS and PPS for the keyframes to come. Returns true when it differs from
   * the one before (the SDP changes). Other frames: false.
   */
  configure(frame: MediaFrame): boolean {
    if (frame.kind !== FrameKind.Video) return false;
    const record = avcRecord(frame.payload);
    if (!record || sameBytes(this.#track?.record, record)) return false;
    const config = parseAvcConfig(record);
    const sets = [...config.sps, ...config.pps];
    let parameterUnits: Uint8Array[] = sets;
    if (sets.length > 1 && sets.every((u) => u.length <= STAP_A_MAX_UNIT)) {
      const stap = buildStapA(sets);
      if (stap.length <= this.sender.maxPayloadSize) parameterUnits = [stap];
    }
    this.#track = { record: record.slice(), config, parameterUnits };
    return true;
  }

  /** The RTP timestamp of presentation time `ms` (hub timestamp plus composition time). */
  rtpTimestamp(ms: number): number {
    return (this.sender.clock as RtpClock).at(ms); // set in the constructor: 90 kHz
  }

  /**
   * The RTP packets of one video frame as interleaved frames, or none (see
   * the module doc). Cached on `frame.packed.rtp`: shared bytes, never mutate
   * them.
   */
  packetize(frame: MediaFrame): Uint8Array {
    const cached = frame.packed[RTP_PACKED_KEY];
    if (cached) return cached;
    const out = this.#packetize(frame);
    frame.packed[RTP_PACKED_KEY] = out;
    return out;
  }

  #packetize(frame: MediaFrame): Uint8Array {
    const track = this.#track;
    if (frame.kind !== FrameKind.Video || frame.sequenceHeader || !track) return NOTHING;
    const f = avcFrame(frame.payload);
    if (!f) return NOTHING;
    let units = avccUnits(f.avcc, track.config.lengthSize);
    if (units.length === 0) return NOTHING;
    let sps = false;
    let pps = false;
    let idr = false;
    for (const u of units) {
      const type = nalUnitType(u[0]);
      if (type === NalUnitType.Sps) sps = true;
      else if (type === NalUnitType.Pps) pps = true;
      else if (type === NalUnitType.Idr) idr = true;
    }
    if ((frame.keyframe || idr) && !(sps && pps) && track.parameterUnits.length > 0) {
      units = [...track.parameterUnits, ...units];
    }
    const { sender } = this;
    const sequence = sender.sequence;
    const out = packetizeNals(units, {
      payloadType: sender.payloadType,
      ssrc: sender.ssrc,
      sequence,
      timestamp: this.rtpTimestamp(frame.timestamp + f.cts),
      maxPayloadSize: sender.maxPayloadSize,
      marker: true,
      channel: sender.channel,
    });
    sender.sent(nalPacketCount(units, sender.maxPayloadSize).packets, out.length);
    return out;
  }
}
