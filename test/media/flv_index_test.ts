/**
 * FlvIndex and FlvTagCursor: the annotated FLV sample, synthetic files with
 * known keyframe offsets (seek lookups, thinning past the cap, truncated and
 * malformed files, audio only), onMetaData keyframe indexes that check out
 * or lie, and an ffmpeg-made file indexed both ways.
 */
import { ProtocolError } from "../../src/errors.ts";
import { type FlvTag, TagType } from "../../src/media/flv.ts";
import { classify } from "../../src/media/frame.ts";
import {
  BLOCK_SIZE,
  type ByteSource,
  bytesSource,
  FlvIndex,
  FlvTagCursor,
  type SeekPoint,
} from "../../src/media/flv_index.ts";
import { EcmaArray, encodeAmf0 } from "../../src/amf/amf0.ts";
import { flvFileHeader, type FlvTagInput, packTags } from "../../src/wasm/flv_pack.ts";
import { assert, assertEquals, assertRejects } from "../_util/assert.ts";
import {
  aacRaw,
  aacSequenceHeader,
  avcInterFrame,
  avcKeyframe,
  avcSequenceHeader,
} from "../_util/hub_fakes.ts";
import { haveTools, runOk } from "../_util/media.ts";
import { FLV_SAMPLE, FLV_SAMPLE_TAGS } from "../fixtures/flv_fixtures.ts";

/** FLV header (9) + PreviousTagSize0 (4). */
const FIRST_TAG = 13;
/** Tag header (11) + PreviousTagSize (4) around each tag's data. */
const TAG_OVERHEAD = 15;

/** A source that hands out at most `max` bytes per read, as a slow disk or a pipe might. */
function choppySource(bytes: Uint8Array, max: number): ByteSource {
  const inner = bytesSource(bytes);
  return { size: bytes.length, read: (offset, into) => inner.read(offset, into.subarray(0, max)) };
}

async function readAllTags(source: ByteSource, from = FIRST_TAG): Promise<FlvTag[]> {
  const cursor = new FlvTagCursor(source, from);
  const tags: FlvTag[] = [];
  for (let t = await cursor.next(); t; t = await cursor.next()) tags.push(t);
  return tags;
}

/** An FLV file of `tags` after the header, and where each tag starts. */
function flvOf(tags: FlvTagInput[]): { bytes: Uint8Array; offsets: number[] } {
  const head = flvFileHeader({ audio: true, video: true });
  const body = packTags(tags);
  const bytes = new Uint8Array(head.length + body.length);
  bytes.set(head);
  bytes.set(body, head.length);
  const offsets: number[] = [];
  let at = head.length;
  for (const t of tags) {
    offsets.push(at);
    at += t.data.length + TAG_OVERHEAD;
  }
  return { bytes, offsets };
}

/** An AVC keyframe NALU tag body of `bytes` bytes. */
function keyframe(bytes: number, fill: number): Uint8Array {
  const data = new Uint8Array(bytes).fill(fill);
  data.set(avcKeyframe(0));
  return data;
}

interface Synthetic {
  tags: FlvTagInput[];
  /** The keyframes' timestamps and tag offsets, in file order, when laid out after `lead` bytes of tags. */
  keyframes: SeekPoint[];
}

/**
 * `seconds` of 25 fps video (a keyframe every `gopFrames`) and AAC (a frame
 * every ~23 ms), with both sequence headers first, interleaved by timestamp.
 * Offsets assume the tags start at `startOffset`.
 */
function synthetic(
  o: {
    seconds: number;
    gopFrames?: number;
    audio?: boolean;
    video?: boolean;
    startOffset?: number;
    keyBytes?: number;
  },
): Synthetic {
  const gop = o.gopFrames ?? 25;
  const tags: FlvTagInput[] = [];
  if (o.video !== false) tags.push({ type: TagType.Video, timestamp: 0, data: avcSequenceHeader() });
  if (o.audio !== false) tags.push({ type: TagType.Audio, timestamp: 0, data: aacSequenceHeader() });
  const frames: FlvTagInput[] = [];
  const end = o.seconds * 1000;
  if (o.video !== false) {
    for (let i = 0; i * 40 < end; i++) {
      const data = i % gop === 0 ? keyframe(o.keyBytes ?? 200, i & 0xff) : avcInterFrame(50, i & 0xff);
      frames.push({ type: TagType.Video, timestamp: i * 40, data });
    }
  }
  if (o.audio !== false) {
    for (let i = 0; Math.round(i * 1024000 / 44100) < end; i++) {
      frames.push({
        type: TagType.Audio,
        timestamp: Math.round(i * 1024000 / 44100),
        data: aacRaw(20, i & 0xff),
      });
    }
  }
  frames.sort((a, b) => a.timestamp - b.timestamp || b.type - a.type); // video before audio at a tie
  tags.push(...frames);
  const keyframes: SeekPoint[] = [];
  let at = o.startOffset ?? FIRST_TAG;
  for (const t of tags) {
    if (classify(t.type, t.data).keyframe) {
      keyframes.push({ timestamp: t.timestamp, offset: at });
    }
    at += t.data.length + TAG_OVERHEAD;
  }
  return { tags, keyframes };
}

Deno.test("FlvIndex.build() indexes the annotated sample: metadata, both sequence headers, one keyframe", async () => {
  const index = await FlvIndex.build(bytesSource(FLV_SAMPLE));
  assertEquals(index.builtFrom, "scan");
  assertEquals(index.fileSize, FLV_SAMPLE.length);
  assertEquals(index.firstTagOffset, FIRST_TAG);
  assertEquals(index.metadata, { type: TagType.ScriptData, timestamp: 0, offset: 13, size: 40 });
  assertEquals(index.sequenceHeaders, [
    { type: TagType.Video, timestamp: 0, offset: 68, size: 39 },
    { type: TagType.Audio, timestamp: 0, offset: 122, size: 4 },
  ]);
  assertEquals(index.seekPoints(), [{ timestamp: 40, offset: 141 }]);
  assertEquals(index.durationMs, 0x01000020);
  assertEquals(index.seekPoint(0), { timestamp: 40, offset: 141 });
  assertEquals(index.seekPoint(0xffffffff), { timestamp: 40, offset: 141 });
  assertEquals(index.sequenceHeadersBefore(141).map((s) => s.offset), [68, 122]);
  assertEquals(index.sequenceHeadersBefore(100).map((s) => s.offset), [68]);
});

Deno.test("FlvIndex.build() builds the same index when every read returns 1 to 16 bytes", async () => {
  const whole = await FlvIndex.build(bytesSource(FLV_SAMPLE));
  for (let max = 1; max <= 16; max++) {
    const index = await FlvIndex.build(choppySource(FLV_SAMPLE, max));
    assertEquals(index.seekPoints(), whole.seekPoints(), `reads of ${max} bytes`);
    assertEquals(index.sequenceHeaders, whole.sequenceHeaders, `reads of ${max} bytes`);
    assertEquals(index.metadata, whole.metadata, `reads of ${max} bytes`);
  }
});

Deno.test("FlvTagCursor.next() reads every tag of the annotated sample, also from reads of 1 to 16 bytes", async () => {
  assertEquals(await readAllTags(bytesSource(FLV_SAMPLE)), FLV_SAMPLE_TAGS);
  for (let max = 1; max <= 16; max++) {
    assertEquals(await readAllTags(choppySource(FLV_SAMPLE, max)), FLV_SAMPLE_TAGS, `reads of ${max} bytes`);
  }
});

Deno.test("FlvTagCursor.moveTo() goes on from a given tag", async () => {
  const cursor = new FlvTagCursor(bytesSource(FLV_SAMPLE), FIRST_TAG);
  await cursor.next();
  cursor.moveTo(141);
  assertEquals(await cursor.next(), FLV_SAMPLE_TAGS[3]);
  assertEquals(cursor.offset, 171);
});

Deno.test("FlvIndex.seekPoint() finds the keyframe at or before a time in a 10 s file with a 1 s GOP", async () => {
  const s = synthetic({ seconds: 10 });
  const { bytes } = flvOf(s.tags);
  const index = await FlvIndex.build(bytesSource(bytes));
  assertEquals(index.seekPoints(), s.keyframes);
  assertEquals(index.seekPointCount, 10);
  const at = (ms: number) => index.seekPoint(ms)?.timestamp;
  assertEquals([at(-5), at(0), at(999), at(1000), at(4500), at(3999), at(9960), at(1e9)], [
    0,
    0,
    0,
    1000,
    4000,
    3000,
    9000,
    9000,
  ]);
  assertEquals(index.seekPoint(4500)?.offset, s.keyframes[4].offset);
  assertEquals(index.durationMs, Math.max(...s.tags.map((t) => t.timestamp)));
});

Deno.test("FlvIndex.sequenceHeadersBefore() gives the latest of each kind, also after a mid-file change", async () => {
  const s = synthetic({ seconds: 3 });
  // A new video configuration at 2 s, right before the keyframe there.
  const at2s = s.tags.findIndex((t) => t.type === TagType.Video && t.timestamp === 2000);
  s.tags.splice(at2s, 0, { type: TagType.Video, timestamp: 2000, data: avcSequenceHeader(8, 0x02) });
  const { bytes, offsets } = flvOf(s.tags);
  const index = await FlvIndex.build(bytesSource(bytes));
  assertEquals(index.sequenceHeaders.map((h) => h.offset), [offsets[0], offsets[1], offsets[at2s]]);
  const key2s = index.seekPoint(2000)!;
  assertEquals(key2s.offset, offsets[at2s + 1]);
  assertEquals(index.sequenceHeadersBefore(key2s.offset).map((h) => h.offset), [offsets[1], offsets[at2s]]);
  assertEquals(index.sequenceHeadersBefore(index.seekPoint(1000)!.offset).map((h) => h.offset), [
    offsets[0],
    offsets[1],
  ]);
});

Deno.test("FlvIndex.build() thins the seek points past maxSeekPoints, keeping an even grid from the first", async () => {
  const s = synthetic({ seconds: 20, gopFrames: 25, audio: false });
  const { bytes } = flvOf(s.tags);
  const index = await FlvIndex.build(bytesSource(bytes), { maxSeekPoints: 4 });
  assert(index.seekPointCount <= 4, `${index.seekPointCount} seek points`);
  const times = index.seekPoints().map((p) => p.timestamp);
  assertEquals(times, [0, 8000, 16000]);
  assertEquals(index.seekPoint(12_345)?.timestamp, 8000);
  for (const p of index.seekPoints()) assert(s.keyframes.some((k) => k.offset === p.offset));
});

Deno.test("FlvIndex.build() indexes a file that ends inside a tag up to its last whole tag", async () => {
  const s = synthetic({ seconds: 3 });
  const { bytes, offsets } = flvOf(s.tags);
  const cut = offsets[offsets.length - 1] + 20; // inside the last tag
  const index = await FlvIndex.build(bytesSource(bytes.subarray(0, cut)));
  assertEquals(index.seekPoints(), s.keyframes);
  const tags = await readAllTags(bytesSource(bytes.subarray(0, cut)));
  assertEquals(tags.length, s.tags.length - 1);
});

Deno.test("FlvIndex.build() gives an audio-only file a seek point per second of audio", async () => {
  const s = synthetic({ seconds: 5, video: false });
  const { bytes } = flvOf(s.tags);
  const index = await FlvIndex.build(bytesSource(bytes));
  const times = index.seekPoints().map((p) => p.timestamp);
  assertEquals(times.length, 5);
  for (let i = 1; i < times.length; i++) assert(times[i] - times[i - 1] >= 1000, `${times}`);
  assertEquals(index.seekPoint(2500)?.timestamp, times[2]);
});

Deno.test("FlvIndex.build() refuses a file that is not FLV with ProtocolError", async () => {
  await assertRejects(
    () => FlvIndex.build(bytesSource(new TextEncoder().encode("not an flv file at all"))),
    ProtocolError,
    'does not start with "FLV"',
  );
});

Deno.test("FlvIndex.build() refuses a first tag with an unknown TagType, naming its offset", async () => {
  const { bytes } = flvOf(synthetic({ seconds: 1 }).tags);
  const bad = bytes.slice();
  bad[FIRST_TAG] = 0x07;
  await assertRejects(
    () => FlvIndex.build(bytesSource(bad)),
    ProtocolError,
    `at byte ${FIRST_TAG}: TagType is 7`,
  );
});

Deno.test("FlvIndex.build() indexes up to a malformed tag later in the file and says why it stopped", async () => {
  const s = synthetic({ seconds: 3 });
  const { bytes, offsets } = flvOf(s.tags);
  const at2s = s.keyframes[2].offset;
  const bad = bytes.slice();
  bad[at2s] = 0x07;
  const index = await FlvIndex.build(bytesSource(bad));
  assertEquals(index.seekPoints(), s.keyframes.slice(0, 2));
  assertEquals(index.damage, `Cannot read FLV tag at byte ${at2s}: TagType is 7, expected 8, 9 or 18`);
  assertEquals((await FlvIndex.build(bytesSource(bytes))).damage, undefined);
  const cursor = new FlvTagCursor(bytesSource(bad), offsets[offsets.indexOf(at2s) - 1]);
  await cursor.next();
  await assertRejects(() => cursor.next(), ProtocolError, `at byte ${at2s}`);
});

Deno.test("FlvTagCursor.next() refuses a tag over maxTagSize and reads one larger than a block whole", async () => {
  const big = keyframe(BLOCK_SIZE * 2 + 17, 0x33);
  const { bytes } = flvOf([{ type: TagType.Video, timestamp: 0, data: big }]);
  const tags = await readAllTags(choppySource(bytes, 1000));
  assertEquals(tags.length, 1);
  assertEquals(tags[0].data, big);
  await assertRejects(
    () => new FlvTagCursor(bytesSource(bytes), FIRST_TAG, { maxTagSize: 1000 }).next(),
    ProtocolError,
    `DataSize is ${big.length}, limit 1000`,
  );
});

/** onMetaData with a keyframe index `{ times, filepositions }`, as yamdi and ffmpeg write it. */
function metadataWithIndex(times: number[], positions: number[]): Uint8Array {
  return encodeAmf0(
    "onMetaData",
    new EcmaArray({ duration: 10, keyframes: { times, filepositions: positions } }),
  );
}

/** A synthetic file with an onMetaData keyframe index first; `lie` moves every position one tag on. */
function withMetadataIndex(lie = false): { bytes: Uint8Array; keyframes: SeekPoint[] } {
  const keyBytes = 200_000;
  const count = synthetic({ seconds: 10 }).keyframes.length;
  const metaSize = metadataWithIndex(new Array(count).fill(0), new Array(count).fill(0)).length;
  const s = synthetic({ seconds: 10, keyBytes, startOffset: FIRST_TAG + metaSize + TAG_OVERHEAD });
  const positions = s.keyframes.map((k) => k.offset + (lie ? keyBytes + TAG_OVERHEAD : 0));
  const meta = metadataWithIndex(s.keyframes.map((k) => k.timestamp / 1000), positions);
  assertEquals(meta.length, metaSize);
  const { bytes } = flvOf([{ type: TagType.ScriptData, timestamp: 0, data: meta }, ...s.tags]);
  return { bytes, keyframes: s.keyframes };
}

Deno.test("FlvIndex.build() uses an onMetaData keyframe index that checks out, reading only the head and the tail", async () => {
  const { bytes, keyframes } = withMetadataIndex();
  let read = 0;
  const inner = bytesSource(bytes);
  const counting: ByteSource = {
    size: bytes.length,
    read: async (offset, into) => {
      const n = await inner.read(offset, into.subarray(0, Math.min(into.length, 4096)));
      read += n;
      return n;
    },
  };
  const index = await FlvIndex.build(counting);
  assertEquals(index.builtFrom, "metadata");
  assertEquals(index.seekPoints(), keyframes);
  assertEquals(index.sequenceHeaders.length, 2);
  assertEquals(index.metadata?.offset, FIRST_TAG);
  assertEquals(index.durationMs, 10_000); // onMetaData's duration
  assert(read < bytes.length / 2, `read ${read} of ${bytes.length} bytes`);
});

Deno.test("FlvIndex.build() scans instead when the onMetaData keyframe index points at other tags", async () => {
  const { bytes, keyframes } = withMetadataIndex(true);
  const index = await FlvIndex.build(bytesSource(bytes));
  assertEquals(index.builtFrom, "scan");
  assertEquals(index.seekPoints(), keyframes);
});

Deno.test({
  name: "FlvIndex.build() reads ffmpeg's add_keyframe_index metadata and finds what a scan finds",
  ignore: !haveTools("ffmpeg"),
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "sluice_flv_index_" });
    try {
      const path = `${dir}/indexed.flv`;
      await runOk("ffmpeg", [
        ...["-hide_banner", "-nostdin", "-v", "error", "-y"],
        ...[
          "-f",
          "lavfi",
          "-i",
          "testsrc2=size=160x120:rate=25",
          "-f",
          "lavfi",
          "-i",
          "sine=sample_rate=44100",
        ],
        ...["-t", "4", "-c:v", "libx264", "-preset", "veryfast", "-g", "25", "-keyint_min", "25"],
        ...["-sc_threshold", "0", "-c:a", "aac", "-flvflags", "add_keyframe_index", "-f", "flv", path],
      ], 60_000);
      const bytes = await Deno.readFile(path);
      const fromMeta = await FlvIndex.build(bytesSource(bytes));
      const scanned = await FlvIndex.build(bytesSource(bytes), { trustMetadataIndex: false });
      assertEquals(fromMeta.builtFrom, "metadata");
      assertEquals(scanned.builtFrom, "scan");
      assertEquals(fromMeta.seekPointCount, 4);
      assertEquals(fromMeta.seekPoints().map((p) => p.offset), scanned.seekPoints().map((p) => p.offset));
      const drift = fromMeta.seekPoints().map((p, i) =>
        Math.abs(p.timestamp - scanned.seekPoints()[i].timestamp)
      );
      assert(drift.every((d) => d <= 1), `timestamps differ by ${drift}`);
      assertEquals(fromMeta.sequenceHeaders, scanned.sequenceHeaders);
      assert(
        Math.abs(fromMeta.durationMs - scanned.durationMs) <= 100,
        `durations ${fromMeta.durationMs} and ${scanned.durationMs} ms`,
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
