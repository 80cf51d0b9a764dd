/**
 * An HlsContainer fake for the segmenter and playlist tests (STYLE 10), and
 * synthetic streams to feed them.
 *
 * FakeContainer.pack() writes each run as a small record a test decodes with
 * `decodeRecords()`: a segment's bytes (its parts concatenated) decode to its
 * parts' records in order, so a test sees exactly which frames went where.
 *
 * Record layout (big-endian):
 *   0       u8   0x50 ("P")
 *   1       u8   flags: bit 0 segmentStart
 *   2..3    u16  frame count
 *   4..11   f64  nextTimestamp (ms)
 *   then per frame, 18 bytes and the payload:
 *   0       u8   kind (FrameKind)
 *   1       u8   1 if a keyframe
 *   2..9    f64  timestamp (ms)
 *   10..13  u32  seq
 *   14..17  u32  payload length, then the payload (so the bytes held grow as with a real container)
 *
 * @module
 */
import type { ContainerKind, HlsContainer } from "../../src/hls/container.ts";
import { FrameKind, type MediaFrame } from "../../src/media/frame.ts";
import { concatBytes } from "../../src/bytes.ts";
import {
  aacRaw,
  aacSequenceHeader,
  avcInterFrame,
  avcKeyframe,
  avcSequenceHeader,
  mediaFrame,
} from "./hub_fakes.ts";

const MAGIC = 0x50;
const HEADER = 12;
const PER_FRAME = 18;

/** One frame as a record carries it. */
export interface RecordFrame {
  kind: number;
  keyframe: boolean;
  timestamp: number;
  seq: number;
  size: number;
}

/** One pack() call as decoded from bytes. */
export interface PackRecord {
  segmentStart: boolean;
  nextTimestamp: number;
  frames: RecordFrame[];
}

/** The records in a part's or a segment's bytes, in order. */
export function decodeRecords(bytes: Uint8Array): PackRecord[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: PackRecord[] = [];
  let at = 0;
  while (at < bytes.length) {
    if (bytes[at] !== MAGIC) {
      throw new Error(`Cannot decode a fake record: byte ${at} is ${bytes[at]}, expected 0x50`);
    }
    const count = view.getUint16(at + 2);
    const rec: PackRecord = {
      segmentStart: (bytes[at + 1] & 1) === 1,
      nextTimestamp: view.getFloat64(at + 4),
      frames: [],
    };
    at += HEADER;
    for (let i = 0; i < count; i++) {
      const size = view.getUint32(at + 14);
      rec.frames.push({
        kind: bytes[at],
        keyframe: bytes[at + 1] === 1,
        timestamp: view.getFloat64(at + 2),
        seq: view.getUint32(at + 10),
        size,
      });
      at += PER_FRAME + size;
    }
    out.push(rec);
  }
  return out;
}

/** A container that records its calls and packs runs as decodable records. */
export class FakeContainer implements HlsContainer {
  readonly kind: ContainerKind;
  /** Every configure() frame, in order. */
  readonly configured: MediaFrame[] = [];
  /** Every call, in order: "configure" or "pack". */
  readonly calls: ("configure" | "pack")[] = [];
  #configs = new Map<number, Uint8Array>();
  #packed = false;

  constructor(kind: ContainerKind = "ts") {
    this.kind = kind;
  }

  /** Audio/video configs kept per kind; true when one changes (or a kind is added) after media was packed. */
  configure(frame: MediaFrame): boolean {
    this.configured.push(frame);
    this.calls.push("configure");
    if (frame.kind === FrameKind.Data) return false;
    const prev = this.#configs.get(frame.kind);
    const differs = prev === undefined || prev.length !== frame.payload.length ||
      prev.some((b, i) => b !== frame.payload[i]);
    this.#configs.set(frame.kind, frame.payload);
    const changed = differs && this.#packed;
    if (changed) this.#packed = false;
    return changed;
  }

  /** fMP4: "INIT" then the configs (video first); it changes with them. TS, or nothing configured: undefined. */
  init(): Uint8Array | undefined {
    if (this.kind !== "fmp4" || this.#configs.size === 0) return undefined;
    const parts: Uint8Array[] = [new TextEncoder().encode("INIT")];
    for (const kind of [FrameKind.Video, FrameKind.Audio]) {
      const c = this.#configs.get(kind);
      if (c) parts.push(c);
    }
    return concatBytes(parts);
  }

  pack(frames: readonly MediaFrame[], nextTimestamp: number, segmentStart: boolean): Uint8Array {
    this.calls.push("pack");
    this.#packed = true;
    const size = frames.reduce((n, f) => n + PER_FRAME + f.payload.length, HEADER);
    const out = new Uint8Array(size);
    const view = new DataView(out.buffer);
    out[0] = MAGIC;
    out[1] = segmentStart ? 1 : 0;
    view.setUint16(2, frames.length);
    view.setFloat64(4, nextTimestamp);
    let at = HEADER;
    for (const f of frames) {
      out[at] = f.kind;
      out[at + 1] = f.keyframe ? 1 : 0;
      view.setFloat64(at + 2, f.timestamp);
      view.setUint32(at + 10, f.seq);
      view.setUint32(at + 14, f.payload.length);
      out.set(f.payload, at + PER_FRAME);
      at += PER_FRAME + f.payload.length;
    }
    return out;
  }

  codecs(): string[] {
    const out: string[] = [];
    if (this.#configs.has(FrameKind.Video)) out.push("avc1.64001f");
    if (this.#configs.has(FrameKind.Audio)) out.push("mp4a.40.2");
    return out;
  }
}

/** A frame with the wall clock it is pushed at. */
export interface Timed {
  frame: MediaFrame;
  wall: number;
}

/** What synthetic stream to make. */
export interface SyntheticOptions {
  seconds: number;
  /** Video frames per second; 0 for none. Default 25. */
  fps?: number;
  /** Keyframe interval in ms (a whole number of frames). Default 2000. */
  gopMs?: number;
  /** AAC at 44.1 kHz (1024 samples a frame, ~23.2 ms). Default true. */
  audio?: boolean;
  /** Timestamp of the first frame (ms). Default 0. */
  startMs?: number;
  /** Wall clock of the first frame; each frame's wall clock is this plus its timestamp offset. */
  wallStartMs?: number;
  /** Sequence headers first. Default true. */
  headers?: boolean;
  /** Bytes of each video frame's body (the keyframe ten times more). Default 40. */
  frameBytes?: number;
  /** Fill byte of the video sequence header (a different value is a codec change). Default 1. */
  videoConfig?: number;
}

/** 2025-01-01T00:00:00.000Z, the wall clock tests start at. */
export const WALL_START = Date.UTC(2025, 0, 1);

/**
 * Hub frames of a synthetic stream: video at `fps` with a keyframe every
 * `gopMs`, AAC every 1024/44100 s, interleaved by timestamp (audio first on
 * a tie, as FLV muxers write), timestamps rounded to whole ms as FLV has them.
 */
export function syntheticStream(o: SyntheticOptions): Timed[] {
  const fps = o.fps ?? 25;
  const start = o.startMs ?? 0;
  const wall0 = o.wallStartMs ?? WALL_START;
  const endMs = o.seconds * 1000;
  const bytes = o.frameBytes ?? 40;
  const out: Timed[] = [];
  const at = (frame: MediaFrame) => out.push({ frame, wall: wall0 + frame.timestamp - start });
  if (o.headers !== false) {
    if (fps > 0) at(mediaFrame(FrameKind.Video, start, avcSequenceHeader(8, o.videoConfig ?? 1)));
    if (o.audio !== false) at(mediaFrame(FrameKind.Audio, start, aacSequenceHeader()));
  }
  const video: MediaFrame[] = [];
  if (fps > 0) {
    const perGop = Math.round(((o.gopMs ?? 2000) * fps) / 1000);
    let prev = -1;
    for (let i = 0; i * 1000 / fps < endMs; i++) {
      const ts = start + Math.round(i * 1000 / fps);
      const key = i % perGop === 0;
      const payload = key ? avcKeyframe(bytes * 10) : avcInterFrame(bytes);
      video.push(mediaFrame(FrameKind.Video, ts, payload, i + 1, prev));
      prev = ts;
    }
  }
  const audio: MediaFrame[] = [];
  if (o.audio !== false) {
    let prev = -1;
    for (let i = 0; i * 1024000 / 44100 < endMs; i++) {
      const ts = start + Math.round(i * 1024000 / 44100);
      audio.push(mediaFrame(FrameKind.Audio, ts, aacRaw(12), i + 1, prev));
      prev = ts;
    }
  }
  let a = 0, v = 0;
  while (a < audio.length || v < video.length) {
    if (v >= video.length || (a < audio.length && audio[a].timestamp <= video[v].timestamp)) at(audio[a++]);
    else at(video[v++]);
  }
  return out;
}
