/**
 * The PES packet header (ISO/IEC 13818-1 2.4.3.6, 2.4.3.7) a transport
 * stream muxer puts before each access unit: packet_start_code_prefix,
 * stream_id, PES_packet_length and the optional header with PTS and DTS at
 * 90 kHz.
 *
 * @module
 */

/** stream_id values (Table 2-22), stream number 0 of each kind. */
export const StreamId = {
  /** 0xC0: ISO/IEC 13818-3, 11172-3, 13818-7 or 14496-3 audio stream (AAC in ADTS among them). */
  Audio: 0xc0,
  /** 0xE0: ITU-T H.262, ISO/IEC 11172-2, 14496-2 or ITU-T H.264 video stream. */
  Video: 0xe0,
} as const;
export type StreamId = typeof StreamId[keyof typeof StreamId];

/** 2.4.3.7: PTS and DTS are 33-bit counts of a 90 kHz clock; they wrap at 2^33. */
export const PTS_RANGE = 2 ** 33;
/** 2.4.3.7: PES_packet_length is 16 bits; 0 (unbounded) is allowed only for video in a transport stream. */
const MAX_PES_PACKET_LENGTH = 0xffff;
/** The PES_packet_length field counts the bytes after it: the 3 fixed bytes of the optional header among them. */
const OPTIONAL_FIXED = 3;
/** 2.4.3.7 Table 2-21: PTS_DTS_flags '10' (PTS only) and '11' (both). */
const PTS_ONLY = 0x80;
const PTS_AND_DTS = 0xc0;
/** The 4-bit prefix of each 5-byte time field (2.4.3.6): '0010' PTS alone, '0011' PTS then '0001' DTS. */
const PREFIX_PTS_ALONE = 0x2;
const PREFIX_PTS_WITH_DTS = 0x3;
const PREFIX_DTS = 0x1;

/** What one PES header says. */
export interface PesHeaderFields {
  readonly streamId: StreamId;
  /** Presentation time, 90 kHz, 0..2^33-1. */
  readonly pts: number;
  /** Decoding time, 90 kHz, 0..2^33-1; written only when it differs from `pts`. */
  readonly dts?: number;
  /**
   * The bytes of the PES payload after this header, for PES_packet_length;
   * undefined writes 0 (unbounded, for video).
   */
  readonly payloadLength?: number;
}

function checkTime(what: string, t: number): void {
  if (!Number.isInteger(t) || t < 0 || t >= PTS_RANGE) {
    throw new RangeError(
      `Cannot write PES header: ${what} must be an integer in 0..${PTS_RANGE - 1}, current ${t}`,
    );
  }
}

/** A 33-bit time in the 5-byte form: prefix, bits 32..30, marker, 29..15, marker, 14..0, marker. */
function putTime(out: Uint8Array, at: number, prefix: number, t: number): void {
  const high = Math.floor(t / 2 ** 30); // bits 32..30
  const low = t % 2 ** 30; // bits 29..0 fit a 32-bit int
  out[at] = (prefix << 4) | (high << 1) | 1;
  out[at + 1] = low >>> 22;
  out[at + 2] = ((low >>> 14) & 0xfe) | 1;
  out[at + 3] = (low >>> 7) & 0xff;
  out[at + 4] = ((low << 1) & 0xfe) | 1;
}

/**
 * The PES header: 14 bytes with PTS, 19 with PTS and DTS. The optional
 * header sets data_alignment_indicator (each PES starts an access unit: an
 * access unit delimiter or an ADTS header). Misuse (times out of range, a
 * PES_packet_length over 65535) throws RangeError.
 */
export function pesHeader(f: PesHeaderFields): Uint8Array {
  checkTime("PTS", f.pts);
  const withDts = f.dts !== undefined && f.dts !== f.pts;
  if (withDts) checkTime("DTS", f.dts!);
  const dataLength = withDts ? 10 : 5; // PES_header_data_length
  const out = new Uint8Array(6 + OPTIONAL_FIXED + dataLength);
  let packetLength = 0;
  if (f.payloadLength !== undefined) {
    packetLength = OPTIONAL_FIXED + dataLength + f.payloadLength;
    if (!Number.isInteger(f.payloadLength) || f.payloadLength < 0 || packetLength > MAX_PES_PACKET_LENGTH) {
      throw new RangeError(
        `Cannot write PES header: PES_packet_length is ${packetLength}, limit ${MAX_PES_PACKET_LENGTH}`,
      );
    }
  }
  out[2] = 1; // packet_start_code_prefix 00 00 01
  out[3] = f.streamId;
  out[4] = packetLength >> 8;
  out[5] = packetLength & 0xff;
  out[6] = 0x84; // '10', not scrambled, priority 0, data_alignment_indicator 1, not copyrighted, copy
  out[7] = withDts ? PTS_AND_DTS : PTS_ONLY; // no ESCR, ES_rate, trick mode, copy info, CRC, extension
  out[8] = dataLength;
  putTime(out, 9, withDts ? PREFIX_PTS_WITH_DTS : PREFIX_PTS_ALONE, f.pts);
  if (withDts) putTime(out, 14, PREFIX_DTS, f.dts!);
  return out;
}
