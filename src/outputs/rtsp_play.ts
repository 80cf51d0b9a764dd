/**
 * The RTSP play output: a live stream's frames as RTP packets in interleaved
 * frames (RFC 2326 10.12), for the Subscriber of one RTSP session.
 *
 * Pack once: a stream has ONE H.264 and ONE AAC packetizer (`rtpOf`), made on
 * first use with the stream's sequence headers and the configured payload
 * bound (`rtsp.mtu`), shared by every RTSP player of it; each frame becomes
 * RTP packets once, cached on the frame (`frame.packed.rtp`), under one SSRC
 * and one sequence numbering per track. A player that joins later sees the
 * sequence numbers start where its first packet is; `RtpPacker.first()` tells
 * the PLAY response's RTP-Info what that is.
 *
 * The packets are framed for the channels ffmpeg, VLC and GStreamer ask for
 * first (video on 0, audio on 2: `RtpChannel`); a session whose SETUP chose
 * other channels gets a copy with its own (`withChannel`).
 *
 * An `RtpPacker` (one per player):
 * - sends nothing until the first video keyframe when it plays video (the GOP
 *   cache starts there, audio aligned), so the player's first picture decodes;
 * - puts an RTCP sender report per track (RFC 3550 6.4.1) right before its
 *   first packets, so a player maps RTP time to wall time from the start;
 *   `senderReports()` makes the later ones (the session sends them every few
 *   seconds). Both tracks' reports are for the same instant (wall clock now,
 *   the stream's newest hub time), which is what lets players line audio up
 *   with video;
 * - after a skip (`reset`) waits for the next keyframe again; the SPS and PPS
 *   go before each IDR (the packetizer's STAP-A).
 *
 * @module
 */
import { FrameKind, type MediaFrame } from "../media/frame.ts";
import { AacPacketizer } from "../media/rtp/aac_packetizer.ts";
import { H264Packetizer } from "../media/rtp/h264_packetizer.ts";
import { interleave, withChannel } from "../media/rtp/interleaved.ts";
import type { RtpSender } from "../media/rtp/rtp_sender.ts";
import { SdpTrack } from "../rtsp/sdp_media.ts";
import type { Stream } from "../hub/stream.ts";
import type { Packer } from "../hub/subscriber.ts";

/** The interleaved channels the shared packets are framed for: RTP on the even one, RTCP on the next (RFC 3550 11). */
export const RtpChannel = {
  /** Track 0 (H.264): 0-1, what ffmpeg and VLC ask for first. */
  Video: 0,
  /** Track 1 (AAC): 2-3. */
  Audio: 2,
} as const;

/** The RTCP SDES CNAME every sender report carries (RFC 3550 6.5.1: the same for every track of a source). */
export const RTCP_CNAME = "sluice";

/** Byte offsets in an interleaved RTP packet: 4 framing bytes, then RFC 3550 5.1's header. */
const Offset = {
  /** The sequence number (16 bits). */
  Sequence: 4 + 2,
  /** The timestamp (32 bits). */
  Timestamp: 4 + 4,
} as const;

const NOTHING = new Uint8Array(0);

/** How far a live stream's frames may move off the sender reports' line before it is drawn again, ms. */
export const REANCHOR_MS = 1_000;

/** One stream's packetizers, and the newest hub time they packed (the instant sender reports are for). */
export class StreamRtp {
  readonly video: H264Packetizer;
  readonly audio: AacPacketizer;
  /** The newest audio or video hub timestamp packed (presentation time not included); -1 before any. */
  newestMs = -1;
  /** The wall clock (ms) when `newestMs` was packed. */
  newestAt = 0;
  /** The live stream packed, whose newest pushed frame says what hub time it is now. */
  readonly #stream: Pick<Stream, "newest"> | undefined;
  /** Live: hub time minus wall time, fixed at the first report (see hubTimeAt). */
  #anchor: number | undefined;

  /** `stream`: the live stream; without one (a file), hub time follows the frames packed. */
  constructor(maxPayloadSize: number, stream?: Pick<Stream, "newest">) {
    this.#stream = stream;
    this.video = new H264Packetizer({
      maxPayloadSize,
      payloadType: SdpTrack.Video.payloadType,
      channel: RtpChannel.Video,
    });
    this.audio = new AacPacketizer({
      maxPayloadSize,
      payloadType: SdpTrack.Audio.payloadType,
      channel: RtpChannel.Audio,
    });
  }

  /**
   * Takes a sequence header into its track's packetizer (the same bytes configure once). One the
   * packetizer cannot read is passed over (the track keeps the configuration before it): it comes from a
   * publisher's frame, and a throw here would reach the publisher's push.
   */
  configure(frame: MediaFrame): void {
    try {
      if (frame.kind === FrameKind.Video) this.video.configure(frame);
      else if (frame.kind === FrameKind.Audio) this.audio.configure(frame);
    } catch {
      // kept as it was (see above)
    }
  }

  /** The frame's packets (shared bytes) on the default channel of its track. */
  packetize(frame: MediaFrame): Uint8Array {
    const bytes = frame.kind === FrameKind.Video ? this.video.packetize(frame) : this.audio.packetize(frame);
    if (frame.timestamp >= this.newestMs) {
      this.newestMs = frame.timestamp;
      this.newestAt = Date.now();
    }
    return bytes;
  }

  /**
   * The hub time of wall-clock instant `now`, what every sender report of the stream maps. For a live
   * stream it is one line, hub time = wall time + a constant, drawn at the first report from the newest
   * frame pushed (not packed: a player that joins with the GOP cache packs older frames first) and kept, so
   * that between two reports the NTP and RTP times advance alike (RFC 3550 6.4.1; a player such as ffmpeg
   * re-bases its timestamps on each report, and a report that moved with the frames' arrival jitter would
   * make them jump). It is drawn again when the frames have moved more than REANCHOR_MS off the line (a
   * publisher that came back, a clock that drifted). For a file: the newest frame packed, moved on.
   */
  hubTimeAt(now: number): number {
    const live = this.#stream?.newest;
    if (live && live.timestamp >= 0) {
      const current = live.timestamp + Math.max(0, now - live.at);
      if (this.#anchor === undefined || Math.abs(current - (now + this.#anchor)) > REANCHOR_MS) {
        this.#anchor = current - now;
      }
      return now + this.#anchor;
    }
    return this.newestMs < 0 ? 0 : this.newestMs + Math.max(0, now - this.newestAt);
  }
}

const shared = new WeakMap<Stream, StreamRtp>();

/** The stream's packetizers, made on first use with the sequence headers it holds; they live as long as the stream. */
export function rtpOf(stream: Stream, maxPayloadSize: number): StreamRtp {
  let rtp = shared.get(stream);
  if (!rtp) {
    rtp = new StreamRtp(maxPayloadSize, stream);
    for (const f of [stream.videoHeader, stream.audioHeader]) if (f) rtp.configure(f);
    shared.set(stream, rtp);
  }
  return rtp;
}

/** The interleaved channel pair one set-up track is sent on. */
export interface TrackChannels {
  /** RTP: even by convention. */
  readonly rtp: number;
  /** RTCP: the next one. */
  readonly rtcp: number;
}

/** The tracks a session set up (undefined: not set up), by kind. */
export interface PlayTracks {
  readonly video?: TrackChannels;
  readonly audio?: TrackChannels;
}

/** Where a track's packets start for one player (RTP-Info, RFC 2326 12.33). */
export interface TrackStart {
  readonly seq: number;
  readonly rtptime: number;
}

/** One RTSP player's Packer: see the module doc. */
export class RtpPacker implements Packer {
  readonly #rtp: StreamRtp;
  readonly #tracks: PlayTracks;
  #started = false;
  #reported = false;
  #first: { video?: TrackStart; audio?: TrackStart } = {};

  constructor(rtp: StreamRtp, tracks: PlayTracks) {
    this.#rtp = rtp;
    this.#tracks = tracks;
  }

  /**
   * Where the packets of `kind` start for this player: the first packet packed
   * for it, or, before one, the next sequence number and the RTP time of now.
   */
  first(kind: "video" | "audio"): TrackStart | undefined {
    const known = this.#first[kind];
    if (known) return known;
    const sender = this.#sender(kind);
    const clock = sender.clock;
    if (!clock) return undefined;
    return { seq: sender.sequence, rtptime: clock.at(this.#rtp.hubTimeAt(Date.now())) };
  }

  pack(frame: MediaFrame): Uint8Array {
    if (frame.kind === FrameKind.Data) return NOTHING;
    if (frame.sequenceHeader) {
      this.#rtp.configure(frame);
      return NOTHING;
    }
    const kind = frame.kind === FrameKind.Video ? "video" : "audio";
    const track = this.#tracks[kind];
    if (!track) return NOTHING;
    if (!this.#started) {
      // With video set up, start at a keyframe so the first picture decodes (audio before it waits too).
      if (this.#tracks.video && !(frame.kind === FrameKind.Video && frame.keyframe)) return NOTHING;
      this.#started = true;
    }
    let packets: Uint8Array;
    try {
      packets = this.#rtp.packetize(frame);
    } catch {
      // A malformed frame (AVCC lengths past its end, an AAC frame over 13 bits of size): not sent. The
      // publisher's other outputs judge it; a throw here would reach the publisher's push.
      return NOTHING;
    }
    if (packets.length === 0) return NOTHING;
    this.#first[kind] ??= {
      seq: (packets[Offset.Sequence] << 8) | packets[Offset.Sequence + 1],
      rtptime: ((packets[Offset.Timestamp] << 24) | (packets[Offset.Timestamp + 1] << 16) |
        (packets[Offset.Timestamp + 2] << 8) | packets[Offset.Timestamp + 3]) >>> 0,
    };
    const own = withChannel(packets, track.rtp);
    if (this.#reported) return own;
    this.#reported = true;
    const reports = this.senderReports();
    const out = new Uint8Array(reports.length + own.length);
    out.set(reports);
    out.set(own, reports.length);
    return out;
  }

  /**
   * An RTCP sender report (with an SDES CNAME) per set-up track whose clock
   * is known, each in an interleaved frame on its RTCP channel; all for the
   * same instant, now.
   */
  senderReports(now: number = Date.now()): Uint8Array {
    const hubMs = this.#rtp.hubTimeAt(now);
    const parts: Uint8Array[] = [];
    for (const kind of ["video", "audio"] as const) {
      const track = this.#tracks[kind];
      const sender = this.#sender(kind);
      if (!track || !sender.clock) continue;
      parts.push(interleave(sender.senderReport(now, hubMs, RTCP_CNAME), track.rtcp));
    }
    if (parts.length === 1) return parts[0];
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let o = 0;
    for (const p of parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }

  /** After a skip: start again at a keyframe. */
  reset(): void {
    this.#started = false;
  }

  #sender(kind: "video" | "audio"): RtpSender {
    return kind === "video" ? this.#rtp.video.sender : this.#rtp.audio.sender;
  }
}
