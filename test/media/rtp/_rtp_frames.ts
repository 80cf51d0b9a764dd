/**
 * Hub frames for the RTP tests, flagged as the hub flags them, and helpers
 * to read packets back.
 *
 * @module
 */
import { classify, FrameKind, type MediaFrame } from "../../../src/media/frame.ts";
import { readRtpPacket, type RtpPacket } from "../../../src/media/rtp/rtp_header.ts";
import { rtpPackets } from "../../../src/media/rtp/interleaved.ts";
import { hex } from "../../fixtures/annotated_hex.ts";
import { AVC_CONFIG_BASELINE } from "../../fixtures/flv_fixtures.ts";
import { concat } from "../../fixtures/nal_fixtures.ts";

let seq = 0;
/** A hub frame. */
export function frame(kind: FrameKind, timestamp: number, payload: Uint8Array): MediaFrame {
  return { kind, timestamp, payload, ...classify(kind, payload), seq: ++seq, prevTimestamp: -1, packed: {} };
}

/** The SPS and PPS of AVC_CONFIG_BASELINE. */
export const SPS = hex(`67 42 c0 0d da 05 06 7e 78 40 00 00 03 00 40 00 00 0c a1`);
export const PPS = hex(`68 ce 3c 80`);

/** The AVC sequence header frame of AVC_CONFIG_BASELINE. */
export const avcHeader = (): MediaFrame =>
  frame(
    FrameKind.Video,
    0,
    concat([hex(`17 00 00 00 00  # keyframe, AVC, sequence header`), AVC_CONFIG_BASELINE]),
  );

/** An AVC NALU frame of the given NAL units (4-byte lengths), composition time `cts` ms. */
export function avcFrame(timestamp: number, keyframe: boolean, units: Uint8Array[], cts = 0): MediaFrame {
  const parts: Uint8Array[] = [Uint8Array.of(keyframe ? 0x17 : 0x27, 0x01, cts >> 16, cts >> 8, cts)];
  for (const u of units) {
    parts.push(Uint8Array.of(u.length >>> 24, u.length >> 16, u.length >> 8, u.length), u);
  }
  return frame(FrameKind.Video, timestamp, concat(parts));
}

/** An AAC sequence header frame: LC, 44.1 kHz, stereo (12 10). */
export const aacHeader = (asc = hex(`12 10`)): MediaFrame =>
  frame(FrameKind.Audio, 0, concat([hex(`af 00`), asc]));

/** An AAC raw frame. */
export const aacFrame = (timestamp: number, raw: Uint8Array): MediaFrame =>
  frame(FrameKind.Audio, timestamp, concat([hex(`af 01`), raw]));

/** A NAL unit of `n` bytes with header byte `nal`, then 1, 2, 3, ... (mod 251). */
export function nal(n: number, header: number): Uint8Array {
  const u = new Uint8Array(n);
  u[0] = header;
  for (let i = 1; i < n; i++) u[i] = (i % 251) + 1;
  return u;
}

/** The RTP packets of a packetizer's output, read back. */
export function packetsOf(framed: Uint8Array): RtpPacket[] {
  return rtpPackets(framed).map(readRtpPacket);
}
