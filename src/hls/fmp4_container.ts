/**
 * HLS with fMP4 (RFC 8216 3.3): the `HlsContainer` that packs a run of hub
 * frames into one movie fragment (`moof` + `mdat`) and keeps the init segment
 * (`ftyp` + `moov`) of the stream's current codec configuration.
 *
 * What it carries: H.264 from FLV AVC tags (CodecID 7) and AAC from FLV AAC
 * tags (SoundFormat 10). Everything else (Enhanced RTMP HEVC, AV1, VP9, Opus;
 * legacy MP3, Speex, ...) is left out: `configure()` ignores its sequence
 * headers and `pack()` its frames, as it does malformed configuration records
 * and empty frames. Publisher input never throws here.
 *
 * Timing, each track in its own timescale:
 * - video (track 1, 90 kHz): decode time = hub timestamp x 90, composition
 *   offset = the AVC CompositionTime (FLV E.4.3.2, signed 24-bit ms) x 90.
 *   A sample lasts until the next video sample; the run's last one until
 *   `nextTimestamp`, or as long as the sample before it when that is longer
 *   (a run cut before an audio frame that precedes the next video frame would
 *   otherwise leave a hole, which Media Source Extensions treat as a
 *   discontinuity and skip to the next keyframe);
 * - audio (track 2, the sample rate): decode times counted in samples,
 *   1024 per AAC frame, resynced to the hub timestamps only at a gap
 *   (`AudioTimeline`, AUDIO_GAP_MS); the last sample of a run lasts one frame.
 *
 * Sample bytes are the FLV tag bodies' (AVCC NAL units from byte 5, raw AAC
 * frames from byte 2), copied once into the fragment.
 *
 * @module
 */
import type { ContainerKind, HlsContainer } from "./container.ts";
import {
  AacPacketType,
  AvcPacketType,
  FrameKind,
  type MediaFrame,
  SoundFormat,
  VideoCodecId,
} from "../media/frame.ts";
import { parseAvcConfig } from "../media/avc.ts";
import { MAX_CONFIG_BYTES, parseAudioSpecificConfig, videoInfo } from "../media/codec_info.ts";
import { AAC_FRAME_SAMPLES, AudioTimeline } from "../media/fmp4/audio_timeline.ts";
import { aacCodecString, avcCodecString } from "../media/fmp4/codec_string.ts";
import {
  buildFragment,
  type FragmentSample,
  type FragmentTrack,
  SampleFlags,
} from "../media/fmp4/fragment.ts";
import {
  type AudioTrackConfig,
  initSegment,
  type TrackConfig,
  VIDEO_TIMESCALE,
  type VideoTrackConfig,
} from "../media/fmp4/init_segment.ts";

/** The track_ID of each kind (the same in every init segment of a stream). */
export const TrackId = {
  Video: 1,
  Audio: 2,
} as const;
export type TrackId = typeof TrackId[keyof typeof TrackId];

/** FLV E.4.3.2 AVCVIDEOPACKET: the sample starts after VIDEODATA's byte, AVCPacketType and CompositionTime. */
const AVC_DATA_OFFSET = 5;
/** FLV E.4.2.2 AACAUDIODATA: the sample starts after AUDIODATA's byte and AACPacketType. */
const AAC_DATA_OFFSET = 2;
/** FLV E.4.3.1: bit 7 of a video tag's first byte set means an Enhanced RTMP ExVideoTagHeader. */
const EX_VIDEO_HEADER_BIT = 0x80;
/** Channels assumed when the AudioSpecificConfig leaves them to a program_config_element. */
const DEFAULT_CHANNELS = 2;
/** Video timescale ticks per hub millisecond. */
const VIDEO_TICKS_PER_MS = VIDEO_TIMESCALE / 1000;

interface VideoState {
  readonly config: VideoTrackConfig;
  readonly codec: string;
}

interface AudioState {
  readonly config: AudioTrackConfig;
  readonly codec: string;
  readonly timeline: AudioTimeline;
}

/** A legacy FLV AVC tag body of `packetType` (not Enhanced RTMP). */
function isAvc(payload: Uint8Array, packetType: number): boolean {
  return payload.length >= AVC_DATA_OFFSET && (payload[0] & EX_VIDEO_HEADER_BIT) === 0 &&
    (payload[0] & 0x0f) === VideoCodecId.Avc && payload[1] === packetType;
}

/** An FLV AAC tag body of `packetType`. */
function isAac(payload: Uint8Array, packetType: number): boolean {
  return payload.length >= AAC_DATA_OFFSET && payload[0] >> 4 === SoundFormat.Aac &&
    payload[1] === packetType;
}

/** FLV E.4.3.2 CompositionTime: SI24 at bytes 2..4, in ms. */
function compositionTimeMs(payload: Uint8Array): number {
  return ((payload[2] << 24) | (payload[3] << 16) | (payload[4] << 8)) >> 8;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** One stream's fMP4 packing: codec configuration, init segment, fragment sequence numbers, track timing. */
export class Fmp4Container implements HlsContainer {
  readonly kind: ContainerKind = "fmp4";
  #video: VideoState | undefined;
  #audio: AudioState | undefined;
  #init: Uint8Array | undefined;
  /** Media went out: a configuration change from now on makes players need a new init segment. */
  #packed = false;
  /** The last fragment's mfhd sequence_number (8.8.5.3: increasing, from 1). */
  #sequence = 0;
  /** The last video sample's decode time and duration (90 kHz), for the next run's first sample. */
  #lastVideo: { dts: number; duration: number } | undefined;

  /**
   * Takes an AVC or AAC sequence header (FLV E.4.3.2 AVCPacketType 0, E.4.2.2
   * AACPacketType 0). Returns true when it changes the configuration after
   * media was packed: the init segment changed under players that have the
   * old one. The same header again changes nothing. Other frames, other
   * codecs and malformed records return false and change nothing.
   */
  configure(frame: MediaFrame): boolean {
    let changed = false;
    if (frame.kind === FrameKind.Video) changed = this.#configureVideo(frame.payload);
    else if (frame.kind === FrameKind.Audio) changed = this.#configureAudio(frame.payload);
    if (!changed) return false;
    this.#init = undefined;
    return this.#packed;
  }

  #configureVideo(payload: Uint8Array): boolean {
    if (!isAvc(payload, AvcPacketType.SequenceHeader)) return false;
    const record = payload.subarray(AVC_DATA_OFFSET);
    if (record.length > MAX_CONFIG_BYTES) return false;
    if (this.#video && sameBytes(this.#video.config.avcC, record)) return false;
    let codec: string;
    try {
      if (parseAvcConfig(record).sps.length === 0) return false;
      codec = avcCodecString(record);
    } catch {
      return false; // malformed: left out, as codecs it does not carry are
    }
    const info = videoInfo(payload);
    this.#video = {
      config: {
        kind: "video",
        trackId: TrackId.Video,
        avcC: record.slice(),
        width: info?.width ?? 0,
        height: info?.height ?? 0,
      },
      codec,
    };
    return true;
  }

  #configureAudio(payload: Uint8Array): boolean {
    if (!isAac(payload, AacPacketType.SequenceHeader)) return false;
    const asc = payload.subarray(AAC_DATA_OFFSET);
    if (asc.length > MAX_CONFIG_BYTES) return false;
    if (this.#audio && sameBytes(this.#audio.config.asc, asc)) return false;
    let parsed: ReturnType<typeof parseAudioSpecificConfig>;
    let codec: string;
    try {
      parsed = parseAudioSpecificConfig(asc);
      codec = aacCodecString(asc);
    } catch {
      return false;
    }
    if (parsed.sampleRate <= 0 || parsed.coreSampleRate <= 0) return false;
    // Explicit SBR (HE-AAC): each frame is 1024 core samples, twice as many at the output rate.
    const ratio = parsed.sampleRate / parsed.coreSampleRate;
    const frameSamples = Number.isInteger(ratio) ? AAC_FRAME_SAMPLES * ratio : AAC_FRAME_SAMPLES;
    this.#audio = {
      config: {
        kind: "audio",
        trackId: TrackId.Audio,
        asc: asc.slice(),
        sampleRate: parsed.sampleRate,
        channels: parsed.channels > 0 ? parsed.channels : DEFAULT_CHANNELS,
      },
      codec,
      timeline: new AudioTimeline(parsed.sampleRate, frameSamples),
    };
    return true;
  }

  /** `ftyp` + `moov` for the configured tracks (video, then audio); undefined before any is configured. */
  init(): Uint8Array | undefined {
    if (this.#init) return this.#init;
    const tracks: TrackConfig[] = [];
    if (this.#video) tracks.push(this.#video.config);
    if (this.#audio) tracks.push(this.#audio.config);
    if (tracks.length === 0) return undefined;
    return this.#init = initSegment(tracks);
  }

  /** RFC 6381 strings of the configured tracks: `avc1.PPCCLL`, `mp4a.40.AOT`. */
  codecs(): string[] {
    const out: string[] = [];
    if (this.#video) out.push(this.#video.codec);
    if (this.#audio) out.push(this.#audio.codec);
    return out;
  }

  /**
   * One fragment (`moof` + `mdat`) with the run's video samples, then its
   * audio samples; an empty array when the run holds none this container
   * carries (nothing is numbered then). A segment start needs nothing
   * special in fMP4 (the init segment is separate), so `segmentStart` is not
   * read. A run over MAX_FRAGMENT_SAMPLES or MAX_FRAGMENT_BYTES throws
   * RangeError and leaves the state as it was.
   */
  pack(frames: readonly MediaFrame[], nextTimestamp: number, _segmentStart = false): Uint8Array {
    const audioExpected = this.#audio?.timeline.expected;
    try {
      return this.#pack(frames, nextTimestamp);
    } catch (e) {
      if (this.#audio) this.#audio.timeline.expected = audioExpected;
      throw e;
    }
  }

  #pack(frames: readonly MediaFrame[], nextTimestamp: number): Uint8Array {
    const video = this.#video ? this.#videoTrack(frames, nextTimestamp) : undefined;
    const audio = this.#audio ? this.#audioTrack(frames, this.#audio.timeline) : undefined;
    const tracks: FragmentTrack[] = [];
    if (video) tracks.push(video.track);
    if (audio) tracks.push(audio);
    if (tracks.length === 0) return new Uint8Array(0);
    const bytes = buildFragment(this.#sequence + 1, tracks);
    this.#sequence++;
    this.#packed = true;
    if (video) this.#lastVideo = video.last;
    return bytes;
  }

  #videoTrack(
    frames: readonly MediaFrame[],
    nextTimestamp: number,
  ): { track: FragmentTrack; last: { dts: number; duration: number } } | undefined {
    const dts: number[] = [];
    const samples: { data: Uint8Array; flags: number; compositionOffset: number }[] = [];
    for (const f of frames) {
      if (f.kind !== FrameKind.Video || !isAvc(f.payload, AvcPacketType.Nalu)) continue;
      if (f.payload.length === AVC_DATA_OFFSET) continue; // no NAL unit: nothing to decode
      dts.push(f.timestamp * VIDEO_TICKS_PER_MS);
      samples.push({
        data: f.payload.subarray(AVC_DATA_OFFSET),
        flags: f.keyframe ? SampleFlags.Sync : SampleFlags.NonSync,
        compositionOffset: compositionTimeMs(f.payload) * VIDEO_TICKS_PER_MS,
      });
    }
    if (samples.length === 0) return undefined;
    // What one sample lasts when the run says nothing better: the spacing seen last.
    let previous = this.#lastVideo && dts[0] > this.#lastVideo.dts
      ? dts[0] - this.#lastVideo.dts
      : this.#lastVideo?.duration ?? 0;
    const out: FragmentSample[] = samples.map((s, i) => {
      let duration: number;
      if (i + 1 < dts.length) duration = Math.max(0, dts[i + 1] - dts[i]);
      else duration = Math.max(nextTimestamp * VIDEO_TICKS_PER_MS - dts[i], previous, 0);
      previous = duration;
      return { ...s, duration };
    });
    const lastIndex = out.length - 1;
    return {
      track: { trackId: TrackId.Video, baseMediaDecodeTime: dts[0], samples: out, compositionOffsets: true },
      last: { dts: dts[lastIndex], duration: out[lastIndex].duration },
    };
  }

  #audioTrack(frames: readonly MediaFrame[], timeline: AudioTimeline): FragmentTrack | undefined {
    const times: number[] = [];
    const data: Uint8Array[] = [];
    for (const f of frames) {
      if (f.kind !== FrameKind.Audio || !isAac(f.payload, AacPacketType.Raw)) continue;
      if (f.payload.length === AAC_DATA_OFFSET) continue;
      times.push(timeline.next(f.timestamp));
      data.push(f.payload.subarray(AAC_DATA_OFFSET));
    }
    if (data.length === 0) return undefined;
    const end = timeline.expected!;
    const samples: FragmentSample[] = data.map((d, i) => ({
      data: d,
      duration: (i + 1 < times.length ? times[i + 1] : end) - times[i],
      flags: SampleFlags.Sync,
      compositionOffset: 0,
    }));
    return { trackId: TrackId.Audio, baseMediaDecodeTime: times[0], samples, compositionOffsets: false };
  }
}
