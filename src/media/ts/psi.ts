/**
 * Program specific information for a transport stream of one program
 * (ISO/IEC 13818-1 2.4.4): the program association section (PAT, 2.4.4.3),
 * the TS program map section (PMT, 2.4.4.8), each ending in its CRC_32
 * (CRC-32/MPEG-2), and the one transport packet that carries a section
 * (pointer_field 0, the section, 0xFF stuffing to 188 bytes: 2.4.4.1 and
 * 2.4.4.2).
 *
 * @module
 */
import { crc32Mpeg2 } from "./crc32_mpeg2.ts";

/** table_id values (Table 2-31). */
export const TableId = {
  /** 0x00: program_association_section. */
  ProgramAssociation: 0x00,
  /** 0x02: TS_program_map_section. */
  ProgramMap: 0x02,
} as const;
export type TableId = typeof TableId[keyof typeof TableId];

/** stream_type values (Table 2-34) for what Sluice carries. */
export const StreamType = {
  /** 0x0F: ISO/IEC 13818-7 Audio with ADTS transport syntax (AAC in ADTS frames). */
  AacAdts: 0x0f,
  /** 0x1B: AVC video stream as defined in ITU-T H.264 (Annex B byte stream). */
  H264: 0x1b,
} as const;
export type StreamType = typeof StreamType[keyof typeof StreamType];

/** 2.4.4.3: the PAT's PID. */
export const PAT_PID = 0x0000;
/** Table 2-3: the null packet's PID; as a PCR_PID, "no PCR in this program" (2.4.4.9). */
export const NULL_PID = 0x1fff;

/** 2.4.3.2: a transport packet is 188 bytes. */
const PACKET_SIZE = 188;
/** A section in one packet: 188 less the 4-byte header and the pointer_field. */
const MAX_SECTION = PACKET_SIZE - 5;
/** 2.4.4.3, 2.4.4.8: reserved bits are set; these are the bytes around the fields with them. */
const SECTION_SYNTAX = 0xb0; // section_syntax_indicator 1, '0', reserved '11', section_length bits 11-8 (0 here)

/** One elementary stream of the program. */
export interface PmtStream {
  readonly streamType: StreamType;
  /** elementary_PID, 0x0010..0x1FFE. */
  readonly pid: number;
}

/** What the PMT says. */
export interface ProgramMap {
  /** program_number, 1..65535. */
  readonly programNumber: number;
  /** PCR_PID: the PID whose packets carry the PCR, or NULL_PID for none. */
  readonly pcrPid: number;
  /** version_number, 0..31: goes up (mod 32) whenever the map changes. */
  readonly version: number;
  readonly streams: readonly PmtStream[];
}

/** A section: the header bytes from table_id to last_section_number, the body, then CRC_32. */
function section(tableId: TableId, idExtension: number, version: number, body: number[]): Uint8Array {
  if (!Number.isInteger(version) || version < 0 || version > 31) {
    throw new RangeError(`Cannot build PSI section: version_number must be 0..31, current ${version}`);
  }
  // section_length counts the bytes after it: 5 header bytes, the body, 4 CRC bytes.
  const sectionLength = 5 + body.length + 4;
  const out = new Uint8Array(3 + sectionLength);
  if (out.length > MAX_SECTION) {
    throw new RangeError(`Cannot build PSI section: it is ${out.length} bytes, limit ${MAX_SECTION}`);
  }
  out.set([
    tableId,
    SECTION_SYNTAX | (sectionLength >> 8),
    sectionLength & 0xff,
    idExtension >> 8, // transport_stream_id or program_number
    idExtension & 0xff,
    0xc0 | (version << 1) | 1, // reserved '11', version_number, current_next_indicator 1
    0, // section_number
    0, // last_section_number
    ...body,
  ]);
  const crc = crc32Mpeg2(out.subarray(0, out.length - 4));
  new DataView(out.buffer).setUint32(out.length - 4, crc);
  return out;
}

/** `reserved` bits above a 13-bit PID, big-endian. */
function pid13(reserved: number, pid: number): [number, number] {
  return [reserved | (pid >> 8), pid & 0xff];
}

/**
 * A PAT (2.4.4.3) listing one program: its program_number and the PID of its
 * PMT, in transport stream `transportStreamId`.
 */
export function patSection(programNumber: number, pmtPid: number, transportStreamId = 1): Uint8Array {
  return section(TableId.ProgramAssociation, transportStreamId, 0, [
    programNumber >> 8,
    programNumber & 0xff,
    ...pid13(0xe0, pmtPid), // reserved '111', program_map_PID
  ]);
}

/** A PMT (2.4.4.8) with no descriptors: PCR_PID, then stream_type and elementary_PID per stream. */
export function pmtSection(map: ProgramMap): Uint8Array {
  const body = [
    ...pid13(0xe0, map.pcrPid), // reserved '111', PCR_PID
    0xf0, // reserved '1111', program_info_length 0
    0x00,
  ];
  for (const s of map.streams) {
    body.push(s.streamType, ...pid13(0xe0, s.pid), 0xf0, 0x00); // reserved '1111', ES_info_length 0
  }
  return section(TableId.ProgramMap, map.programNumber, map.version, body);
}

/**
 * The transport packet that carries one section: payload_unit_start_indicator
 * set, payload only, continuity_counter `cc`, pointer_field 0, the section,
 * stuffing bytes 0xFF (2.4.4.2: after a section, stuffing until the packet ends).
 */
export function psiPacket(pid: number, cc: number, sectionBytes: Uint8Array): Uint8Array {
  if (sectionBytes.length > MAX_SECTION) {
    throw new RangeError(
      `Cannot packetize PSI section: it is ${sectionBytes.length} bytes, limit ${MAX_SECTION}`,
    );
  }
  const out = new Uint8Array(PACKET_SIZE).fill(0xff);
  out[0] = 0x47; // sync_byte
  out[1] = 0x40 | (pid >> 8); // payload_unit_start_indicator, PID high bits
  out[2] = pid & 0xff;
  out[3] = 0x10 | (cc & 0x0f); // not scrambled, payload only
  out[4] = 0; // pointer_field: the section starts right after it
  out.set(sectionBytes, 5);
  return out;
}
