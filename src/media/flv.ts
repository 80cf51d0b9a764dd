/**
 * FLV, as Adobe's Video File Format Specification v10.1, Annex E defines it:
 * the constants of its tag and media headers, and `FlvReader`, a socket-free
 * demuxer for HTTP ingest and FLV files. Packing tags is `src/wasm/flv_pack.ts`.
 *
 * All multi-byte fields are big-endian (E.1).
 *
 * @module
 */
import { ProtocolError } from "../errors.ts";

/** E.4.1 FLVTAG TagType (the low 5 bits of the tag's first byte). */
export const TagType = {
  /** 8: audio; the data is an AUDIODATA (E.4.2.1). */
  Audio: 8,
  /** 9: video; the data is a VIDEODATA (E.4.3.1). */
  Video: 9,
  /** 18 (0x12): script data, an AMF0 SCRIPTDATA such as onMetaData (E.4.4.1). */
  ScriptData: 18,
} as const;
export type TagType = typeof TagType[keyof typeof TagType];

/** E.2 FLV header TypeFlags bits (the fifth byte). */
export const HeaderFlag = {
  /** TypeFlagsAudio: audio tags are present. */
  Audio: 0x04,
  /** TypeFlagsVideo: video tags are present. */
  Video: 0x01,
} as const;
export type HeaderFlag = typeof HeaderFlag[keyof typeof HeaderFlag];

/** E.4.3.1 VIDEODATA FrameType (the upper 4 bits of the first byte). */
export const VideoFrameType = {
  /** 1: key frame (for AVC, a seekable frame). */
  Key: 1,
  /** 2: inter frame (for AVC, a non-seekable frame). */
  Inter: 2,
  /** 3: disposable inter frame (H.263 only). */
  DisposableInter: 3,
  /** 4: generated key frame (reserved for server use only). */
  GeneratedKey: 4,
  /** 5: video info/command frame. */
  InfoOrCommand: 5,
} as const;
export type VideoFrameType = typeof VideoFrameType[keyof typeof VideoFrameType];

/** E.4.3.1 VIDEODATA CodecID (the lower 4 bits of the first byte). */
export const VideoCodecId = {
  /** 2: Sorenson H.263. */
  SorensonH263: 2,
  /** 3: Screen video. */
  ScreenVideo: 3,
  /** 4: On2 VP6. */
  Vp6: 4,
  /** 5: On2 VP6 with alpha channel. */
  Vp6Alpha: 5,
  /** 6: Screen video version 2. */
  ScreenVideo2: 6,
  /** 7: AVC (H.264); the body is an AVCVIDEOPACKET (E.4.3.2). */
  Avc: 7,
} as const;
export type VideoCodecId = typeof VideoCodecId[keyof typeof VideoCodecId];

/** E.4.3.2 AVCVIDEOPACKET AVCPacketType. */
export const AvcPacketType = {
  /** 0: AVC sequence header, an AVCDecoderConfigurationRecord (ISO/IEC 14496-15). */
  SequenceHeader: 0,
  /** 1: AVC NALU(s), each behind its length. */
  Nalu: 1,
  /** 2: AVC end of sequence (lower-level NALU sequence ender is not required or supported). */
  EndOfSequence: 2,
} as const;
export type AvcPacketType = typeof AvcPacketType[keyof typeof AvcPacketType];

/** E.4.2.1 AUDIODATA SoundFormat (the upper 4 bits of the first byte). */
export const SoundFormat = {
  /** 0: Linear PCM, platform endian. */
  LinearPcmPlatformEndian: 0,
  /** 1: ADPCM. */
  Adpcm: 1,
  /** 2: MP3. */
  Mp3: 2,
  /** 3: Linear PCM, little endian. */
  LinearPcmLittleEndian: 3,
  /** 4: Nellymoser 16 kHz mono. */
  Nellymoser16kMono: 4,
  /** 5: Nellymoser 8 kHz mono. */
  Nellymoser8kMono: 5,
  /** 6: Nellymoser. */
  Nellymoser: 6,
  /** 7: G.711 A-law logarithmic PCM. */
  G711ALaw: 7,
  /** 8: G.711 mu-law logarithmic PCM. */
  G711MuLaw: 8,
  /** 10: AAC; the body is an AACAUDIODATA (E.4.2.2). */
  Aac: 10,
  /** 11: Speex. */
  /** Enhanced RTMP (veovera): the nibble means an ExAudioTagHeader follows. */
  ExHeader: 9,
  Speex: 11,
  /** 14: MP3 8 kHz. */
  Mp38k: 14,
  /** 15: Device-specific sound. */
  DeviceSpecific: 15,
} as const;
export type SoundFormat = typeof SoundFormat[keyof typeof SoundFormat];

/** E.4.2.1 AUDIODATA SoundRate (bits 3-2). For AAC always 3. */
export const SoundRate = {
  /** 0: 5.5 kHz. */
  Rate5k5: 0,
  /** 1: 11 kHz. */
  Rate11k: 1,
  /** 2: 22 kHz. */
  Rate22k: 2,
  /** 3: 44 kHz. */
  Rate44k: 3,
} as const;
export type SoundRate = typeof SoundRate[keyof typeof SoundRate];

/** E.4.2.1 AUDIODATA SoundSize (bit 1): bits per sample of uncompressed formats. */
export const SoundSize = {
  /** 0: 8-bit samples. */
  Bits8: 0,
  /** 1: 16-bit samples. */
  Bits16: 1,
} as const;
export type SoundSize = typeof SoundSize[keyof typeof SoundSize];

/** E.4.2.1 AUDIODATA SoundType (bit 0). For AAC always 1. */
export const SoundType = {
  /** 0: mono. */
  Mono: 0,
  /** 1: stereo. */
  Stereo: 1,
} as const;
export type SoundType = typeof SoundType[keyof typeof SoundType];

/** E.4.2.2 AACAUDIODATA AACPacketType. */
export const AacPacketType = {
  /** 0: AAC sequence header, an AudioSpecificConfig (ISO/IEC 14496-3 1.6.2.1). */
  SequenceHeader: 0,
  /** 1: AAC raw frame data. */
  Raw: 1,
} as const;
export type AacPacketType = typeof AacPacketType[keyof typeof AacPacketType];

/** Enhanced RTMP (veovera) ExVideoTagHeader VideoPacketType: low nibble of byte 0 when bit 7 (IsExHeader) is set. */
export const ExVideoPacketType = {
  /** 0: sequence start (the codec's decoder configuration record). */
  SequenceStart: 0,
  /** 1: coded frames with composition time. */
  CodedFrames: 1,
  /** 2: sequence end. */
  SequenceEnd: 2,
  /** 3: coded frames, composition time 0 implied. */
  CodedFramesX: 3,
  /** 4: metadata (HDR etc.). */
  Metadata: 4,
  /** 5: MPEG-2 TS sequence start. */
  Mpeg2TsSequenceStart: 5,
} as const;
export type ExVideoPacketType = typeof ExVideoPacketType[keyof typeof ExVideoPacketType];

/** Enhanced RTMP ExAudioTagHeader AudioPacketType: low nibble of byte 0 when SoundFormat is ExHeader (9). */
export const ExAudioPacketType = {
  /** 0: sequence start. */
  SequenceStart: 0,
  /** 1: coded frames. */
  CodedFrames: 1,
} as const;
export type ExAudioPacketType = typeof ExAudioPacketType[keyof typeof ExAudioPacketType];

/** E.2: the FLV header is 9 bytes (DataOffset of version 1); E.3: each PreviousTagSize is 4. */
export const FLV_HEADER_SIZE = 9;
/** E.4.1: TagType, DataSize, Timestamp, TimestampExtended, StreamID. */
export const TAG_HEADER_SIZE = 11;
/** The default cap on a tag's DataSize: larger than any sane frame, far below the 16 MiB field limit. */
export const DEFAULT_MAX_TAG_SIZE = 8 * 1024 * 1024;
/** DataOffset above this is refused: v1 headers are 9 bytes and no later version exists. */
const MAX_DATA_OFFSET = 1024;

/** What the FLV header (E.2) says. */
export interface FlvHeader {
  readonly version: number;
  /** TypeFlagsAudio. Advisory only: many writers set it wrongly. */
  readonly audio: boolean;
  /** TypeFlagsVideo. Advisory only. */
  readonly video: boolean;
  /** DataOffset: where the body starts. */
  readonly dataOffset: number;
}

/** One FLV tag (E.4.1). */
export interface FlvTag {
  readonly type: TagType;
  /** Milliseconds, unsigned 32-bit: TimestampExtended << 24 | Timestamp. */
  readonly timestamp: number;
  /** StreamID: always 0 in practice. */
  readonly streamId: number;
  /** The tag body; an array the caller owns. */
  readonly data: Uint8Array;
  /** Byte offset of the tag header from the start of the stream. */
  readonly offset: number;
}

/** Options for `FlvReader`. */
export interface FlvReaderOptions {
  /** Largest DataSize accepted, in bytes. Default `DEFAULT_MAX_TAG_SIZE` (8 MiB). */
  readonly maxTagSize?: number;
  /** Check each PreviousTagSize against the tag before it. Default true. */
  readonly checkPreviousTagSize?: boolean;
}

const State = { Header: 0, Skip: 1, PrevSize: 2, TagHeader: 3, Data: 4 } as const;
type State = typeof State[keyof typeof State];

/**
 * A demuxer for an FLV byte stream that arrives in pieces of any size: the
 * header, then each tag when its last byte arrives. Bytes in, tags out; it
 * never touches a socket or a file.
 *
 * ```ts
 * const reader = new FlvReader();
 * for await (const piece of body) for (const tag of reader.push(piece)) handle(tag);
 * reader.end();
 * ```
 *
 * Malformed input throws `ProtocolError` (code "flv") naming the offset, the
 * value and the limit; the reader is unusable afterwards.
 */
export class FlvReader {
  readonly #maxTagSize: number;
  readonly #checkPrev: boolean;
  #header: FlvHeader | undefined;
  #state: State = State.Header;
  /** Bytes of the stream consumed so far. */
  #offset = 0;
  /** Fixed-size fields collected across pieces (the header, a PreviousTagSize, a tag header). */
  readonly #small = new Uint8Array(TAG_HEADER_SIZE);
  #smallLen = 0;
  #skip = 0;
  #prevTagSize = 0;
  #tagOffset = 0;
  #tagType: TagType = TagType.Audio;
  #tagTimestamp = 0;
  #tagStreamId = 0;
  #data = new Uint8Array(0);
  #dataLen = 0;
  #failed: ProtocolError | undefined;

  constructor(options: FlvReaderOptions = {}) {
    const max = options.maxTagSize ?? DEFAULT_MAX_TAG_SIZE;
    if (!Number.isInteger(max) || max < 0 || max > 0xffffff) {
      throw new RangeError(
        `Cannot create FlvReader: maxTagSize must be an integer in 0..16777215, current ${max}`,
      );
    }
    this.#maxTagSize = max;
    this.#checkPrev = options.checkPreviousTagSize ?? true;
  }

  /** The FLV header, once its 9 bytes have arrived. */
  get header(): FlvHeader | undefined {
    return this.#header;
  }

  /** Bytes consumed so far. */
  get offset(): number {
    return this.#offset;
  }

  /** Feeds the next piece of the stream; returns the tags it completes, in order. */
  push(bytes: Uint8Array): FlvTag[] {
    if (this.#failed) throw this.#failed;
    const tags: FlvTag[] = [];
    try {
      let i = 0;
      while (i < bytes.length) i += this.#step(bytes, i, tags);
    } catch (e) {
      if (e instanceof ProtocolError) this.#failed = e;
      throw e;
    }
    return tags;
  }

  /** Says the stream is over; throws if it stopped inside the header or a tag. */
  end(): void {
    if (this.#failed) throw this.#failed;
    const between = (this.#state === State.PrevSize || this.#state === State.TagHeader) &&
      this.#smallLen === 0;
    if (!between) {
      const where = this.#state === State.Header || this.#state === State.Skip ? "the FLV header" : "a tag";
      throw this.#fail(`Cannot end FLV stream at byte ${this.#offset}: it stops inside ${where}`);
    }
  }

  #fail(message: string): ProtocolError {
    return new ProtocolError("flv", message);
  }

  /** Consumes what it can of bytes[i..] for the current state; returns the count. */
  #step(bytes: Uint8Array, i: number, tags: FlvTag[]): number {
    switch (this.#state) {
      case State.Header:
        return this.#collect(bytes, i, FLV_HEADER_SIZE, () => this.#onHeader());
      case State.Skip: {
        const n = Math.min(this.#skip, bytes.length - i);
        this.#skip -= n;
        this.#offset += n;
        if (this.#skip === 0) this.#state = State.PrevSize;
        return n;
      }
      case State.PrevSize:
        return this.#collect(bytes, i, 4, () => this.#onPrevSize());
      case State.TagHeader:
        return this.#collect(bytes, i, TAG_HEADER_SIZE, () => this.#onTagHeader(tags));
      case State.Data: {
        const n = Math.min(this.#data.length - this.#dataLen, bytes.length - i);
        this.#data.set(bytes.subarray(i, i + n), this.#dataLen);
        this.#dataLen += n;
        this.#offset += n;
        if (this.#dataLen === this.#data.length) this.#emit(tags);
        return n;
      }
    }
  }

  /** Gathers `size` bytes into #small across pieces, then calls `done`. */
  #collect(bytes: Uint8Array, i: number, size: number, done: () => void): number {
    const n = Math.min(size - this.#smallLen, bytes.length - i);
    this.#small.set(bytes.subarray(i, i + n), this.#smallLen);
    this.#smallLen += n;
    this.#offset += n;
    if (this.#smallLen === size) {
      this.#smallLen = 0;
      done();
    }
    return n;
  }

  #onHeader(): void {
    const h = this.#small;
    if (h[0] !== 0x46 || h[1] !== 0x4c || h[2] !== 0x56) {
      const sig = Array.from(h.subarray(0, 3), (b) => b.toString(16).padStart(2, "0")).join(" ");
      throw this.#fail(`Cannot read FLV header: signature is ${sig}, expected 46 4c 56 ("FLV")`);
    }
    const dataOffset = ((h[5] << 24) | (h[6] << 16) | (h[7] << 8) | h[8]) >>> 0;
    if (dataOffset < FLV_HEADER_SIZE || dataOffset > MAX_DATA_OFFSET) {
      throw this.#fail(
        `Cannot read FLV header: DataOffset is ${dataOffset}, expected ${FLV_HEADER_SIZE}..${MAX_DATA_OFFSET}`,
      );
    }
    this.#header = {
      version: h[3],
      audio: (h[4] & HeaderFlag.Audio) !== 0,
      video: (h[4] & HeaderFlag.Video) !== 0,
      dataOffset,
    };
    this.#skip = dataOffset - FLV_HEADER_SIZE;
    this.#state = this.#skip > 0 ? State.Skip : State.PrevSize;
  }

  #onPrevSize(): void {
    const s = this.#small;
    const got = ((s[0] << 24) | (s[1] << 16) | (s[2] << 8) | s[3]) >>> 0;
    if (this.#checkPrev && got !== this.#prevTagSize) {
      throw this.#fail(
        `Cannot read FLV stream at byte ${
          this.#offset - 4
        }: PreviousTagSize is ${got}, expected ${this.#prevTagSize}`,
      );
    }
    this.#state = State.TagHeader;
  }

  #onTagHeader(tags: FlvTag[]): void {
    const h = this.#small;
    const at = this.#offset - TAG_HEADER_SIZE;
    // E.4.1: Reserved UB[2] = 0, Filter UB[1] (1 = encrypted), TagType UB[5].
    if ((h[0] & 0x20) !== 0) {
      throw this.#fail(`Cannot read FLV tag at byte ${at}: Filter is 1 (encrypted), not supported`);
    }
    const type = h[0] & 0x1f;
    if (type !== TagType.Audio && type !== TagType.Video && type !== TagType.ScriptData) {
      throw this.#fail(`Cannot read FLV tag at byte ${at}: TagType is ${type}, expected 8, 9 or 18`);
    }
    const size = (h[1] << 16) | (h[2] << 8) | h[3];
    if (size > this.#maxTagSize) {
      throw this.#fail(`Cannot read FLV tag at byte ${at}: DataSize is ${size}, limit ${this.#maxTagSize}`);
    }
    this.#tagOffset = at;
    this.#tagType = type;
    this.#tagTimestamp = ((h[7] << 24) | (h[4] << 16) | (h[5] << 8) | h[6]) >>> 0;
    this.#tagStreamId = (h[8] << 16) | (h[9] << 8) | h[10];
    this.#data = new Uint8Array(size);
    this.#dataLen = 0;
    this.#prevTagSize = TAG_HEADER_SIZE + size;
    this.#state = State.Data;
    if (size === 0) this.#emit(tags);
  }

  #emit(tags: FlvTag[]): void {
    tags.push({
      type: this.#tagType,
      timestamp: this.#tagTimestamp,
      streamId: this.#tagStreamId,
      data: this.#data,
      offset: this.#tagOffset,
    });
    this.#state = State.PrevSize;
  }
}

/** The first byte of a VIDEODATA (E.4.3.1) and, for AVC, the AVCVIDEOPACKET header (E.4.3.2). */
export interface VideoTagHeader {
  readonly frameType: number;
  readonly codecId: number;
  /** For AVC: AVCPacketType. */
  readonly avcPacketType?: number;
  /** For AVC: CompositionTime, SI24 milliseconds (pts - dts). */
  readonly compositionTime?: number;
}

/** Reads the video tag header at the start of a video tag's data. */
export function readVideoTagHeader(data: Uint8Array): VideoTagHeader {
  if (data.length < 1) throw new ProtocolError("flv", "Cannot read video tag header: data is empty");
  const frameType = data[0] >> 4;
  const codecId = data[0] & 0x0f;
  if (codecId !== VideoCodecId.Avc) return { frameType, codecId };
  if (data.length < 5) {
    throw new ProtocolError(
      "flv",
      `Cannot read AVC video tag header: data is ${data.length} bytes, expected 5 or more`,
    );
  }
  const compositionTime = ((data[2] << 16) | (data[3] << 8) | data[4]) << 8 >> 8;
  return { frameType, codecId, avcPacketType: data[1], compositionTime };
}

/** The first byte of an AUDIODATA (E.4.2.1) and, for AAC, AACPacketType (E.4.2.2). */
export interface AudioTagHeader {
  readonly soundFormat: number;
  readonly soundRate: number;
  readonly soundSize: number;
  readonly soundType: number;
  /** For AAC: AACPacketType. */
  readonly aacPacketType?: number;
}

/** Reads the audio tag header at the start of an audio tag's data. */
export function readAudioTagHeader(data: Uint8Array): AudioTagHeader {
  if (data.length < 1) throw new ProtocolError("flv", "Cannot read audio tag header: data is empty");
  const b = data[0];
  const head = { soundFormat: b >> 4, soundRate: (b >> 2) & 3, soundSize: (b >> 1) & 1, soundType: b & 1 };
  if (head.soundFormat !== SoundFormat.Aac) return head;
  if (data.length < 2) {
    throw new ProtocolError(
      "flv",
      `Cannot read AAC audio tag header: data is ${data.length} bytes, expected 2 or more`,
    );
  }
  return { ...head, aacPacketType: data[1] };
}
