/**
 * RtspRecord: the publishing side of an RTSP session (RFC 2326 10.2
 * ANNOUNCE, 10.11 RECORD): the announced SDP's H.264 and AAC tracks,
 * depacketized into one hub stream through an FlvPublisher, as an RTMP
 * publisher's frames are.
 *
 * - **Tracks** (`recordTracks`): the first H.264 track (packetization-mode 0
 *   or 1) and the first AAC (mpeg4-generic AAC-hbr/lbr with a `config`) of
 *   the SDP are taken; every other track is named in `skipped` (the session
 *   logs the list once and answers a SETUP of one 404). An
 *   SDP with neither is 415.
 * - **Depacketizing**: `H264Depacketizer` (single NAL, STAP-A, FU-A; waits
 *   for an IDR at the start and after a loss) and `AacDepacketizer`
 *   (AU-headers, fragments), their access units capped at
 *   `ingest.maxTagBytes` like every FLV tag. The SDP's parameter sets and AAC
 *   config are the first sequence headers; in-band SPS/PPS that change make a
 *   new one.
 * - **Time**: each track's RTP times become milliseconds on one timeline.
 *   At a track's first packet its RTP time is placed on the wall clock: by
 *   the publisher's last RTCP sender report of that track (NTP time and RTP
 *   time of one instant, RFC 3550 6.4.1: ffmpeg and cameras send one before
 *   their first packets), else by the packet's arrival. The first track
 *   placed starts the timeline (at ORIGIN_LEAD_MS, so a second track that
 *   starts a little earlier is not before 0). Video decode times come from
 *   the presentation times RTP carries (`DecodeTimer`: B-frames get their
 *   composition offsets back; the first dozen pictures of a publish are
 *   held to see the reordering, the audio of that time with them, and both
 *   go to the hub in time order; a picture that cannot be timed drops its
 *   group up to the next keyframe).
 * - **Drops**: what the depacketizers drop (a loss, a FU-A that never ends,
 *   an access unit past the cap) is counted in their stats and logged once
 *   per kind of drop and track; a packet that is not RTP is counted and
 *   logged once. None of it ends the session: the publisher's players wait
 *   for the next keyframe.
 *
 * Socket-free: the session hands it packets (interleaved frames or UDP
 * datagrams) and RTCP; it pushes into the hub.
 *
 * @module
 */
import { ProtocolError } from "../errors.ts";
import type { Logger } from "../log.ts";
import { TagType } from "../media/flv.ts";
import { AacDepacketizer } from "../media/rtp/aac_depacketizer.ts";
import { NTP_UNIX_OFFSET_SECONDS } from "../media/rtp/clock.ts";
import { DecodeTimer, type Timed } from "../media/rtp/decode_time.ts";
import { H264Depacketizer } from "../media/rtp/h264_depacketizer.ts";
import type { RtcpPacket } from "../media/rtp/rtcp.ts";
import type { RtpFrame, RtpReceiver } from "../media/rtp/rtp_receiver.ts";
import { Protocol } from "../hub/session_kind.ts";
import { FlvPublisher, type PublishHub } from "../ingest/flv_publisher.ts";
import { quote } from "./headers.ts";
import { parseSdp } from "./sdp.ts";
import { type AacParams, type AnnouncedTrack, announcedTracks, type H264Params } from "./sdp_media.ts";
import { RtspError, RtspStatus } from "./status.ts";
import { parseRtspUrl } from "./url.ts";

/** Where the timeline starts: the first track's first packet is at this many ms. */
export const ORIGIN_LEAD_MS = 10_000;

/** Audio frames held at most while the first pictures are (about 6 s of AAC at 44.1 kHz): past it they go. */
const MAX_HELD_AUDIO = 256;

/** An RTP header's fixed part (RFC 3550 5.1); its timestamp is at byte 4. */
const RTP_HEADER_SIZE = 12;

export type RecordKind = "video" | "audio";

/** One announced track Sluice takes in. */
export interface RecordTrack {
  readonly kind: RecordKind;
  /** The absolute control URL the publisher SETUPs. */
  readonly control: string;
  /** The control's `trackID=N` / `streamid=N`, when it has one. */
  readonly track?: number;
  readonly announced: AnnouncedTrack;
}

/** The tracks of an ANNOUNCE body that are taken, and a word on each one that is not. */
export interface RecordTracks {
  readonly tracks: readonly RecordTrack[];
  /** e.g. "audio PCMA"; for the log. */
  readonly skipped: readonly string[];
}

function trackOf(control: string): number | undefined {
  try {
    return parseRtspUrl(control).track;
  } catch {
    return undefined;
  }
}

/**
 * The tracks of an ANNOUNCE's SDP (`base`: the request URL) Sluice publishes:
 * RtspError 400 for an SDP that does not read, 415 when it has no H.264 and
 * no AAC track.
 */
export function recordTracks(body: Uint8Array, base: string): RecordTracks {
  const announced = announcedTracks(parseSdp(body), base);
  const tracks: RecordTrack[] = [];
  const skipped: string[] = [];
  for (const a of announced) {
    const codec = a.codec?.codec;
    const h264 = codec === "H264" && (a.codec as H264Params).packetizationMode <= 1;
    const kind: RecordKind | undefined = h264 ? "video" : codec === "AAC" ? "audio" : undefined;
    if (kind === undefined || tracks.some((t) => t.kind === kind)) {
      const mode = codec === "H264" ? ` packetization-mode ${(a.codec as H264Params).packetizationMode}` : "";
      skipped.push(`${a.media} ${a.encoding || `payload type ${a.payloadType}`}${mode}`);
      continue;
    }
    const track = trackOf(a.control);
    tracks.push({ kind, control: a.control, ...(track !== undefined && { track }), announced: a });
  }
  if (tracks.length === 0) {
    throw new RtspError(
      RtspStatus.UnsupportedMediaType,
      "sdp",
      `Cannot record: the SDP has no H.264 (packetization-mode 0 or 1) or AAC track, current ${
        skipped.join(", ") || "no media"
      }`,
    );
  }
  return { tracks, skipped };
}

/** Options for `RtspRecord`. */
export interface RtspRecordOptions {
  /** The stream key, app/stream. */
  readonly key: string;
  /** The publisher id for the hub ("rtsp 1.2.3.4:5678"). */
  readonly id: string;
  readonly remote: string;
  readonly hub: PublishHub;
  readonly log: Logger;
  /** The access unit cap, bytes (ingest.maxTagBytes). */
  readonly maxFrameBytes: number;
  /** The wall clock, ms (tests); default Date.now. */
  readonly now?: () => number;
}

/** A sender report's instant: Unix ms and the RTP time of it. */
interface SrPoint {
  readonly unixMs: number;
  readonly rtp: number;
}

/** One track's receiving state. */
interface TrackState {
  readonly track: RecordTrack;
  readonly rate: number;
  readonly h264?: H264Depacketizer;
  readonly aac?: AacDepacketizer;
  readonly dts?: DecodeTimer<RtpFrame>;
  /** The last sender report of this track's source. */
  sr?: SrPoint;
  /** The ms its depacketizer's time 0 (the first packet) is at on the stream's timeline. */
  offset?: number;
  /** Drop kinds logged already. */
  readonly logged: Set<string>;
  /** Video: a picture could not be timed; drop up to the next keyframe. */
  waitKeyframe?: boolean;
}

/** Counts for the registry and tests. */
export interface RecordCounts {
  packets: number;
  bytes: number;
  /** Packets that were not RTP. */
  malformed: number;
  videoFrames: number;
  audioFrames: number;
  senderReports: number;
  /** Video frames dropped because their decode time could not be placed (`DecodeTimer`), and up to a keyframe. */
  untimedFrames: number;
}

/** See the module doc. */
export class RtspRecord {
  readonly key: string;
  readonly publisher: FlvPublisher;
  readonly counts: RecordCounts = {
    packets: 0,
    bytes: 0,
    malformed: 0,
    videoFrames: 0,
    audioFrames: 0,
    senderReports: 0,
    untimedFrames: 0,
  };
  readonly #tracks: TrackState[];
  readonly #log: Logger;
  readonly #now: () => number;
  /** Audio that came while the first pictures were held (see #push). */
  #heldAudio: { ts: number; f: RtpFrame }[] = [];
  /** The wall-clock ms of the timeline's ORIGIN_LEAD_MS, once the first track is placed. */
  #originUnixMs: number | undefined;

  /** Depacketizers for `tracks`; a config or option they refuse is RtspError 415. */
  constructor(tracks: readonly RecordTrack[], opts: RtspRecordOptions) {
    this.key = opts.key;
    this.#log = opts.log;
    this.#now = opts.now ?? Date.now;
    this.publisher = new FlvPublisher(opts.key, opts.id, opts.hub, {
      protocol: Protocol.Rtsp,
      remote: opts.remote,
    });
    this.#tracks = tracks.map((t) => {
      const a = t.announced;
      try {
        if (t.kind === "video") {
          const h264 = new H264Depacketizer({
            maxAccessUnitSize: Math.max(1024, opts.maxFrameBytes),
            payloadType: a.payloadType,
          });
          return { track: t, rate: a.clockRate || 90_000, h264, dts: new DecodeTimer(), logged: new Set() };
        }
        const p = a.codec as AacParams;
        const aac = new AacDepacketizer({
          config: p.config,
          sizeLength: p.sizeLength,
          indexLength: p.indexLength,
          indexDeltaLength: p.indexDeltaLength,
          ...(a.clockRate > 0 && { clockRate: a.clockRate }),
          payloadType: a.payloadType,
        });
        return { track: t, rate: aac.clockRate, aac, logged: new Set() };
      } catch (e) {
        if (!(e instanceof RangeError || e instanceof ProtocolError)) throw e;
        throw new RtspError(
          RtspStatus.UnsupportedMediaType,
          "sdp",
          `Cannot record ${t.kind} track ${quote(t.control)}: ${e.message}`,
          { cause: e },
        );
      }
    });
  }

  get tracks(): readonly RecordTrack[] {
    return this.#tracks.map((s) => s.track);
  }

  /** The track a SETUP URL names: by its trackID/streamid, else by the whole control URL. */
  find(uri: string): RecordTrack | undefined {
    const path = uri.split("?")[0].replace(/\/$/, "");
    const n = trackOf(uri);
    for (const s of this.#tracks) {
      const t = s.track;
      if (n !== undefined && t.track === n) return t;
      if (t.control.split("?")[0].replace(/\/$/, "") === path) return t;
    }
    return undefined;
  }

  /** The reception state of a track's source (for UDP receiver reports). */
  receiver(kind: RecordKind): RtpReceiver | undefined {
    const s = this.#state(kind);
    return s?.h264?.receiver ?? s?.aac?.receiver;
  }

  /** Publishes (StreamBusyError when the name has a live publisher) and pushes the SDP's sequence headers. */
  start(): void {
    this.publisher.start();
    for (const s of this.#tracks) {
      const c = s.track.announced.codec;
      if (s.h264 && c?.codec === "H264") {
        const header = s.h264.setParameterSets(c.sps, c.pps);
        if (header) this.#push(s, header, 0);
      } else if (s.aac) {
        this.#push(s, s.aac.sequenceHeader(), 0);
      }
    }
  }

  /** One RTP packet of `kind` (a view the caller may reuse after the call). */
  rtp(kind: RecordKind, packet: Uint8Array): void {
    const s = this.#state(kind);
    if (!s || !this.publisher.live) return;
    this.counts.packets++;
    this.counts.bytes += packet.length;
    if (s.offset === undefined && packet.length >= RTP_HEADER_SIZE) this.#place(s, packet);
    let frames: RtpFrame[];
    try {
      frames = s.h264 ? s.h264.push(packet) : s.aac!.push(packet);
    } catch (e) {
      if (!(e instanceof ProtocolError)) throw e;
      this.counts.malformed++;
      this.#once(s, "malformed", `a packet that is not RTP was dropped: ${e.message}`);
      return;
    }
    this.#noteDrops(s);
    for (const f of frames) this.#push(s, f, s.offset ?? ORIGIN_LEAD_MS);
  }

  /** RTCP from the publisher about `kind`: its sender reports place the track's RTP times. */
  rtcp(kind: RecordKind, packets: readonly RtcpPacket[]): void {
    const s = this.#state(kind);
    if (!s) return;
    for (const p of packets) {
      if (p.type !== "sr") continue;
      this.counts.senderReports++;
      const unixMs = (p.ntp.seconds - NTP_UNIX_OFFSET_SECONDS) * 1000 + (p.ntp.fraction / 2 ** 32) * 1000;
      s.sr = { unixMs, rtp: p.rtpTimestamp >>> 0 };
    }
  }

  /** Leaves the hub (players wait out the reconnect grace). Idempotent. */
  stop(): void {
    this.publisher.stop();
  }

  /** Depacketizer drop counts, for the close line. */
  dropSummary(): string {
    const parts: string[] = [];
    for (const s of this.#tracks) {
      const st = s.h264?.stats ?? s.aac!.stats;
      const lost = (s.h264?.receiver ?? s.aac!.receiver).counts.lost;
      const dropped = s.h264
        ? s.h264.stats.brokenAccessUnits + s.h264.stats.oversizedAccessUnits
        : s.aac!.stats.brokenFragments + s.aac!.stats.malformedPackets;
      parts.push(`${s.track.kind} ${st.frames} frames, ${lost} packets lost, ${dropped} dropped`);
    }
    return parts.join("; ");
  }

  #state(kind: RecordKind): TrackState | undefined {
    return this.#tracks.find((s) => s.track.kind === kind);
  }

  /** Places the track's first packet on the timeline (see the module doc). */
  #place(s: TrackState, packet: Uint8Array): void {
    const ts = new DataView(packet.buffer, packet.byteOffset, packet.byteLength).getUint32(4);
    const unixMs = s.sr ? s.sr.unixMs + ((((ts - s.sr.rtp) | 0) * 1000) / s.rate) : this.#now();
    this.#originUnixMs ??= unixMs;
    s.offset = Math.round(ORIGIN_LEAD_MS + unixMs - this.#originUnixMs);
    if (s.offset < 0) s.offset = 0;
  }

  #push(s: TrackState, f: RtpFrame, offset: number): void {
    const ts = f.timestamp + offset;
    if (f.type === TagType.Video && !f.sequenceHeader) {
      const timed = s.dts!.push(ts, f);
      if (timed.length > 1) return this.#release(s, timed);
      for (const t of timed) this.#pushVideo(s, t);
      return;
    }
    const video = this.#state("video");
    if (f.type === TagType.Audio && !f.sequenceHeader && video && video.dts!.held > 0) {
      // The first pictures are held to time them: audio waits with them, so the hub gets both in order.
      this.#heldAudio.push({ ts, f });
      if (this.#heldAudio.length >= MAX_HELD_AUDIO) this.#release(video, video.dts!.flush());
      return;
    }
    this.#pushOther(f, ts);
  }

  /** The held pictures, timed, and the audio held with them, in time order. */
  #release(video: TrackState, timed: Timed<RtpFrame>[]): void {
    const audio = this.#heldAudio;
    this.#heldAudio = [];
    let a = 0;
    for (const t of timed) {
      while (a < audio.length && audio[a].ts <= t.dts) this.#pushOther(audio[a].f, audio[a++].ts);
      this.#pushVideo(video, t);
    }
    while (a < audio.length) this.#pushOther(audio[a].f, audio[a++].ts);
  }

  /** Audio, or a sequence header: as it is. */
  #pushOther(f: RtpFrame, ts: number): void {
    if (f.type === TagType.Audio && !f.sequenceHeader) this.counts.audioFrames++;
    this.publisher.push({ type: f.type, timestamp: Math.max(0, ts), data: f.data });
  }

  /** A picture with its decode time; one that could not be timed drops its group (see DecodeTimer). */
  #pushVideo(s: TrackState, t: Timed<RtpFrame>): void {
    const f = t.item;
    if (!t.placed || (s.waitKeyframe && !f.keyframe)) {
      s.waitKeyframe = true;
      this.counts.untimedFrames++;
      this.#once(s, "untimed", "a picture could not be given a decode time: waiting for the next keyframe");
      return;
    }
    s.waitKeyframe = false;
    if (t.offset > 0) {
      // The AVC body's CompositionTime (SI24 at byte 2, FLV v10.1 E.4.3.1); the frame is ours to change.
      f.data[2] = (t.offset >> 16) & 0xff;
      f.data[3] = (t.offset >> 8) & 0xff;
      f.data[4] = t.offset & 0xff;
    }
    this.counts.videoFrames++;
    this.publisher.push({ type: TagType.Video, timestamp: Math.max(0, t.dts), data: f.data });
  }

  /** Logs the first drop of each kind on a track. */
  #noteDrops(s: TrackState): void {
    if (s.h264) {
      const st = s.h264.stats;
      if (st.oversizedAccessUnits > 0) {
        this.#once(
          s,
          "oversized",
          "an access unit past ingest.maxTagBytes was dropped (a FU-A that never ends?): waiting for the next keyframe",
        );
      }
      if (st.brokenAccessUnits > 0) {
        this.#once(
          s,
          "broken",
          "an access unit was lost (packet loss or a broken FU-A): waiting for the next keyframe",
        );
      }
    } else if (s.aac) {
      const st = s.aac.stats;
      if (st.malformedPackets > 0) {
        this.#once(s, "aac-malformed", "an AAC payload that does not add up was dropped");
      }
      if (st.brokenFragments > 0) this.#once(s, "aac-fragment", "a fragmented AAC frame was lost");
    }
  }

  #once(s: TrackState, what: string, line: string): void {
    if (s.logged.has(what)) return;
    s.logged.add(what);
    this.#log.warn(`publishing ${this.key}, ${s.track.kind}: ${line} (logged once)`);
  }
}
