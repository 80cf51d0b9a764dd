/**
 * AAC over RTP, sending side (RFC 3640, mpeg4-generic, AAC-hbr mode: 3.3.6):
 * hub audio frames in, RTP packets out as interleaved frames
 * (`interleaved.ts`).
 *
 * One access unit (a raw AAC frame) per packet: the payload is the 16-bit
 * AU-headers-length (3.2.1: in bits, 16), one AU-header (AU-size in 13 bits,
 * AU-Index 0 in 3), then the frame; the marker bit is set (3.2: the packet
 * ends an access unit). A frame too long for `maxPayloadSize` is fragmented
 * (3.2.3): each packet carries the same AU-header (AU-size is the whole
 * frame's) and a piece, the marker only on the last. AU-size is 13 bits, so a
 * frame over MAX_AAC_FRAME (8191) bytes throws RangeError.
 *
 * The RTP clock runs at the AudioSpecificConfig's output sampling rate (the
 * SBR rate under explicit HE-AAC signalling), the rate the SDP's rtpmap
 * names. Hub timestamps are whole milliseconds, so an AAC frame (1024
 * samples, 23.2 ms at 44.1 kHz) lands up to half a millisecond off its true
 * sample position; when a frame's hub time is within SNAP_MS (1 ms) of where
 * the previous frame ends, its RTP timestamp is exactly one frame after the
 * previous one's (the true position), else the hub time on the clock.
 *
 * Caching and sharing are as for `H264Packetizer`: one per stream, bytes on
 * `frame.packed.rtp`. Frames before a sequence header, and other codecs,
 * pack to no bytes; a malformed AudioSpecificConfig throws ProtocolError.
 *
 * @module
 */
import { parseAudioSpecificConfig } from "../codec_info.ts";
import { FrameKind, type MediaFrame } from "../frame.ts";
import { INTERLEAVED_HEADER_SIZE, RTP_HEADER_SIZE, RTP_PACKET_OVERHEAD } from "../../wasm/rtp_packetizer.ts";
import { writeInterleavedHeader } from "./interleaved.ts";
import { writeRtpHeader } from "./rtp_header.ts";
import { RTP_PACKED_KEY, RtpSender, type RtpSenderOptions } from "./rtp_sender.ts";
import { aacConfig, aacFrame } from "../tag_body.ts";

/**
 * The AAC-hbr mode (RFC 3640 3.3.6) as this packetizer writes it and the SDP
 * (`src/rtsp/sdp_media.ts`) says it: 13-bit AU sizes, 3-bit indexes.
 */
export const AacHbr = {
  /** RFC 3640 4.1 streamType: 5 is an audio stream (ISO/IEC 14496-1 Table 6). */
  StreamType: 5,
  /** profile-level-id 1, as ffmpeg and MediaMTX write it. */
  ProfileLevelId: 1,
  Mode: "AAC-hbr",
  SizeLength: 13,
  IndexLength: 3,
  IndexDeltaLength: 3,
} as const;
/** AU-headers-length (16 bits) and one 16-bit AU-header. */
export const AAC_HBR_HEADER_SIZE = 4;
/** The largest access unit an AU-size of 13 bits describes. */
export const MAX_AAC_FRAME = (1 << AacHbr.SizeLength) - 1;
/** ISO/IEC 14496-3 4.5.1.1: an AAC access unit is 1024 samples of the core coder. */
export const AAC_FRAME_SAMPLES = 1024;

const NOTHING = new Uint8Array(0);

interface Track {
  readonly asc: Uint8Array;
  readonly sampleRate: number;
  readonly channels: number;
  /** RTP ticks per access unit: 1024 core samples at the output rate. */
  readonly frameTicks: number;
}

/** Hub times within this of the next frame's expected time are taken as that frame (see the module doc). */
const SNAP_MS = 1;

function sameBytes(a: Uint8Array | undefined, b: Uint8Array): boolean {
  return a !== undefined && a.length === b.length && a.every((v, i) => v === b[i]);
}

/** Packs one stream's AAC frames into RTP packets. See the module doc for the rules. */
export class AacPacketizer {
  /** Numbering, clock (the sampling rate, once configured) and counts. */
  readonly sender: RtpSender;
  #track: Track | undefined;
  /** Where the next frame is expected: exact hub time (ms) and RTP timestamp. */
  #next: { ms: number; rtp: number } | undefined;

  constructor(opts: RtpSenderOptions = {}) {
    this.sender = new RtpSender(opts);
  }

  /** The sampling rate and channels of the last configuration. */
  get track(): { readonly sampleRate: number; readonly channels: number } | undefined {
    return this.#track;
  }

  /**
   * An AAC sequence header (legacy or Enhanced RTMP `mp4a`): its
   * AudioSpecificConfig sets the clock rate. Returns true when it differs from
   * the one before. Other frames: false.
   */
  configure(frame: MediaFrame): boolean {
    if (frame.kind !== FrameKind.Audio) return false;
    const asc = aacConfig(frame.payload);
    if (!asc || sameBytes(this.#track?.asc, asc)) return false;
    const c = parseAudioSpecificConfig(asc);
    if (!Number.isInteger(c.sampleRate) || c.sampleRate < 1) {
      throw new RangeError(
        `Cannot packetize AAC: sampling rate must be a positive integer, current ${c.sampleRate}`,
      );
    }
    this.sender.setClockRate(c.sampleRate);
    const frameTicks = Math.round((AAC_FRAME_SAMPLES * c.sampleRate) / (c.coreSampleRate || c.sampleRate));
    this.#track = { asc: asc.slice(), sampleRate: c.sampleRate, channels: c.channels, frameTicks };
    this.#next = undefined;
    return true;
  }

  /** The RTP timestamp of hub time `ms`; RangeError before a sequence header sets the clock rate. */
  rtpTimestamp(ms: number): number {
    const clock = this.sender.clock;
    if (!clock) throw new RangeError("Cannot give AAC RTP timestamp: current clock rate is unknown");
    return clock.at(ms);
  }

  /** The RTP packets of one audio frame as interleaved frames, or none. Cached on `frame.packed.rtp`. */
  packetize(frame: MediaFrame): Uint8Array {
    const cached = frame.packed[RTP_PACKED_KEY];
    if (cached) return cached;
    const out = this.#packetize(frame);
    frame.packed[RTP_PACKED_KEY] = out;
    return out;
  }

  #packetize(frame: MediaFrame): Uint8Array {
    if (frame.kind !== FrameKind.Audio || frame.sequenceHeader || !this.#track) return NOTHING;
    const raw = aacFrame(frame.payload);
    if (!raw || raw.length === 0) return NOTHING;
    if (raw.length > MAX_AAC_FRAME) {
      throw new RangeError(`Cannot packetize AAC frame: it is ${raw.length} bytes, limit ${MAX_AAC_FRAME}`);
    }
    const { sender } = this;
    const room = sender.maxPayloadSize - AAC_HBR_HEADER_SIZE;
    if (room < 1) {
      throw new RangeError(
        `Cannot packetize AAC frame: maxPayloadSize must be over ${AAC_HBR_HEADER_SIZE}, current ${sender.maxPayloadSize}`,
      );
    }
    const packets = Math.ceil(raw.length / room);
    const out = new Uint8Array(packets * (RTP_PACKET_OVERHEAD + AAC_HBR_HEADER_SIZE) + raw.length);
    const timestamp = this.#timestamp(frame.timestamp);
    let sequence = sender.sequence;
    let o = 0;
    for (let from = 0; from < raw.length;) {
      const n = Math.min(room, raw.length - from);
      const length = RTP_HEADER_SIZE + AAC_HBR_HEADER_SIZE + n;
      writeInterleavedHeader(out, o, sender.channel, length);
      writeRtpHeader(out, o + INTERLEAVED_HEADER_SIZE, {
        marker: from + n === raw.length,
        payloadType: sender.payloadType,
        sequence,
        timestamp,
        ssrc: sender.ssrc,
      });
      const p = o + RTP_PACKET_OVERHEAD;
      out[p] = 0; // AU-headers-length: 16 bits of AU-headers
      out[p + 1] = AacHbr.SizeLength + AacHbr.IndexLength;
      out[p + 2] = raw.length >> 5; // AU-size, 13 bits, then AU-Index 0 in 3
      out[p + 3] = (raw.length & 0x1f) << 3;
      out.set(raw.subarray(from, from + n), p + AAC_HBR_HEADER_SIZE);
      o = p + AAC_HBR_HEADER_SIZE + n;
      from += n;
      sequence = (sequence + 1) & 0xffff;
    }
    sender.sent(packets, out.length);
    return out;
  }

  /** The frame's RTP timestamp, snapped to one frame after the last (see the module doc). */
  #timestamp(ms: number): number {
    const { frameTicks, sampleRate } = this.#track!;
    const next = this.#next;
    const snap = next !== undefined && Math.abs(ms - next.ms) <= SNAP_MS;
    const rtp = snap ? next.rtp : this.rtpTimestamp(ms);
    const exact = snap ? next.ms : ms;
    this.#next = { ms: exact + (frameTicks * 1000) / sampleRate, rtp: (rtp + frameTicks) % 0x1_0000_0000 };
    return rtp;
  }
}
