/**
 * The AMF value model: the wrapper classes keep their wire kind and contents,
 * and setProperty() stores a wire key named `__proto__` as plain data instead
 * of letting it replace an object's prototype.
 */
import {
  type AmfObject,
  EcmaArray,
  setProperty,
  TypedObject,
  Unsupported,
  XmlDocument,
} from "../../src/amf/value.ts";
import { assert, assertEquals, assertNotEquals, assertStrictEquals } from "../_util/assert.ts";

Deno.test("EcmaArray keeps its entries in wire order and is told apart from a plain object", () => {
  const a = new EcmaArray({ duration: 12.5, width: 1280, "0": "first" });
  assertEquals(a.properties.duration, 12.5);
  assertEquals(a.properties.width, 1280);
  assert(a instanceof EcmaArray);
  assertNotEquals<unknown>(a, { duration: 12.5, width: 1280, "0": "first" });
});

Deno.test("EcmaArray and TypedObject without properties each get an empty object of their own", () => {
  const a = new EcmaArray(), b = new EcmaArray();
  assertEquals(a.properties, {});
  a.properties.x = 1;
  assertEquals(b.properties, {}, "a default object is not shared between instances");
  const t = new TypedObject("flex.messaging.io.ArrayCollection"), u = new TypedObject("Other");
  t.properties.y = 2;
  assertEquals(u.properties, {});
});

Deno.test("TypedObject keeps its class alias and members; another alias makes a different value", () => {
  const t = new TypedObject("com.example.Point", { x: 1, y: 2 });
  assertEquals(t.className, "com.example.Point");
  assertEquals(t.properties, { x: 1, y: 2 });
  assertEquals(t, new TypedObject("com.example.Point", { x: 1, y: 2 }));
  assertNotEquals(t, new TypedObject("com.example.Vector", { x: 1, y: 2 }));
});

Deno.test("XmlDocument keeps the XML text as given, unparsed", () => {
  const text = "<a b='1'>&amp;</a>";
  assertStrictEquals(new XmlDocument(text).xml, text);
});

Deno.test("Unsupported is a marker value with no fields", () => {
  const u = new Unsupported();
  assert(u instanceof Unsupported);
  assertEquals(Object.keys(u), []);
});

Deno.test("setProperty() sets ordinary keys in the order they arrive", () => {
  const o: AmfObject = {};
  setProperty(o, "level", "status");
  setProperty(o, "code", "NetConnection.Connect.Success");
  setProperty(o, "level", "error");
  assertEquals(Object.keys(o), ["level", "code"]);
  assertEquals(o.level, "error", "a repeated key keeps its first place and takes the last value");
});

Deno.test("setProperty() stores a __proto__ key as an own enumerable property and leaves the prototype alone", () => {
  const o: AmfObject = {};
  const evil: AmfObject = { polluted: true };
  setProperty(o, "a", 1);
  setProperty(o, "__proto__", evil);
  setProperty(o, "b", 2);
  assertStrictEquals(Object.getPrototypeOf(o), Object.prototype);
  assert(Object.hasOwn(o, "__proto__"));
  assertEquals(Object.keys(o), ["a", "__proto__", "b"]);
  assertStrictEquals(Object.getOwnPropertyDescriptor(o, "__proto__")?.value, evil);
  assertEquals((o as Record<string, unknown>).polluted, undefined, "nothing inherited from the wire value");
  assertEquals(({} as Record<string, unknown>).polluted, undefined, "Object.prototype untouched");
  assertEquals(JSON.stringify(o), '{"a":1,"__proto__":{"polluted":true},"b":2}');
});

Deno.test("setProperty() lets a second __proto__ key replace the first, as any repeated key does", () => {
  const o: AmfObject = {};
  setProperty(o, "__proto__", "first");
  setProperty(o, "__proto__", "second");
  assertStrictEquals(Object.getOwnPropertyDescriptor(o, "__proto__")?.value, "second");
  assertStrictEquals(Object.getPrototypeOf(o), Object.prototype);
});
