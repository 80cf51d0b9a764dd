/**
 * The AMF value model: how AMF0 and AMF3 values look in JavaScript, shared by
 * the AMF0 decoder and encoder (`amf0.ts`) and the AMF3 decoder (`amf3.ts`).
 *
 * Plain JavaScript covers most kinds: number, boolean, string, `null`,
 * `undefined`, `Date`, arrays (AMF0 strict array) and plain objects (AMF0
 * anonymous object). Where a JavaScript type would be ambiguous, a small
 * wrapper class keeps the wire kind so that encoding gives back the same bytes:
 * {@linkcode EcmaArray}, {@linkcode TypedObject}, {@linkcode XmlDocument} and
 * {@linkcode Unsupported}. A `Uint8Array` only comes from an AMF3 byte array;
 * AMF0 has no way to write one.
 *
 * @module
 */

/** Any value an AMF decoder returns or the AMF0 encoder takes. */
export type AmfValue =
  | number
  | boolean
  | string
  | null
  | undefined
  | Date
  | AmfObject
  | AmfValue[]
  | EcmaArray
  | TypedObject
  | XmlDocument
  | Unsupported
  | Uint8Array;

/** An anonymous object: string keys in wire order. */
export interface AmfObject {
  [key: string]: AmfValue;
}

/** AMF0 ECMA array (2.10): an associative array, kept apart from an object so it re-encodes as 0x08. */
export class EcmaArray {
  /** The entries in wire order. */
  readonly properties: AmfObject;

  constructor(properties: AmfObject = {}) {
    this.properties = properties;
  }
}

/** AMF0 typed object (2.18) or AMF3 object with a class name: an object plus its registered class alias. */
export class TypedObject {
  /** The class alias, never empty (an empty alias is an anonymous object). */
  readonly className: string;
  /** The members in wire order. */
  readonly properties: AmfObject;

  constructor(className: string, properties: AmfObject = {}) {
    this.className = className;
    this.properties = properties;
  }
}

/** AMF0 XML document (2.17): the XML text, unparsed. */
export class XmlDocument {
  readonly xml: string;

  constructor(xml: string) {
    this.xml = xml;
  }
}

/** AMF0 unsupported (2.15): a value the sender could not serialize. */
export class Unsupported {}

/**
 * Sets `key` on a decoded object without letting a wire key named
 * `__proto__` replace the object's prototype.
 */
export function setProperty(target: AmfObject, key: string, value: AmfValue): void {
  if (key === "__proto__") {
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    target[key] = value;
  }
}
