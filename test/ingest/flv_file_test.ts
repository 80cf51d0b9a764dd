import { assertEquals, assertRejects } from "../_util/assert.ts";
import {
  aacRaw,
  aacSequenceHeader,
  avcInterFrame,
  avcKeyframe,
  avcSequenceHeader,
} from "../_util/hub_fakes.ts";
import { MemoryFile } from "../_util/ingest_fakes.ts";
import { concat } from "../fixtures/nal_fixtures.ts";
import { ProtocolError } from "../../src/errors.ts";
import { type FlvFileOptions, flvFileTags } from "../../src/ingest/flv_file.ts";
import type { SourceTag } from "../../src/ingest/flv_publisher.ts";
import { TagType } from "../../src/media/flv.ts";
import { encodeData } from "../../src/rtmp/command.ts";
import { flvFileHeader, type FlvTagInput, packTags } from "../../src/wasm/flv_pack.ts";

const METADATA = encodeData("onMetaData", { width: 320, duration: 1 });

/**
 * An FLV file starting at 1000 ms: metadata and sequence headers, then video at 40 ms and audio at 23 ms
 * steps; the last video frame is at 1080, the last audio frame at 1092.
 */
const FILE_TAGS: FlvTagInput[] = [
  { type: TagType.ScriptData, timestamp: 1000, data: METADATA },
  { type: TagType.Video, timestamp: 1000, data: avcSequenceHeader() },
  { type: TagType.Audio, timestamp: 1000, data: aacSequenceHeader() },
  { type: TagType.Video, timestamp: 1000, data: avcKeyframe() },
  { type: TagType.Audio, timestamp: 1000, data: aacRaw() },
  { type: TagType.Audio, timestamp: 1023, data: aacRaw() },
  { type: TagType.Video, timestamp: 1040, data: avcInterFrame() },
  { type: TagType.Audio, timestamp: 1046, data: aacRaw() },
  { type: TagType.Audio, timestamp: 1069, data: aacRaw() },
  { type: TagType.Video, timestamp: 1080, data: avcInterFrame() },
  { type: TagType.Audio, timestamp: 1092, data: aacRaw() },
];
const FILE = concat([flvFileHeader({ audio: true, video: true }), packTags(FILE_TAGS)]);

async function tagsOf(bytes: Uint8Array, options: FlvFileOptions, limit = Infinity): Promise<SourceTag[]> {
  const out: SourceTag[] = [];
  for await (const tag of flvFileTags(new MemoryFile(bytes, 37), options)) {
    out.push(tag);
    if (out.length >= limit) break;
  }
  return out;
}

Deno.test("flvFileTags() gives every tag with timestamps from the file's first tag, bodies unchanged", async () => {
  const tags = await tagsOf(FILE, { loop: false });
  assertEquals(tags.map((t) => [t.type, t.timestamp]), FILE_TAGS.map((t) => [t.type, t.timestamp - 1000]));
  assertEquals(tags.map((t) => t.data), FILE_TAGS.map((t) => t.data));
});

Deno.test("flvFileTags() loops from the end of the later-ending kind plus one frame, without repeating headers", async () => {
  const perLoop = FILE_TAGS.length;
  const tags = await tagsOf(FILE, { loop: true }, perLoop + (perLoop - 3) + 2);
  // Loop 2 starts where the file ends: the video's last frame at 80 plus its 40 ms gap (the audio ends
  // earlier, at 92 + 23).
  const second = tags.slice(perLoop);
  assertEquals(second.map((t) => [t.type, t.timestamp]), [
    [TagType.Video, 120],
    [TagType.Audio, 120],
    [TagType.Audio, 143],
    [TagType.Video, 160],
    [TagType.Audio, 166],
    [TagType.Audio, 189],
    [TagType.Video, 200],
    [TagType.Audio, 212],
    [TagType.Video, 240],
    [TagType.Audio, 240],
  ]);
  for (const kind of [TagType.Video, TagType.Audio]) {
    const ts = tags.filter((t) => t.type === kind).map((t) => t.timestamp);
    assertEquals(ts, [...ts].sort((a, b) => a - b), `${kind}: monotonic across the loop`);
  }
});

Deno.test("flvFileTags() loops a video-only file one video frame after its last", async () => {
  const videoOnly = concat([
    flvFileHeader({ audio: false, video: true }),
    packTags([
      { type: TagType.Video, timestamp: 0, data: avcSequenceHeader() },
      { type: TagType.Video, timestamp: 0, data: avcKeyframe() },
      { type: TagType.Video, timestamp: 33, data: avcInterFrame() },
    ]),
  ]);
  const tags = await tagsOf(videoOnly, { loop: true }, 7);
  assertEquals(tags.map((t) => t.timestamp), [0, 0, 33, 66, 99, 132, 165]);
});

Deno.test("flvFileTags() loops so that the kind that ends later is seamless and neither goes back", async () => {
  // Audio starts 57 ms in (as ffmpeg's FLV of AAC with B-frame video does) and ends at 172 + 23 = 195;
  // video ends at 80 + 40 = 120. The next loop starts at 195 - 57 = 138: audio resumes at 195, video
  // after one 58 ms gap.
  const file = concat([
    flvFileHeader({ audio: true, video: true }),
    packTags([
      { type: TagType.Video, timestamp: 0, data: avcKeyframe() },
      { type: TagType.Video, timestamp: 40, data: avcInterFrame() },
      { type: TagType.Audio, timestamp: 57, data: aacRaw() },
      { type: TagType.Video, timestamp: 80, data: avcInterFrame() },
      ...[80, 103, 126, 149, 172].map((
        timestamp,
      ) => ({ type: TagType.Audio, timestamp, data: aacRaw() } as const)),
    ]),
  ]);
  const tags = await tagsOf(file, { loop: true }, 12);
  assertEquals(tags.slice(9).map((t) => [t.type, t.timestamp]), [
    [TagType.Video, 138],
    [TagType.Video, 178],
    [TagType.Audio, 195],
  ]);
});

Deno.test("flvFileTags() reads a file that ends inside a tag up to its last whole tag", async () => {
  const tags = await tagsOf(FILE.subarray(0, FILE.length - 5), { loop: false });
  assertEquals(tags.length, FILE_TAGS.length - 1);
});

Deno.test("flvFileTags() throws ProtocolError for a file that is not FLV, or holds no tag", async () => {
  await assertRejects(() => tagsOf(new Uint8Array(64), { loop: false }), ProtocolError, "signature");
  await assertRejects(
    () => tagsOf(flvFileHeader({ audio: true, video: true }), { loop: true }),
    ProtocolError,
    "no tag",
  );
});

Deno.test("flvFileTags() refuses a tag over maxTagSize, naming the limit", async () => {
  await assertRejects(() => tagsOf(FILE, { loop: false, maxTagSize: 16 }), ProtocolError, "limit 16");
});
