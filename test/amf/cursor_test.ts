/**
 * AmfCursor: big-endian reads that check the bytes left first, wire lengths
 * and counts checked against the AmfLimits caps, and the ProtocolError each
 * failure throws (code, what was read, the value and the limit).
 */
import { AmfCursor, AmfErrorCode, DEFAULT_AMF_LIMITS, hexByte } from "../../src/amf/cursor.ts";
import { ProtocolError } from "../../src/errors.ts";
import { assert, assertEquals, assertStrictEquals, assertThrows } from "../_util/assert.ts";
import { hex } from "../fixtures/annotated_hex.ts";

/** Asserts that `fn` throws a ProtocolError with `code` and exactly `message`; returns it. */
function assertProtocolError(fn: () => unknown, code: AmfErrorCode, message: string): ProtocolError {
  const e = assertThrows(fn, ProtocolError);
  assertEquals(e.code, code, "code");
  assertEquals(e.message, message, "message");
  return e;
}

Deno.test("AmfCursor reads u8, u16, i16, u32 and f64 big-endian and moves pos past each", () => {
  const c = new AmfCursor(hex(`
    7f                            # u8 127
    01 02                         # u16 0x0102
    ff fe                         # i16 -2
    de ad be ef                   # u32 0xdeadbeef (above 2^31: stays unsigned)
    40 09 21 fb 54 44 2d 18       # f64 pi (IEEE 754 binary64)
  `));
  assertEquals(c.remaining, 17);
  assertEquals(c.u8("a"), 0x7f);
  assertEquals(c.pos, 1);
  assertEquals(c.u16("b"), 0x0102);
  assertEquals(c.pos, 3);
  assertEquals(c.i16("c"), -2);
  assertEquals(c.pos, 5);
  assertEquals(c.u32("d"), 0xdeadbeef);
  assertEquals(c.pos, 9);
  assertEquals(c.f64("e"), Math.PI);
  assertEquals(c.pos, 17);
  assertEquals(c.remaining, 0);
});

Deno.test("AmfCursor reads a subarray from its own first byte, not from the start of the underlying buffer", () => {
  const whole = hex(`
    aa bb                         # bytes before the view
    00 2a                         # u16 42: the view starts here
    cc                            # a byte after the view
  `);
  const c = new AmfCursor(whole.subarray(2, 4));
  assertEquals(c.remaining, 2);
  assertEquals(c.u16("number"), 42);
  assertProtocolError(
    () => c.u8("marker"),
    AmfErrorCode.Truncated,
    "Cannot read marker: current 0 bytes left at offset 2, need 1",
  );
});

Deno.test("AmfCursor.u32() past the end throws amf_truncated naming the field, the bytes left, the offset and the need", () => {
  const c = new AmfCursor(hex(`
    01                            # u8
    00 00 00                      # only 3 of a u32's 4 bytes
  `));
  c.u8("marker");
  assertProtocolError(
    () => c.u32("the reference count"),
    AmfErrorCode.Truncated,
    "Cannot read the reference count: current 3 bytes left at offset 1, need 4",
  );
  assertEquals(c.pos, 1, "a failed read does not move pos");
  assertEquals(c.remaining, 3);
});

Deno.test("AmfCursor reads of each width throw amf_truncated on an empty buffer", () => {
  const reads: [string, (c: AmfCursor) => unknown, number][] = [
    ["u8", (c) => c.u8("x"), 1],
    ["u16", (c) => c.u16("x"), 2],
    ["i16", (c) => c.i16("x"), 2],
    ["u32", (c) => c.u32("x"), 4],
    ["f64", (c) => c.f64("x"), 8],
    ["take", (c) => c.take(5, "x"), 5],
  ];
  for (const [name, read, need] of reads) {
    const c = new AmfCursor(new Uint8Array(0));
    const e = assertProtocolError(
      () => read(c),
      AmfErrorCode.Truncated,
      `Cannot read x: current 0 bytes left at offset 0, need ${need}`,
    );
    assertEquals(e.detail, e.message, `${name}: detail is the message`);
  }
});

Deno.test("AmfCursor.need() passes for exactly the bytes left and throws for one more", () => {
  const c = new AmfCursor(new Uint8Array(3));
  c.need(3, "three bytes");
  c.need(0, "nothing");
  assertProtocolError(
    () => c.need(4, "four bytes"),
    AmfErrorCode.Truncated,
    "Cannot read four bytes: current 3 bytes left at offset 0, need 4",
  );
});

Deno.test("AmfCursor.take() returns a view of the buffer, not a copy, and moves pos", () => {
  const bytes = hex(`
    01 02 03                      # taken
    04                            # left
  `);
  const c = new AmfCursor(bytes);
  const view = c.take(3, "byte array");
  assertEquals(view, Uint8Array.of(1, 2, 3));
  assertStrictEquals(view.buffer, bytes.buffer);
  bytes[0] = 0x99;
  assertEquals(view[0], 0x99, "a write to the buffer shows through the view");
  assertEquals(c.pos, 3);
  assertEquals(c.u8("last"), 4);
});

Deno.test("AmfCursor.utf8() decodes UTF-8 and turns invalid sequences into U+FFFD", () => {
  const c = new AmfCursor(hex(`
    68 c3 a9                      # "hé": h, then é as two bytes
    ff 41                         # 0xff is never valid UTF-8, then "A"
  `));
  assertEquals(c.utf8(3, "name"), "hé");
  assertEquals(c.utf8(2, "name"), "\uFFFDA");
  assertEquals(c.remaining, 0);
});

Deno.test("AmfCursor.utf8() keeps a leading byte order mark as U+FEFF instead of dropping it", () => {
  const c = new AmfCursor(hex(`
    ef bb bf                      # U+FEFF (a UTF-8 BOM)
    6f 6b                         # "ok"
  `));
  assertEquals(c.utf8(5, "string"), "\uFEFFok");
});

Deno.test("AmfCursor.utf8() of length 0 returns an empty string even at the end of the buffer", () => {
  const c = new AmfCursor(new Uint8Array(0));
  assertEquals(c.utf8(0, "empty key"), "");
  assertEquals(c.pos, 0);
});

Deno.test("AmfCursor.utf8() past the end throws amf_truncated and reads nothing", () => {
  const c = new AmfCursor(hex(`
    61 62                         # "ab": two of the four bytes the length asks for
  `));
  assertProtocolError(
    () => c.utf8(4, "string"),
    AmfErrorCode.Truncated,
    "Cannot read string: current 2 bytes left at offset 0, need 4",
  );
  assertEquals(c.pos, 0);
});

Deno.test("AmfCursor.checkLength() throws amf_limit with the length and the cap before looking at the bytes left", () => {
  const c = new AmfCursor(new Uint8Array(16), { maxStringBytes: 8 });
  c.checkLength(8, "long string");
  assertProtocolError(
    () => c.checkLength(9, "long string"),
    AmfErrorCode.Limit,
    "Cannot read long string: current length 9 bytes, limit 8",
  );
  // Over the cap and past the end: the cap is named, not the truncation.
  assertProtocolError(
    () => c.checkLength(0xffffffff, "XML document"),
    AmfErrorCode.Limit,
    "Cannot read XML document: current length 4294967295 bytes, limit 8",
  );
  // Under the cap but past the end: truncated.
  const short = new AmfCursor(new Uint8Array(2), { maxStringBytes: 8 });
  assertProtocolError(
    () => short.checkLength(3, "string"),
    AmfErrorCode.Truncated,
    "Cannot read string: current 2 bytes left at offset 0, need 3",
  );
});

Deno.test("AmfCursor.utf8() applies the string cap to the declared length", () => {
  const c = new AmfCursor(new TextEncoder().encode("abcdef"), { maxStringBytes: 5 });
  assertProtocolError(
    () => c.utf8(6, "string"),
    AmfErrorCode.Limit,
    "Cannot read string: current length 6 bytes, limit 5",
  );
  assertEquals(c.utf8(5, "string"), "abcde");
});

Deno.test("AmfCursor.checkEntries() allows the cap itself and throws amf_limit above it", () => {
  const c = new AmfCursor(new Uint8Array(0), { maxEntries: 3 });
  c.checkEntries(0, "ECMA array");
  c.checkEntries(3, "ECMA array");
  assertProtocolError(
    () => c.checkEntries(4, "ECMA array"),
    AmfErrorCode.Limit,
    "Cannot read ECMA array: current 4 entries, limit 3",
  );
});

Deno.test("AmfCursor.countValue() counts every value against one total and throws on the first over the cap", () => {
  const c = new AmfCursor(new Uint8Array(0), { maxValues: 3 });
  c.countValue("number");
  c.countValue("string");
  c.countValue("object");
  assertProtocolError(
    () => c.countValue("boolean"),
    AmfErrorCode.Limit,
    "Cannot read boolean: current value count 4, limit 3",
  );
});

Deno.test("AmfCursor.enter() throws amf_limit one level past maxDepth; leave() gives the level back", () => {
  const c = new AmfCursor(new Uint8Array(0), { maxDepth: 2 });
  c.enter("object");
  c.enter("object");
  assertProtocolError(
    () => c.enter("strict array"),
    AmfErrorCode.Limit,
    "Cannot read strict array: current depth 3, limit 2",
  );
  // The failed enter counted; two leaves bring the depth back to 1.
  c.leave();
  c.leave();
  c.enter("object");
  assertProtocolError(
    () => c.enter("object"),
    AmfErrorCode.Limit,
    "Cannot read object: current depth 3, limit 2",
  );
});

Deno.test("AmfCursor without limits uses DEFAULT_AMF_LIMITS; partial limits override only the fields given", () => {
  assertStrictEquals(new AmfCursor(new Uint8Array(0)).limits, DEFAULT_AMF_LIMITS);
  assertEquals(new AmfCursor(new Uint8Array(0), { maxDepth: 4 }).limits, {
    maxDepth: 4,
    maxStringBytes: 1024 * 1024,
    maxEntries: 65536,
    maxValues: 262144,
  });
  assertEquals(DEFAULT_AMF_LIMITS.maxDepth, 32, "DEFAULT_AMF_LIMITS is untouched by an override");
});

Deno.test("DEFAULT_AMF_LIMITS is frozen, so no caller can loosen the defaults for everyone", () => {
  assert(Object.isFrozen(DEFAULT_AMF_LIMITS));
  assertThrows(() => {
    (DEFAULT_AMF_LIMITS as { maxDepth: number }).maxDepth = 1000;
  }, TypeError);
  assertEquals(DEFAULT_AMF_LIMITS.maxDepth, 32);
});

Deno.test("AmfErrorCode names the five failure kinds with stable strings", () => {
  assertEquals(AmfErrorCode, {
    Truncated: "amf_truncated",
    Limit: "amf_limit",
    Marker: "amf_marker",
    Reference: "amf_reference",
    Unsupported: "amf_unsupported",
  });
});

Deno.test("hexByte() formats a byte as 0x and two lowercase digits", () => {
  assertEquals(hexByte(0x0d), "0x0d");
  assertEquals(hexByte(0), "0x00");
  assertEquals(hexByte(0xff), "0xff");
});

Deno.test("AmfCursor keeps a default limit that is passed as undefined (regression: the cap was switched off)", () => {
  const c = new AmfCursor(new Uint8Array(0), { maxDepth: undefined });
  assertEquals(c.limits.maxDepth, DEFAULT_AMF_LIMITS.maxDepth);
  assertThrows(() => {
    for (let i = 0; i <= DEFAULT_AMF_LIMITS.maxDepth; i++) c.enter("object");
  }, ProtocolError);
});
