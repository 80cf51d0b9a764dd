/**
 * RTSP VOD: plays an FLV file from the VOD folder to one RTSP session in real
 * time, `rtsp://host:PORT/{vod.app}/{path}.flv`, as RTMP VOD
 * (`src/vod/rtmp_vod.ts`) does over RTMP. The session (`session.ts`) hands
 * DESCRIBE, SETUP's track lookup, PLAY and PAUSE of such a URL to an
 * {@linkcode RtspVod}; the RTP bytes go back through the session's transport
 * (TCP interleaved or UDP, {@linkcode VodSink}).
 *
 * - **Opening** (DESCRIBE, or a SETUP without one): missing read permission
 *   for the VOD root is 500 (logged once per root with the flag to add); a
 *   path that does not resolve below the root, or a file that cannot be
 *   opened, is 404 (`vod_path.ts`, the reason at debug); a file that is not a
 *   readable FLV, or has no H.264 or AAC sequence header, is 403 (the reason
 *   logged). The index is the one RTMP VOD builds and shares (`indexOf`).
 * - **DESCRIBE** answers the SDP of the file's first AVC and AAC sequence
 *   headers with `a=range:npt=0-DURATION` (onMetaData's duration or the last
 *   tag's time), so players know it is seekable.
 * - **RTP time is file time**: each track's RTP clock maps the file's
 *   millisecond timestamps (presentation time for video), from the track's
 *   random initial timestamp, for the whole session: across seeks and pauses
 *   the same file instant always has the same RTP time, so timestamps after a
 *   resume continue where they stopped.
 * - **PLAY** with `Range: npt=X-` starts at the keyframe at or before X (the
 *   first keyframe for X before it; 457 for X past the end), a new run: the
 *   sequence headers in force there configure the packetizers, a new
 *   RtpPacker (sender reports before its first packets, nothing before the
 *   keyframe). PLAY without a Range resumes where the last run stopped (after
 *   PAUSE: RFC 2326 10.5), or starts from the beginning (first PLAY, or after
 *   the end). A Range with an end (`npt=X-Y`, RFC 2326 12.29) ends the run
 *   before the first frame past Y as the file's end does (BYE), and the
 *   answer says Y in place of the duration; an end before the start is 457.
 *   Either way the answer says `Range: npt=<start>-<duration>` and
 *   `RTP-Info` with each track's next sequence number and the RTP time of
 *   `<start>` (RFC 2326 12.33: "the RTP timestamp corresponding to the time
 *   value in the Range"), so a player's npt is the file's time. A PLAY while
 *   playing re-seeks (with a Range) or goes on (without). The packets follow
 *   once the session has written the answer (`resume()`).
 * - **Pacing** as RTMP VOD, by the same pacer (`src/vod/vod_pacer.ts`): a
 *   tag goes out when the wall clock reaches its timestamp, counted from the
 *   run's first media tag, minus a lead of 1 s; the schedule is computed from
 *   the start (no drift); tags due together (within 20 ms) are packed and
 *   written once, up to 256 KiB; a slow TCP socket holds the schedule back
 *   (each write is awaited); data tags (onMetaData) are not sent. A resumed
 *   run keeps its schedule, moved on by the time spent paused.
 * - **Sender reports** every `rtcpIntervalMs` while playing, and one right
 *   before the packets of every PLAY (ffmpeg starts its RTCP mapping again at
 *   each PLAY). They map wall time to the schedule's position in the file
 *   (not the newest tag sent, which runs up to the lead ahead), the same
 *   instant for both tracks.
 * - **PAUSE** stops sending (the tags read and not sent are read again on
 *   resume; none are packed, so no sequence number is skipped). **End of
 *   file**: each track gets a sender report and an RTCP BYE (RFC 3550 6.6;
 *   ffmpeg ends its input when every track said BYE); the session stays
 *   until TEARDOWN or its timeout, and may PLAY again.
 * - **Bounds**: one open file per play, read a 64 KiB block at a time
 *   (FlvTagCursor); the index is shared between plays of an unchanged file.
 *   The RTP packetizers (`StreamRtp`) belong to this play alone: never the
 *   live streams' shared ones.
 *
 * Calls come from one session's request loop, one at a time; a pacing loop
 * runs beside it, and `play()` waits for the loop it stops to end, so one
 * cursor never has two readers.
 *
 * @module
 */
import { ProtocolError } from "../errors.ts";
import type { Logger } from "../log.ts";
import { concatBytes } from "../bytes.ts";
import { type FlvTag, TagType } from "../media/flv.ts";
import { type ByteSource, type FlvIndex, FlvTagCursor, type SeekPoint } from "../media/flv_index.ts";
import { classify, FrameKind, type MediaFrame } from "../media/frame.ts";
import { interleave } from "../media/rtp/interleaved.ts";
import { buildGoodbye } from "../media/rtp/rtcp.ts";
import type { RtpSender } from "../media/rtp/rtp_sender.ts";
import {
  type PlayTracks,
  RTCP_CNAME,
  RtpPacker,
  StreamRtp,
  type TrackChannels,
} from "../outputs/rtsp_play.ts";
import { fileSource, indexOf, vodPlayPath } from "../vod/rtmp_vod.ts";
import { DEFAULT_LEAD_MS, nextTag, type PacedRun, PaceResult, postpone, VodPacer } from "../vod/vod_pacer.ts";
import { parsePlayPath, resolveVodFile, vodReadDenied } from "../vod/vod_path.ts";
import { formatNptRange, type NptRange, type RtpInfoEntry } from "./headers.ts";
import type { SessionDescription } from "./sdp.ts";
import { aacMedia, describeStream, h264Media } from "./sdp_media.ts";
import { RtspError, RtspStatus } from "./status.ts";
import type { RtspUrl } from "./url.ts";

/** What a VOD play needs from its RTSP session (STYLE 10: the consumer declares it). */
export interface VodSink {
  /**
   * Sends packer bytes (interleaved RTP and RTCP frames) over the session's
   * transport, after everything sent before; resolves once written (TCP) or
   * handed to the sockets (UDP); rejects when the connection is gone.
   */
  deliver(bytes: Uint8Array): Promise<void>;
  /** Ends the session (a failed write or read); the session logs `reason` once. */
  close(reason: string): void;
}

/** Settings of one RTSP VOD play. */
export interface RtspVodOptions {
  /** The VOD folder. */
  root: string;
  /** The VOD app ("vod"), for names in logs and the registry. */
  app: string;
  /** The largest RTP payload, bytes (`rtsp.mtu`). */
  mtu: number;
  log: Logger;
  /** How far ahead of the wall clock tags are sent, ms. Default 1,000 (as RTMP VOD). */
  leadMs?: number;
  /** How often sender reports go out while playing, ms. Default 5,000. */
  rtcpIntervalMs?: number;
}

/** One set-up track as the session knows it (its `SetupTrack` fits). */
export interface VodTrack {
  readonly kind: "video" | "audio";
  readonly channels: TrackChannels;
  /** The URL the client SETUP, for RTP-Info. */
  readonly url: string;
}

/** What a PLAY answers (RFC 2326 12.29, 12.33). */
export interface VodPlayAnswer {
  /** `npt=<start>-<duration>`. */
  readonly range: string;
  readonly rtpInfo: RtpInfoEntry[];
}

/** The statuses a file that cannot be played gets (see the module doc). */
export const VodRefusal = {
  /** The path does not resolve below the root, or the file cannot be opened. */
  NotFound: RtspStatus.NotFound,
  /** Not a readable FLV file, or no H.264 or AAC track. */
  NotPlayable: RtspStatus.Forbidden,
  /** The process may not read the VOD root (start it with --allow-read). */
  NoPermission: RtspStatus.InternalServerError,
} as const;

/** Default interval of sender reports while playing (RFC 3550 6.2: about every 5 s). */
const DEFAULT_RTCP_INTERVAL_MS = 5_000;
/** The reason a BYE at the end of the file carries (RFC 3550 6.6). */
const END_REASON = "end of file";

const NOTHING = new Uint8Array(0);

/** The file below the VOD root that `url` names, or undefined when it is not a VOD URL (or VOD is off). */
export function rtspVodPath(vod: { root: string | null; app: string }, url: RtspUrl): string | undefined {
  return vodPlayPath(vod, url.app, url.stream);
}

/** The channels of each set-up track, for an RtpPacker. */
function tracksOf(set: readonly VodTrack[]): PlayTracks {
  return Object.fromEntries(set.map((t) => [t.kind, t.channels]));
}

/** A set of tracks as text, to compare two. */
function tracksKey(tracks: PlayTracks): string {
  return `${tracks.video?.rtp}/${tracks.video?.rtcp} ${tracks.audio?.rtp}/${tracks.audio?.rtcp}`;
}

/** A tag as the frame the RTP packers take: file time as its timestamp. */
function frameOf(tag: FlvTag): MediaFrame {
  return {
    kind: tag.type as FrameKind,
    timestamp: tag.timestamp,
    payload: tag.data,
    ...classify(tag.type, tag.data),
    seq: 0,
    prevTimestamp: -1,
    packed: {},
  };
}

function refuse(status: RtspStatus, detail: string): RtspError {
  return new RtspError(status, "rtsp_vod", `Cannot play: ${detail}`);
}

/** This play's packetizers; their sender reports are for the schedule's position in the file. */
class VodRtp extends StreamRtp {
  readonly #position: (now: number) => number;

  constructor(maxPayloadSize: number, position: (now: number) => number) {
    super(maxPayloadSize);
    this.#position = position;
  }

  override hubTimeAt(now: number): number {
    return this.#position(now);
  }
}

/** One stretch of sending from a position, paced against one clock. */
interface Run extends PacedRun {
  readonly packer: RtpPacker;
  readonly tracks: PlayTracks;
  /** The file time (ms) the run was answered to start at. */
  readonly startMs: number;
  /** The end was reached (and said with BYE). */
  done: boolean;
}

/** One session's play of one VOD file (see the module doc). */
export class RtspVod {
  /** The path below the root ("a/b.flv"). */
  readonly path: string;
  /** "vod/a/b.flv": the registry's stream, and the name in logs. */
  readonly name: string;
  /** The file's duration, ms. */
  readonly durationMs: number;
  /** The first H.264 sequence header (a video track), if any. */
  readonly video: MediaFrame | undefined;
  /** The first AAC sequence header (an audio track), if any. */
  readonly audio: MediaFrame | undefined;
  /** This play's RTP packetizers (their SSRCs go in SETUP's answer). */
  readonly rtp: StreamRtp;
  readonly #sink: VodSink;
  readonly #log: Logger;
  readonly #pacer: VodPacer;
  readonly #rtcpIntervalMs: number;
  readonly #file: Deno.FsFile;
  readonly #source: ByteSource;
  readonly #index: FlvIndex;
  readonly #mtime: number;
  #run: Run | undefined;
  /** Bumped by every play(), pause() and stop(): a pacing loop of an older one stops at its next step. */
  #gen = 0;
  /** The pacing loop that runs, settled when it has stopped. */
  #pumping: Promise<void> = Promise.resolve();
  /** No loop runs (before the first PLAY, paused, between a PLAY and its answer, at the end). */
  #halted = true;
  /** performance.now() when the run last halted. */
  #haltedAt = 0;
  #stopped = false;
  #rtcpTimer: ReturnType<typeof setInterval> | undefined;

  private constructor(
    fields: {
      path: string;
      file: Deno.FsFile;
      source: ByteSource;
      index: FlvIndex;
      mtime: number;
      video: MediaFrame | undefined;
      audio: MediaFrame | undefined;
    },
    opts: RtspVodOptions,
    sink: VodSink,
  ) {
    this.path = fields.path;
    this.name = `${opts.app}/${fields.path}`;
    this.#file = fields.file;
    this.#source = fields.source;
    this.#index = fields.index;
    this.#mtime = fields.mtime;
    this.durationMs = fields.index.durationMs;
    this.video = fields.video;
    this.audio = fields.audio;
    this.#sink = sink;
    this.#log = opts.log;
    this.#pacer = new VodPacer(opts.leadMs ?? DEFAULT_LEAD_MS);
    this.#rtcpIntervalMs = opts.rtcpIntervalMs ?? DEFAULT_RTCP_INTERVAL_MS;
    this.rtp = new VodRtp(opts.mtu, (now) => this.#position(now));
    for (const f of [fields.video, fields.audio]) if (f) this.rtp.configure(f);
  }

  /**
   * Opens `path` (below the root, from {@linkcode rtspVodPath}): checks, index,
   * the first sequence headers. Throws RtspError 404, 403 or 500 (see the
   * module doc); the caller answers it.
   */
  static async open(path: string, opts: RtspVodOptions, sink: VodSink): Promise<RtspVod> {
    const name = `${opts.app}/${path}`;
    const log = opts.log;
    const denied = await vodReadDenied(opts.root, (message) => log.error(`cannot play VOD: ${message}`));
    if (denied) throw refuse(VodRefusal.NoPermission, `${name}: ${denied}`);
    const segments = parsePlayPath(path);
    const resolved = segments.ok ? await resolveVodFile(opts.root, segments.value) : segments;
    if (!resolved.ok) {
      log.debug(`refused play of ${name}: ${resolved.reason}`);
      throw refuse(VodRefusal.NotFound, `${name} is not found`);
    }
    let index: FlvIndex;
    try {
      index = await indexOf(resolved.value);
    } catch (e) {
      log.info(
        `refused play of ${name}: it is not a readable FLV file (${e instanceof Error ? e.message : e})`,
      );
      throw refuse(VodRefusal.NotPlayable, `${name} is not a readable FLV file`);
    }
    let file: Deno.FsFile;
    try {
      file = await Deno.open(resolved.value.path, { read: true });
    } catch (e) {
      log.debug(`refused play of ${name}: it cannot be opened (${e instanceof Error ? e.name : e})`);
      throw refuse(VodRefusal.NotFound, `${name} is not found`);
    }
    try {
      const source = fileSource(file, resolved.value.size);
      const first = async (type: TagType, usable: (body: Uint8Array) => unknown) => {
        const ref = index.sequenceHeaders.find((s) => s.type === type);
        const tag = ref && await new FlvTagCursor(source, ref.offset).next();
        if (!tag) return undefined;
        try {
          return usable(tag.data) ? frameOf(tag) : undefined;
        } catch (e) {
          if (!(e instanceof ProtocolError)) throw e;
          return undefined; // a malformed configuration: no such track
        }
      };
      const video = await first(TagType.Video, h264Media);
      const audio = await first(TagType.Audio, aacMedia);
      if (!video && !audio) {
        log.info(`refused play of ${name}: it has no H.264 or AAC sequence header`);
        throw refuse(VodRefusal.NotPlayable, `${name} has no H.264 or AAC track`);
      }
      if (index.damage) log.warn(`${name} is damaged, playing stops there: ${index.damage}`);
      const mtime = resolved.value.mtime?.getTime() ?? 0;
      return new RtspVod({ path, file, source, index, mtime, video, audio }, opts, sink);
    } catch (e) {
      file.close();
      throw e;
    }
  }

  /** The SDP of the file: its H.264 and AAC tracks and `a=range:npt=0-<duration>`. */
  describe(tool: string): SessionDescription {
    return describeStream({
      ...(this.video && { video: this.video.payload }),
      ...(this.audio && { audio: this.audio.payload }),
      durationSec: this.durationMs / 1000,
      sessionId: String(this.#mtime),
      sessionName: this.name,
      tool,
    });
  }

  /** The sender of `kind`'s packets (its SSRC goes in SETUP's Transport). */
  sender(kind: "video" | "audio"): RtpSender {
    return kind === "video" ? this.rtp.video.sender : this.rtp.audio.sender;
  }

  /**
   * PLAY: stops what plays, then positions a run (see the module doc) and says
   * where it starts. Nothing is sent until {@linkcode resume}. RtspError 457
   * for a Range past the end.
   */
  async play(range: NptRange | undefined, tracks: Iterable<VodTrack>): Promise<VodPlayAnswer> {
    if (this.#stopped) throw new RangeError(`Cannot play ${this.name}: current play is stopped`);
    const seekMs = range !== undefined && range.start !== "now" ? range.start * 1000 : undefined;
    if (seekMs !== undefined && seekMs > this.durationMs) {
      throw new RtspError(
        RtspStatus.InvalidRange,
        "rtsp_range",
        `Cannot play ${this.name} from ${seekMs / 1000} s: current duration is ${this.durationMs / 1000} s`,
      );
    }
    // An end in the Range: the run stops before the first frame past it (past the file's end: at the end).
    const askedEndMs = range?.end !== undefined ? range.end * 1000 : undefined;
    if (askedEndMs !== undefined && askedEndMs < (seekMs ?? 0)) {
      throw new RtspError(
        RtspStatus.InvalidRange,
        "rtsp_range",
        `Cannot play ${this.name} from ${(seekMs ?? 0) / 1000} s to ${
          askedEndMs / 1000
        } s: the end is before the start`,
      );
    }
    const set = [...tracks];
    this.#halt();
    await this.#pumping;
    const run = this.#run;
    const asked = seekMs ?? 0;
    let next: Run;
    let startMs: number;
    if (run === undefined || run.done || seekMs !== undefined) {
      next = await this.#newRun(this.#index.seekPoint(asked), set);
      startMs = next.startMs;
      this.#log.info(
        `playing ${this.name} from ${startMs} ms (asked ${asked} ms)` +
          (askedEndMs === undefined ? "" : ` to ${askedEndMs} ms`),
      );
    } else if (tracksKey(run.tracks) !== tracksKey(tracksOf(set))) {
      // A track was SETUP while paused: a packer for the new set, from the keyframe before the resume point.
      next = await this.#newRun(this.#index.seekPoint(await this.#nextTime(run)), set);
      next.endMs = run.endMs;
      startMs = next.startMs;
      this.#log.debug(`resuming ${this.name} with other tracks from ${startMs} ms`);
    } else {
      next = run;
      startMs = await this.#nextTime(run);
      this.#log.debug(`resuming ${this.name} at ${startMs} ms`);
    }
    // A Range end applies to the run this PLAY starts or resumes; without one a new run plays to the end.
    if (askedEndMs !== undefined) next.endMs = askedEndMs < this.durationMs ? askedEndMs : undefined;
    const rtpInfo = set.map((t) => {
      const sender = this.sender(t.kind);
      return { url: t.url, seq: sender.sequence, ...(sender.clock && { rtptime: sender.clock.at(startMs) }) };
    });
    const end = Math.max(next.endMs ?? this.durationMs, startMs) / 1000;
    return { range: formatNptRange({ start: startMs / 1000, end }), rtpInfo };
  }

  /** Starts sending what the last play() positioned, once its answer is written. */
  resume(): void {
    const run = this.#run;
    if (this.#stopped || !this.#halted || !run || run.done) return;
    this.#halted = false;
    postpone(run, performance.now() - this.#haltedAt);
    const gen = this.#gen;
    this.#rtcpTimer = setInterval(() => {
      if (gen === this.#gen) this.#sink.deliver(run.packer.senderReports()).catch(() => {});
    }, this.#rtcpIntervalMs);
    // A resumed run's packer reported before: say where this PLAY's packets sit on the wall clock again.
    const reports = run.clockBase !== undefined ? run.packer.senderReports() : NOTHING;
    this.#pumping = (async () => {
      if (reports.length > 0) await this.#sink.deliver(reports);
      await this.#pump(gen, run);
    })().catch((e) => this.#fail(e));
  }

  /** PAUSE (and the session's PAUSE-like stops): no more packets; a PLAY without a Range resumes. */
  pause(): void {
    this.#halt();
  }

  /** Stops sending and closes the file (TEARDOWN, the session's close). Idempotent. */
  stop(): void {
    if (this.#stopped) return;
    this.#halt();
    this.#stopped = true;
    try {
      this.#file.close();
    } catch {
      // already closed
    }
  }

  // ---- runs

  async #newRun(point: SeekPoint | undefined, set: readonly VodTrack[]): Promise<Run> {
    const offset = point?.offset ?? this.#index.firstTagOffset;
    // The decoder configuration in force at the keyframe (a file may change it).
    for (const ref of this.#index.sequenceHeadersBefore(offset)) {
      const tag = await new FlvTagCursor(this.#source, ref.offset).next();
      if (tag) this.rtp.configure(frameOf(tag));
    }
    const tracks = tracksOf(set);
    const run: Run = {
      cursor: new FlvTagCursor(this.#source, offset),
      packer: new RtpPacker(this.rtp, tracks),
      tracks,
      startMs: point?.timestamp ?? 0,
      done: false,
    };
    this.#run = run;
    return run;
  }

  /** The time of the next tag the run sends (where it resumes); the duration at the end. */
  async #nextTime(run: Run): Promise<number> {
    const at = run.cursor.offset;
    const tag = await nextTag(run.cursor);
    run.cursor.moveTo(at);
    return tag ? tag.timestamp : this.durationMs;
  }

  /** Sends the run's tags on their schedule until the end, or until play/pause/stop bumps the generation. */
  async #pump(gen: number, run: Run): Promise<void> {
    const result = await this.#pacer.pace(run, {
      current: () => gen === this.#gen,
      keep: (tag) => tag.type !== TagType.ScriptData,
      send: async (batch) => {
        const bytes = this.#pack(run, batch);
        if (bytes.length > 0) await this.#sink.deliver(bytes);
      },
    });
    if (result === PaceResult.End && gen === this.#gen) await this.#end(run);
  }

  /** The batch's RTP packets (sequence headers configure), in one array. */
  #pack(run: Run, batch: readonly FlvTag[]): Uint8Array {
    const parts: Uint8Array[] = [];
    for (const tag of batch) {
      const bytes = run.packer.pack(frameOf(tag));
      if (bytes.length > 0) parts.push(bytes);
    }
    return parts.length === 1 ? parts[0] : concatBytes(parts);
  }

  /** The end of the file: a sender report and a BYE per track, then nothing until the next PLAY. */
  async #end(run: Run): Promise<void> {
    run.done = true;
    this.#halt();
    const now = Date.now();
    const position = this.#position(now);
    const parts: Uint8Array[] = [];
    for (const kind of ["video", "audio"] as const) {
      const track = run.tracks[kind];
      const sender = this.sender(kind);
      if (!track || !sender.clock) continue;
      const rtcp = concatBytes([
        sender.senderReport(now, position, RTCP_CNAME),
        buildGoodbye([sender.ssrc], END_REASON),
      ]);
      parts.push(interleave(rtcp, track.rtcp));
    }
    if (parts.length > 0) await this.#sink.deliver(concatBytes(parts));
    this.#log.debug(`played ${this.name} to its end`);
  }

  /**
   * The file time at wall-clock instant `now` on the run's schedule (what
   * sender reports map): the run's first media tag's time plus the time since
   * it was due, held still while halted.
   */
  #position(now: number): number {
    const run = this.#run;
    if (!run) return 0;
    if (run.clockBase === undefined || run.tsBase === undefined) return run.startMs;
    const at = this.#halted ? this.#haltedAt : performance.now() - (Date.now() - now);
    return run.tsBase + Math.max(0, at - run.clockBase);
  }

  // ---- helpers

  /** Stops the loop (at its next step) and the sender reports. */
  #halt(): void {
    this.#gen++;
    clearInterval(this.#rtcpTimer);
    this.#rtcpTimer = undefined;
    if (!this.#halted) {
      this.#halted = true;
      this.#haltedAt = performance.now();
    }
    this.#pacer.interrupt();
  }

  #fail(e: unknown): void {
    if (this.#stopped) return;
    this.stop();
    this.#sink.close(`VOD play of ${this.name} failed: ${e instanceof Error ? e.message : String(e)}`);
  }
}
