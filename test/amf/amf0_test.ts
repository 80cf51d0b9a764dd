import { assert, assertEquals, assertThrows } from "../_util/assert.ts";
import { Amf0Reader, decodeAmf0, EcmaArray, encodeAmf0, TypedObject } from "../../src/amf/amf0.ts";
import type { AmfValue } from "../../src/amf/value.ts";
import { ProtocolError } from "../../src/errors.ts";
import { amf0BadCases, amf0Cases } from "../fixtures/amf0_fixtures.ts";
import { hex, toHex } from "../fixtures/annotated_hex.ts";
import { expectOnlyProtocolError, mutations, seededRandom, truncations } from "../_util/mutate.ts";

for (const c of amf0Cases) {
  Deno.test(`decodeAmf0() decodes ${c.name}`, () => {
    const decoded = decodeAmf0(hex(c.hex));
    if (c.cyclic) assertEquals(toHex(encodeAmf0(...decoded)), toHex(hex(c.encodesAs ?? c.hex)));
    else assertEquals(decoded, c.values);
  });

  Deno.test(`encodeAmf0() encodes ${c.name}`, () => {
    assertEquals(toHex(encodeAmf0(...c.values)), toHex(hex(c.encodesAs ?? c.hex)));
  });
}

for (const c of amf0BadCases) {
  Deno.test(`decodeAmf0() refuses ${c.name}`, () => {
    const e = assertThrows(() => decodeAmf0(hex(c.hex), c.limits), ProtocolError);
    assertEquals(e.code, c.code);
    assertEquals(e.message, c.message);
  });
}

Deno.test("decodeAmf0() resolves a reference to the same object, not a copy", () => {
  const [a, b] = decodeAmf0(hex(amf0Cases.find((c) => c.name.startsWith("reference"))!.hex));
  assert(a === b);
});

Deno.test("decodeAmf0() turns a self-reference into a JavaScript cycle", () => {
  const [o] = decodeAmf0(hex(`03 00 04 73 65 6c 66 07 00 00 00 00 09`)) as [Record<string, AmfValue>];
  assert(o.self === o);
});

Deno.test("decodeAmf0() keeps a __proto__ key from replacing the prototype", () => {
  const [o] = decodeAmf0(hex(`03 00 09 5f 5f 70 72 6f 74 6f 5f 5f 03 00 01 78 05 00 00 09 00 00 09`));
  assertEquals(Object.getPrototypeOf(o), Object.prototype);
  assert(Object.hasOwn(o as object, "__proto__"));
  assertEquals(({} as Record<string, unknown>).x, undefined);
});

Deno.test("Amf0Reader.read() returns one value at a time and tracks the offset", () => {
  const reader = new Amf0Reader(hex(`02 00 01 61  05  00 3f f0 00 00 00 00 00 00`));
  assertEquals(reader.read(), "a");
  assertEquals(reader.offset, 4);
  assertEquals(reader.read(), null);
  assertEquals(reader.done, false);
  assertEquals(reader.read(), 1);
  assertEquals(reader.done, true);
  assertThrows(() => reader.read(), ProtocolError);
});

Deno.test("Amf0Reader shares one reference table across values", () => {
  const reader = new Amf0Reader(hex(`0a 00 00 00 00  07 00 00`));
  const first = reader.read();
  assert(reader.read() === first);
});

Deno.test("encodeAmf0() switches to a long string past 65535 UTF-8 bytes", () => {
  const atLimit = "x".repeat(65535);
  const over = "é".repeat(32768); // 65536 bytes
  assertEquals(encodeAmf0(atLimit)[0], 0x02);
  const bytes = encodeAmf0(over);
  assertEquals(bytes[0], 0x0c);
  assertEquals(new DataView(bytes.buffer).getUint32(1), 65536);
  assertEquals(decodeAmf0(bytes), [over]);
});

Deno.test("encodeAmf0() writes a repeated array as a reference", () => {
  const inner = [1];
  const bytes = encodeAmf0(new EcmaArray({ a: inner, b: inner }));
  const [decoded] = decodeAmf0(bytes) as [EcmaArray];
  assert(decoded.properties.a === decoded.properties.b);
  assertEquals(bytes.length, 1 + 4 + (3 + 1 + 4 + 9) + (3 + 3) + 3);
});

Deno.test("encodeAmf0() refuses values with no AMF0 form", () => {
  assertThrows(() => encodeAmf0(new Uint8Array(1)), TypeError);
  assertThrows(() => encodeAmf0((() => 1) as unknown as AmfValue), TypeError);
  assertThrows(() => encodeAmf0(1n as unknown as AmfValue), TypeError);
  assertThrows(() => encodeAmf0(new Map() as unknown as AmfValue), TypeError);
  assertThrows(() => encodeAmf0({ ["k".repeat(65536)]: 1 }), RangeError);
});

Deno.test("encodeAmf0() then decodeAmf0() round-trips a connect-like value", () => {
  const values: AmfValue[] = [
    "connect",
    1,
    { app: "live", tcUrl: "rtmp://h/live", fpad: false, capabilities: 15, nested: [new Date(5), null] },
    new TypedObject("Foo", { x: undefined }),
  ];
  assertEquals(decodeAmf0(encodeAmf0(...values)), values);
});

Deno.test("decodeAmf0() throws only ProtocolError on every truncation of every fixture", () => {
  for (const c of [...amf0Cases, ...amf0BadCases]) {
    for (const input of truncations(hex(c.hex))) expectOnlyProtocolError(input, (b) => decodeAmf0(b));
  }
});

Deno.test("decodeAmf0() throws only ProtocolError on random mutations of every fixture", () => {
  const random = seededRandom(0x5eed);
  for (const c of [...amf0Cases, ...amf0BadCases]) {
    for (const input of mutations(hex(c.hex), random, 300)) {
      expectOnlyProtocolError(input, (b) => decodeAmf0(b, { maxStringBytes: 4096 }));
    }
  }
});

Deno.test("decodeAmf0() throws only ProtocolError on random bytes", () => {
  const random = seededRandom(42);
  for (let i = 0; i < 3000; i++) {
    const input = Uint8Array.from({ length: Math.floor(random() * 64) }, () => Math.floor(random() * 20));
    expectOnlyProtocolError(input, (b) => decodeAmf0(b));
  }
});

Deno.test("encodeAmf0() writes ASCII and non-ASCII strings and keys with their UTF-8 byte lengths", () => {
  const utf8 = (s: string) => new TextEncoder().encode(s);
  for (const s of ["", "onStatus", "NetStream.Play.Start", "é", "日本語", "ab\u0080c", "\u007f"]) {
    const bytes = encodeAmf0(s);
    assertEquals(bytes[0], 0x02, `string marker for ${JSON.stringify(s)}`);
    assertEquals((bytes[1] << 8) | bytes[2], utf8(s).length, `length of ${JSON.stringify(s)}`);
    assertEquals(bytes.subarray(3), utf8(s));
    assertEquals(decodeAmf0(bytes), [s]);
    const keyed = encodeAmf0({ [s || "k"]: 1 });
    assertEquals(decodeAmf0(keyed), [{ [s || "k"]: 1 }]);
  }
  const long = "a".repeat(70_000);
  const bytes = encodeAmf0(long, "é".repeat(40_000));
  assertEquals(bytes[0], 0x0c, "long string marker");
  assertEquals(decodeAmf0(bytes), [long, "é".repeat(40_000)]);
});
