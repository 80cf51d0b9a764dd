import { assert, assertEquals, assertThrows } from "../_util/assert.ts";
import { makeAnnexB } from "../_util/h264.ts";
import { haveTools } from "../_util/media.ts";
import { seededRandom } from "../_util/mutate.ts";
import { randomPieces } from "../_util/split.ts";
import { hex, toHex } from "../fixtures/annotated_hex.ts";
import { ProtocolError } from "../../src/errors.ts";
import {
  type AccessUnit,
  AccessUnitSplitter,
  firstMbInSlice,
} from "../../src/ingest/access_unit_splitter.ts";
import { NalUnitType } from "../../src/media/avc.ts";

const FFMPEG = haveTools("ffmpeg");

function split(bytes: Uint8Array, pieces: Iterable<Uint8Array> = [bytes]): AccessUnit[] {
  const s = new AccessUnitSplitter();
  const out: AccessUnit[] = [];
  for (const p of pieces) out.push(...s.push(p));
  out.push(...s.end());
  return out;
}

/** Indexes of the access units that hold an IDR slice. */
function idrs(aus: AccessUnit[]): number[] {
  return aus.flatMap((au, i) => au.idr ? [i] : []);
}

// ---- hand-made streams

/** Two pictures of two slices each: first_mb_in_slice 0 starts a picture, 40 continues it. */
const TWO_PICTURES_TWO_SLICES = hex(`
  00 00 00 01 67 64 00 1e ac    # SPS (not parsed here)
  00 00 00 01 68 ee 3c b0       # PPS
  00 00 01    65 88 84 00       # IDR slice, first_mb_in_slice ue "1" = 0
  00 00 01    65 05 24 34       # IDR slice, first_mb_in_slice ue "00000101001" = 40
  00 00 00 01 41 9a 00 11       # non-IDR slice, first_mb 0: a new access unit
  00 00 01    41 05 24 22       # non-IDR slice, first_mb 40
`);

Deno.test("AccessUnitSplitter splits at a slice whose first_mb_in_slice is 0 and keeps further slices together", () => {
  const aus = split(TWO_PICTURES_TWO_SLICES);
  assertEquals(aus.map((a) => a.nalTypes), [[7, 8, 5, 5], [1, 1]]);
  assertEquals(aus.map((a) => [a.picture, a.idr]), [[true, true], [true, false]]);
  assertEquals(toHex(aus[0].sps[0]), "67 64 00 1e ac");
  assertEquals(toHex(aus[0].pps[0]), "68 ee 3c b0");
  assertEquals(
    toHex(aus[1].annexB),
    toHex(hex("00 00 00 01 41 9a 00 11  00 00 00 01 41 05 24 22")),
    "each NAL unit behind a 4-byte start code",
  );
});

Deno.test("AccessUnitSplitter starts a new access unit at an AUD, SPS, PPS or SEI after a picture's slices", () => {
  for (
    const [name, nal] of [["AUD", "09 f0"], ["SPS", "67 42 00 1e"], ["PPS", "68 ce 3c 80"], [
      "SEI",
      "06 05 01 aa 80",
    ]]
  ) {
    const aus = split(hex(`00 00 00 01 65 88 84 00   00 00 00 01 ${nal}   00 00 00 01 41 9a 00 11`));
    assertEquals(aus.length, 2, name);
    assertEquals(aus[1].nalTypes[0], hex(nal)[0] & 0x1f, `${name} opens the second access unit`);
  }
});

Deno.test("AccessUnitSplitter keeps parameter sets and SEI before the first slice in the same access unit", () => {
  const aus = split(hex(`00 00 00 01 09 f0  00 00 00 01 67 42 00 1e  00 00 00 01 68 ce 3c 80
                         00 00 00 01 06 05 01 aa 80  00 00 00 01 65 88 84 00`));
  assertEquals(aus.map((a) => a.nalTypes), [[9, 7, 8, 6, 5]]);
});

Deno.test("AccessUnitSplitter gives the same access units for the hand-made stream split at every byte", () => {
  const whole = split(TWO_PICTURES_TWO_SLICES).map((a) => toHex(a.annexB));
  for (let i = 1; i < TWO_PICTURES_TWO_SLICES.length; i++) {
    const pieces = [TWO_PICTURES_TWO_SLICES.subarray(0, i), TWO_PICTURES_TWO_SLICES.subarray(i)];
    assertEquals(split(TWO_PICTURES_TWO_SLICES, pieces).map((a) => toHex(a.annexB)), whole, `split at ${i}`);
  }
});

Deno.test("AccessUnitSplitter gives an access unit without a picture when the stream ends in parameter sets", () => {
  const aus = split(hex("00 00 00 01 65 88 84 00  00 00 00 01 67 42 00 1e"));
  assertEquals(aus.map((a) => [a.nalTypes, a.picture]), [[[5], true], [[7], false]]);
});

Deno.test("AccessUnitSplitter refuses a NAL unit over maxBytes, naming the limit", () => {
  const s = new AccessUnitSplitter({ maxBytes: 16 });
  s.push(hex("00 00 00 01 65 88"));
  assertThrows(() => s.push(new Uint8Array(20).fill(0x55)), ProtocolError, "limit 16");
});

Deno.test("AccessUnitSplitter refuses bytes with no start code past maxBytes", () => {
  const s = new AccessUnitSplitter({ maxBytes: 16 });
  assertThrows(() => s.push(new Uint8Array(32).fill(0x55)), ProtocolError, "no start code");
});

Deno.test("AccessUnitSplitter constructor refuses a maxBytes beyond the codec input", () => {
  assertThrows(() => new AccessUnitSplitter({ maxBytes: 64 * 1024 * 1024 }), RangeError);
});

Deno.test("firstMbInSlice() reads the Exp-Golomb code after the header, across an emulation prevention byte", () => {
  assertEquals(firstMbInSlice(hex("65 88")), 0); // "1"
  assertEquals(firstMbInSlice(hex("41 05 24")), 40); // "00000101001"
  // RBSP 00 00 01 00 00 04: 23 zeros, "1", suffix 2, so 2^23 - 1 + 2; on the wire 00 00 01 is escaped.
  assertEquals(firstMbInSlice(hex("41 00 00 03 01 00 00 04")), 8388609);
  assertThrows(() => firstMbInSlice(hex("41 00")), ProtocolError, "first_mb_in_slice");
});

// ---- streams made by ffmpeg, with known frame counts

function ffmpegTest(name: string, fn: () => Promise<void>): void {
  Deno.test({ name, ignore: !FFMPEG, fn });
}

ffmpegTest(
  "AccessUnitSplitter finds every picture of an x264 stream and its IDRs (60 frames, GOP 12)",
  async () => {
    const aus = split(await makeAnnexB({ frames: 60, gop: 12 }));
    assertEquals(aus.length, 60);
    assertEquals(idrs(aus), [0, 12, 24, 36, 48]);
    assert(aus.every((a) => a.picture));
    assertEquals(aus[0].nalTypes.slice(0, 2), [NalUnitType.Sps, NalUnitType.Pps]);
  },
);

ffmpegTest("AccessUnitSplitter keeps the four slices of each picture together (slices=4)", async () => {
  const aus = split(await makeAnnexB({ frames: 40, gop: 20, slices: 4 }));
  assertEquals(aus.length, 40);
  assertEquals(idrs(aus), [0, 20]);
  assert(aus.every((a) => a.nalTypes.filter((t) => t === 1 || t === 5).length === 4), "4 slices per picture");
});

ffmpegTest("AccessUnitSplitter splits at access unit delimiters (h264_metadata aud=insert)", async () => {
  const aus = split(await makeAnnexB({ frames: 30, gop: 10, aud: true }));
  assertEquals(aus.length, 30);
  assert(aus.every((a) => a.nalTypes[0] === NalUnitType.Aud), "every access unit starts with its AUD");
});

ffmpegTest("AccessUnitSplitter finds every picture of a stream with B-frames", async () => {
  const aus = split(await makeAnnexB({ frames: 45, gop: 15, bframes: 2 }));
  assertEquals(aus.length, 45);
  assertEquals(idrs(aus), [0, 15, 30]);
});

ffmpegTest(
  "AccessUnitSplitter gives the same access units for an x264 stream fed in random pieces",
  async () => {
    const bytes = await makeAnnexB({ frames: 30, gop: 10, slices: 2 });
    const whole = split(bytes).map((a) => toHex(a.annexB));
    const random = seededRandom(0x264);
    for (let round = 0; round < 5; round++) {
      const pieces = randomPieces(bytes, random, 3000);
      assertEquals(split(bytes, pieces).map((a) => toHex(a.annexB)), whole, `round ${round}`);
    }
  },
);
