/**
 * An H.264 Annex B elementary stream (`.h264`, `.264`) as FLV video tags, for
 * playing the file out as a live stream:
 *
 * 1. the stream is split into access units (`AccessUnitSplitter`);
 * 2. from its SPS and PPS, an AVC sequence header (FLV spec v10.1 E.4.3.2:
 *    AVCPacketType 0 and an AVCDecoderConfigurationRecord from
 *    `buildAvcConfig`) goes first, and again whenever they change;
 * 3. each picture becomes an AVC NALU video tag (AVCPacketType 1, composition
 *    time 0, the NAL units length-prefixed by `annexBToAvcc`), a keyframe when
 *    it holds an IDR slice;
 * 4. picture n is stamped n * 1000 / fps ms, the frame rate being the
 *    configured one, else the SPS's VUI timing, else 25; looping goes on
 *    counting, so timestamps stay continuous and monotonic across loops.
 *
 * Pictures before the first SPS and PPS cannot be decoded and are skipped.
 * The sequence header carries the latest SPS and PPS; every parameter set also
 * stays in-band in its access unit. An elementary stream has no presentation
 * times, so B-frames go out in decoding order with composition time 0.
 *
 * Pacing is the caller's (see `Pacer`); this only reads the file as tags are
 * taken.
 *
 * @module
 */
import { ProtocolError } from "../errors.ts";
import { buildAvcConfig } from "../media/avc.ts";
import { AvcPacketType, TagType, VideoCodecId, VideoFrameType } from "../media/flv.ts";
import { annexBToAvcc, parseSps } from "../wasm/nal.ts";
import { type AccessUnit, AccessUnitSplitter } from "./access_unit_splitter.ts";
import type { SourceTag } from "./flv_publisher.ts";

/** What the file sources read: a Deno.FsFile, or a fake in tests. */
export interface SeekableReader {
  read(p: Uint8Array): Promise<number | null>;
  seek(offset: number, whence: Deno.SeekMode): Promise<number>;
}

/** The frame rate used when neither the configuration nor the SPS gives one. */
export const DEFAULT_FPS = 25;
/** Frame rates outside 1..MAX_FPS from an SPS are ignored (a bad VUI, or field rate confusion). */
const MAX_FPS = 300;
/** Bytes read from the file at a time. */
const READ_BYTES = 64 * 1024;
/** AVCVIDEOPACKET header (E.4.3.1, E.4.3.2): frame type and codec, AVCPacketType, CompositionTime SI24. */
const AVC_HEADER_BYTES = 5;

/** What the stream turned out to be, known once its first SPS is read. */
export interface AnnexBFormat {
  width: number;
  height: number;
  fps: number;
  /** Where the frame rate came from. */
  fpsFrom: "config" | "sps" | "default";
}

/** Options for `annexBTags`. */
export interface AnnexBOptions {
  /** Start again at the end of the file. */
  readonly loop: boolean;
  /** Frames per second; overrides the SPS's timing. */
  readonly fps?: number;
  /** Called once, when the first SPS has been read. */
  readonly onFormat?: (format: AnnexBFormat) => void;
}

/** The frame rate for a stream whose SPS says `spsRate` (undefined: no VUI timing). */
export function chooseFrameRate(configFps: number | undefined, spsRate: number | undefined): {
  fps: number;
  fpsFrom: AnnexBFormat["fpsFrom"];
} {
  if (configFps !== undefined && configFps > 0) return { fps: configFps, fpsFrom: "config" };
  if (spsRate !== undefined && spsRate >= 1 && spsRate <= MAX_FPS) return { fps: spsRate, fpsFrom: "sps" };
  return { fps: DEFAULT_FPS, fpsFrom: "default" };
}

/** An AVC video tag body: the 5-byte AVCVIDEOPACKET header, then `body`. */
export function avcVideoPayload(
  frameType: VideoFrameType,
  packetType: AvcPacketType,
  body: Uint8Array,
): Uint8Array {
  const out = new Uint8Array(AVC_HEADER_BYTES + body.length);
  out[0] = (frameType << 4) | VideoCodecId.Avc;
  out[1] = packetType;
  // out[2..4]: CompositionTime 0.
  out.set(body, AVC_HEADER_BYTES);
  return out;
}

/** The AVC sequence header tag body for one SPS and one PPS. */
export function avcSequenceHeader(sps: Uint8Array, pps: Uint8Array): Uint8Array {
  return avcVideoPayload(
    VideoFrameType.Key,
    AvcPacketType.SequenceHeader,
    buildAvcConfig({ sps: [sps], pps: [pps] }),
  );
}

/** One access unit as an AVC NALU tag body. */
export function avcPicturePayload(au: AccessUnit): Uint8Array {
  return avcVideoPayload(
    au.idr ? VideoFrameType.Key : VideoFrameType.Inter,
    AvcPacketType.Nalu,
    annexBToAvcc(au.annexB),
  );
}

/**
 * The file as FLV video tags (see the module doc), read as they are taken.
 * Throws ProtocolError for a stream that cannot be split or holds no picture.
 */
export async function* annexBTags(file: SeekableReader, options: AnnexBOptions): AsyncGenerator<SourceTag> {
  let sps: Uint8Array | undefined;
  let pps: Uint8Array | undefined;
  let sentHeader: Uint8Array | undefined;
  let fps = 0;
  let frame = 0;
  const timestamp = () => Math.round(frame * 1000 / fps);

  /** The tags an access unit gives: maybe a new sequence header, then its picture. */
  const tagsOf = (au: AccessUnit): SourceTag[] => {
    if (au.sps.length > 0) sps = au.sps[au.sps.length - 1].slice();
    if (au.pps.length > 0) pps = au.pps[au.pps.length - 1].slice();
    if (!au.picture || !sps || !pps) return [];
    const tags: SourceTag[] = [];
    if (fps === 0) {
      const info = parseSps(sps);
      const rate = chooseFrameRate(options.fps, info.frameRate);
      fps = rate.fps;
      options.onFormat?.({ width: info.width, height: info.height, ...rate });
    }
    const header = avcSequenceHeader(sps, pps);
    if (!sentHeader || !sameBytes(header, sentHeader)) {
      sentHeader = header;
      tags.push({ type: TagType.Video, timestamp: timestamp(), data: header });
    }
    tags.push({ type: TagType.Video, timestamp: timestamp(), data: avcPicturePayload(au) });
    frame++;
    return tags;
  };

  const buf = new Uint8Array(READ_BYTES);
  while (true) {
    const splitter = new AccessUnitSplitter();
    const before = frame;
    while (true) {
      const n = await file.read(buf);
      if (n === null) break;
      for (const au of splitter.push(buf.subarray(0, n))) yield* tagsOf(au);
    }
    for (const au of splitter.end()) yield* tagsOf(au);
    if (frame === before) {
      throw new ProtocolError(
        "annexb",
        "Cannot play Annex B stream: it holds no picture after an SPS and a PPS",
      );
    }
    if (!options.loop) return;
    await file.seek(0, Deno.SeekMode.Start);
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
