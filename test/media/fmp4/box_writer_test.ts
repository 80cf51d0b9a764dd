import { BoxWriter } from "../../../src/media/fmp4/box_writer.ts";
import { assertEquals, assertThrows } from "../../_util/assert.ts";
import { hex } from "../../fixtures/annotated_hex.ts";

Deno.test("BoxWriter.close() patches the size of nested boxes and FullBoxes", () => {
  const w = new BoxWriter(32);
  const outer = w.open("moof");
  const inner = w.openFull("mfhd", 1, 0x020304);
  w.u32(7);
  w.close(inner);
  w.close(w.open("free")); // an empty box
  w.close(outer);
  assertEquals(
    w.finish(),
    hex(`
      00 00 00 20  6d 6f 6f 66     # size 32, "moof"
      00 00 00 10  6d 66 68 64     # size 16, "mfhd"
      01  02 03 04                 # version 1, flags 0x020304
      00 00 00 07                  # sequence_number 7
      00 00 00 08  66 72 65 65     # size 8, "free"
    `),
  );
});

Deno.test("BoxWriter writes integer fields big-endian, signed ones in two's complement", () => {
  const w = new BoxWriter(26);
  w.u8(0xab).u16(0x0102).i16(-2).u24(0x030405).u32(0xfffffffe).i32(-1).u64(2 ** 40 + 5).zeros(2);
  assertEquals(
    w.finish(),
    hex(`
      ab                           # u8
      01 02                        # u16
      ff fe                        # i16 -2
      03 04 05                     # u24
      ff ff ff fe                  # u32
      ff ff ff ff                  # i32 -1
      00 00 01 00 00 00 00 05      # u64 2^40 + 5
      00 00                        # zeros(2)
    `),
  );
});

Deno.test("BoxWriter.build() counts first and allocates exactly the bytes written", () => {
  const bytes = BoxWriter.build((w) => {
    const box = w.open("ftyp");
    w.fourCc("iso6").u32(0).bytes(new Uint8Array([1, 2, 3]));
    w.close(box);
  });
  assertEquals(bytes, hex(`00 00 00 13 66 74 79 70  69 73 6f 36  00 00 00 00  01 02 03`));
  assertEquals(bytes.buffer.byteLength, 19, "no slack in the allocation");
});

Deno.test("BoxWriter throws RangeError naming the capacity when writing past it", () => {
  const w = new BoxWriter(6);
  w.u32(1);
  assertThrows(() => w.u32(2), RangeError, "Cannot write 4 bytes at offset 4: current capacity 6 bytes");
  assertThrows(() => new BoxWriter(-1), RangeError, "current capacity -1");
});

Deno.test("BoxWriter.finish() throws when fewer bytes were written than allocated", () => {
  const w = new BoxWriter(8);
  w.u32(1);
  assertThrows(() => w.finish(), Error, "Cannot finish boxes: current size 4 bytes, expected 8");
  assertThrows(() => new BoxWriter().finish(), TypeError, "counting");
});

Deno.test("BoxWriter.fourCc() and u64() refuse values their fields cannot hold", () => {
  const w = new BoxWriter(16);
  assertThrows(() => w.fourCc("moo"), RangeError, 'current "moo"');
  assertThrows(() => w.fourCc("mo\u00e9v"), RangeError);
  assertThrows(() => w.u64(-1), RangeError, "current value -1");
  assertThrows(() => w.u64(2 ** 53), RangeError);
  assertEquals(w.offset, 0, "nothing was written");
});
