/**
 * Fakes for the hub's small interfaces (STYLE 10): a Packer, a FrameSink that
 * can stall, a FrameSource, a PublisherHandle and a Logger that records, plus
 * builders for the FLV tag bodies the hub classifies.
 *
 * @module
 */
import {
  AacPacketType,
  AvcPacketType,
  classify,
  ExVideoPacketType,
  FrameKind,
  type MediaFrame,
  SoundFormat,
  VideoCodecId,
  VideoFrameType,
} from "../../src/media/frame.ts";
import { Logger } from "../../src/log.ts";
import type { PublisherHandle } from "../../src/hub/stream.ts";
import type { FrameSink, FrameSource, Packer, SubscriberLimits } from "../../src/hub/subscriber.ts";
import { concatBytes } from "../../src/bytes.ts";

// ---------------------------------------------------------------------------------------------
// FLV tag bodies (FLV spec v10.1 E.4.2.1 AUDIODATA, E.4.3.1 VIDEODATA; Enhanced RTMP ExVideoTagHeader)

/** `bodyLen` bytes of `fill`, the part of a payload the hub never reads. */
function body(bodyLen: number, fill: number): number[] {
  return new Array(bodyLen).fill(fill);
}

/** Byte 0 of a legacy AVC video tag: FrameType (upper nibble), CodecID 7 (lower nibble). */
function avcByte0(frameType: number): number {
  return (frameType << 4) | VideoCodecId.Avc;
}

/** AVC keyframe NALU tag: 0x17 (key, AVC), 0x01 (NALU), 00 00 00 (composition time), then a body. */
export function avcKeyframe(bodyLen = 8, fill = 0x65): Uint8Array {
  return Uint8Array.of(avcByte0(VideoFrameType.Key), AvcPacketType.Nalu, 0, 0, 0, ...body(bodyLen, fill));
}

/** AVC inter frame NALU tag: 0x27 (inter, AVC), 0x01 (NALU), 00 00 00 (composition time), then a body. */
export function avcInterFrame(bodyLen = 8, fill = 0x41): Uint8Array {
  return Uint8Array.of(avcByte0(VideoFrameType.Inter), AvcPacketType.Nalu, 0, 0, 0, ...body(bodyLen, fill));
}

/** AVC sequence header tag: 0x17 (key, AVC), 0x00 (sequence header), 00 00 00, then a stand-in record. */
export function avcSequenceHeader(bodyLen = 8, fill = 0x01): Uint8Array {
  return Uint8Array.of(
    avcByte0(VideoFrameType.Key),
    AvcPacketType.SequenceHeader,
    0,
    0,
    0,
    ...body(bodyLen, fill),
  );
}

/** Byte 0 of an AAC audio tag: SoundFormat 10 (upper nibble), 44 kHz, 16-bit, stereo (0x0F): 0xAF. */
const AAC_BYTE0 = (SoundFormat.Aac << 4) | 0x0f;

/** AAC sequence header tag: 0xAF, 0x00 (sequence header), AudioSpecificConfig 12 10 (AAC-LC, 44.1 kHz, stereo). */
export function aacSequenceHeader(): Uint8Array {
  return Uint8Array.of(AAC_BYTE0, AacPacketType.SequenceHeader, 0x12, 0x10);
}

/** AAC raw frame tag: 0xAF, 0x01 (raw), then `bodyLen` bytes. */
export function aacRaw(bodyLen = 8, fill = 0x21): Uint8Array {
  return Uint8Array.of(AAC_BYTE0, AacPacketType.Raw, ...body(bodyLen, fill));
}

/** Byte 0 of an enhanced RTMP video tag: bit 7 IsExHeader, bits 4-6 FrameType, bits 0-3 PacketType. */
function exByte0(frameType: number, packetType: number): number {
  return 0x80 | (frameType << 4) | packetType;
}

/** FourCC "hvc1" (HEVC). */
const HVC1 = [0x68, 0x76, 0x63, 0x31];

/** Enhanced RTMP sequence start: 0x90 (ex, key, SequenceStart), "hvc1", then a stand-in record. */
export function exVideoSequenceStart(bodyLen = 8, fill = 0x01): Uint8Array {
  return Uint8Array.of(
    exByte0(VideoFrameType.Key, ExVideoPacketType.SequenceStart),
    ...HVC1,
    ...body(bodyLen, fill),
  );
}

/**
 * Enhanced RTMP coded frames: byte 0 (ex, `frameType`, CodedFrames or CodedFramesX), "hvc1", for
 * CodedFrames an SI24 composition time 00 00 00, then `bodyLen` bytes.
 */
export function exVideoCodedFrames(
  frameType: number,
  packetType: typeof ExVideoPacketType.CodedFrames | typeof ExVideoPacketType.CodedFramesX,
  bodyLen = 8,
  fill = 0x26,
): Uint8Array {
  const cts = packetType === ExVideoPacketType.CodedFrames ? [0, 0, 0] : [];
  return Uint8Array.of(exByte0(frameType, packetType), ...HVC1, ...cts, ...body(bodyLen, fill));
}

/** A stand-in `onMetaData` data payload (the hub never parses it). */
export function metadataPayload(fill = 0x02): Uint8Array {
  return Uint8Array.of(0x02, 0x00, 0x0a, ...new TextEncoder().encode("onMetaData"), fill);
}

/** A MediaFrame as the stream would build it, flags from classify(). */
export function mediaFrame(
  kind: FrameKind,
  timestamp: number,
  payload: Uint8Array,
  seq = 0,
  prevTimestamp = -1,
): MediaFrame {
  return { kind, timestamp, payload, ...classify(kind, payload), seq, prevTimestamp, packed: {} };
}

/** Shorthands for frames at `timestamp`. */
export const frames = {
  key: (ts: number, bodyLen?: number): MediaFrame => mediaFrame(FrameKind.Video, ts, avcKeyframe(bodyLen)),
  inter: (ts: number, bodyLen?: number): MediaFrame =>
    mediaFrame(FrameKind.Video, ts, avcInterFrame(bodyLen)),
  videoHeader: (ts: number): MediaFrame => mediaFrame(FrameKind.Video, ts, avcSequenceHeader()),
  audio: (ts: number, bodyLen?: number): MediaFrame => mediaFrame(FrameKind.Audio, ts, aacRaw(bodyLen)),
  audioHeader: (ts: number): MediaFrame => mediaFrame(FrameKind.Audio, ts, aacSequenceHeader()),
  metadata: (ts: number): MediaFrame => mediaFrame(FrameKind.Data, ts, metadataPayload()),
};

// ---------------------------------------------------------------------------------------------
// Fakes of the hub's interfaces

/** Returns `frame.payload` itself, or a copy with `tag` in front; counts reset() calls. */
export class FakePacker implements Packer {
  readonly tag: number | undefined;
  /** Every frame packed, in order. */
  readonly packed: MediaFrame[] = [];
  /** How many times reset() was called. */
  resets = 0;
  /** `packed.length` at each reset(), to tell which packs came after it. */
  readonly resetAt: number[] = [];

  constructor(tag?: number) {
    this.tag = tag;
  }

  pack(frame: MediaFrame): Uint8Array {
    this.packed.push(frame);
    if (this.tag === undefined) return frame.payload;
    const out = new Uint8Array(frame.payload.length + 1);
    out[0] = this.tag;
    out.set(frame.payload, 1);
    return out;
  }

  reset(): void {
    this.resets++;
    this.resetAt.push(this.packed.length);
  }
}

/** A sink that records each write; while `stalled`, writes stay pending until release() or fail(). */
export class FakeSink implements FrameSink {
  /** Every buffer written, in order. */
  readonly writes: Uint8Array[] = [];
  stalled: boolean;
  #pending: { resolve: () => void; reject: (e: Error) => void }[] = [];
  #failWith: Error | undefined;

  constructor(opts: { stalled?: boolean; failWith?: Error } = {}) {
    this.stalled = opts.stalled ?? false;
    this.#failWith = opts.failWith;
  }

  write(bytes: Uint8Array): Promise<void> {
    this.writes.push(bytes);
    if (this.#failWith) return Promise.reject(this.#failWith);
    if (!this.stalled) return Promise.resolve();
    return new Promise((resolve, reject) => this.#pending.push({ resolve, reject }));
  }

  /** Writes still pending. */
  get pending(): number {
    return this.#pending.length;
  }

  /** Stops stalling and completes every pending write. */
  release(): void {
    this.stalled = false;
    for (const p of this.#pending.splice(0)) p.resolve();
  }

  /** Rejects every pending write (the peer went away). */
  fail(e: Error): void {
    for (const p of this.#pending.splice(0)) p.reject(e);
  }

  /** Everything written, concatenated. */
  bytes(): Uint8Array {
    return concat(this.writes);
  }
}

/** A FrameSource with a settable GOP. */
export class FakeSource implements FrameSource {
  gop: MediaFrame[];
  video: boolean;

  constructor(gop: MediaFrame[] = [], video = true) {
    this.gop = gop;
    this.video = video;
  }

  gopFrames(): readonly MediaFrame[] {
    return this.gop;
  }

  hasVideo(): boolean {
    return this.video;
  }
}

/** A publisher that records close() reasons and can run a callback on close (as a session would). */
export class FakePublisher implements PublisherHandle {
  readonly id: string;
  readonly closes: string[] = [];
  onClose: (reason: string) => void = () => {};

  constructor(id = "fake 127.0.0.1:1") {
    this.id = id;
  }

  close(reason: string): void {
    this.closes.push(reason);
    this.onClose(reason);
  }
}

/** A Logger that keeps lines instead of printing them. */
export class RecordingLogger extends Logger {
  readonly lines: { level: string; msg: string }[] = [];

  override child(_tag: string): Logger {
    return this;
  }
  override error(msg: string): void {
    this.lines.push({ level: "error", msg });
  }
  override warn(msg: string): void {
    this.lines.push({ level: "warn", msg });
  }
  override info(msg: string): void {
    this.lines.push({ level: "info", msg });
  }
  override debug(msg: string): void {
    this.lines.push({ level: "debug", msg });
  }
}

/** Subscriber limits loose enough not to matter unless a test tightens one. */
export function limits(overrides: Partial<SubscriberLimits> = {}): SubscriberLimits {
  return {
    queueMaxBytes: 1 << 20,
    queueMaxMs: 3_000,
    stallTimeoutMs: 10_000,
    maxSkipsPerMinute: 10,
    ...overrides,
  };
}

/** The buffers one after another. */
/** Kept under its old name for the tests that import it from here. */
export const concat = concatBytes;

/** Lets pending microtasks (a stream's flush, a sink's resolved write) run: waits one macrotask. */
export function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}
