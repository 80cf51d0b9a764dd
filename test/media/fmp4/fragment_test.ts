import {
  buildFragment,
  fragmentSize,
  type FragmentTrack,
  MAX_FRAGMENT_BYTES,
  MAX_FRAGMENT_SAMPLES,
  SampleFlags,
} from "../../../src/media/fmp4/fragment.ts";
import { assertEquals, assertThrows } from "../../_util/assert.ts";
import { hex } from "../../fixtures/annotated_hex.ts";
import { readFragments } from "./mp4_boxes.ts";

const VIDEO: FragmentTrack = {
  trackId: 1,
  baseMediaDecodeTime: 3600,
  compositionOffsets: true,
  samples: [
    { data: hex(`aa bb`), duration: 3600, flags: SampleFlags.Sync, compositionOffset: 7200 },
    { data: hex(`cc`), duration: 3600, flags: SampleFlags.NonSync, compositionOffset: -3600 },
  ],
};

const AUDIO: FragmentTrack = {
  trackId: 2,
  baseMediaDecodeTime: 2 ** 33 + 1,
  compositionOffsets: false,
  samples: [
    { data: hex(`01 02 03`), duration: 1024, flags: SampleFlags.Sync, compositionOffset: 0 },
  ],
};

Deno.test("buildFragment() writes moof (mfhd, traf: tfhd, tfdt v1, trun v1) and mdat as annotated", () => {
  assertEquals(
    buildFragment(5, [VIDEO]),
    hex(`
      00 00 00 78  6d 6f 6f 66       # moof, 120 bytes (8.8.4)
      00 00 00 10  6d 66 68 64       #   mfhd, 16 bytes (8.8.5)
      00 000000                      #     version 0, flags 0
      00 00 00 05                    #     sequence_number 5
      00 00 00 60  74 72 61 66       #   traf, 96 bytes (8.8.6)
      00 00 00 10  74 66 68 64       #     tfhd, 16 bytes (8.8.7)
      00 020000                      #       version 0, default-base-is-moof
      00 00 00 01                    #       track_ID 1
      00 00 00 14  74 66 64 74       #     tfdt, 20 bytes (8.8.12)
      01 000000                      #       version 1
      00 00 00 00 00 00 0e 10        #       baseMediaDecodeTime 3600
      00 00 00 34  74 72 75 6e       #     trun, 52 bytes (8.8.8)
      01 000f01                      #       version 1; data offset, duration, size, flags, composition offset
      00 00 00 02                    #       sample_count 2
      00 00 00 80                    #       data_offset 128: moof (120) + mdat header (8)
      00 00 0e 10  00 00 00 02       #       sample 1: duration 3600, size 2
      02 00 00 00  00 00 1c 20       #         depends on none (sync), composition offset 7200
      00 00 0e 10  00 00 00 01       #       sample 2: duration 3600, size 1
      01 01 00 00  ff ff f1 f0       #         depends on others, non-sync; composition offset -3600
      00 00 00 0b  6d 64 61 74       # mdat, 11 bytes (8.1.1)
      aa bb cc                       #   the samples
    `),
  );
});

Deno.test("buildFragment() points each trun's data_offset at its track's first byte in the mdat", () => {
  const bytes = buildFragment(1, [VIDEO, AUDIO]);
  assertEquals(bytes.length, fragmentSize([VIDEO, AUDIO]).total);
  const [f] = readFragments(bytes);
  assertEquals(f.trafs.map((t) => t.trackId), [1, 2]);
  assertEquals(bytes.subarray(f.trafs[0].dataOffset, f.trafs[0].dataOffset + 3), hex(`aa bb cc`));
  assertEquals(bytes.subarray(f.trafs[1].dataOffset, f.mdatEnd), hex(`01 02 03`));
  assertEquals(f.trafs[1].baseMediaDecodeTime, 2 ** 33 + 1, "a decode time past 32 bits");
  assertEquals(f.trafs[1].trunFlags & 0x800, 0, "no composition offsets for audio");
  assertEquals(f.trafs[1].samples, [{
    duration: 1024,
    size: 3,
    flags: SampleFlags.Sync,
    compositionOffset: 0,
  }]);
});

Deno.test("buildFragment() throws RangeError past MAX_FRAGMENT_SAMPLES samples", () => {
  const sample = { data: hex(`00`), duration: 1, flags: SampleFlags.Sync, compositionOffset: 0 };
  const track = (n: number): FragmentTrack => ({ ...AUDIO, samples: Array(n).fill(sample) });
  assertEquals(
    readFragments(buildFragment(1, [track(MAX_FRAGMENT_SAMPLES)]))[0].trafs[0].samples.length,
    8192,
  );
  assertThrows(
    () => buildFragment(1, [track(MAX_FRAGMENT_SAMPLES), { ...VIDEO, samples: VIDEO.samples.slice(1) }]),
    RangeError,
    `current ${MAX_FRAGMENT_SAMPLES + 1} samples, limit ${MAX_FRAGMENT_SAMPLES}`,
  );
});

Deno.test("buildFragment() throws RangeError past MAX_FRAGMENT_BYTES bytes", () => {
  const big = new Uint8Array(MAX_FRAGMENT_BYTES);
  const track: FragmentTrack = { ...AUDIO, samples: [{ ...AUDIO.samples[0], data: big }] };
  assertThrows(() => buildFragment(1, [track]), RangeError, `limit ${MAX_FRAGMENT_BYTES}`);
});

Deno.test("buildFragment() throws RangeError for fields the boxes cannot hold", () => {
  const s = VIDEO.samples[0];
  assertThrows(() => buildFragment(0, [VIDEO]), RangeError, "current sequence_number 0");
  assertThrows(() => buildFragment(1, []), RangeError, "current track count 0");
  assertThrows(() => buildFragment(1, [{ ...VIDEO, samples: [] }]), RangeError, "sample count 0");
  assertThrows(() => buildFragment(1, [{ ...VIDEO, baseMediaDecodeTime: -1 }]), RangeError, "-1");
  assertThrows(
    () => buildFragment(1, [{ ...VIDEO, samples: [{ ...s, duration: -3 }] }]),
    RangeError,
    "current sample duration -3",
  );
  assertThrows(
    () => buildFragment(1, [{ ...VIDEO, samples: [{ ...s, compositionOffset: 2 ** 31 }] }]),
    RangeError,
    "composition offset",
  );
});
