/**
 * A bounded writer of ISO base media file format boxes (ISO/IEC 14496-12
 * 4.2): big-endian fields into one array allocated up front, boxes opened and
 * closed around their content (the 32-bit size is patched in on close).
 *
 * The array is allocated once at its final size: callers that know their
 * size (fragments) pass it; callers that do not (init segments) use
 * `BoxWriter.build()`, which runs the same writing code once to count and
 * once to write. Writing past the capacity throws RangeError, and `finish()`
 * checks that exactly the capacity was written, so a size computed apart from
 * the writing code cannot drift from it unnoticed.
 *
 * @module
 */

/** 4.2: `size` (32 bits) and `type` (a four-character code) open every box. */
export const BOX_HEADER_SIZE = 8;
/** 4.2 FullBox: a box header, then `version` (8 bits) and `flags` (24 bits). */
export const FULL_BOX_HEADER_SIZE = 12;
/** A 32-bit box size holds at most this (4.2: larger boxes need `largesize`, never written here). */
const MAX_BOX_SIZE = 0xffffffff;
const TWO_32 = 2 ** 32;

/** Writes boxes into one array of a fixed capacity; with no array, only counts. */
export class BoxWriter {
  #buf: Uint8Array | undefined;
  #view: DataView | undefined;
  #capacity: number;
  #at = 0;

  /** A writer of exactly `capacity` bytes; `undefined` counts bytes without keeping them. */
  constructor(capacity?: number) {
    if (capacity === undefined) {
      this.#capacity = Number.MAX_SAFE_INTEGER;
      return;
    }
    if (!Number.isInteger(capacity) || capacity < 0 || capacity > MAX_BOX_SIZE) {
      throw new RangeError(`Cannot make a box writer: current capacity ${capacity}, limit ${MAX_BOX_SIZE}`);
    }
    this.#capacity = capacity;
    this.#buf = new Uint8Array(capacity);
    this.#view = new DataView(this.#buf.buffer);
  }

  /** Runs `write` once to count and once to write into an array of exactly that size. */
  static build(write: (w: BoxWriter) => void): Uint8Array {
    const counter = new BoxWriter();
    write(counter);
    const w = new BoxWriter(counter.offset);
    write(w);
    return w.finish();
  }

  /** Bytes written (or counted) so far. */
  get offset(): number {
    return this.#at;
  }

  /** Reserves `n` bytes and returns where they start. */
  #take(n: number): number {
    const at = this.#at;
    if (at + n > this.#capacity) {
      throw new RangeError(
        `Cannot write ${n} bytes at offset ${at}: current capacity ${this.#capacity} bytes`,
      );
    }
    this.#at = at + n;
    return at;
  }

  u8(v: number): this {
    const at = this.#take(1);
    this.#view?.setUint8(at, v);
    return this;
  }

  u16(v: number): this {
    const at = this.#take(2);
    this.#view?.setUint16(at, v);
    return this;
  }

  i16(v: number): this {
    const at = this.#take(2);
    this.#view?.setInt16(at, v);
    return this;
  }

  u24(v: number): this {
    const at = this.#take(3);
    this.#view?.setUint8(at, v >>> 16);
    this.#view?.setUint16(at + 1, v & 0xffff);
    return this;
  }

  u32(v: number): this {
    const at = this.#take(4);
    this.#view?.setUint32(at, v);
    return this;
  }

  i32(v: number): this {
    const at = this.#take(4);
    this.#view?.setInt32(at, v);
    return this;
  }

  /** An unsigned 64-bit field from a non-negative safe integer. */
  u64(v: number): this {
    if (!Number.isSafeInteger(v) || v < 0) {
      throw new RangeError(
        `Cannot write a 64-bit field: current value ${v}, limit ${Number.MAX_SAFE_INTEGER}`,
      );
    }
    const at = this.#take(8);
    this.#view?.setUint32(at, Math.floor(v / TWO_32));
    this.#view?.setUint32(at + 4, v % TWO_32);
    return this;
  }

  /** A four-character code (4.2 `type`, brands, handler types): four ASCII characters. */
  fourCc(code: string): this {
    if (code.length !== 4 || !/^[\x20-\x7e]{4}$/.test(code)) {
      throw new RangeError(`Cannot write a four-character code: current "${code}"`);
    }
    const at = this.#take(4);
    const buf = this.#buf;
    if (buf) { for (let i = 0; i < 4; i++) buf[at + i] = code.charCodeAt(i); }
    return this;
  }

  bytes(data: Uint8Array): this {
    const at = this.#take(data.length);
    this.#buf?.set(data, at);
    return this;
  }

  /** `n` zero bytes (reserved fields). */
  zeros(n: number): this {
    this.#take(n); // a new array is zero-filled
    return this;
  }

  /** Opens a box: writes a placeholder size and `type`; returns the box start for `close()`. */
  open(type: string): number {
    const start = this.#at;
    this.u32(0).fourCc(type);
    return start;
  }

  /** Opens a FullBox (4.2): box header, `version`, 24-bit `flags`. */
  openFull(type: string, version: number, flags: number): number {
    const start = this.open(type);
    this.u8(version).u24(flags);
    return start;
  }

  /** Closes the box opened at `start`: its size is everything written since. */
  close(start: number): this {
    this.#view?.setUint32(start, this.#at - start);
    return this;
  }

  /** The written array (the caller owns it). Throws Error when fewer bytes than the capacity were written. */
  finish(): Uint8Array {
    if (!this.#buf) throw new TypeError("Cannot finish a counting box writer: current mode counts only");
    if (this.#at !== this.#capacity) {
      throw new Error(`Cannot finish boxes: current size ${this.#at} bytes, expected ${this.#capacity}`);
    }
    return this.#buf;
  }
}
