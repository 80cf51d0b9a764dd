import { assert, assertEquals, assertThrows } from "../_util/assert.ts";
import { decodeAmf0 } from "../../src/amf/amf0.ts";
import { readAmf3Value } from "../../src/amf/amf3.ts";
import { AmfCursor } from "../../src/amf/cursor.ts";
import { ProtocolError } from "../../src/errors.ts";
import { amf3BadCases, amf3Cases } from "../fixtures/amf3_fixtures.ts";
import { hex } from "../fixtures/annotated_hex.ts";
import { expectOnlyProtocolError, mutations, seededRandom, truncations } from "../_util/mutate.ts";

for (const c of amf3Cases) {
  Deno.test(`decodeAmf0() decodes AMF3 ${c.name}`, () => {
    assertEquals(decodeAmf0(hex(c.hex)), c.values);
  });
}

for (const c of amf3BadCases) {
  Deno.test(`decodeAmf0() refuses AMF3 ${c.name}`, () => {
    const e = assertThrows(() => decodeAmf0(hex(c.hex), c.limits), ProtocolError);
    assertEquals(e.code, c.code);
    assertEquals(e.message, c.message);
  });
}

Deno.test("readAmf3Value() reads one value and leaves the cursor after it", () => {
  const cursor = new AmfCursor(hex(`06 03 61  05`));
  assertEquals(readAmf3Value(cursor), "a");
  assertEquals(cursor.pos, 3);
});

Deno.test("readAmf3Value() resolves an object reference to the same object", () => {
  const [array] = decodeAmf0(hex(amf3Cases.find((c) => c.name.startsWith("typed sealed"))!.hex)) as [
    unknown[],
  ];
  assert(array[0] === array[2]);
  assert(array[0] !== array[1]);
});

Deno.test("readAmf3Value() turns an array that contains itself into a JavaScript cycle", () => {
  const [array] = decodeAmf0(hex(`11 09 03 01 09 00`)) as [unknown[]];
  assert(array[0] === array);
});

Deno.test("readAmf3Value() returns an owned byte array, not a view of the input", () => {
  const input = hex(`11 0c 07 01 02 03`);
  const [bytes] = decodeAmf0(input) as [Uint8Array];
  input[3] = 9;
  assertEquals(bytes, new Uint8Array([1, 2, 3]));
});

Deno.test("readAmf3Value() throws only ProtocolError on every truncation of every fixture", () => {
  for (const c of [...amf3Cases, ...amf3BadCases]) {
    for (const input of truncations(hex(c.hex))) expectOnlyProtocolError(input, (b) => decodeAmf0(b));
  }
});

Deno.test("readAmf3Value() throws only ProtocolError on random mutations of every fixture", () => {
  const random = seededRandom(0xa3f3);
  for (const c of [...amf3Cases, ...amf3BadCases]) {
    for (const input of mutations(hex(c.hex), random, 300)) {
      expectOnlyProtocolError(input, (b) => decodeAmf0(b, { maxStringBytes: 4096 }));
    }
  }
});

Deno.test("readAmf3Value() throws only ProtocolError on random AMF3 bytes", () => {
  const random = seededRandom(7);
  for (let i = 0; i < 3000; i++) {
    const body = Array.from({ length: Math.floor(random() * 48) }, () => Math.floor(random() * 16));
    expectOnlyProtocolError(Uint8Array.from([0x11, ...body]), (b) => decodeAmf0(b));
  }
});
