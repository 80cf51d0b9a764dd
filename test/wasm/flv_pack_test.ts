/**
 * One suite for FLV packing, run against the WASM implementation
 * (src/wasm/flv_pack.ts) and its TypeScript twin (test/_util/flv_pack_ref.ts).
 * Packing real files read by FlvReader is in test/media/flv_test.ts.
 */
import { codec } from "../../src/wasm/module.ts";
import * as wasm from "../../src/wasm/flv_pack.ts";
import type { FlvTagInput } from "../../src/wasm/flv_pack.ts";
import { assert, assertEquals, assertThrows } from "../_util/assert.ts";
import * as ref from "../_util/flv_pack_ref.ts";
import { seededRandom } from "../_util/mutate.ts";
import { hex } from "../fixtures/annotated_hex.ts";
import { FLV_HEADER_AV, FLV_SAMPLE, FLV_SAMPLE_TAGS } from "../fixtures/flv_fixtures.ts";
import { concat } from "../fixtures/nal_fixtures.ts";

type Impl = typeof wasm;
const IMPLS: [string, Impl][] = [["wasm", wasm], ["ts", ref]];

for (const [name, impl] of IMPLS) {
  Deno.test(`[${name}] flvFileHeader() writes the 9-byte header and PreviousTagSize0`, () => {
    assertEquals(impl.flvFileHeader({ audio: true, video: true }), FLV_HEADER_AV);
    assertEquals(impl.flvFileHeader({ audio: true, video: false })[4], 0x04, "TypeFlagsAudio only");
    assertEquals(impl.flvFileHeader({ audio: false, video: true })[4], 0x01, "TypeFlagsVideo only");
    assertEquals(
      impl.flvFileHeader({ audio: false, video: false }),
      hex(`
        46 4c 56 01             # "FLV", version 1
        00                      # no TypeFlags
        00 00 00 09             # DataOffset 9
        00 00 00 00             # PreviousTagSize0
      `),
    );
  });

  Deno.test(`[${name}] packTag() writes header, data and PreviousTagSize as in the annotated sample`, () => {
    for (const t of FLV_SAMPLE_TAGS) {
      const end = t.offset + 11 + t.data.length + 4;
      assertEquals(
        impl.packTag(t.type, t.timestamp, t.data),
        FLV_SAMPLE.subarray(t.offset, end),
        `tag at ${t.offset}`,
      );
    }
  });

  Deno.test(`[${name}] packTag() splits a 32-bit timestamp into Timestamp and TimestampExtended`, () => {
    assertEquals(
      impl.packTag(8, 0x12345678, hex(`af 01`)),
      hex(`
        08                      # TagType 8 (audio)
        00 00 02                # DataSize 2
        34 56 78                # Timestamp: the lower 24 bits
        12                      # TimestampExtended: the upper 8 bits
        00 00 00                # StreamID 0
        af 01                   # data
        00 00 00 0d             # PreviousTagSize 13
      `),
    );
    assertEquals(impl.packTag(9, 0xffffffff, new Uint8Array(0)).subarray(4, 8), hex(`ff ff ff ff`));
  });

  Deno.test(`[${name}] packTag() carries the largest DataSize, 16777215`, () => {
    const data = new Uint8Array(0xffffff).fill(0x5a);
    const tag = impl.packTag(9, 0, data);
    assertEquals(tag.subarray(0, 4), hex(`09 ff ff ff`));
    assertEquals(tag.subarray(tag.length - 4), hex(`01 00 00 0a`), "PreviousTagSize 11 + 16777215");
    const body = tag.subarray(11, tag.length - 4);
    assert(body.length === data.length && body.indexOf(0) === -1 && body[0] === 0x5a, "data intact");
  });

  Deno.test(`[${name}] packTag() refuses a type, timestamp or size FLV cannot carry`, () => {
    assertThrows(
      () => impl.packTag(7 as 8, 0, new Uint8Array(1)),
      RangeError,
      "Cannot pack FLV tag: type must be 8, 9 or 18, current 7",
    );
    for (const ts of [-1, 2 ** 32, 1.5, NaN]) {
      assertThrows(
        () => impl.packTag(8, ts, new Uint8Array(1)),
        RangeError,
        `Cannot pack FLV tag: timestamp must be an integer in 0..4294967295, current ${ts}`,
      );
    }
    assertThrows(
      () => impl.packTag(9, 0, new Uint8Array(0x1000000)),
      RangeError,
      "Cannot pack FLV tag: data is 16777216 bytes, limit 16777215",
    );
  });

  Deno.test(`[${name}] packTag() returns a new array the caller owns`, () => {
    const data = hex(`af 01 21`);
    const a = impl.packTag(8, 1, data);
    const b = impl.packTag(8, 2, data);
    assert(a.buffer !== b.buffer && a.buffer !== codec().memory.buffer, "separate buffers");
    assertEquals(a[6], 1, "the first tag kept its timestamp");
    data[0] = 0;
    assertEquals(a[11], 0xaf, "the tag does not share the caller's data");
  });

  Deno.test(`[${name}] packTags() equals packTag() of each tag, back to back`, () => {
    assertEquals(impl.packTags(FLV_SAMPLE_TAGS), FLV_SAMPLE.subarray(13));
    assertEquals(impl.packTags([]), new Uint8Array(0));
  });

  Deno.test(`[${name}] packTags() packs more tags than one WASM call takes`, () => {
    const tags: FlvTagInput[] = Array.from({ length: 100_000 }, (_, i) => ({
      type: 8,
      timestamp: i,
      data: Uint8Array.of(i & 0xff),
    }));
    const out = impl.packTags(tags);
    assertEquals(out.length, tags.length * 16);
    const last = tags.length - 1;
    assertEquals(out.subarray(last * 16), impl.packTag(8, last, Uint8Array.of(last & 0xff)));
  });

  Deno.test(`[${name}] packTags() refuses a batch with one bad tag`, () => {
    assertThrows(
      () => impl.packTags([...FLV_SAMPLE_TAGS, { type: 9, timestamp: -5, data: new Uint8Array(0) }]),
      RangeError,
      "current -5",
    );
  });
}

Deno.test("packTag() and packTags() give the same bytes as their twins for random tags", () => {
  const random = seededRandom(0xf1f);
  const tags: FlvTagInput[] = Array.from({ length: 500 }, () => ({
    type: ([8, 9, 18] as const)[Math.floor(random() * 3)],
    timestamp: Math.floor(random() * 2 ** 32),
    data: Uint8Array.from({ length: Math.floor(random() * 3000) }, () => Math.floor(random() * 256)),
  }));
  for (const t of tags) {
    assertEquals(wasm.packTag(t.type, t.timestamp, t.data), ref.packTag(t.type, t.timestamp, t.data));
  }
  assertEquals(wasm.packTags(tags), ref.packTags(tags));
  assertEquals(wasm.packTags(tags), concat(tags.map((t) => ref.packTag(t.type, t.timestamp, t.data))));
});
