/**
 * The plain-TypeScript twin of `src/wasm/flv_pack.ts` (same API, same checks,
 * same bytes), for differential tests and the bench.
 *
 * @module
 */
import type { FlvTagInput, FlvTagType } from "../../src/wasm/flv_pack.ts";

function checkTag(type: number, timestamp: number, size: number): void {
  if (type !== 8 && type !== 9 && type !== 18) {
    throw new RangeError(`Cannot pack FLV tag: type must be 8, 9 or 18, current ${type}`);
  }
  if (!Number.isInteger(timestamp) || timestamp < 0 || timestamp > 0xffffffff) {
    throw new RangeError(
      `Cannot pack FLV tag: timestamp must be an integer in 0..4294967295, current ${timestamp}`,
    );
  }
  if (size > 0xffffff) throw new RangeError(`Cannot pack FLV tag: data is ${size} bytes, limit 16777215`);
}

/** See `flvFileHeader` in src/wasm/flv_pack.ts. */
export function flvFileHeader(flags: { audio: boolean; video: boolean }): Uint8Array {
  const out = new Uint8Array(13);
  out.set([0x46, 0x4c, 0x56, 1, (flags.audio ? 4 : 0) | (flags.video ? 1 : 0), 0, 0, 0, 9]);
  return out;
}

/** Writes the 11-byte header at `o` and the PreviousTagSize after `size` data bytes. */
function wrap(out: Uint8Array, o: number, type: number, timestamp: number, size: number): void {
  out[o] = type;
  out[o + 1] = size >>> 16;
  out[o + 2] = size >>> 8;
  out[o + 3] = size;
  out[o + 4] = timestamp >>> 16;
  out[o + 5] = timestamp >>> 8;
  out[o + 6] = timestamp;
  out[o + 7] = timestamp >>> 24;
  // StreamID (o + 8..10) stays 0.
  const prev = size + 11;
  const t = o + 11 + size;
  out[t] = prev >>> 24;
  out[t + 1] = prev >>> 16;
  out[t + 2] = prev >>> 8;
  out[t + 3] = prev;
}

/** See `packTag` in src/wasm/flv_pack.ts. */
export function packTag(type: FlvTagType, timestamp: number, data: Uint8Array): Uint8Array {
  checkTag(type, timestamp, data.length);
  const out = new Uint8Array(data.length + 15);
  wrap(out, 0, type, timestamp, data.length);
  out.set(data, 11);
  return out;
}

/** See `packTags` in src/wasm/flv_pack.ts. */
export function packTags(tags: readonly FlvTagInput[]): Uint8Array {
  let size = 0;
  for (const t of tags) {
    checkTag(t.type, t.timestamp, t.data.length);
    size += t.data.length + 15;
  }
  const out = new Uint8Array(size);
  let o = 0;
  for (const t of tags) {
    wrap(out, o, t.type, t.timestamp, t.data.length);
    out.set(t.data, o + 11);
    o += t.data.length + 15;
  }
  return out;
}
