/**
 * One movie fragment (ISO/IEC 14496-12 8.8): a `moof` with an `mfhd` and one
 * `traf` per track (`tfhd` with default-base-is-moof, `tfdt` version 1, one
 * `trun` version 1 giving each sample's duration, size, flags and, for video,
 * signed composition offset), then one `mdat` with the tracks' samples one
 * track after another. An HLS part or segment (RFC 8216 3.3, CMAF chunk).
 *
 * The fragment's size is computed from the sample counts and sizes before
 * anything is written, the array is allocated once at that size, and each
 * sample's bytes are copied once, straight from the caller's arrays.
 *
 * @module
 */
import { BOX_HEADER_SIZE, BoxWriter, FULL_BOX_HEADER_SIZE } from "./box_writer.ts";

/** `tfhd` tf_flags (8.8.7.1). */
export const TfhdFlag = {
  /** 0x020000 default-base-is-moof: data offsets count from the start of this `moof`. */
  DefaultBaseIsMoof: 0x020000,
} as const;
export type TfhdFlag = typeof TfhdFlag[keyof typeof TfhdFlag];

/** `trun` tr_flags (8.8.8.1). */
export const TrunFlag = {
  /** 0x000001 data-offset-present. */
  DataOffset: 0x000001,
  /** 0x000100 sample-duration-present. */
  SampleDuration: 0x000100,
  /** 0x000200 sample-size-present. */
  SampleSize: 0x000200,
  /** 0x000400 sample-flags-present. */
  SampleFlags: 0x000400,
  /** 0x000800 sample-composition-time-offsets-present (signed in version 1). */
  SampleCompositionTimeOffset: 0x000800,
} as const;
export type TrunFlag = typeof TrunFlag[keyof typeof TrunFlag];

/**
 * Sample flags (8.8.3.1): is_leading (2 bits at 26), sample_depends_on (2
 * bits at 24), sample_is_depended_on, sample_has_redundancy,
 * sample_padding_value, sample_is_non_sync_sample (bit 16), degradation
 * priority.
 */
export const SampleFlags = {
  /** sample_depends_on 2 (does not depend on others: an I picture, an audio frame), a sync sample. */
  Sync: 2 << 24,
  /** sample_depends_on 1 (depends on others: a P or B picture), sample_is_non_sync_sample 1. */
  NonSync: (1 << 24) | (1 << 16),
} as const;
export type SampleFlags = typeof SampleFlags[keyof typeof SampleFlags];

/** The most samples one fragment carries, all tracks together (a 20 s segment of 60 fps video and 48 kHz AAC is 2,140). */
export const MAX_FRAGMENT_SAMPLES = 8192;
/** The most bytes one fragment is (a 20 s segment at 25 Mbit/s is 62.5 MB). */
export const MAX_FRAGMENT_BYTES = 64 * 1024 * 1024;

/** One sample of a track fragment. */
export interface FragmentSample {
  /** The sample's bytes (AVCC NAL units, a raw AAC frame); copied into the `mdat`. */
  readonly data: Uint8Array;
  /** In the track's timescale, 0..2^32-1. */
  readonly duration: number;
  /** `SampleFlags.Sync` or `SampleFlags.NonSync` (or any 8.8.3.1 value). */
  readonly flags: number;
  /** Composition time minus decode time in the track's timescale, signed 32-bit (written when the track has them). */
  readonly compositionOffset: number;
}

/** The samples of one track in one fragment. */
export interface FragmentTrack {
  readonly trackId: number;
  /** `tfdt` baseMediaDecodeTime: the first sample's decode time in the track's timescale. */
  readonly baseMediaDecodeTime: number;
  /** 1 or more. */
  readonly samples: readonly FragmentSample[];
  /** Write composition offsets (video); without, every sample's composition time is its decode time. */
  readonly compositionOffsets: boolean;
}

const MFHD_SIZE = FULL_BOX_HEADER_SIZE + 4; // sequence_number
const TFHD_SIZE = FULL_BOX_HEADER_SIZE + 4; // track_ID, no optional fields
const TFDT_V1_SIZE = FULL_BOX_HEADER_SIZE + 8; // 64-bit baseMediaDecodeTime
const TRUN_FIXED_SIZE = FULL_BOX_HEADER_SIZE + 4 + 4; // sample_count, data_offset

function trunFlags(t: FragmentTrack): number {
  return TrunFlag.DataOffset | TrunFlag.SampleDuration | TrunFlag.SampleSize | TrunFlag.SampleFlags |
    (t.compositionOffsets ? TrunFlag.SampleCompositionTimeOffset : 0);
}

/** Bytes of each `trun` sample entry: duration, size, flags, and the composition offset when present. */
function trunEntrySize(t: FragmentTrack): number {
  return t.compositionOffsets ? 16 : 12;
}

function trafSize(t: FragmentTrack): number {
  return BOX_HEADER_SIZE + TFHD_SIZE + TFDT_V1_SIZE + TRUN_FIXED_SIZE + t.samples.length * trunEntrySize(t);
}

/** The sizes of the fragment `tracks` make: its `moof` and the whole (`moof` + `mdat`). */
export function fragmentSize(tracks: readonly FragmentTrack[]): { moof: number; total: number } {
  let moof = BOX_HEADER_SIZE + MFHD_SIZE;
  let data = 0;
  for (const t of tracks) {
    moof += trafSize(t);
    for (const s of t.samples) data += s.data.length;
  }
  return { moof, total: moof + BOX_HEADER_SIZE + data };
}

function fail(detail: string): never {
  throw new RangeError(`Cannot write an fMP4 fragment: ${detail}`);
}

function checkTracks(sequenceNumber: number, tracks: readonly FragmentTrack[]): void {
  if (!Number.isInteger(sequenceNumber) || sequenceNumber < 1 || sequenceNumber > 0xffffffff) {
    fail(`current sequence_number ${sequenceNumber}, expected 1..4294967295`);
  }
  if (tracks.length === 0) fail("current track count 0");
  let count = 0;
  for (const t of tracks) {
    if (t.samples.length === 0) fail(`current sample count 0 in track ${t.trackId}`);
    if (!Number.isSafeInteger(t.baseMediaDecodeTime) || t.baseMediaDecodeTime < 0) {
      fail(`current baseMediaDecodeTime ${t.baseMediaDecodeTime} in track ${t.trackId}`);
    }
    count += t.samples.length;
    for (const s of t.samples) {
      if (!Number.isInteger(s.duration) || s.duration < 0 || s.duration > 0xffffffff) {
        fail(`current sample duration ${s.duration} in track ${t.trackId}`);
      }
      if (
        !Number.isInteger(s.compositionOffset) || s.compositionOffset < -(2 ** 31) ||
        s.compositionOffset >= 2 ** 31
      ) {
        fail(`current composition offset ${s.compositionOffset} in track ${t.trackId}`);
      }
    }
  }
  if (count > MAX_FRAGMENT_SAMPLES) fail(`current ${count} samples, limit ${MAX_FRAGMENT_SAMPLES}`);
}

/**
 * `moof` + `mdat` for the samples of `tracks` (each with samples; traf order
 * as given), numbered `sequenceNumber` (1 or more, increasing per fragment,
 * 8.8.5.3). Misuse and a fragment over MAX_FRAGMENT_SAMPLES or
 * MAX_FRAGMENT_BYTES throw RangeError. The caller owns the returned array.
 */
export function buildFragment(sequenceNumber: number, tracks: readonly FragmentTrack[]): Uint8Array {
  checkTracks(sequenceNumber, tracks);
  const size = fragmentSize(tracks);
  if (size.total > MAX_FRAGMENT_BYTES) fail(`current ${size.total} bytes, limit ${MAX_FRAGMENT_BYTES}`);
  const w = new BoxWriter(size.total);
  const moof = w.open("moof"); // 8.8.4
  const mfhd = w.openFull("mfhd", 0, 0); // 8.8.5
  w.u32(sequenceNumber);
  w.close(mfhd);
  // data_offset (8.8.8.3) of each track's first sample: from the moof start, past the mdat header.
  let dataOffset = size.moof + BOX_HEADER_SIZE;
  for (const t of tracks) {
    const traf = w.open("traf"); // 8.8.6
    const tfhd = w.openFull("tfhd", 0, TfhdFlag.DefaultBaseIsMoof); // 8.8.7
    w.u32(t.trackId);
    w.close(tfhd);
    const tfdt = w.openFull("tfdt", 1, 0); // 8.8.12, version 1: 64-bit time
    w.u64(t.baseMediaDecodeTime);
    w.close(tfdt);
    const trun = w.openFull("trun", 1, trunFlags(t)); // 8.8.8, version 1: signed offsets
    w.u32(t.samples.length).i32(dataOffset);
    for (const s of t.samples) {
      w.u32(s.duration).u32(s.data.length).u32(s.flags);
      if (t.compositionOffsets) w.i32(s.compositionOffset);
      dataOffset += s.data.length;
    }
    w.close(trun);
    w.close(traf);
  }
  w.close(moof);
  const mdat = w.open("mdat"); // 8.1.1
  for (const t of tracks) for (const s of t.samples) w.bytes(s.data);
  w.close(mdat);
  return w.finish();
}
