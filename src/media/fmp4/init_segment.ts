/**
 * The fMP4 initialization segment (ISO/IEC 14496-12): `ftyp` then a `moov`
 * that describes the tracks and holds no samples (empty sample tables, an
 * `mvex` with a `trex` per track), as HLS `EXT-X-MAP` (RFC 8216 4.3.2.5) and
 * Media Source Extensions (the ISO BMFF byte stream format) expect.
 *
 * Tracks: H.264 as `avc1` with the AVCDecoderConfigurationRecord in `avcC`
 * (ISO/IEC 14496-15 5.4.2.1), timescale 90 kHz; AAC as `mp4a` with the
 * AudioSpecificConfig in an `esds` (ISO/IEC 14496-14 5.6, ISO/IEC 14496-1
 * 7.2.6), timescale the sample rate. Every box is written once by
 * `BoxWriter.build()` into an array of its exact size.
 *
 * @module
 */
import { BoxWriter } from "./box_writer.ts";

/** Media timescale of a video track: the 90 kHz clock of MPEG systems, which holds ms timestamps exactly. */
export const VIDEO_TIMESCALE = 90000;
/** `mvhd` timescale (8.2.2.3): the movie header's durations are 0 here, so only its unit matters. */
export const MOVIE_TIMESCALE = 1000;

/** `ftyp` brands (4.3; ISO/IEC 14496-12 annex E, ISO/IEC 23000-19). */
export const Brand = {
  /** 'iso6' (E.7): track fragment decode time (`tfdt`), which every fragment here has. */
  Iso6: "iso6",
  /** 'iso5' (E.6): `default-base-is-moof` in `tfhd`, which every fragment here sets. */
  Iso5: "iso5",
  /** 'iso4' (E.5): `trun` version 1, signed composition offsets. */
  Iso4: "iso4",
  /** 'mp41': the MP4 file format (ISO/IEC 14496-14), the `esds` of AAC tracks. */
  Mp41: "mp41",
  /**
   * 'cmfc' (ISO/IEC 23000-19 7.2): CMAF structural brand. A CMAF header holds
   * one track (7.3.2.1), so only single-track init segments claim it.
   */
  Cmfc: "cmfc",
} as const;
export type Brand = typeof Brand[keyof typeof Brand];

/** `hdlr` handler_type (8.4.3.3). */
export const HandlerType = {
  /** 'vide': a video track; its media header is `vmhd`. */
  Video: "vide",
  /** 'soun': an audio track; its media header is `smhd`. */
  Audio: "soun",
} as const;
export type HandlerType = typeof HandlerType[keyof typeof HandlerType];

/** `tkhd` flags (8.3.2.3). */
export const TrackHeaderFlag = {
  /** 0x000001 track_enabled. */
  Enabled: 0x000001,
  /** 0x000002 track_in_movie: used in the presentation. */
  InMovie: 0x000002,
} as const;
export type TrackHeaderFlag = typeof TrackHeaderFlag[keyof typeof TrackHeaderFlag];

/** `url ` flags (8.7.2.3): 0x000001, the media data is in the same file. */
const DATA_ENTRY_SELF_CONTAINED = 0x000001;
/** `vmhd` flags (8.4.5.3): always 1. */
const VMHD_FLAGS = 0x000001;

/** ISO/IEC 14496-1 7.2.2.1 Table 1: class tags of the descriptors an `esds` holds. */
export const DescriptorTag = {
  /** 0x03 ES_DescrTag (7.2.6.5). */
  EsDescriptor: 0x03,
  /** 0x04 DecoderConfigDescrTag (7.2.6.6). */
  DecoderConfig: 0x04,
  /** 0x05 DecSpecificInfoTag (7.2.6.7): here the AudioSpecificConfig. */
  DecoderSpecificInfo: 0x05,
  /** 0x06 SLConfigDescrTag (7.3.2.3). */
  SlConfig: 0x06,
} as const;
export type DescriptorTag = typeof DescriptorTag[keyof typeof DescriptorTag];

/** ISO/IEC 14496-1 7.2.6.6.2 Table 5 objectTypeIndication 0x40: Audio ISO/IEC 14496-3. */
const OBJECT_TYPE_AAC = 0x40;
/** Table 6 streamType 0x05 (AudioStream) << 2, upStream 0, reserved 1. */
const STREAM_TYPE_AUDIO_BYTE = (0x05 << 2) | 1;
/** 7.3.2.3.1 SLConfigDescriptor predefined 2: the one ISO/IEC 14496-14 3.1.2 requires in MP4 files. */
const SL_PREDEFINED_MP4 = 0x02;
/** 14496-1 8.3.3: a descriptor size is 7 bits a byte, at most 4 bytes. */
const MAX_DESCRIPTOR_SIZE = 2 ** 28 - 1;

/** 8.4.2.3 language: ISO 639-2/T 'und' (undetermined), three 5-bit letters minus 0x60. */
const LANGUAGE_UND = ((0x75 - 0x60) << 10) | ((0x6e - 0x60) << 5) | (0x64 - 0x60);
/** 8.2.2.3 / 8.3.2.3 matrix: the identity, {0x00010000, 0, 0, 0, 0x00010000, 0, 0, 0, 0x40000000}. */
const UNITY_MATRIX = [0x00010000, 0, 0, 0, 0x00010000, 0, 0, 0, 0x40000000] as const;
/** 16.16 fixed point 1.0 (rate), 8.8 fixed point 1.0 (volume). */
const FIXED_16_16_ONE = 0x00010000;
const FIXED_8_8_ONE = 0x0100;
/** 12.1.3.2 VisualSampleEntry resolution 72 dpi in 16.16, depth 0x0018 (colour, no alpha). */
const RESOLUTION_72_DPI = 0x00480000;
const VISUAL_DEPTH = 0x0018;
/** 12.2.3.2 AudioSampleEntry samplesize: 16 bits. */
const AUDIO_SAMPLE_SIZE = 16;
/** The largest sample rate the 16.16 `samplerate` field holds; above it the field is 0 (the esds says). */
const MAX_ENTRY_SAMPLE_RATE = 0xffff;
/** Sample entries point at data reference 1 (the `url ` entry). */
const DATA_REFERENCE_INDEX = 1;

/** An H.264 track. */
export interface VideoTrackConfig {
  readonly kind: "video";
  /** 1 or more; unique in the init segment. */
  readonly trackId: number;
  /** The AVCDecoderConfigurationRecord (the FLV AVC sequence header from byte 5). */
  readonly avcC: Uint8Array;
  /** Displayed size in pixels (from the SPS); 0 when unknown. */
  readonly width: number;
  readonly height: number;
}

/** An AAC track. */
export interface AudioTrackConfig {
  readonly kind: "audio";
  readonly trackId: number;
  /** The AudioSpecificConfig (the FLV AAC sequence header from byte 2). */
  readonly asc: Uint8Array;
  /** Output sample rate in Hz: the track's timescale. */
  readonly sampleRate: number;
  /** Output channels (1 or more). */
  readonly channels: number;
}

export type TrackConfig = VideoTrackConfig | AudioTrackConfig;

/** The media timescale of a track: 90 kHz for video, the sample rate for audio. */
export function timescaleOf(track: TrackConfig): number {
  return track.kind === "video" ? VIDEO_TIMESCALE : track.sampleRate;
}

/** `ftyp` + `moov` for `tracks` (1 or more, in the order given). Misuse throws RangeError. */
export function initSegment(tracks: readonly TrackConfig[]): Uint8Array {
  checkTracks(tracks);
  return BoxWriter.build((w) => {
    writeFtyp(w, tracks.length);
    const moov = w.open("moov"); // 8.2.1
    writeMvhd(w, Math.max(...tracks.map((t) => t.trackId)) + 1);
    for (const t of tracks) writeTrak(w, t);
    const mvex = w.open("mvex"); // 8.8.1
    for (const t of tracks) writeTrex(w, t.trackId);
    w.close(mvex);
    w.close(moov);
  });
}

function checkTracks(tracks: readonly TrackConfig[]): void {
  if (tracks.length === 0) throw new RangeError("Cannot write an init segment: current track count 0");
  const ids = new Set<number>();
  for (const t of tracks) {
    if (!Number.isInteger(t.trackId) || t.trackId < 1 || t.trackId > 0xfffffffe || ids.has(t.trackId)) {
      throw new RangeError(
        `Cannot write an init segment: current track_ID ${t.trackId} is not a new 1..2^32-2`,
      );
    }
    ids.add(t.trackId);
    if (t.kind === "audio") {
      if (!Number.isInteger(t.sampleRate) || t.sampleRate < 1) {
        throw new RangeError(`Cannot write an init segment: current sample rate ${t.sampleRate}`);
      }
      checkU16("channel count", t.channels);
    } else {
      checkU16("width", t.width);
      checkU16("height", t.height);
    }
  }
}

/** The 16-bit fields of sample entries (12.1.3.2, 12.2.3.2). */
function checkU16(what: string, v: number): void {
  if (!Number.isInteger(v) || v < 0 || v > 0xffff) {
    throw new RangeError(`Cannot write an init segment: current ${what} ${v}, limit 65535`);
  }
}

/** 4.3 FileTypeBox. */
function writeFtyp(w: BoxWriter, trackCount: number): void {
  const brands: Brand[] = [Brand.Iso6, Brand.Iso5, Brand.Iso4, Brand.Mp41];
  if (trackCount === 1) brands.push(Brand.Cmfc);
  const box = w.open("ftyp");
  w.fourCc(Brand.Iso6).u32(0); // major_brand, minor_version
  for (const b of brands) w.fourCc(b); // compatible_brands
  w.close(box);
}

/** 8.2.2 MovieHeaderBox, version 0. */
function writeMvhd(w: BoxWriter, nextTrackId: number): void {
  const box = w.openFull("mvhd", 0, 0);
  w.u32(0).u32(0); // creation_time, modification_time
  w.u32(MOVIE_TIMESCALE).u32(0); // timescale, duration (unknown: fragmented)
  w.u32(FIXED_16_16_ONE).u16(FIXED_8_8_ONE); // rate, volume
  w.zeros(2 + 4 * 2); // reserved bit(16), reserved unsigned int(32)[2]
  for (const m of UNITY_MATRIX) w.u32(m);
  w.zeros(4 * 6); // pre_defined bit(32)[6]
  w.u32(nextTrackId); // next_track_ID
  w.close(box);
}

/** 8.3.1 TrackBox. */
function writeTrak(w: BoxWriter, t: TrackConfig): void {
  const trak = w.open("trak");
  writeTkhd(w, t);
  const mdia = w.open("mdia"); // 8.4.1
  writeMdhd(w, timescaleOf(t));
  writeHdlr(w, t.kind === "video" ? HandlerType.Video : HandlerType.Audio);
  const minf = w.open("minf"); // 8.4.4
  if (t.kind === "video") {
    const vmhd = w.openFull("vmhd", 0, VMHD_FLAGS); // 8.4.5.2
    w.u16(0).zeros(2 * 3); // graphicsmode copy, opcolor
    w.close(vmhd);
  } else {
    const smhd = w.openFull("smhd", 0, 0); // 8.4.5.3
    w.i16(0).zeros(2); // balance centre, reserved
    w.close(smhd);
  }
  writeDinf(w);
  const stbl = w.open("stbl"); // 8.5.1
  const stsd = w.openFull("stsd", 0, 0); // 8.5.2
  w.u32(1); // entry_count
  if (t.kind === "video") writeAvc1(w, t);
  else writeMp4a(w, t);
  w.close(stsd);
  // The sample tables are empty: every sample is in a movie fragment (8.8.1).
  emptyTable(w, "stts", 1); // 8.6.1.2: entry_count
  emptyTable(w, "stsc", 1); // 8.7.4.2: entry_count
  emptyTable(w, "stsz", 2); // 8.7.3.2: sample_size, sample_count
  emptyTable(w, "stco", 1); // 8.7.5.2: entry_count
  w.close(stbl);
  w.close(minf);
  w.close(mdia);
  w.close(trak);
}

/** 8.3.2 TrackHeaderBox, version 0. */
function writeTkhd(w: BoxWriter, t: TrackConfig): void {
  const box = w.openFull("tkhd", 0, TrackHeaderFlag.Enabled | TrackHeaderFlag.InMovie);
  w.u32(0).u32(0); // creation_time, modification_time
  w.u32(t.trackId).u32(0); // track_ID, reserved
  w.u32(0); // duration (unknown: fragmented)
  w.zeros(4 * 2); // reserved unsigned int(32)[2]
  w.i16(0).i16(0); // layer, alternate_group
  w.u16(t.kind === "audio" ? FIXED_8_8_ONE : 0).zeros(2); // volume, reserved
  for (const m of UNITY_MATRIX) w.u32(m);
  const [width, height] = t.kind === "video" ? [t.width, t.height] : [0, 0];
  w.u32(width * FIXED_16_16_ONE).u32(height * FIXED_16_16_ONE); // width, height in 16.16
  w.close(box);
}

/** A version 0 FullBox of `fields` 32-bit zeros: a sample table with no entries. */
function emptyTable(w: BoxWriter, type: string, fields: number): void {
  const box = w.openFull(type, 0, 0);
  w.zeros(4 * fields);
  w.close(box);
}

/** 8.4.2 MediaHeaderBox, version 0. */
function writeMdhd(w: BoxWriter, timescale: number): void {
  const box = w.openFull("mdhd", 0, 0);
  w.u32(0).u32(0); // creation_time, modification_time
  w.u32(timescale).u32(0); // timescale, duration (unknown: fragmented)
  w.u16(LANGUAGE_UND).u16(0); // pad, language; pre_defined
  w.close(box);
}

/** The `hdlr` name of each handler: a null-terminated UTF-8 string for people reading the file. */
const HANDLER_NAMES: Readonly<Record<HandlerType, Uint8Array>> = {
  [HandlerType.Video]: new TextEncoder().encode("VideoHandler\0"),
  [HandlerType.Audio]: new TextEncoder().encode("SoundHandler\0"),
};

/** 8.4.3 HandlerBox. */
function writeHdlr(w: BoxWriter, type: HandlerType): void {
  const box = w.openFull("hdlr", 0, 0);
  w.u32(0).fourCc(type); // pre_defined, handler_type
  w.zeros(4 * 3); // reserved unsigned int(32)[3]
  w.bytes(HANDLER_NAMES[type]); // name
  w.close(box);
}

/** 8.7.1 DataInformationBox with one self-contained `url ` entry (8.7.2). */
function writeDinf(w: BoxWriter): void {
  const dinf = w.open("dinf");
  const dref = w.openFull("dref", 0, 0);
  w.u32(1); // entry_count
  w.close(w.openFull("url ", 0, DATA_ENTRY_SELF_CONTAINED));
  w.close(dref);
  w.close(dinf);
}

/** 8.5.2.2 SampleEntry: reserved, data_reference_index. */
function writeSampleEntryStart(w: BoxWriter, type: string): number {
  const box = w.open(type);
  w.zeros(6).u16(DATA_REFERENCE_INDEX); // reserved unsigned int(8)[6], data_reference_index
  return box;
}

/** ISO/IEC 14496-15 5.4.2.1 AVCSampleEntry ('avc1', a VisualSampleEntry, 12.1.3) with its `avcC`. */
function writeAvc1(w: BoxWriter, t: VideoTrackConfig): void {
  const box = writeSampleEntryStart(w, "avc1");
  w.u16(0).zeros(2); // pre_defined, reserved
  w.zeros(4 * 3); // pre_defined unsigned int(32)[3]
  w.u16(t.width).u16(t.height);
  w.u32(RESOLUTION_72_DPI).u32(RESOLUTION_72_DPI); // horizresolution, vertresolution
  w.u32(0).u16(1); // reserved, frame_count (one frame a sample)
  w.zeros(32); // compressorname: a length byte of 0 and padding
  w.u16(VISUAL_DEPTH).i16(-1); // depth, pre_defined
  const avcC = w.open("avcC"); // 14496-15 5.4.2.1.2 AVCConfigurationBox
  w.bytes(t.avcC);
  w.close(avcC);
  w.close(box);
}

/** ISO/IEC 14496-14 5.6 MP4AudioSampleEntry ('mp4a', an AudioSampleEntry, 12.2.3) with its `esds`. */
function writeMp4a(w: BoxWriter, t: AudioTrackConfig): void {
  const box = writeSampleEntryStart(w, "mp4a");
  w.zeros(4 * 2); // reserved unsigned int(32)[2]
  w.u16(t.channels).u16(AUDIO_SAMPLE_SIZE); // channelcount, samplesize
  w.u16(0).zeros(2); // pre_defined, reserved
  w.u32(t.sampleRate <= MAX_ENTRY_SAMPLE_RATE ? t.sampleRate * FIXED_16_16_ONE : 0); // samplerate 16.16
  writeEsds(w, t.asc);
  w.close(box);
}

/** Bytes of an expandable descriptor size (14496-1 8.3.3): 7 bits each. */
function sizeBytes(size: number): number {
  if (size > MAX_DESCRIPTOR_SIZE) {
    throw new RangeError(
      `Cannot write a descriptor: current size ${size} bytes, limit ${MAX_DESCRIPTOR_SIZE}`,
    );
  }
  return size < 0x80 ? 1 : size < 0x4000 ? 2 : size < 0x200000 ? 3 : 4;
}

/** A descriptor's whole length: tag, size field, body. */
function descriptorLength(bodySize: number): number {
  return 1 + sizeBytes(bodySize) + bodySize;
}

/** A descriptor's tag and its size in the fewest bytes, high groups first with the continuation bit. */
function writeDescriptorHeader(w: BoxWriter, tag: DescriptorTag, size: number): void {
  w.u8(tag);
  for (let i = sizeBytes(size) - 1; i >= 0; i--) {
    w.u8(((size >>> (7 * i)) & 0x7f) | (i > 0 ? 0x80 : 0));
  }
}

/**
 * ISO/IEC 14496-14 5.6 ESDBox: an ES_Descriptor (14496-1 7.2.6.5) holding a
 * DecoderConfigDescriptor (7.2.6.6) with the AudioSpecificConfig as its
 * DecoderSpecificInfo, and the MP4 SLConfigDescriptor.
 */
function writeEsds(w: BoxWriter, asc: Uint8Array): void {
  const decoderConfigBody = 1 + 1 + 3 + 4 + 4 + descriptorLength(asc.length);
  const slConfigBody = 1;
  const esBody = 2 + 1 + descriptorLength(decoderConfigBody) + descriptorLength(slConfigBody);
  const box = w.openFull("esds", 0, 0);
  writeDescriptorHeader(w, DescriptorTag.EsDescriptor, esBody);
  w.u16(0).u8(0); // ES_ID (0 in MP4 files, 14496-14 3.1.2), no dependence, URL or OCR stream
  writeDescriptorHeader(w, DescriptorTag.DecoderConfig, decoderConfigBody);
  w.u8(OBJECT_TYPE_AAC).u8(STREAM_TYPE_AUDIO_BYTE);
  w.u24(0).u32(0).u32(0); // bufferSizeDB, maxBitrate, avgBitrate: unknown for a live stream
  writeDescriptorHeader(w, DescriptorTag.DecoderSpecificInfo, asc.length);
  w.bytes(asc);
  writeDescriptorHeader(w, DescriptorTag.SlConfig, slConfigBody);
  w.u8(SL_PREDEFINED_MP4);
  w.close(box);
}

/** 8.8.3 TrackExtendsBox: sample description 1 and no defaults (every fragment gives its own). */
function writeTrex(w: BoxWriter, trackId: number): void {
  const box = w.openFull("trex", 0, 0);
  w.u32(trackId).u32(1); // track_ID, default_sample_description_index
  w.u32(0).u32(0).u32(0); // default_sample_duration, default_sample_size, default_sample_flags
  w.close(box);
}
