// FLV packing for the codec role (Adobe FLV spec v10.1, Annex E.2 - E.4.1).
//
// Only headers and trailers are made here; the payload never enters WASM
// memory. The host writes the payload into its own output array with one
// set(), between the header and the trailer it copies out of the output
// region. Copying the payload through the input and output regions instead
// costs two extra copies of every byte and measured slower at every size
// (see src/wasm/flv_pack.ts for the numbers).

import { CODEC_OUT_PTR, CODEC_SPANS_PTR } from "./abi";
import { putU24, putU32 } from "./be";

export const FLV_TAG_VERSION: i32 = 1;

/** Tag header (11 bytes) plus PreviousTagSize (4 bytes): what wraps a payload. */
export const FLV_TAG_OVERHEAD: i32 = 15;

/**
 * Writes the FLV header (E.2: "FLV", version 1, TypeFlags, DataOffset 9) and
 * PreviousTagSize0 (E.3: 0) at the start of the output region. Returns 13.
 */
export function flvFileHeader(audio: bool, video: bool): i32 {
  const o = <usize>CODEC_OUT_PTR;
  store<u8>(o, 0x46); // 'F'
  store<u8>(o, 0x4c, 1); // 'L'
  store<u8>(o, 0x56, 2); // 'V'
  store<u8>(o, 1, 3); // version 1
  store<u8>(o, (audio ? 4 : 0) | (video ? 1 : 0), 4); // TypeFlagsAudio (bit 2), TypeFlagsVideo (bit 0)
  putU32(o + 5, 9); // DataOffset: the header's length
  putU32(o + 9, 0); // PreviousTagSize0
  return 13;
}

// @ts-ignore: decorator
@inline function writeWrap(o: usize, type: u32, timestamp: u32, size: u32): void {
  // E.4.1 FLVTAG: Reserved(2) = 0, Filter(1) = 0, TagType(5)
  store<u8>(o, <u8>type);
  putU24(o + 1, size); // DataSize
  putU24(o + 4, timestamp & 0xffffff); // Timestamp, lower 24 bits
  store<u8>(o, <u8>(timestamp >>> 24), 7); // TimestampExtended, upper 8 bits
  putU24(o + 8, 0); // StreamID, always 0
  putU32(o + 11, size + 11); // the PreviousTagSize after this tag
}

/**
 * Writes one tag's 11-byte header and, right after it, the 4-byte
 * PreviousTagSize that follows its `size` bytes of data, at the start of the
 * output region. The host checks type, timestamp and size. Returns 15.
 */
export function flvTagWrap(type: u32, timestamp: u32, size: u32): i32 {
  writeWrap(<usize>CODEC_OUT_PTR, type, timestamp, size);
  return FLV_TAG_OVERHEAD;
}

/**
 * The batch form of flvTagWrap: `count` records of three i32 (type, timestamp,
 * size) in the spans region -> `count` 15-byte wraps back to back in the output
 * region. Returns count * 15.
 */
export function flvTagWraps(count: i32): i32 {
  let r = <usize>CODEC_SPANS_PTR;
  let o = <usize>CODEC_OUT_PTR;
  for (let i = 0; i < count; i++) {
    writeWrap(o, load<u32>(r), load<u32>(r, 4), load<u32>(r, 8));
    r += 12;
    o += FLV_TAG_OVERHEAD;
  }
  return count * FLV_TAG_OVERHEAD;
}
