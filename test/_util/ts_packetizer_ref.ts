/**
 * The plain-TypeScript twin of `src/wasm/ts_packetizer.ts` (same API, same
 * checks, same bytes), for differential tests and the bench: it writes each
 * packet's header and adaptation field into the array it returns and copies
 * the PES parts into the payloads piece by piece.
 *
 * @module
 */
import {
  checkPacketizing,
  packetsLength,
  type PesPacketizing,
  TS_MAX_PES_SIZE,
  TS_PACKET_SIZE,
} from "../../src/wasm/ts_packetizer.ts";

export { packetsLength, type PesPacketizing, TS_MAX_PES_SIZE, TS_PACKET_SIZE };

/** 2.4.3.3: sync_byte; payload_unit_start_indicator; adaptation_field_control 01 and 11. */
const SYNC_BYTE = 0x47;
const PUSI = 0x40;
const AFC_PAYLOAD = 0x10;
const AFC_BOTH = 0x30;
/** 2.4.3.4 adaptation field flags. */
const AF_RANDOM_ACCESS = 0x40;
const AF_PCR = 0x10;

/** See `packetizePes` in src/wasm/ts_packetizer.ts. */
export function packetizePes(parts: readonly Uint8Array[], opts: PesPacketizing): Uint8Array {
  let length = 0;
  for (const p of parts) length += p.length;
  checkPacketizing(length, opts);
  const out = new Uint8Array(packetsLength(length, opts));
  const { pid, randomAccess = false, pcr } = opts;
  let part = 0;
  let at = 0; // in parts[part]
  let left = length;
  let cc = opts.continuity;
  let fields = pcr !== undefined ? 8 : randomAccess ? 2 : 0;
  for (let o = 0, start = true; left > 0; o += TS_PACKET_SIZE, start = false) {
    const room = 184 - fields;
    const n = Math.min(room, left);
    const af = fields + room - n;
    out[o] = SYNC_BYTE;
    out[o + 1] = (start ? PUSI : 0) | (pid >> 8);
    out[o + 2] = pid & 0xff;
    out[o + 3] = (af > 0 ? AFC_BOTH : AFC_PAYLOAD) | cc;
    let p = o + 4;
    if (af > 0) {
      out[p] = af - 1;
      if (af > 1) {
        out[p + 1] = (start && randomAccess ? AF_RANDOM_ACCESS : 0) |
          (start && pcr !== undefined ? AF_PCR : 0);
        let q = p + 2;
        if (start && pcr !== undefined) {
          const base = Math.floor(pcr / 300);
          const ext = pcr % 300;
          out[q] = Math.floor(base / 2 ** 25);
          out[q + 1] = Math.floor(base / 2 ** 17) & 0xff;
          out[q + 2] = Math.floor(base / 2 ** 9) & 0xff;
          out[q + 3] = Math.floor(base / 2) & 0xff;
          out[q + 4] = ((base % 2) << 7) | 0x7e | (ext >> 8);
          out[q + 5] = ext & 0xff;
          q += 6;
        }
        out.fill(0xff, q, p + af);
      }
      p += af;
    }
    // The payload: n bytes from the parts, across part boundaries.
    for (let want = n; want > 0;) {
      const src = parts[part];
      const k = Math.min(want, src.length - at);
      if (k > 0) {
        out.set(k === src.length ? src : src.subarray(at, at + k), p);
        p += k;
        at += k;
        want -= k;
      }
      if (at === src.length) {
        part++;
        at = 0;
      }
    }
    left -= n;
    cc = (cc + 1) & 15;
    fields = 0;
  }
  return out;
}
