/**
 * RbspReader: emulation prevention bytes (H.264 7.4.1) removed as the bytes
 * are taken, u(1) bits most significant first, ue(v) Exp-Golomb codes (9.1),
 * and the caller's error when the data ends or a code is too long.
 */
import { RbspReader } from "../../src/media/rbsp.ts";
import { assertEquals, assertStrictEquals, assertThrows } from "../_util/assert.ts";
import { hex } from "../fixtures/annotated_hex.ts";

/** The error the tests' readers throw, carrying what the reader said. */
class RbspTestError extends Error {
  constructor(readonly what: string) {
    super(`Cannot read the test field: ${what}`);
  }
}

function reader(bytes: Uint8Array, from = 0, maxBytes = 64): RbspReader {
  return new RbspReader(bytes, from, maxBytes, (what) => new RbspTestError(what));
}

/** Bytes from 0s and 1s (whitespace and `#` comments ignored), the last byte padded with 1s. */
function bits(text: string): Uint8Array {
  const s = text.replace(/#.*$/gm, "").replace(/\s+/g, "");
  if (!/^[01]*$/.test(s)) throw new SyntaxError(`Cannot parse bits: current text has ${s}`);
  const padded = s.padEnd(Math.ceil(s.length / 8) * 8, "1");
  return Uint8Array.from(padded.match(/.{8}/g) ?? [], (b) => parseInt(b, 2));
}

/** The next `n` bits as a number, most significant first. */
function readBits(r: RbspReader, n: number): number {
  let v = 0;
  for (let i = 0; i < n; i++) v = v * 2 + r.bit();
  return v;
}

/** Every RBSP byte the reader holds, read until it throws. */
function drain(r: RbspReader): number[] {
  const out: number[] = [];
  for (;;) {
    try {
      out.push(readBits(r, 8));
    } catch (e) {
      if (e instanceof RbspTestError) return out;
      throw e;
    }
  }
}

Deno.test("RbspReader.bit() reads each byte most significant bit first", () => {
  const r = reader(hex(`
    a5                      # 1010 0101
  `));
  assertEquals([0, 1, 2, 3, 4, 5, 6, 7].map(() => r.bit()), [1, 0, 1, 0, 0, 1, 0, 1]);
});

Deno.test("RbspReader.ue() decodes the Exp-Golomb codes of 0 to 8 (H.264 table 9-2)", () => {
  const r = reader(bits(`
    1                       # 0
    010                     # 1
    011                     # 2
    00100                   # 3
    00101                   # 4
    00110                   # 5
    00111                   # 6
    0001000                 # 7
    0001001                 # 8
  `));
  assertEquals([0, 1, 2, 3, 4, 5, 6, 7, 8].map(() => r.ue()), [0, 1, 2, 3, 4, 5, 6, 7, 8]);
});

Deno.test("RbspReader.ue() and bit() interleaved read each field right after the one before", () => {
  const r = reader(bits(`
    1                       # ue 0
    1                       # u(1) 1
    00110                   # ue 5
    0                       # u(1) 0
    011                     # ue 2
  `));
  assertEquals([r.ue(), r.bit(), r.ue(), r.bit(), r.ue()], [0, 1, 5, 0, 2]);
});

Deno.test("RbspReader.ue() reads the longest code, 31 leading zeros, as 2^32 - 2 without overflowing", () => {
  const r = reader(bits(`${"0".repeat(31)} 1 ${"1".repeat(31)}`));
  assertEquals(r.ue(), 2 ** 32 - 2);
});

Deno.test("RbspReader.ue() throws the caller's error for a code of 32 leading zeros", () => {
  const r = reader(bits(`${"0".repeat(32)} 1 ${"0".repeat(32)}`));
  const e = assertThrows(() => r.ue(), RbspTestError);
  assertEquals(e.what, "an Exp-Golomb code is over 32 bits");
});

Deno.test("RbspReader removes an emulation prevention byte after two zero bytes", () => {
  const r = reader(hex(`
    00 00                   # two zero bytes
    03                      # emulation_prevention_three_byte: not data
    01                      # data
  `));
  assertEquals(drain(r), [0x00, 0x00, 0x01]);
});

Deno.test("RbspReader keeps a 03 that follows only one zero byte", () => {
  const r = reader(hex(`
    00 03                   # one zero: the 03 is data
    ff
  `));
  assertEquals(drain(r), [0x00, 0x03, 0xff]);
});

Deno.test("RbspReader keeps the 03 right after a removed one, and removes one in each 00 00 03 of a run", () => {
  const r = reader(hex(`
    00 00 03                # emulation prevention: 03 removed
    03                      # data (the zero count starts again after a removed byte)
    00 00 03                # removed
    00 00 03                # removed
    00                      # data
  `));
  assertEquals(drain(r), [0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00]);
});

Deno.test("RbspReader.ue() reads a code whose bits straddle removed emulation prevention bytes", () => {
  const r = reader(hex(`
    00 00                   # 16 zero bits of the prefix
    03                      # emulation prevention: removed
    01                      # 7 more zero bits (23 in all), then the prefix's 1
    00 00                   # 16 zero bits of the 23-bit suffix
    03                      # emulation prevention: removed
    01                      # the suffix's last 7 zero bits, then a 1 that follows the code
  `));
  assertEquals(r.ue(), 2 ** 23 - 1, "23 leading zeros, suffix 0: 2^23 - 1");
  assertEquals(r.bit(), 1, "the bit after the code");
});

Deno.test("RbspReader starts at `from`, skipping the bytes before it (a NAL unit header)", () => {
  const r = reader(
    hex(`
      65                    # NAL unit header: IDR slice (skipped)
      88                    # 1 (first_mb_in_slice 0), 000 1000 (slice_type 7)
    `),
    1,
  );
  assertEquals([r.ue(), r.ue()], [0, 7]);
});

Deno.test("RbspReader takes at most maxBytes RBSP bytes, counted after emulation prevention bytes are removed", () => {
  const r = reader(
    hex(`
      00 00                 # RBSP bytes 1 and 2
      03                    # removed: does not count
      01                    # RBSP byte 3: the last one taken
      ff ff                 # past maxBytes: never read
    `),
    0,
    3,
  );
  assertEquals(drain(r), [0x00, 0x00, 0x01]);
});

Deno.test("RbspReader.bit() past the end throws the caller's error naming the bit offset", () => {
  const r = reader(hex(`
    80                      # one byte
  `));
  readBits(r, 8);
  const e = assertThrows(() => r.bit(), RbspTestError, "the data ends at bit 8");
  assertEquals(e.what, "the data ends at bit 8");
  assertEquals(e.message, "Cannot read the test field: the data ends at bit 8");
});

Deno.test("RbspReader.ue() throws the caller's error when the data ends in the prefix or in the suffix", () => {
  const inPrefix = reader(hex(`
    00                      # eight zeros and no 1
  `));
  assertEquals(assertThrows(() => inPrefix.ue(), RbspTestError).what, "the data ends at bit 8");
  const inSuffix = reader(hex(`
    02                      # 000000 1 0: six zeros, the 1, one of six suffix bits
  `));
  assertEquals(assertThrows(() => inSuffix.ue(), RbspTestError).what, "the data ends at bit 8");
});

Deno.test("RbspReader with `from` at or past the end has no bits at all", () => {
  for (const from of [2, 5]) {
    const r = reader(Uint8Array.of(0xff, 0xff), from);
    assertEquals(assertThrows(() => r.bit(), RbspTestError).what, "the data ends at bit 0", `from ${from}`);
  }
});

Deno.test("RbspReader throws exactly the error object that `fail` returns", () => {
  const made: Error[] = [];
  const r = new RbspReader(new Uint8Array(0), 0, 8, (what) => {
    const e = new RangeError(what);
    made.push(e);
    return e;
  });
  const thrown = assertThrows(() => r.bit(), RangeError);
  assertStrictEquals(thrown, made[0]);
  assertEquals(made.length, 1);
});
