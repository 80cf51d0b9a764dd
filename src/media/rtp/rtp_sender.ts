/**
 * What every RTP packetizer keeps per stream (RFC 3550 5.1, 6.4.1): its
 * SSRC, payload type and payload size bound, the next sequence number, the
 * media clock, and the packet and payload octet counts a sender report
 * carries. `senderReport()` builds that report for an instant: the wall
 * clock and the hub time it corresponds to.
 *
 * @module
 */
import {
  RTP_MAX_PAYLOAD_SIZE,
  RTP_MIN_PAYLOAD_SIZE,
  RTP_PACKET_OVERHEAD,
} from "../../wasm/rtp_packetizer.ts";
import { ntpTime, randomSequence, randomSsrc, randomTimestamp, RtpClock } from "./clock.ts";
import { buildSenderReport } from "./rtcp.ts";
import { SEQUENCE_RANGE, TIMESTAMP_RANGE } from "./rtp_header.ts";

/** The default bound on an RTP payload: with the 12-byte header, 28 bytes of IPv4 + UDP and 60 spare, under 1500. */
export const DEFAULT_MAX_PAYLOAD_SIZE = 1400;
/** RFC 3551 6: payload types 96..127 are dynamic, bound by the SDP's rtpmap. */
export const DEFAULT_PAYLOAD_TYPE = 96;

/** The key of a frame's RTP packets in `MediaFrame.packed` (audio and video frames are distinct frames). */
export const RTP_PACKED_KEY = "rtp";

/** How a packetizer numbers and sizes its packets; unset fields are random (SSRC, sequence, timestamp) or defaults. */
export interface RtpSenderOptions {
  /** RFC 3550 5.1 SSRC, 0..2^32-1; random by default. */
  readonly ssrc?: number;
  /** 0..127; default 96 (dynamic). */
  readonly payloadType?: number;
  /**
   * The largest RTP payload in bytes (the RTP header, 12, and the interleaved
   * frame header, 4, come on top), 3..65495; default 1400.
   */
  readonly maxPayloadSize?: number;
  /** The first packet's sequence number, 0..65535; random by default. */
  readonly initialSequence?: number;
  /** The RTP timestamp of hub time 0, 0..2^32-1; random by default. */
  readonly initialTimestamp?: number;
  /** The interleaved channel the packets are framed for, 0..255; default 0. */
  readonly channel?: number;
}

function intIn(v: number, lo: number, hi: number, what: string): number {
  if (!Number.isInteger(v) || v < lo || v > hi) {
    throw new RangeError(
      `Cannot make RTP packetizer: ${what} must be an integer in ${lo}..${hi}, current ${v}`,
    );
  }
  return v;
}

/** Numbering, clock and counters of one RTP stream. */
export class RtpSender {
  readonly ssrc: number;
  readonly payloadType: number;
  readonly maxPayloadSize: number;
  readonly channel: number;
  readonly initialTimestamp: number;
  #clock: RtpClock | undefined;
  #sequence: number;
  #packets = 0;
  #octets = 0;

  /** `clockRate` undefined: set later (`setClockRate`, when the codec configuration names it). */
  constructor(opts: RtpSenderOptions, clockRate?: number) {
    this.ssrc = intIn(opts.ssrc ?? randomSsrc(), 0, TIMESTAMP_RANGE - 1, "SSRC");
    this.payloadType = intIn(opts.payloadType ?? DEFAULT_PAYLOAD_TYPE, 0, 127, "payload type");
    this.maxPayloadSize = intIn(
      opts.maxPayloadSize ?? DEFAULT_MAX_PAYLOAD_SIZE,
      RTP_MIN_PAYLOAD_SIZE,
      RTP_MAX_PAYLOAD_SIZE,
      "maxPayloadSize",
    );
    this.channel = intIn(opts.channel ?? 0, 0, 255, "channel");
    this.#sequence = intIn(
      opts.initialSequence ?? randomSequence(),
      0,
      SEQUENCE_RANGE - 1,
      "initial sequence",
    );
    this.initialTimestamp = intIn(
      opts.initialTimestamp ?? randomTimestamp(),
      0,
      TIMESTAMP_RANGE - 1,
      "initial timestamp",
    );
    if (clockRate !== undefined) this.setClockRate(clockRate);
  }

  /** The media clock, once its rate is known. */
  get clock(): RtpClock | undefined {
    return this.#clock;
  }

  /** Sets the clock rate (Hz); the initial timestamp stays. */
  setClockRate(rate: number): void {
    if (this.#clock?.rate !== rate) this.#clock = new RtpClock(rate, this.initialTimestamp);
  }

  /** The next packet's sequence number. */
  get sequence(): number {
    return this.#sequence;
  }

  /** Packets sent, mod 2^32 (RFC 3550 6.4.1 sender's packet count). */
  get packets(): number {
    return this.#packets;
  }

  /** Payload octets sent, mod 2^32 (RFC 3550 6.4.1 sender's octet count: no headers, no padding). */
  get octets(): number {
    return this.#octets;
  }

  /** Takes note of `packets` packets just made as interleaved frames of `framedBytes` bytes in all. */
  sent(packets: number, framedBytes: number): void {
    this.#sequence = (this.#sequence + packets) % SEQUENCE_RANGE;
    this.#packets = (this.#packets + packets) % TIMESTAMP_RANGE;
    this.#octets = (this.#octets + framedBytes - packets * RTP_PACKET_OVERHEAD) % TIMESTAMP_RANGE;
  }

  /**
   * A sender report (RFC 3550 6.4.1) for the instant `unixMs` (wall clock),
   * which is hub time `streamMs` on this stream: its NTP timestamp and the RTP
   * timestamp of the same instant, with the counts so far; an SDES CNAME
   * follows when given. Throws RangeError before the clock rate is known.
   */
  senderReport(unixMs: number, streamMs: number, cname?: string): Uint8Array {
    const clock = this.#clock;
    if (!clock) throw new RangeError("Cannot build RTP sender report: current clock rate is unknown");
    return buildSenderReport({
      ssrc: this.ssrc,
      ntp: ntpTime(unixMs),
      rtpTimestamp: clock.at(streamMs),
      packetCount: this.#packets,
      octetCount: this.#octets,
      ...(cname !== undefined && { cname }),
    });
  }
}
