/**
 * AccessUnitSplitter: an H.264 Annex B byte stream (ITU-T H.264 Annex B), fed
 * in pieces of any size, into access units: the NAL units of one picture. A
 * raw `.h264` file has no container to say where a picture ends, so the
 * boundaries come from the NAL units themselves (7.4.1.2.3): after the last
 * coded slice of a picture, a new access unit starts at the first
 *
 * - access unit delimiter, SPS, PPS or SEI NAL unit (or types 14 to 18), or
 * - coded slice whose `first_mb_in_slice` is 0 (the first slice of the next
 *   picture; further slices of the same picture start later in it).
 *
 * NAL units are found by `scanAnnexB` (WASM). Bytes in, access units out; no
 * file or socket.
 *
 * @module
 */
import { ProtocolError } from "../errors.ts";
import { NalUnitType, nalUnitType } from "../media/avc.ts";
import { scanAnnexB } from "../wasm/nal.ts";
import { RbspReader } from "../media/rbsp.ts";
import { concatBytes } from "../bytes.ts";

/** One access unit. */
export interface AccessUnit {
  /** Its NAL units in Annex B form, each behind a 4-byte start code; a new array the caller owns. */
  readonly annexB: Uint8Array;
  /** nal_unit_type of each NAL unit, in order. */
  readonly nalTypes: readonly number[];
  /** It holds a coded slice: a picture (an access unit without one only carries parameter sets or SEI). */
  readonly picture: boolean;
  /** It holds an IDR slice: a random access point. */
  readonly idr: boolean;
  /** The SPS NAL units it carries, header byte included (views into `annexB`). */
  readonly sps: readonly Uint8Array[];
  /** The PPS NAL units it carries (views into `annexB`). */
  readonly pps: readonly Uint8Array[];
}

/** Options for `AccessUnitSplitter`. */
export interface AccessUnitSplitterOptions {
  /** Largest NAL unit, and largest access unit, in bytes. Default 8 MiB (the WASM codec input is 9 MiB). */
  readonly maxBytes?: number;
}

const DEFAULT_MAX_BYTES = 8 * 1024 * 1024;
/** Input is scanned at most this much at a time, so pending bytes plus a slice fit the codec input region. */
const SLICE_BYTES = 1024 * 1024;
/** 00 00 01: the start code's last three bytes (Annex B.1.1); a 4-byte one has one more zero before. */
const START_CODE_3 = 3;
const START_CODE_4 = new Uint8Array([0, 0, 0, 1]);

/** nal_unit_type values that start a new access unit when they follow a picture's slices (7.4.1.2.3). */
const STARTS_ACCESS_UNIT: ReadonlySet<number> = new Set([
  NalUnitType.Aud,
  NalUnitType.Sps,
  NalUnitType.Pps,
  NalUnitType.Sei,
  NalUnitType.Prefix, // 14
  NalUnitType.SubsetSps, // 15
  NalUnitType.DepthParameterSet, // 16
  17, // reserved
  18, // reserved
]);

/** Coded slices of a primary picture: those carry `first_mb_in_slice` first in their slice header. */
function isPrimarySlice(type: number): boolean {
  return type === NalUnitType.Slice || type === NalUnitType.SliceDataA || type === NalUnitType.Idr;
}

/**
 * first_mb_in_slice, the first syntax element of a slice header (7.3.3): a
 * ue(v) Exp-Golomb code (9.1) right after the NAL unit header byte, read from
 * the RBSP (an emulation prevention byte, 00 00 03, loses its 03).
 */
export function firstMbInSlice(nal: Uint8Array): number {
  // A ue(v) of up to 32 bits takes at most 65 bits: 9 RBSP bytes.
  return new RbspReader(
    nal,
    1,
    9,
    (what) => new ProtocolError("annexb", `Cannot read first_mb_in_slice: ${what}`),
  ).ue();
}

/**
 * Splits an Annex B byte stream into access units as the bytes arrive. An
 * access unit comes out once the first NAL unit of the next one is complete,
 * so the last comes out of `end()`.
 *
 * ```ts
 * const splitter = new AccessUnitSplitter();
 * for await (const piece of file) for (const au of splitter.push(piece)) handle(au);
 * for (const au of splitter.end()) handle(au);
 * ```
 *
 * A NAL unit or access unit over `maxBytes` throws ProtocolError (code "annexb").
 */
export class AccessUnitSplitter {
  readonly #maxBytes: number;
  /** Bytes from the start code of the last NAL unit seen, which more bytes may still extend. */
  #pending = new Uint8Array(0);
  /** The current access unit's NAL units (owned copies). */
  #nals: Uint8Array[] = [];
  #bytes = 0;
  #hasSlice = false;

  constructor(options: AccessUnitSplitterOptions = {}) {
    const max = options.maxBytes ?? DEFAULT_MAX_BYTES;
    if (!Number.isInteger(max) || max < 1 || max > DEFAULT_MAX_BYTES) {
      throw new RangeError(
        `Cannot create AccessUnitSplitter: maxBytes must be an integer in 1..${DEFAULT_MAX_BYTES}, current ${max}`,
      );
    }
    this.#maxBytes = max;
  }

  /** Feeds the next piece of the stream; returns the access units it completes, in order. */
  push(bytes: Uint8Array): AccessUnit[] {
    const out: AccessUnit[] = [];
    for (let at = 0; at < bytes.length; at += SLICE_BYTES) {
      this.#scan(bytes.subarray(at, at + SLICE_BYTES), false, out);
    }
    return out;
  }

  /** Says the stream is over: returns the access units still held (the last NAL unit is now complete). */
  end(): AccessUnit[] {
    const out: AccessUnit[] = [];
    this.#scan(new Uint8Array(0), true, out);
    if (this.#nals.length > 0) out.push(this.#flush());
    return out;
  }

  #scan(bytes: Uint8Array, final: boolean, out: AccessUnit[]): void {
    const buf = this.#pending.length === 0 ? bytes : concatBytes([this.#pending, bytes]);
    const spans = scanAnnexB(buf);
    // Unless the stream is over, the last NAL unit may go on in the next piece: keep it back.
    const complete = final ? spans.length : spans.length - 1;
    for (let i = 0; i < complete; i++) {
      const s = spans[i];
      this.#nal(buf.subarray(s.offset, s.offset + s.length), out);
    }
    if (final) {
      this.#pending = new Uint8Array(0);
      return;
    }
    // Keep from the last start code on (no start code yet: keep it all, it may end in part of one).
    const from = spans.length > 0 ? spans[spans.length - 1].offset - START_CODE_3 : 0;
    this.#pending = buf.slice(from);
    if (this.#pending.length > this.#maxBytes + START_CODE_3) {
      throw new ProtocolError(
        "annexb",
        spans.length > 0
          ? `Cannot split Annex B stream: a NAL unit is over ${this.#maxBytes} bytes, limit ${this.#maxBytes}`
          : `Cannot split Annex B stream: no start code in its first ${this.#pending.length} bytes`,
      );
    }
  }

  #nal(nal: Uint8Array, out: AccessUnit[]): void {
    const type = nalUnitType(nal[0]);
    if (this.#hasSlice) {
      const next = STARTS_ACCESS_UNIT.has(type) || (isPrimarySlice(type) && firstMbInSlice(nal) === 0);
      if (next) out.push(this.#flush());
    }
    if (this.#bytes + START_CODE_4.length + nal.length > this.#maxBytes) {
      throw new ProtocolError(
        "annexb",
        `Cannot split Annex B stream: an access unit is over ${this.#maxBytes} bytes, limit ${this.#maxBytes}`,
      );
    }
    this.#nals.push(nal.slice());
    this.#bytes += START_CODE_4.length + nal.length;
    if (isPrimarySlice(type)) this.#hasSlice = true;
  }

  #flush(): AccessUnit {
    const annexB = new Uint8Array(this.#bytes);
    const nalTypes: number[] = [];
    const sps: Uint8Array[] = [];
    const pps: Uint8Array[] = [];
    let idr = false;
    let o = 0;
    for (const nal of this.#nals) {
      annexB.set(START_CODE_4, o);
      annexB.set(nal, o + START_CODE_4.length);
      const view = annexB.subarray(o + START_CODE_4.length, o + START_CODE_4.length + nal.length);
      o += START_CODE_4.length + nal.length;
      const type = nalUnitType(nal[0]);
      nalTypes.push(type);
      if (type === NalUnitType.Idr) idr = true;
      else if (type === NalUnitType.Sps) sps.push(view);
      else if (type === NalUnitType.Pps) pps.push(view);
    }
    const au: AccessUnit = { annexB, nalTypes, picture: this.#hasSlice, idr, sps, pps };
    this.#nals = [];
    this.#bytes = 0;
    this.#hasSlice = false;
    return au;
  }
}
