/**
 * The MPEG-2 transport stream muxer (ISO/IEC 13818-1): hub frames in, 188-byte
 * transport packets out, for HLS segments and continuous MPEG-TS over HTTP.
 * One program: a PAT on PID 0, a PMT on PID 0x1000, H.264 on PID 0x100
 * (stream_type 0x1B) and AAC in ADTS on PID 0x101 (stream_type 0x0F), the
 * PMT listing only the tracks the stream has.
 *
 * Each audio or video frame becomes one PES packet: stream_id 0xE0 or 0xC0,
 * PTS (and DTS when it differs) at 90 kHz from the hub timestamp and, for
 * H.264, the composition time offset; video PES_packet_length 0 (unbounded),
 * audio its length. H.264 goes from AVCC to Annex B with an access unit
 * delimiter first and the last sequence header's SPS and PPS before every
 * keyframe (`h264_access_unit.ts`); AAC gets an ADTS header from the
 * AudioSpecificConfig (`adts.ts`). The PES is split into transport packets
 * by the WASM packetizer (`src/wasm/ts_packetizer.ts`): continuity counters
 * per PID, random_access_indicator on a keyframe's first packet (and on every
 * audio PES: each AAC frame decodes alone), and a PCR on the first packet of
 * each PES of the PCR PID (video when the stream has video, else audio).
 *
 * ## Timing
 *
 * PTS and DTS are the hub timestamp plus TsTiming.OffsetMs (1.4 s), and the
 * PCR runs TsTiming.PcrLeadMs (0.7 s) behind the DTS of the PES that carries
 * it, as ffmpeg's muxer does with its default 0.7 s mux delay: the PCR never
 * passes a DTS of either track while the publisher interleaves audio and
 * video within 0.7 s, nothing goes negative, and a negative composition
 * offset of up to 1.4 s still gives a valid PTS. All three wrap at 2^33
 * (26.5 hours), as the fields do.
 *
 * ## One muxer per stream, bytes shared
 *
 * `packFrame` caches its result on `frame.packed.ts` (TS_PACKED_KEY), and the
 * packets carry continuity counters that only make sense in the muxer's
 * order. So: ONE TsMuxer per stream packs every frame it is given exactly
 * once, in hub order, and every consumer of that stream (HLS segments,
 * MPEG-TS players) shares the bytes. A second muxer on the same stream would
 * get the first one's cached packets, counters and all.
 *
 * ## Caps and errors
 *
 * A video PES over TS_MAX_PES_SIZE (12 MiB; hub frames are at most 9 MiB)
 * and an AAC frame over 8184 bytes (ADTS's 13-bit frame length) throw
 * RangeError. A malformed decoder configuration (`configure`) or AVCC frame
 * (`packFrame`) throws ProtocolError; the muxer's state is left as it was.
 * Frames of codecs it does not carry (HEVC, AV1, VP9, MP3, Opus, ...) pack to
 * no bytes.
 *
 * @module
 */
import { parseAvcConfig } from "../avc.ts";
import type { AvcConfig } from "../avc.ts";
import { FrameKind, type MediaFrame } from "../frame.ts";
import { packetizePes, TS_MAX_PES_SIZE, TS_PACKET_SIZE } from "../../wasm/ts_packetizer.ts";
import { aacConfig, aacFrame, avcFrame, avcRecord } from "../tag_body.ts";
import { ADTS_HEADER_SIZE, type AdtsConfig, adtsConfig, adtsHeader } from "./adts.ts";
import { annexBParameterSets, annexBParts } from "./h264_access_unit.ts";
import { pesHeader, PTS_RANGE, StreamId } from "./pes.ts";
import { NULL_PID, PAT_PID, patSection, pmtSection, type PmtStream, psiPacket, StreamType } from "./psi.ts";

/** The PIDs of the one program (2.4.3.3 Table 2-3: 0x0010..0x1FFE are free to assign; ffmpeg's choices). */
export const TsPid = {
  /** 0x0000: the PAT (fixed by 2.4.4.3). */
  Pat: PAT_PID,
  /** 0x1000: the PMT. */
  Pmt: 0x1000,
  /** 0x0100: H.264. */
  Video: 0x100,
  /** 0x0101: AAC. */
  Audio: 0x101,
} as const;
export type TsPid = typeof TsPid[keyof typeof TsPid];

/** The program's program_number in the PAT and PMT. */
export const PROGRAM_NUMBER = 1;

/** Timing choices (see the module doc), in milliseconds. */
export const TsTiming = {
  /** Added to every hub timestamp for PTS and DTS: the first DTS is 1.4 s. */
  OffsetMs: 1400,
  /** The PCR runs this far behind the DTS of the PES that carries it. */
  PcrLeadMs: 700,
} as const;

/** The key of a frame's transport packets in `MediaFrame.packed`. */
export const TS_PACKED_KEY = "ts";

/** Which tracks the PMT lists: true always, false never, undefined once its sequence header is seen. */
export interface TsMuxerOptions {
  readonly audio?: boolean;
  readonly video?: boolean;
}

/** 90 kHz ticks per millisecond; 27 MHz ticks per 90 kHz tick (2.4.2.2). */
const TICKS_PER_MS = 90;
const PCR_PER_TICK = 300;
/** What a frame the muxer does not carry packs to. */
const NOTHING: Uint8Array = new Uint8Array(0);

interface AvcTrack {
  readonly record: Uint8Array;
  readonly config: AvcConfig;
  /** SPS and PPS behind start codes, for every keyframe. */
  readonly parameterSets: Uint8Array;
}

interface AacTrack {
  readonly asc: Uint8Array;
  /** Undefined when ADTS cannot carry the config: frames then pack to nothing. */
  readonly adts: AdtsConfig | undefined;
}

/** A 90 kHz time from milliseconds plus `offsetMs`, wrapped to 33 bits. */
function ticks(ms: number, offsetMs: number): number {
  const t = Math.round((ms + offsetMs) * TICKS_PER_MS) % PTS_RANGE;
  return t < 0 ? t + PTS_RANGE : t;
}

function sameBytes(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

function hex2(n: number): string {
  return n.toString(16).padStart(2, "0");
}

/** Muxes one stream's frames into transport packets. See the module doc for the rules. */
export class TsMuxer {
  readonly #opts: TsMuxerOptions;
  #avc: AvcTrack | undefined;
  #aac: AacTrack | undefined;
  /** continuity_counter of the next packet, per PID. */
  #cc = new Map<number, number>();
  #pmtVersion = 0;
  /** The streams of the last PMT written, as "v", "a", "va" or "". */
  #pmtTracks: string | undefined;
  #packedMedia = false;

  constructor(opts: TsMuxerOptions = {}) {
    this.#opts = opts;
  }

  /** Whether the PMT lists video. */
  get hasVideo(): boolean {
    return this.#opts.video ?? this.#avc !== undefined;
  }

  /** Whether the PMT lists audio. */
  get hasAudio(): boolean {
    return this.#opts.audio ?? this.#aac !== undefined;
  }

  /** The PID whose packets carry the PCR (NULL_PID when the program has no tracks yet). */
  get pcrPid(): number {
    return this.hasVideo ? TsPid.Video : this.hasAudio ? TsPid.Audio : NULL_PID;
  }

  /**
   * A sequence header or metadata frame: remembers an AVC decoder
   * configuration or an AAC AudioSpecificConfig (legacy FLV or Enhanced RTMP
   * `avc1` / `mp4a`). Returns true when it differs from the one before and
   * media has been packed since the muxer started (the HLS segmenter then
   * starts a new segment with a discontinuity). Other frames and codecs:
   * false. A malformed configuration throws ProtocolError and changes nothing.
   */
  configure(frame: MediaFrame): boolean {
    if (frame.kind === FrameKind.Video && this.#opts.video !== false) {
      const record = avcRecord(frame.payload);
      if (!record || sameBytes(record, this.#avc?.record)) return false;
      const config = parseAvcConfig(record);
      this.#avc = { record: record.slice(), config, parameterSets: annexBParameterSets(config) };
      return this.#packedMedia;
    }
    if (frame.kind === FrameKind.Audio && this.#opts.audio !== false) {
      const asc = aacConfig(frame.payload);
      if (!asc || sameBytes(asc, this.#aac?.asc)) return false;
      const adts = adtsConfig(asc);
      this.#aac = { asc: asc.slice(), adts };
      return this.#packedMedia;
    }
    return false;
  }

  /**
   * A PAT and a PMT, one packet each (376 bytes, a new array the caller
   * owns); their continuity counters go up by one per call, and the PMT's
   * version_number whenever the tracks it lists have changed.
   */
  tables(): Uint8Array {
    const streams: PmtStream[] = [];
    if (this.hasVideo) streams.push({ streamType: StreamType.H264, pid: TsPid.Video });
    if (this.hasAudio) streams.push({ streamType: StreamType.AacAdts, pid: TsPid.Audio });
    const tracks = (this.hasVideo ? "v" : "") + (this.hasAudio ? "a" : "");
    if (this.#pmtTracks !== undefined && tracks !== this.#pmtTracks) {
      this.#pmtVersion = (this.#pmtVersion + 1) & 31;
    }
    this.#pmtTracks = tracks;
    const out = new Uint8Array(2 * TS_PACKET_SIZE);
    out.set(psiPacket(TsPid.Pat, this.#next(TsPid.Pat, 1), patSection(PROGRAM_NUMBER, TsPid.Pmt)));
    const pmt = pmtSection({
      programNumber: PROGRAM_NUMBER,
      pcrPid: this.pcrPid,
      version: this.#pmtVersion,
      streams,
    });
    out.set(psiPacket(TsPid.Pmt, this.#next(TsPid.Pmt, 1), pmt), TS_PACKET_SIZE);
    return out;
  }

  /**
   * The transport packets of one audio or video frame: a multiple of 188
   * bytes, or none for a frame it does not carry (sequence headers and
   * metadata, which go to `configure`; other codecs; a track the options
   * leave out or whose configuration has not come). Cached on
   * `frame.packed.ts`: shared bytes, never mutate them (see the module doc
   * for the one-muxer rule).
   */
  packFrame(frame: MediaFrame): Uint8Array {
    const cached = frame.packed[TS_PACKED_KEY];
    if (cached) return cached;
    let out = NOTHING;
    if (!frame.sequenceHeader && frame.payload.length > 0) {
      if (frame.kind === FrameKind.Video) out = this.#video(frame);
      else if (frame.kind === FrameKind.Audio) out = this.#audio(frame);
    }
    if (out.length > 0) this.#packedMedia = true;
    frame.packed[TS_PACKED_KEY] = out;
    return out;
  }

  /** RFC 6381 codec strings of the tracks configured: `avc1.PPCCLL` (from the record), `mp4a.40.N`. */
  codecs(): string[] {
    const out: string[] = [];
    const avc = this.#avc?.config;
    if (avc && this.hasVideo) {
      out.push(`avc1.${hex2(avc.profileIdc)}${hex2(avc.profileCompatibility)}${hex2(avc.levelIdc)}`);
    }
    const adts = this.#aac?.adts;
    if (adts && this.hasAudio) out.push(`mp4a.40.${adts.objectType}`);
    return out;
  }

  #video(frame: MediaFrame): Uint8Array {
    const avc = this.#avc;
    const f = avcFrame(frame.payload);
    if (!f || !avc || !this.hasVideo) return NOTHING;
    const au = annexBParts(f.avcc, avc.config.lengthSize, avc.parameterSets, frame.keyframe);
    const header = pesHeader({
      streamId: StreamId.Video,
      pts: ticks(frame.timestamp + f.cts, TsTiming.OffsetMs),
      dts: ticks(frame.timestamp, TsTiming.OffsetMs),
    });
    const length = header.length + au.length;
    if (length > TS_MAX_PES_SIZE) {
      throw new RangeError(`Cannot mux video frame: its PES is ${length} bytes, limit ${TS_MAX_PES_SIZE}`);
    }
    au.parts.unshift(header);
    return this.#packetize(TsPid.Video, au.parts, frame.keyframe, frame.timestamp);
  }

  #audio(frame: MediaFrame): Uint8Array {
    const adts = this.#aac?.adts;
    const raw = aacFrame(frame.payload);
    if (!raw || raw.length === 0 || !adts || !this.hasAudio) return NOTHING;
    const adtsBytes = adtsHeader(adts, raw.length);
    const header = pesHeader({
      streamId: StreamId.Audio,
      pts: ticks(frame.timestamp, TsTiming.OffsetMs),
      payloadLength: ADTS_HEADER_SIZE + raw.length,
    });
    return this.#packetize(TsPid.Audio, [header, adtsBytes, raw], true, frame.timestamp);
  }

  #packetize(pid: number, parts: Uint8Array[], randomAccess: boolean, timestamp: number): Uint8Array {
    const pcr = pid === this.pcrPid
      ? ticks(timestamp, TsTiming.OffsetMs - TsTiming.PcrLeadMs) * PCR_PER_TICK
      : undefined;
    const continuity = this.#cc.get(pid) ?? 0;
    const out = packetizePes(parts, { pid, continuity, randomAccess, ...(pcr !== undefined && { pcr }) });
    this.#cc.set(pid, (continuity + out.length / TS_PACKET_SIZE) & 15);
    return out;
  }

  /** The counter for the next `packets` packets on `pid`: returns the first, advances past them. */
  #next(pid: number, packets: number): number {
    const cc = this.#cc.get(pid) ?? 0;
    this.#cc.set(pid, (cc + packets) & 15);
    return cc;
  }
}
