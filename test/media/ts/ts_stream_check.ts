/**
 * A strict reader of transport streams for tests (ISO/IEC 13818-1): it walks
 * every 188-byte packet and reports each rule a stream breaks instead of
 * stopping at the first. Checked: sync bytes, continuity counters per PID,
 * adaptation field lengths, the PAT and PMT (CRC_32 included), PCRs on the
 * PCR PID (present on the first packet of each of its PES, non-decreasing,
 * never past the DTS of a PES that follows), PES headers and their lengths.
 * PES packets are reassembled, so tests can look at what they carry.
 *
 * @module
 */
import { crc32Mpeg2 } from "../../../src/media/ts/crc32_mpeg2.ts";

/** One reassembled PES packet. */
export interface PesInfo {
  readonly pid: number;
  readonly streamId: number;
  /** 90 kHz. */
  readonly pts: number;
  /** 90 kHz; the PTS when the header has no DTS. */
  readonly dts: number;
  readonly hasDts: boolean;
  /** random_access_indicator on its first packet. */
  readonly randomAccess: boolean;
  /** The PCR (27 MHz) on its first packet, if any. */
  readonly pcr?: number;
  /** PES_packet_length (0: unbounded). */
  readonly packetLength: number;
  /** The bytes after the PES header. */
  readonly payload: Uint8Array;
  /** Index of its first transport packet in the stream. */
  readonly packet: number;
}

/** What the stream holds and what is wrong with it. */
export interface TsReport {
  readonly packets: number;
  /** Packets per PID. */
  readonly pids: Map<number, number>;
  /** PMT streams: elementary_PID -> stream_type, from the last PMT read. */
  readonly streams: Map<number, number>;
  readonly pcrPid: number | undefined;
  readonly pes: PesInfo[];
  /** Every broken rule, with the packet index; empty for a good stream. */
  readonly errors: string[];
}

const PMT_TABLE = 0x02;
const PAT_TABLE = 0x00;

function time33(b: Uint8Array, at: number): number {
  return ((b[at] >> 1) & 7) * 2 ** 30 + (b[at + 1] << 22) + ((b[at + 2] >> 1) << 15) + (b[at + 3] << 7) +
    (b[at + 4] >> 1);
}

/** Walks `bytes` as a transport stream. */
export function readTransportStream(bytes: Uint8Array): TsReport {
  const errors: string[] = [];
  const pids = new Map<number, number>();
  const cc = new Map<number, number>();
  const streams = new Map<number, number>();
  let pmtPid: number | undefined;
  let pcrPid: number | undefined;
  let lastPcr = -1;
  const pes: PesInfo[] = [];
  const open = new Map<
    number,
    { first: number; ra: boolean; pcr?: number; pcrBefore: number; chunks: Uint8Array[] }
  >();

  const finish = (pid: number) => {
    const o = open.get(pid);
    if (!o) return;
    open.delete(pid);
    const total = o.chunks.reduce((n, c) => n + c.length, 0);
    const b = new Uint8Array(total);
    let at = 0;
    for (const c of o.chunks) {
      b.set(c, at);
      at += c.length;
    }
    const where = `PES at packet ${o.first} (PID ${pid})`;
    if (b.length < 14 || b[0] !== 0 || b[1] !== 0 || b[2] !== 1) {
      errors.push(`${where}: no packet_start_code_prefix`);
      return;
    }
    const packetLength = (b[4] << 8) | b[5];
    if (packetLength !== 0 && packetLength !== b.length - 6) {
      errors.push(`${where}: PES_packet_length ${packetLength}, carried ${b.length - 6}`);
    }
    const flags = b[7] >> 6;
    const headerEnd = 9 + b[8];
    if (flags !== 2 && flags !== 3) {
      errors.push(`${where}: PTS_DTS_flags ${flags}`);
      return;
    }
    const pts = time33(b, 9);
    const dts = flags === 3 ? time33(b, 14) : pts;
    pes.push({
      pid,
      streamId: b[3],
      pts,
      dts,
      hasDts: flags === 3,
      randomAccess: o.ra,
      ...(o.pcr !== undefined && { pcr: o.pcr }),
      packetLength,
      payload: b.subarray(headerEnd),
      packet: o.first,
    });
    if (o.pcrBefore > dts * 300) {
      errors.push(`${where}: DTS ${dts * 300} (27 MHz) before the PCR ${o.pcrBefore}`);
    }
  };

  if (bytes.length % 188 !== 0) errors.push(`length ${bytes.length} is not a multiple of 188`);
  const count = Math.floor(bytes.length / 188);
  for (let i = 0; i < count; i++) {
    const p = bytes.subarray(i * 188, i * 188 + 188);
    if (p[0] !== 0x47) {
      errors.push(`packet ${i}: sync byte ${p[0]}`);
      continue;
    }
    const pusi = (p[1] & 0x40) !== 0;
    const pid = ((p[1] & 0x1f) << 8) | p[2];
    const afc = (p[3] >> 4) & 3;
    const counter = p[3] & 0x0f;
    pids.set(pid, (pids.get(pid) ?? 0) + 1);
    if (afc === 0) errors.push(`packet ${i}: adaptation_field_control 0`);
    if (afc & 1) {
      const prev = cc.get(pid);
      if (prev !== undefined && counter !== ((prev + 1) & 15)) {
        errors.push(`packet ${i} (PID ${pid}): continuity_counter ${counter} after ${prev}`);
      }
      cc.set(pid, counter);
    }
    let at = 4;
    let ra = false;
    let pcr: number | undefined;
    if (afc & 2) {
      const len = p[4];
      if (len > (afc & 1 ? 182 : 183)) errors.push(`packet ${i}: adaptation_field_length ${len}`);
      if (len > 0) {
        ra = (p[5] & 0x40) !== 0;
        if (p[5] & 0x10) {
          const base = p[6] * 2 ** 25 + (p[7] << 17) + (p[8] << 9) + (p[9] << 1) + (p[10] >> 7);
          pcr = base * 300 + (((p[10] & 1) << 8) | p[11]);
          if (pid !== pcrPid) errors.push(`packet ${i}: PCR on PID ${pid}, PCR_PID ${pcrPid}`);
          if (pcr < lastPcr) errors.push(`packet ${i}: PCR ${pcr} after ${lastPcr}`);
          lastPcr = pcr;
        }
        for (let k = 6 + (pcr !== undefined ? 6 : 0); k < 5 + len; k++) {
          if (p[k] !== 0xff) {
            errors.push(`packet ${i}: stuffing byte ${p[k]} at ${k}`);
            break;
          }
        }
      }
      at = 5 + len;
    }
    if (!(afc & 1)) continue;
    const payload = p.subarray(at);
    if (pid === PAT_TABLE || pid === pmtPid) {
      if (!pusi) {
        errors.push(`packet ${i}: a PSI section over two packets`);
        continue;
      }
      const s = payload.subarray(1 + payload[0]);
      const len = ((s[1] & 0x0f) << 8) | s[2];
      const section = s.subarray(0, 3 + len);
      if (crc32Mpeg2(section) !== 0) errors.push(`packet ${i}: CRC_32 of table ${s[0]} is wrong`);
      if (s[0] === PAT_TABLE && pid === 0) {
        pmtPid = ((s[10] & 0x1f) << 8) | s[11];
      } else if (s[0] === PMT_TABLE) {
        pcrPid = ((s[8] & 0x1f) << 8) | s[9];
        const infoLength = ((s[10] & 0x0f) << 8) | s[11];
        streams.clear();
        for (let k = 12 + infoLength; k < section.length - 4;) {
          streams.set(((s[k + 1] & 0x1f) << 8) | s[k + 2], s[k]);
          k += 5 + (((s[k + 3] & 0x0f) << 8) | s[k + 4]);
        }
      }
      continue;
    }
    if (!streams.has(pid)) {
      errors.push(`packet ${i}: PID ${pid} is not in the PMT`);
      continue;
    }
    if (pusi) {
      finish(pid);
      if (pid === pcrPid && pcr === undefined) errors.push(`packet ${i}: a PES of the PCR PID without a PCR`);
      open.set(pid, {
        first: i,
        ra,
        ...(pcr !== undefined && { pcr }),
        pcrBefore: lastPcr,
        chunks: [payload],
      });
    } else {
      const o = open.get(pid);
      if (!o) errors.push(`packet ${i} (PID ${pid}): payload before any PES start`);
      else o.chunks.push(payload);
    }
  }
  for (const pid of [...open.keys()]) finish(pid);
  pes.sort((a, b) => a.packet - b.packet);
  return { packets: count, pids, streams, pcrPid, pes, errors };
}

/** The nal_unit_types of an Annex B access unit (4-byte start codes, as the muxer writes). */
export function nalTypes(annexB: Uint8Array): number[] {
  const out: number[] = [];
  for (let i = 0; i + 4 < annexB.length; i++) {
    if (annexB[i] === 0 && annexB[i + 1] === 0 && annexB[i + 2] === 0 && annexB[i + 3] === 1) {
      out.push(annexB[i + 4] & 0x1f);
      i += 4;
    }
  }
  return out;
}
