/**
 * What every RTP depacketizer keeps per source (RFC 3550 A.1, A.3): the
 * SSRC it follows, the highest sequence number and its wrap count, packets
 * received, lost and late, and the reception report block those make for
 * RTCP. Also the frame type the depacketizers hand on.
 *
 * No jitter buffer: a packet is taken when its sequence number is ahead of
 * the highest one seen, a jump over missing numbers is a loss (`gap`), and a
 * packet behind (late, reordered or duplicated) is counted and dropped. On a
 * LAN or over TCP packets do not reorder; on a network that does, a
 * reordered pair costs the access unit, as a loss would. Packets of another
 * SSRC than the first one seen are counted and dropped (a publisher that
 * restarts sends a new RTSP session).
 *
 * @module
 */
import type { TagType } from "../flv.ts";
import type { ReportBlock } from "./rtcp.ts";
import type { RtpPacket } from "./rtp_header.ts";

/** A frame out of a depacketizer: the shape of an FLV tag for the hub (`SourceTag` in src/ingest/). */
export interface RtpFrame {
  /** FLV TagType: 8 audio, 9 video. */
  readonly type: TagType;
  /** Milliseconds on the track's timeline (see the depacketizer's doc). */
  readonly timestamp: number;
  /** The FLV tag body, in a new array the caller owns. */
  readonly data: Uint8Array;
  /** A video keyframe (an IDR access unit). */
  readonly keyframe: boolean;
  /** An AVC or AAC sequence header. */
  readonly sequenceHeader: boolean;
}

/** Counts of what a receiver took and refused. */
export interface ReceptionCounts {
  /** Packets taken (in order, of the followed SSRC). */
  received: number;
  /** Sequence numbers skipped over: packets never received, or received late. */
  lost: number;
  /** Packets dropped for arriving behind the highest sequence number (late, reordered, duplicated). */
  late: number;
  /** Packets dropped for another SSRC. */
  foreign: number;
}

const SEQ = 0x10000;
const HALF = 0x8000;

/** The sequence-number side of one received RTP source. */
export class RtpReceiver {
  #ssrc: number | undefined;
  /** Extended (cycles * 2^16 + seq) numbers of the first and the highest packet taken. */
  #base = 0;
  #highest = -1;
  readonly counts: ReceptionCounts = { received: 0, lost: 0, late: 0, foreign: 0 };
  #priorExpected = 0;
  #priorReceived = 0;

  /** The SSRC followed: the first packet's. */
  get ssrc(): number | undefined {
    return this.#ssrc;
  }

  /** The extended highest sequence number taken (cycles in the high 16 bits), -1 before any. */
  get highestSequence(): number {
    return this.#highest;
  }

  /**
   * Whether to take `p`: undefined to drop it (counted), else the number of
   * sequence numbers skipped just before it (0 when it is the next one).
   */
  accept(p: RtpPacket): number | undefined {
    if (this.#ssrc === undefined) {
      this.#ssrc = p.ssrc;
      this.#base = this.#highest = p.sequence;
      this.counts.received++;
      return 0;
    }
    if (p.ssrc !== this.#ssrc) {
      this.counts.foreign++;
      return undefined;
    }
    const delta = (p.sequence - this.#highest) & (SEQ - 1);
    if (delta === 0 || delta >= HALF) {
      this.counts.late++;
      return undefined;
    }
    this.#highest += delta;
    this.counts.received++;
    this.counts.lost += delta - 1;
    return delta - 1;
  }

  /**
   * A reception report block about this source (RFC 3550 6.4.1, A.3): the
   * fraction lost since the last call, cumulative loss, the extended highest
   * sequence number, and `lsr`/`dlsr` as the caller tracks the sender's
   * reports. Jitter is not measured (0): the depacketizers see no arrival times.
   */
  reportBlock(lsr = 0, dlsr = 0): ReportBlock {
    const expected = this.#highest < 0 ? 0 : this.#highest - this.#base + 1;
    const expectedInterval = expected - this.#priorExpected;
    const receivedInterval = this.counts.received - this.#priorReceived;
    this.#priorExpected = expected;
    this.#priorReceived = this.counts.received;
    const lostInterval = expectedInterval - receivedInterval;
    const fractionLost = expectedInterval === 0 || lostInterval <= 0
      ? 0
      : Math.floor((lostInterval * 256) / expectedInterval);
    return {
      ssrc: this.#ssrc ?? 0,
      fractionLost: Math.min(255, fractionLost),
      cumulativeLost: expected - this.counts.received,
      highestSequence: Math.max(0, this.#highest) % 0x1_0000_0000,
      jitter: 0,
      lastSenderReport: lsr,
      delaySinceLastSenderReport: dlsr,
    };
  }
}
