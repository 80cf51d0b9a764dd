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
import type {
  FrameSink,
  FrameSource,
  NewestFrames,
  Packer,
  SubscriberLimits,
} from "../../src/hub/subscriber.ts";
import { concatBytes } from "../../src/bytes.ts";
import type { Admission, AdmissionDecision, AdmissionRequest } from "../../src/hub/admission.ts";
import { hex } from "../fixtures/annotated_hex.ts";

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
  /** With a share key, in-step subscribers of a stream share this packer's bytes (Packer.shareKey). */
  shareKey?: string;
  /** What each caughtUp() was told. */
  readonly caughtUps: NewestFrames[] = [];

  constructor(tag?: number, shareKey?: string) {
    this.tag = tag;
    if (shareKey !== undefined) this.shareKey = shareKey;
  }

  caughtUp(newest: NewestFrames): void {
    this.caughtUps.push({ ...newest });
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

  pendingMediaTs(): number {
    return -1;
  }
}

/** A publisher that records close() reasons and can run a callback on close (as a session would). */
export class FakePublisher implements PublisherHandle {
  readonly id: string;
  readonly protocol?: string;
  readonly remote?: string;
  readonly closes: string[] = [];
  onClose: (reason: string) => void = () => {};

  constructor(id = "fake 127.0.0.1:1", labels: { protocol?: string; remote?: string } = {}) {
    this.id = id;
    if (labels.protocol !== undefined) this.protocol = labels.protocol;
    if (labels.remote !== undefined) this.remote = labels.remote;
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

// ---------------------------------------------------------------------------------------------
// Real media headers

/**
 * The AVC sequence header tag body ffmpeg 5.1 writes for testsrc2 640x360 at
 * 30 frames/s, libx264 `-profile:v main -preset veryfast` (as `parseSps` reads
 * its SPS: Main, level 3, coded 640x368 with 8 rows cropped, VUI timing
 * num_units_in_tick 1, time_scale 60: 30 frames/s).
 */
export const X264_MAIN_640X360_AVC_HEADER: Uint8Array = hex(`
  17                      # FrameType 1 (key), CodecID 7 (AVC)
  00                      # AVCPacketType 0: sequence header
  00 00 00                # CompositionTime 0
  01                      # AVCDecoderConfigurationRecord: configurationVersion 1
  4d                      # AVCProfileIndication 77 (Main)
  40                      # profile_compatibility: constraint_set1_flag
  1e                      # AVCLevelIndication 30 (level 3)
  ff                      # reserved 111111, lengthSizeMinusOne 3 (4-byte NAL unit lengths)
  e1                      # reserved 111, numOfSequenceParameterSets 1
  00 18                   # sequenceParameterSetLength 24
  67                      # SPS: forbidden_zero_bit 0, nal_ref_idc 3, nal_unit_type 7
  4d 40 1e                # profile_idc 77, constraint flags 0x40, level_idc 30
  ec a0 50 17 fc b8 08 80 # seq_parameter_set_id ... frame cropping, VUI flags (Exp-Golomb, bit-packed)
  00 00 03 00 80 00 00 1e # num_units_in_tick 1 (an emulation prevention 03 in it), time_scale 60 ...
  07 8b 16 cb             # ... fixed_frame_rate_flag 0, bitstream_restriction, rbsp_stop_one_bit
  01                      # numOfPictureParameterSets 1
  00 04                   # pictureParameterSetLength 4
  68 ef 8f c8             # PPS: nal_unit_type 8, then its RBSP
`);

/**
 * An AAC sequence header tag body: 0xAF, 0x00 (sequence header), then an
 * AudioSpecificConfig 11 90 (object type 2 LC, frequency index 3 = 48 kHz,
 * channel configuration 2).
 */
export const AAC_LC_48K_STEREO_HEADER: Uint8Array = hex(`af 00 11 90`);

// ---------------------------------------------------------------------------------------------
// Admission

/**
 * An admission policy whose asynchronous answers the test gives: each admit()
 * waits until answer() is called for it (or its signal aborts, when
 * `settleOnAbort`). Records every request and signal.
 */
export class ManualAdmission implements Admission {
  readonly requests: AdmissionRequest[] = [];
  readonly signals: AbortSignal[] = [];
  #pending: ((d: AdmissionDecision) => void)[] = [];

  admit(req: AdmissionRequest, signal: AbortSignal): Promise<AdmissionDecision> {
    this.requests.push(req);
    this.signals.push(signal);
    return new Promise((resolve) => this.#pending.push(resolve));
  }

  /** Requests still waiting for an answer from the test. */
  get waiting(): number {
    return this.#pending.length;
  }

  /** Answers the oldest waiting request. */
  answer(d: AdmissionDecision): void {
    const next = this.#pending.shift();
    if (!next) throw new TypeError("Cannot answer: current policy has no request waiting");
    next(d);
  }
}

/** A policy that answers with `decide` and records every request (e2e tests of the gate). */
export class FakePolicy implements Admission {
  readonly requests: AdmissionRequest[] = [];
  readonly #decide: (req: AdmissionRequest) => AdmissionDecision | Promise<AdmissionDecision>;

  constructor(decide: (req: AdmissionRequest) => AdmissionDecision | Promise<AdmissionDecision>) {
    this.#decide = decide;
  }

  admit(req: AdmissionRequest): AdmissionDecision | Promise<AdmissionDecision> {
    this.requests.push(req);
    return this.#decide(req);
  }
}
