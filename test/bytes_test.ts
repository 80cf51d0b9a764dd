/**
 * concatBytes: the parts one after another in a new array the caller owns.
 */
import { concatBytes } from "../src/bytes.ts";
import { assert, assertEquals, assertStrictEquals } from "./_util/assert.ts";

Deno.test("concatBytes() joins the parts in order", () => {
  assertEquals(
    concatBytes([Uint8Array.of(1, 2), Uint8Array.of(3), Uint8Array.of(4, 5, 6)]),
    Uint8Array.of(1, 2, 3, 4, 5, 6),
  );
});

Deno.test("concatBytes() of no parts, or only empty parts, is an empty array", () => {
  assertEquals(concatBytes([]), new Uint8Array(0));
  assertEquals(concatBytes([new Uint8Array(0), new Uint8Array(0)]), new Uint8Array(0));
});

Deno.test("concatBytes() skips empty parts between others", () => {
  assertEquals(
    concatBytes([new Uint8Array(0), Uint8Array.of(7), new Uint8Array(0), Uint8Array.of(8)]),
    Uint8Array.of(7, 8),
  );
});

Deno.test("concatBytes() copies only a subarray's own bytes, not the rest of its buffer", () => {
  const whole = Uint8Array.of(0, 1, 2, 3, 4, 5);
  assertEquals(concatBytes([whole.subarray(1, 3), whole.subarray(4)]), Uint8Array.of(1, 2, 4, 5));
});

Deno.test("concatBytes() returns a new array the caller owns, even for a single part", () => {
  const part = Uint8Array.of(9, 9);
  const out = concatBytes([part]);
  assertEquals(out, part);
  assert(out.buffer !== part.buffer, "a buffer of its own");
  out[0] = 1;
  assertEquals(part, Uint8Array.of(9, 9), "writing the result leaves the part alone");
  part[1] = 2;
  assertEquals(out, Uint8Array.of(1, 9), "writing the part leaves the result alone");
  assertStrictEquals(out.byteOffset, 0);
  assertStrictEquals(out.buffer.byteLength, 2);
});
