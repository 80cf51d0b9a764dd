/**
 * AMF3 decoding for the one place RTMP meets it: inside AMF0, the
 * avmplus-object marker (0x11, AMF0 spec 3.1) switches one value to AMF3.
 * Clients that connect with `objectEncoding: 3` send their commands as type 17
 * (or data as type 15) messages whose values are AMF0, and any of those values
 * may be such a switch. Unwrapping the type 17/15 payload itself is in
 * `command.ts` (`unwrapAmf3Payload`).
 *
 * This is a bounded decoder for the common subset (AMF 3 spec, January 2013,
 * section 3): undefined, null, false, true, integer, double, string (with the
 * string reference table), date, array (dense and associative), object with
 * traits (sealed and dynamic members, traits references) and byte array. XML,
 * externalizable objects, vectors and dictionaries are refused with a
 * ProtocolError: no RTMP peer Sluice talks to sends them in commands.
 *
 * Values map onto the shared model of `amf_value.ts`: integers and doubles
 * become numbers; a dense-only array becomes a JavaScript array and an array
 * with associative entries an {@linkcode EcmaArray} (dense entries keyed "0",
 * "1", ...); an object without a class name becomes a plain object and one with
 * a class name a {@linkcode TypedObject}; a byte array becomes an owned
 * `Uint8Array`.
 *
 * Reference tables (strings, objects, traits) are fresh for each switch: each
 * 0x11 value is decoded as its own AMF3 context. Reference cycles are kept as
 * JavaScript cycles.
 *
 * @module
 */

import { AmfCursor, AmfErrorCode, hexByte } from "./cursor.ts";
import { type AmfObject, type AmfValue, EcmaArray, setProperty, TypedObject } from "./value.ts";
import { ProtocolError } from "../errors.ts";

/** AMF3 type markers (AMF 3 spec, section 3.1, with the section that defines each). */
export const Amf3Marker = {
  /** 3.2 */
  Undefined: 0x00,
  /** 3.3 */
  Null: 0x01,
  /** 3.4 */
  False: 0x02,
  /** 3.5 */
  True: 0x03,
  /** 3.6: U29 signed 29-bit integer. */
  Integer: 0x04,
  /** 3.7: 8-byte IEEE-754 double. */
  Double: 0x05,
  /** 3.8: UTF-8-vr. */
  String: 0x06,
  /** 3.9: legacy XMLDocument; refused. */
  XmlDocument: 0x07,
  /** 3.10: U29D-value + double milliseconds. */
  Date: 0x08,
  /** 3.11: dense count, associative part, dense part. */
  Array: 0x09,
  /** 3.12: traits, sealed members, dynamic members. */
  Object: 0x0a,
  /** 3.13: E4X XML; refused. */
  Xml: 0x0b,
  /** 3.14: U29B-value + raw bytes. */
  ByteArray: 0x0c,
  /** 3.15: Vector.<int>; refused. */
  VectorInt: 0x0d,
  /** 3.15: Vector.<uint>; refused. */
  VectorUint: 0x0e,
  /** 3.15: Vector.<Number>; refused. */
  VectorDouble: 0x0f,
  /** 3.15: Vector.<Object>; refused. */
  VectorObject: 0x10,
  /** 3.16: Dictionary; refused. */
  Dictionary: 0x11,
} as const;
export type Amf3Marker = typeof Amf3Marker[keyof typeof Amf3Marker];

const markerName: Record<number, string> = Object.fromEntries(
  Object.entries(Amf3Marker).map(([name, marker]) => [marker, name]),
);

interface Traits {
  className: string;
  dynamic: boolean;
  sealed: string[];
}

/** One AMF3 serialization context: the three reference tables. */
class Amf3Context {
  readonly strings: string[] = [];
  readonly objects: AmfValue[] = [];
  readonly traits: Traits[] = [];
}

/**
 * Reads one AMF3 value at the cursor (the byte after an AMF0 0x11 marker), in
 * a fresh AMF3 context. Throws ProtocolError on truncation, a broken
 * reference, a limit, or a kind this decoder refuses.
 */
export function readAmf3Value(cursor: AmfCursor): AmfValue {
  return readValue(cursor, new Amf3Context());
}

/** Reads a U29 (AMF 3 spec 1.3.1): 1 to 4 bytes, 7 bits each, the fourth byte all 8 bits. */
function readU29(cursor: AmfCursor, what: string): number {
  let value = 0;
  for (let i = 0; i < 3; i++) {
    const b = cursor.u8(what);
    value = (value << 7) | (b & 0x7f);
    if ((b & 0x80) === 0) return value;
  }
  return ((value << 8) | cursor.u8(what)) >>> 0;
}

function readValue(cursor: AmfCursor, ctx: Amf3Context): AmfValue {
  const marker = cursor.u8("AMF3 type marker");
  cursor.countValue("AMF3 value");
  switch (marker) {
    case Amf3Marker.Undefined:
      return undefined;
    case Amf3Marker.Null:
      return null;
    case Amf3Marker.False:
      return false;
    case Amf3Marker.True:
      return true;
    case Amf3Marker.Integer: {
      const u = readU29(cursor, "AMF3 integer");
      // Sign-extend the 29-bit value.
      return (u & 0x10000000) !== 0 ? u - 0x20000000 : u;
    }
    case Amf3Marker.Double:
      return cursor.f64("AMF3 double");
    case Amf3Marker.String:
      return readString(cursor, ctx, "AMF3 string");
    case Amf3Marker.Date:
      return readDate(cursor, ctx);
    case Amf3Marker.Array:
      return readArray(cursor, ctx);
    case Amf3Marker.Object:
      return readObject(cursor, ctx);
    case Amf3Marker.ByteArray:
      return readByteArray(cursor, ctx);
    case Amf3Marker.XmlDocument:
    case Amf3Marker.Xml:
    case Amf3Marker.VectorInt:
    case Amf3Marker.VectorUint:
    case Amf3Marker.VectorDouble:
    case Amf3Marker.VectorObject:
    case Amf3Marker.Dictionary:
      throw new ProtocolError(
        AmfErrorCode.Unsupported,
        `Cannot decode AMF3 ${markerName[marker]}: current marker ${hexByte(marker)} is not supported`,
      );
    default:
      throw new ProtocolError(
        AmfErrorCode.Marker,
        `Cannot decode AMF3 value: current marker ${hexByte(marker)} at offset ${cursor.pos - 1} is unknown`,
      );
  }
}

/** UTF-8-vr (1.3.2, 3.8): a string reference or an inline string; empty strings are never referenced. */
function readString(cursor: AmfCursor, ctx: Amf3Context, what: string): string {
  const header = readU29(cursor, `${what} header`);
  if ((header & 1) === 0) {
    return lookup(ctx.strings, header >>> 1, `${what} reference`);
  }
  const length = header >>> 1;
  const s = cursor.utf8(length, what);
  if (length > 0) ctx.strings.push(s);
  return s;
}

function lookup<T>(table: T[], index: number, what: string): T {
  if (index >= table.length) {
    throw new ProtocolError(
      AmfErrorCode.Reference,
      `Cannot resolve ${what}: current index ${index}, table has ${table.length}`,
    );
  }
  return table[index];
}

function readDate(cursor: AmfCursor, ctx: Amf3Context): AmfValue {
  const header = readU29(cursor, "AMF3 date header");
  if ((header & 1) === 0) {
    const ref = lookup(ctx.objects, header >>> 1, "AMF3 date reference");
    if (!(ref instanceof Date)) {
      throw new ProtocolError(
        AmfErrorCode.Reference,
        `Cannot resolve AMF3 date reference: current index ${header >>> 1} is not a date`,
      );
    }
    return ref;
  }
  const date = new Date(cursor.f64("AMF3 date"));
  ctx.objects.push(date);
  return date;
}

function readByteArray(cursor: AmfCursor, ctx: Amf3Context): AmfValue {
  const header = readU29(cursor, "AMF3 byte array header");
  if ((header & 1) === 0) return lookup(ctx.objects, header >>> 1, "AMF3 byte array reference");
  const length = header >>> 1;
  cursor.checkLength(length, "AMF3 byte array");
  // Owned copy: the decoded value outlives the message buffer.
  const bytes = cursor.take(length, "AMF3 byte array").slice();
  ctx.objects.push(bytes);
  return bytes;
}

function readArray(cursor: AmfCursor, ctx: Amf3Context): AmfValue {
  const header = readU29(cursor, "AMF3 array header");
  if ((header & 1) === 0) return lookup(ctx.objects, header >>> 1, "AMF3 array reference");
  const denseCount = header >>> 1;
  cursor.checkEntries(denseCount, "AMF3 array");
  // Each dense entry takes at least one byte.
  cursor.need(denseCount, "AMF3 array dense part");
  cursor.enter("AMF3 array");
  const firstKey = readString(cursor, ctx, "AMF3 array key");
  if (firstKey === "") {
    const array: AmfValue[] = [];
    ctx.objects.push(array);
    for (let i = 0; i < denseCount; i++) array.push(readValue(cursor, ctx));
    cursor.leave();
    return array;
  }
  const properties: AmfObject = {};
  const ecma = new EcmaArray(properties);
  ctx.objects.push(ecma);
  let entries = denseCount;
  for (let key = firstKey; key !== ""; key = readString(cursor, ctx, "AMF3 array key")) {
    cursor.checkEntries(++entries, "AMF3 array");
    setProperty(properties, key, readValue(cursor, ctx));
  }
  for (let i = 0; i < denseCount; i++) setProperty(properties, String(i), readValue(cursor, ctx));
  cursor.leave();
  return ecma;
}

function readObject(cursor: AmfCursor, ctx: Amf3Context): AmfValue {
  const header = readU29(cursor, "AMF3 object header");
  if ((header & 1) === 0) return lookup(ctx.objects, header >>> 1, "AMF3 object reference");
  let traits: Traits;
  if ((header & 2) === 0) {
    traits = lookup(ctx.traits, header >>> 2, "AMF3 traits reference");
  } else if ((header & 4) !== 0) {
    const className = readString(cursor, ctx, "AMF3 externalizable class name");
    throw new ProtocolError(
      AmfErrorCode.Unsupported,
      `Cannot decode AMF3 externalizable object: current class ${JSON.stringify(className)} is not supported`,
    );
  } else {
    const dynamic = (header & 8) !== 0;
    const sealedCount = header >>> 4;
    cursor.checkEntries(sealedCount, "AMF3 object traits");
    const className = readString(cursor, ctx, "AMF3 class name");
    const sealed: string[] = [];
    for (let i = 0; i < sealedCount; i++) sealed.push(readString(cursor, ctx, "AMF3 sealed member name"));
    traits = { className, dynamic, sealed };
    ctx.traits.push(traits);
  }
  cursor.enter("AMF3 object");
  const properties: AmfObject = {};
  const object = traits.className === "" ? properties : new TypedObject(traits.className, properties);
  ctx.objects.push(object);
  for (const name of traits.sealed) setProperty(properties, name, readValue(cursor, ctx));
  if (traits.dynamic) {
    let entries = traits.sealed.length;
    for (
      let key = readString(cursor, ctx, "AMF3 dynamic member name");
      key !== "";
      key = readString(cursor, ctx, "AMF3 dynamic member name")
    ) {
      cursor.checkEntries(++entries, "AMF3 object");
      setProperty(properties, key, readValue(cursor, ctx));
    }
  }
  cursor.leave();
  return object;
}
