/**
 * A bounded big-endian reader over one AMF buffer, shared by the AMF0 and AMF3
 * decoders so that one budget (depth, entries, total values, string bytes)
 * covers a whole message, across any switch from AMF0 into AMF3.
 *
 * Every read checks the bytes left first and every length read from the wire
 * is checked against a limit before it is used; both failures throw
 * {@linkcode ProtocolError} naming what was being read, the value and the
 * limit.
 *
 * @module
 */

import { ProtocolError } from "../errors.ts";

/** Caps on what one decode may build. */
export interface AmfLimits {
  /** Deepest nesting of objects and arrays; a top-level object is depth 1. Default 32. */
  maxDepth: number;
  /** Longest string, long string, XML document or byte array, in bytes. Default 1 MiB. */
  maxStringBytes: number;
  /** Most entries in one object, ECMA array, strict array or AMF3 array/object. Default 65536. */
  maxEntries: number;
  /** Most values decoded from one buffer, nested values and references included. Default 262144. */
  maxValues: number;
}

/**
 * Default limits. Command and data messages are small; the largest real ones
 * are onMetaData with keyframe index arrays (two entries per keyframe), which
 * stay far below these.
 */
export const DEFAULT_AMF_LIMITS: Readonly<AmfLimits> = Object.freeze({
  maxDepth: 32,
  maxStringBytes: 1024 * 1024,
  maxEntries: 65536,
  maxValues: 262144,
});

/** ProtocolError codes the AMF decoders throw. */
export const AmfErrorCode = {
  /** The buffer ended inside a value. */
  Truncated: "amf_truncated",
  /** A length, count or depth went past an {@linkcode AmfLimits} cap. */
  Limit: "amf_limit",
  /** A type marker that is unknown, reserved or out of place. */
  Marker: "amf_marker",
  /** A reference to a table entry that does not exist (or of the wrong kind). */
  Reference: "amf_reference",
  /** A known kind that Sluice does not decode (AMF3 XML, vectors, dictionaries, externalizable objects). */
  Unsupported: "amf_unsupported",
} as const;
export type AmfErrorCode = typeof AmfErrorCode[keyof typeof AmfErrorCode];

const utf8 = new TextDecoder("utf-8", { fatal: false, ignoreBOM: true });

/** Reads one AMF buffer front to back; `pos` only moves forward. */
export class AmfCursor {
  /** The buffer being read; a view, not copied. */
  readonly bytes: Uint8Array;
  /** The caps in force. */
  readonly limits: Readonly<AmfLimits>;
  /** Offset of the next unread byte. */
  pos = 0;
  #view: DataView;
  #depth = 0;
  #values = 0;

  constructor(bytes: Uint8Array, limits?: Partial<AmfLimits>) {
    this.bytes = bytes;
    // A field given as undefined keeps its default: spread alone would replace the cap with undefined,
    // and every comparison against it would be false (no cap at all).
    this.limits = limits === undefined ? DEFAULT_AMF_LIMITS : {
      ...DEFAULT_AMF_LIMITS,
      ...Object.fromEntries(Object.entries(limits).filter(([, v]) => v !== undefined)),
    };
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** Bytes not read yet. */
  get remaining(): number {
    return this.bytes.length - this.pos;
  }

  /** Throws unless `n` more bytes are there; `what` names the field being read. */
  need(n: number, what: string): void {
    if (n > this.remaining) {
      throw new ProtocolError(
        AmfErrorCode.Truncated,
        `Cannot read ${what}: current ${this.remaining} bytes left at offset ${this.pos}, need ${n}`,
      );
    }
  }

  u8(what: string): number {
    this.need(1, what);
    return this.bytes[this.pos++];
  }

  u16(what: string): number {
    this.need(2, what);
    const v = this.#view.getUint16(this.pos);
    this.pos += 2;
    return v;
  }

  i16(what: string): number {
    this.need(2, what);
    const v = this.#view.getInt16(this.pos);
    this.pos += 2;
    return v;
  }

  u32(what: string): number {
    this.need(4, what);
    const v = this.#view.getUint32(this.pos);
    this.pos += 4;
    return v;
  }

  f64(what: string): number {
    this.need(8, what);
    const v = this.#view.getFloat64(this.pos);
    this.pos += 8;
    return v;
  }

  /** A view of the next `n` bytes (valid as long as `bytes` is). */
  take(n: number, what: string): Uint8Array {
    this.need(n, what);
    const out = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /** `n` bytes of UTF-8 (invalid sequences become U+FFFD), after the length cap. */
  utf8(n: number, what: string): string {
    this.checkLength(n, what);
    if (n === 0) return "";
    return utf8.decode(this.take(n, what));
  }

  /** Throws if a wire length `n` for `what` is over the string cap or past the end of the buffer. */
  checkLength(n: number, what: string): void {
    if (n > this.limits.maxStringBytes) {
      throw new ProtocolError(
        AmfErrorCode.Limit,
        `Cannot read ${what}: current length ${n} bytes, limit ${this.limits.maxStringBytes}`,
      );
    }
    this.need(n, what);
  }

  /** Throws if an entry count `n` for `what` is over the entries cap. */
  checkEntries(n: number, what: string): void {
    if (n > this.limits.maxEntries) {
      throw new ProtocolError(
        AmfErrorCode.Limit,
        `Cannot read ${what}: current ${n} entries, limit ${this.limits.maxEntries}`,
      );
    }
  }

  /** Counts one more decoded value against the total cap. */
  countValue(what: string): void {
    if (++this.#values > this.limits.maxValues) {
      throw new ProtocolError(
        AmfErrorCode.Limit,
        `Cannot read ${what}: current value count ${this.#values}, limit ${this.limits.maxValues}`,
      );
    }
  }

  /** Steps one level into a nested value; pair with {@linkcode AmfCursor.leave}. */
  enter(what: string): void {
    if (++this.#depth > this.limits.maxDepth) {
      throw new ProtocolError(
        AmfErrorCode.Limit,
        `Cannot read ${what}: current depth ${this.#depth}, limit ${this.limits.maxDepth}`,
      );
    }
  }

  leave(): void {
    this.#depth--;
  }
}

/** Formats a byte as `0x0d` for error messages. */
export function hexByte(b: number): string {
  return `0x${b.toString(16).padStart(2, "0")}`;
}
