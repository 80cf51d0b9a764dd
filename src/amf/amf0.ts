/**
 * AMF0 (Action Message Format 0, Adobe AMF0 specification, sections 2.2 to
 * 2.18): decoding with caps on everything read from the wire, and encoding.
 *
 * Values follow the model in `amf_value.ts`. Decoding:
 * - one reference table (2.9) spans a whole buffer, so a reference in a later
 *   value of the same message resolves to an object of an earlier one; objects
 *   enter the table when they start, so self-references become JavaScript
 *   cycles;
 * - a long string (2.14) decodes to a plain string;
 * - the avmplus-object marker (0x11, 3.1) decodes one AMF3 value (`amf3.ts`);
 * - movieclip (0x04) and recordset (0x0E) are reserved and refused.
 *
 * Encoding:
 * - a string over 65535 UTF-8 bytes is written as a long string;
 * - an object, array or wrapper seen again in the same call is written as a
 *   reference, which also makes cyclic values encodable;
 * - `Uint8Array` (an AMF3 byte array) has no AMF0 form and throws TypeError.
 *
 * @module
 */

import { AmfCursor, AmfErrorCode, type AmfLimits, hexByte } from "./cursor.ts";
import {
  type AmfObject,
  type AmfValue,
  EcmaArray,
  setProperty,
  TypedObject,
  Unsupported,
  XmlDocument,
} from "./value.ts";
import { readAmf3Value } from "./amf3.ts";
import { ProtocolError } from "../errors.ts";

export { type AmfLimits, DEFAULT_AMF_LIMITS } from "./cursor.ts";
export { type AmfObject, type AmfValue, EcmaArray, TypedObject, Unsupported, XmlDocument } from "./value.ts";

/** AMF0 type markers (AMF0 spec 2.1, with the section that defines each). */
export const Amf0Marker = {
  /** 2.2: 8-byte big-endian IEEE-754 double. */
  Number: 0x00,
  /** 2.3: one byte, 0 is false. */
  Boolean: 0x01,
  /** 2.4: u16 length + UTF-8. */
  String: 0x02,
  /** 2.5: (UTF-8 key, value)* then an empty key and the object-end marker. */
  Object: 0x03,
  /** 2.6: reserved, not supported. */
  MovieClip: 0x04,
  /** 2.7 */
  Null: 0x05,
  /** 2.8 */
  Undefined: 0x06,
  /** 2.9: u16 index into the table of complex values. */
  Reference: 0x07,
  /** 2.10: u32 associative count, then properties as an object. */
  EcmaArray: 0x08,
  /** 2.11: ends an object, ECMA array or typed object, after an empty key. */
  ObjectEnd: 0x09,
  /** 2.12: u32 count + values. */
  StrictArray: 0x0a,
  /** 2.13: double milliseconds + s16 time zone (reserved, 0). */
  Date: 0x0b,
  /** 2.14: u32 length + UTF-8. */
  LongString: 0x0c,
  /** 2.15 */
  Unsupported: 0x0d,
  /** 2.16: reserved, not supported. */
  RecordSet: 0x0e,
  /** 2.17: u32 length + UTF-8. */
  XmlDocument: 0x0f,
  /** 2.18: UTF-8 class name, then properties as an object. */
  TypedObject: 0x10,
  /** 3.1: the next value is AMF3. */
  AvmPlusObject: 0x11,
} as const;
export type Amf0Marker = typeof Amf0Marker[keyof typeof Amf0Marker];

/** Longest string an AMF0 string (2.4) or key holds; longer ones need a long string (2.14). */
export const AMF0_SHORT_STRING_MAX = 0xffff;

/**
 * Reads AMF0 values one at a time from one buffer, sharing one reference
 * table and one limit budget across them.
 *
 * ```ts
 * const reader = new Amf0Reader(payload);
 * const name = reader.read();
 * while (!reader.done) args.push(reader.read());
 * ```
 */
export class Amf0Reader {
  #cursor: AmfCursor;
  /** Complex values in order of appearance (2.9). */
  #table: AmfValue[] = [];

  /** `bytes` is read in place and not copied; decoded values never alias it. */
  constructor(bytes: Uint8Array, limits?: Partial<AmfLimits>) {
    this.#cursor = new AmfCursor(bytes, limits);
  }

  /** Offset of the next unread byte. */
  get offset(): number {
    return this.#cursor.pos;
  }

  /** True when every byte has been read. */
  get done(): boolean {
    return this.#cursor.remaining === 0;
  }

  /** Reads the next value; throws ProtocolError if it is broken, truncated or over a limit. */
  read(): AmfValue {
    return this.#value();
  }

  #value(): AmfValue {
    const c = this.#cursor;
    const marker = c.u8("AMF0 type marker");
    c.countValue("AMF0 value");
    switch (marker) {
      case Amf0Marker.Number:
        return c.f64("AMF0 number");
      case Amf0Marker.Boolean:
        return c.u8("AMF0 boolean") !== 0;
      case Amf0Marker.String:
        return c.utf8(c.u16("AMF0 string length"), "AMF0 string");
      case Amf0Marker.Object: {
        const properties: AmfObject = {};
        this.#table.push(properties);
        this.#properties(properties, "AMF0 object");
        return properties;
      }
      case Amf0Marker.Null:
        return null;
      case Amf0Marker.Undefined:
        return undefined;
      case Amf0Marker.Reference: {
        const index = c.u16("AMF0 reference");
        if (index >= this.#table.length) {
          throw new ProtocolError(
            AmfErrorCode.Reference,
            `Cannot resolve AMF0 reference: current index ${index}, table has ${this.#table.length}`,
          );
        }
        return this.#table[index];
      }
      case Amf0Marker.EcmaArray: {
        // The associative count is only a hint (encoders often write 0); the end marker decides.
        c.u32("AMF0 ECMA array count");
        const ecma = new EcmaArray();
        this.#table.push(ecma);
        this.#properties(ecma.properties, "AMF0 ECMA array");
        return ecma;
      }
      case Amf0Marker.StrictArray: {
        const count = c.u32("AMF0 strict array count");
        c.checkEntries(count, "AMF0 strict array");
        // Each element takes at least its marker byte: refuse a count the buffer cannot hold.
        c.need(count, "AMF0 strict array elements");
        const array: AmfValue[] = [];
        this.#table.push(array);
        c.enter("AMF0 strict array");
        for (let i = 0; i < count; i++) array.push(this.#value());
        c.leave();
        return array;
      }
      case Amf0Marker.Date: {
        const ms = c.f64("AMF0 date");
        c.i16("AMF0 date time zone"); // Reserved (2.13): should be 0, ignored.
        return new Date(ms);
      }
      case Amf0Marker.LongString:
        return c.utf8(c.u32("AMF0 long string length"), "AMF0 long string");
      case Amf0Marker.Unsupported:
        return new Unsupported();
      case Amf0Marker.XmlDocument:
        return new XmlDocument(c.utf8(c.u32("AMF0 XML document length"), "AMF0 XML document"));
      case Amf0Marker.TypedObject: {
        const className = c.utf8(c.u16("AMF0 class name length"), "AMF0 class name");
        const typed = new TypedObject(className);
        this.#table.push(typed);
        this.#properties(typed.properties, "AMF0 typed object");
        return typed;
      }
      case Amf0Marker.AvmPlusObject:
        return readAmf3Value(c);
      case Amf0Marker.ObjectEnd:
        throw new ProtocolError(
          AmfErrorCode.Marker,
          `Cannot decode AMF0 value: current marker 0x09 (object end) at offset ${
            c.pos - 1
          } is outside an object`,
        );
      case Amf0Marker.MovieClip:
      case Amf0Marker.RecordSet:
        throw new ProtocolError(
          AmfErrorCode.Unsupported,
          `Cannot decode AMF0 value: current marker ${hexByte(marker)} is reserved`,
        );
      default:
        throw new ProtocolError(
          AmfErrorCode.Marker,
          `Cannot decode AMF0 value: current marker ${hexByte(marker)} at offset ${c.pos - 1} is unknown`,
        );
    }
  }

  /** Reads (key, value) pairs up to the empty key + object-end marker (2.5). */
  #properties(target: AmfObject, what: string): void {
    const c = this.#cursor;
    c.enter(what);
    let entries = 0;
    for (;;) {
      const keyLength = c.u16(`${what} key length`);
      if (keyLength === 0 && c.remaining > 0 && c.bytes[c.pos] === Amf0Marker.ObjectEnd) {
        c.pos++;
        break;
      }
      const key = c.utf8(keyLength, `${what} key`);
      c.checkEntries(++entries, what);
      setProperty(target, key, this.#value());
    }
    c.leave();
  }
}

/**
 * Decodes every AMF0 value in `bytes` (one message payload). Throws
 * ProtocolError naming what was truncated, broken or over a limit.
 */
export function decodeAmf0(bytes: Uint8Array, limits?: Partial<AmfLimits>): AmfValue[] {
  const reader = new Amf0Reader(bytes, limits);
  const values: AmfValue[] = [];
  while (!reader.done) values.push(reader.read());
  return values;
}

const encoder = new TextEncoder();

/**
 * `str`'s UTF-8, or undefined when every character is ASCII: then its UTF-8 is its characters, one byte
 * each, which `ByteWriter.text` writes directly. Command names, keys and status strings nearly always are,
 * and skipping a TextEncoder call per string is measurable with hundreds of RTMP joiners a second.
 */
function utf8UnlessAscii(str: string): Uint8Array | undefined {
  for (let i = 0; i < str.length; i++) if (str.charCodeAt(i) > 0x7f) return encoder.encode(str);
  return undefined;
}

/** A growable big-endian byte buffer for the encoder. */
class ByteWriter {
  #buf = new Uint8Array(256);
  #view = new DataView(this.#buf.buffer);
  length = 0;

  #reserve(n: number): void {
    if (this.length + n <= this.#buf.length) return;
    let size = this.#buf.length * 2;
    while (size < this.length + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.#buf.subarray(0, this.length));
    this.#buf = next;
    this.#view = new DataView(next.buffer);
  }

  u8(v: number): void {
    this.#reserve(1);
    this.#buf[this.length++] = v;
  }

  u16(v: number): void {
    this.#reserve(2);
    this.#view.setUint16(this.length, v);
    this.length += 2;
  }

  u32(v: number): void {
    this.#reserve(4);
    this.#view.setUint32(this.length, v);
    this.length += 4;
  }

  f64(v: number): void {
    this.#reserve(8);
    this.#view.setFloat64(this.length, v);
    this.length += 8;
  }

  bytes(b: Uint8Array): void {
    this.#reserve(b.length);
    this.#buf.set(b, this.length);
    this.length += b.length;
  }

  /** `str` as UTF-8: `utf8` when `utf8UnlessAscii` gave it, else its ASCII characters one byte each. */
  text(str: string, utf8: Uint8Array | undefined): void {
    if (utf8) return this.bytes(utf8);
    this.#reserve(str.length);
    const buf = this.#buf;
    let at = this.length;
    for (let i = 0; i < str.length; i++) buf[at++] = str.charCodeAt(i);
    this.length = at;
  }

  /** An owned copy of what was written. */
  finish(): Uint8Array {
    return this.#buf.slice(0, this.length);
  }
}

/** Encodes values one after another, with one reference table for the whole call. */
class Amf0Writer {
  readonly out = new ByteWriter();
  #table = new Map<object, number>();
  #count = 0;

  value(v: AmfValue): void {
    const out = this.out;
    if (v === null) return out.u8(Amf0Marker.Null);
    switch (typeof v) {
      case "undefined":
        return out.u8(Amf0Marker.Undefined);
      case "number":
        out.u8(Amf0Marker.Number);
        return out.f64(v);
      case "boolean":
        out.u8(Amf0Marker.Boolean);
        return out.u8(v ? 1 : 0);
      case "string": {
        const utf8 = utf8UnlessAscii(v);
        const length = utf8?.length ?? v.length;
        if (length > AMF0_SHORT_STRING_MAX) {
          out.u8(Amf0Marker.LongString);
          out.u32(length);
        } else {
          out.u8(Amf0Marker.String);
          out.u16(length);
        }
        return out.text(v, utf8);
      }
      case "object":
        return this.#object(v);
      default:
        throw new TypeError(`Cannot encode AMF0 value: current type ${typeof v} has no AMF0 form`);
    }
  }

  #object(v: object): void {
    const out = this.out;
    if (v instanceof Date) {
      out.u8(Amf0Marker.Date);
      out.f64(v.getTime());
      return out.u16(0);
    }
    if (v instanceof XmlDocument) {
      const utf8 = encoder.encode(v.xml);
      out.u8(Amf0Marker.XmlDocument);
      out.u32(utf8.length);
      return out.bytes(utf8);
    }
    if (v instanceof Unsupported) return out.u8(Amf0Marker.Unsupported);
    if (ArrayBuffer.isView(v)) {
      throw new TypeError(`Cannot encode AMF0 value: current type ${v.constructor.name} has no AMF0 form`);
    }
    // Complex values (2.9): the second sighting is a reference.
    const seen = this.#table.get(v);
    if (seen !== undefined) {
      out.u8(Amf0Marker.Reference);
      return out.u16(seen);
    }
    if (this.#count <= AMF0_SHORT_STRING_MAX) this.#table.set(v, this.#count);
    this.#count++;
    if (Array.isArray(v)) {
      out.u8(Amf0Marker.StrictArray);
      out.u32(v.length);
      for (let i = 0; i < v.length; i++) this.value(v[i]);
      return;
    }
    if (v instanceof EcmaArray) {
      out.u8(Amf0Marker.EcmaArray);
      out.u32(Object.keys(v.properties).length);
      return this.#properties(v.properties);
    }
    if (v instanceof TypedObject) {
      out.u8(Amf0Marker.TypedObject);
      this.#key(v.className);
      return this.#properties(v.properties);
    }
    const proto = Object.getPrototypeOf(v);
    if (proto !== Object.prototype && proto !== null) {
      throw new TypeError(
        `Cannot encode AMF0 value: current type ${v.constructor?.name ?? "unknown"} is not a plain object`,
      );
    }
    out.u8(Amf0Marker.Object);
    this.#properties(v as AmfObject);
  }

  #key(key: string): void {
    const utf8 = utf8UnlessAscii(key);
    const length = utf8?.length ?? key.length;
    if (length > AMF0_SHORT_STRING_MAX) {
      throw new RangeError(
        `Cannot encode AMF0 key: current length ${length} bytes, limit ${AMF0_SHORT_STRING_MAX}`,
      );
    }
    this.out.u16(length);
    this.out.text(key, utf8);
  }

  #properties(properties: AmfObject): void {
    for (const key of Object.keys(properties)) {
      this.#key(key);
      this.value(properties[key]);
    }
    this.out.u16(0);
    this.out.u8(Amf0Marker.ObjectEnd);
  }
}

/**
 * Encodes `values` one after another as AMF0; returns an owned array.
 * Throws TypeError for a value with no AMF0 form (function, symbol, bigint,
 * Uint8Array, class instance) and RangeError for a key over 65535 bytes.
 */
export function encodeAmf0(...values: AmfValue[]): Uint8Array {
  const writer = new Amf0Writer();
  for (const v of values) writer.value(v);
  return writer.out.finish();
}
