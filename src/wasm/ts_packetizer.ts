/**
 * MPEG-2 transport stream packetizing on the process-wide codec instance
 * (ISO/IEC 13818-1 2.4.3.2 - 2.4.3.5): one PES packet into 188-byte transport
 * packets with their headers, continuity counters, adaptation fields (random
 * access, PCR) and stuffing. The WASM side is `wasm/assembly/ts_packet.ts`;
 * its plain-TypeScript twin, run by the same tests, is
 * `test/_util/ts_packetizer_ref.ts`.
 *
 * The PES comes as parts (its header, start codes, NAL units or an ADTS
 * header and a raw frame, all views of the caller's arrays): they are copied
 * once, back to back and right-aligned, into the output region, where
 * `tsPacketize` moves them down in place as the packet headers go in; the
 * packets are sliced out once into a new array the caller owns. So a muxer
 * never concatenates a PES of its own.
 *
 * ## What WASM buys
 *
 * Little, per frame: `deno task bench micro` packs the frames of a ~1 Mbit/s
 * 640x360 H.264 + AAC stream (PES of ~400 B audio, 1 to 60 KB video) at 1,200
 * to 1,700 MB/s through WASM and 1,050 to 1,300 through the twin (best of 7
 * rounds, on a loaded 2-core machine; WASM/TS 0.9 to 1.6). Both are bound by
 * the one array each call returns: allocating it alone runs at ~1,500 MB/s,
 * while the copy in and `tsPacketize` run at ~15,000 MB/s, and packing the
 * same frames into one preallocated array, copy out included, at ~8,500. The
 * twin pays a `subarray()` and a `set()` per 184-byte piece; WASM one `set()`
 * per part in, a `memory.copy` per packet and one `slice()` out. The muxer
 * caches each frame's packets on the frame (one array per frame), so this
 * call shape is the one it needs; the module keeps the path in WASM so that
 * all packing shares one boundary.
 *
 * @module
 */
import { abi, codec } from "./module.ts";

/** 2.4.3.2: a transport packet is 188 bytes. */
export const TS_PACKET_SIZE = 188;
/** The largest PES one call splits, in bytes (the module's TS_MAX_PES_SIZE: its packets fit the output region). */
export const TS_MAX_PES_SIZE: number = (abi as Readonly<Record<string, number>>).TS_MAX_PES_SIZE;
/** 2.4.3.3 Table 2-3: PIDs 0..0x1FFE carry data; 0x1FFF is the null packet. */
export const TS_MAX_PID = 0x1ffe;
/** 2.4.2.2: a PCR is base (33 bits, 90 kHz) * 300 + extension (0..299, 27 MHz): below 2^33 * 300. */
export const PCR_RANGE = 2 ** 33 * 300;

/** How to packetize one PES. */
export interface PesPacketizing {
  /** The packets' PID, 0..0x1FFE. */
  readonly pid: number;
  /**
   * The first packet's continuity_counter, 0..15. Every packet carries
   * payload, so the next PES on the PID starts at (continuity + packets) mod 16.
   */
  readonly continuity: number;
  /** Sets random_access_indicator on the first packet (the PES starts a keyframe). */
  readonly randomAccess?: boolean;
  /** A PCR on the first packet, in 27 MHz units (base * 300 + extension), 0..2^33 * 300 - 1. */
  readonly pcr?: number;
}

/**
 * Throws RangeError for a PES or options the packetizer refuses (shared with
 * the TypeScript twin, so both say the same).
 */
export function checkPacketizing(length: number, opts: PesPacketizing): void {
  if (length < 1 || length > TS_MAX_PES_SIZE) {
    throw new RangeError(`Cannot packetize PES: it is ${length} bytes, allowed 1..${TS_MAX_PES_SIZE}`);
  }
  if (!Number.isInteger(opts.pid) || opts.pid < 0 || opts.pid > TS_MAX_PID) {
    throw new RangeError(
      `Cannot packetize PES: PID must be an integer in 0..${TS_MAX_PID}, current ${opts.pid}`,
    );
  }
  if (!Number.isInteger(opts.continuity) || opts.continuity < 0 || opts.continuity > 15) {
    throw new RangeError(
      `Cannot packetize PES: continuity counter must be an integer in 0..15, current ${opts.continuity}`,
    );
  }
  const pcr = opts.pcr;
  if (pcr !== undefined && (!Number.isInteger(pcr) || pcr < 0 || pcr >= PCR_RANGE)) {
    throw new RangeError(
      `Cannot packetize PES: PCR must be an integer in 0..${PCR_RANGE - 1}, current ${pcr}`,
    );
  }
}

/**
 * The bytes of the packets of a PES of `length` bytes: the first packet holds
 * 184 bytes less its adaptation field (8 with a PCR, 2 with only
 * random_access_indicator), every later one 184.
 */
export function packetsLength(length: number, opts: PesPacketizing): number {
  const first = 184 - (opts.pcr !== undefined ? 8 : opts.randomAccess ? 2 : 0);
  return length <= first ? TS_PACKET_SIZE : TS_PACKET_SIZE * (1 + Math.ceil((length - first) / 184));
}

/**
 * The transport packets of one PES packet given as `parts` (concatenated in
 * order): a multiple of 188 bytes in a new array the caller owns. Misuse
 * (empty or over TS_MAX_PES_SIZE, PID, counter or PCR out of range) throws
 * RangeError.
 */
export function packetizePes(parts: readonly Uint8Array[], opts: PesPacketizing): Uint8Array {
  let length = 0;
  for (const p of parts) length += p.length;
  checkPacketizing(length, opts);
  const total = packetsLength(length, opts);
  const { exports, u8 } = codec();
  const inAt = total - length;
  let o = abi.CODEC_OUT_PTR + inAt;
  for (const p of parts) {
    u8.set(p, o);
    o += p.length;
  }
  const n = exports.tsPacketize(
    inAt,
    length,
    opts.pid,
    opts.continuity,
    opts.randomAccess ? 1 : 0,
    opts.pcr ?? -1,
  ) as number;
  if (n !== total) throw new RangeError(`Cannot packetize PES: status ${n}, expected ${total} bytes`);
  return u8.slice(abi.CODEC_OUT_PTR, abi.CODEC_OUT_PTR + n);
}
