import { ProtocolError } from "../../src/errors.ts";
import {
  AacPacketType,
  AvcPacketType,
  FlvReader,
  type FlvTag,
  readAudioTagHeader,
  readVideoTagHeader,
  SoundFormat,
  TagType,
  VideoCodecId,
  VideoFrameType,
} from "../../src/media/flv.ts";
import * as wasmPack from "../../src/wasm/flv_pack.ts";
import { assert, assertEquals, assertThrows } from "../_util/assert.ts";
import * as refPack from "../_util/flv_pack_ref.ts";
import { byteByByte, feed, randomPieces, splitsInTwo } from "../_util/split.ts";
import { seededRandom } from "../_util/mutate.ts";
import { hex } from "../fixtures/annotated_hex.ts";
import { encodeFlv, FLV_HEADER_AV, FLV_SAMPLE, FLV_SAMPLE_TAGS } from "../fixtures/flv_fixtures.ts";
import { concat } from "../fixtures/nal_fixtures.ts";

let madeFlv: Promise<Uint8Array> | undefined;
/** One ffmpeg-made FLV (320x240 H.264 + AAC, 1 s) shared by the tests below. */
function ffmpegFlv(): Promise<Uint8Array> {
  return madeFlv ??= encodeFlv();
}

function readAll(bytes: Uint8Array, pieces: Iterable<Uint8Array> = [bytes]): FlvTag[] {
  const reader = new FlvReader();
  const { items, error } = feed((b) => reader.push(b), pieces);
  if (error) throw error;
  reader.end();
  return items;
}

Deno.test("FlvReader.push() reads the header and every tag of the annotated sample", () => {
  const reader = new FlvReader();
  assertEquals(reader.push(FLV_SAMPLE), FLV_SAMPLE_TAGS);
  assertEquals(reader.header, { version: 1, audio: true, video: true, dataOffset: 9 });
  assertEquals(reader.offset, FLV_SAMPLE.length);
  reader.end();
});

Deno.test("FlvReader.push() yields the same tags when the sample is split at every byte", () => {
  for (const [a, b] of splitsInTwo(FLV_SAMPLE)) assertEquals(readAll(FLV_SAMPLE, [a, b]), FLV_SAMPLE_TAGS);
  assertEquals(readAll(FLV_SAMPLE, byteByByte(FLV_SAMPLE)), FLV_SAMPLE_TAGS);
  const random = seededRandom(0xf1a);
  for (let i = 0; i < 50; i++) {
    assertEquals(readAll(FLV_SAMPLE, randomPieces(FLV_SAMPLE, random, 20)), FLV_SAMPLE_TAGS, `round ${i}`);
  }
});

Deno.test("FlvReader.push() returns tag data the caller owns", () => {
  const input = FLV_SAMPLE.slice();
  const tags = new FlvReader().push(input);
  input.fill(0);
  assertEquals(tags, FLV_SAMPLE_TAGS);
});

Deno.test("FlvReader reads an ffmpeg FLV: metadata, sequence headers, a key frame first, monotonic timestamps", async () => {
  const reader = new FlvReader();
  const tags = reader.push(await ffmpegFlv());
  reader.end();
  assertEquals(reader.header, { version: 1, audio: true, video: true, dataOffset: 9 });

  assertEquals(tags[0].type, TagType.ScriptData);
  assertEquals(new TextDecoder().decode(tags[0].data.subarray(3, 13)), "onMetaData");

  const video = tags.filter((t) => t.type === TagType.Video).map((t) => ({
    t,
    h: readVideoTagHeader(t.data),
  }));
  const audio = tags.filter((t) => t.type === TagType.Audio).map((t) => ({
    t,
    h: readAudioTagHeader(t.data),
  }));
  assert(video.length >= 25 && audio.length >= 40, `${video.length} video and ${audio.length} audio tags`);
  assertEquals(video[0].h, {
    frameType: VideoFrameType.Key,
    codecId: VideoCodecId.Avc,
    avcPacketType: AvcPacketType.SequenceHeader,
    compositionTime: 0,
  });
  assertEquals(video[1].h.frameType, VideoFrameType.Key, "the first frame is a key frame");
  assertEquals(video[1].h.avcPacketType, AvcPacketType.Nalu);
  assert(
    video.slice(1, -1).every(({ h }) =>
      h.avcPacketType === AvcPacketType.Nalu && h.codecId === VideoCodecId.Avc
    ),
  );
  assertEquals(video[video.length - 1].h.avcPacketType, AvcPacketType.EndOfSequence, "FFmpeg ends with one");
  assertEquals(audio[0].h, {
    soundFormat: SoundFormat.Aac,
    soundRate: 3,
    soundSize: 1,
    soundType: 1,
    aacPacketType: AacPacketType.SequenceHeader,
  });
  assert(audio.slice(1).every(({ h }) => h.aacPacketType === AacPacketType.Raw));

  // Interleaved by time, up to the end-of-sequence tag FFmpeg writes last with the last video timestamp.
  const media = tags.slice(0, -1);
  for (let i = 1; i < media.length; i++) {
    assert(
      media[i].timestamp >= media[i - 1].timestamp,
      `tag ${i}: ${media[i - 1].timestamp} then ${media[i].timestamp}`,
    );
  }
  for (const kind of [video, audio]) {
    for (let i = 1; i < kind.length; i++) {
      assert(kind[i].t.timestamp >= kind[i - 1].t.timestamp, `${kind[i].t.offset}`);
    }
  }
  assert(tags.every((t) => t.streamId === 0));
  assert(tags[tags.length - 1].timestamp >= 900, "about a second of media");
});

for (const [name, pack] of [["wasm", wasmPack], ["ts", refPack]] as const) {
  Deno.test(`[${name}] packTag() of every tag FlvReader yields reproduces the ffmpeg file byte for byte`, async () => {
    const flv = await ffmpegFlv();
    const reader = new FlvReader();
    const tags = reader.push(flv);
    const header = reader.header!;
    const rebuilt = concat([
      pack.flvFileHeader({ audio: header.audio, video: header.video }),
      ...tags.map((t) => pack.packTag(t.type, t.timestamp, t.data)),
    ]);
    assertEquals(rebuilt, flv);
    assertEquals(pack.packTags(tags), flv.subarray(13));
  });
}

Deno.test("FlvReader yields the same tags when the ffmpeg file is split at every byte", async () => {
  const flv = await ffmpegFlv();
  const whole = readAll(flv);
  for (const [a, b] of splitsInTwo(flv)) {
    const got = readAll(flv, [a, b]);
    if (got.length !== whole.length || got.some((t, i) => t.offset !== whole[i].offset)) {
      assertEquals(got, whole, `split at ${a.length}`);
    }
  }
  assertEquals(readAll(flv, byteByByte(flv)), whole);
});

Deno.test("FlvReader refuses a tag over maxTagSize, naming the value and the limit", () => {
  const reader = new FlvReader({ maxTagSize: 39 });
  const e = assertThrows(() => reader.push(FLV_SAMPLE), ProtocolError);
  assertEquals(e.code, "flv");
  assertEquals(e.message, "Cannot read FLV tag at byte 13: DataSize is 40, limit 39");
  assertEquals(new FlvReader({ maxTagSize: 40 }).push(FLV_SAMPLE), FLV_SAMPLE_TAGS);
  assertThrows(
    () => new FlvReader({ maxTagSize: 2 ** 24 }),
    RangeError,
    "maxTagSize must be an integer in 0..16777215",
  );
});

Deno.test("FlvReader refuses the cap before the tag's data arrives", () => {
  const reader = new FlvReader({ maxTagSize: 1000 });
  const head = concat([FLV_HEADER_AV, hex(`09 ff ff ff 00 00 00 00 00 00 00`)]);
  assertThrows(() => reader.push(head), ProtocolError, "DataSize is 16777215, limit 1000");
});

Deno.test("FlvReader refuses a bad signature, DataOffset, PreviousTagSize, TagType or Filter bit", () => {
  const bad = (patch: [number, number][]) => {
    const b = FLV_SAMPLE.slice();
    for (const [at, v] of patch) b[at] = v;
    return assertThrows(() => new FlvReader().push(b), ProtocolError).message;
  };
  assertEquals(bad([[0, 0x47]]), 'Cannot read FLV header: signature is 47 4c 56, expected 46 4c 56 ("FLV")');
  assertEquals(bad([[8, 8]]), "Cannot read FLV header: DataOffset is 8, expected 9..1024");
  assertEquals(bad([[12, 1]]), "Cannot read FLV stream at byte 9: PreviousTagSize is 1, expected 0");
  assertEquals(bad([[67, 0x34]]), "Cannot read FLV stream at byte 64: PreviousTagSize is 52, expected 51");
  assertEquals(bad([[68, 0x07]]), "Cannot read FLV tag at byte 68: TagType is 7, expected 8, 9 or 18");
  assertEquals(bad([[68, 0x29]]), "Cannot read FLV tag at byte 68: Filter is 1 (encrypted), not supported");
  const lax = FLV_SAMPLE.slice();
  lax[67] = 0x34;
  assertEquals(new FlvReader({ checkPreviousTagSize: false }).push(lax), FLV_SAMPLE_TAGS);
});

Deno.test("FlvReader skips header bytes past a DataOffset above 9", () => {
  const stretched = concat([
    hex(`
      46 4c 56 01 05          # "FLV", version 1, audio + video
      00 00 00 0c             # DataOffset 12
      aa bb cc                # 3 bytes a later version might define
    `),
    FLV_SAMPLE.subarray(9),
  ]);
  const tags = readAll(stretched, byteByByte(stretched));
  assertEquals(tags.map((t) => t.offset), FLV_SAMPLE_TAGS.map((t) => t.offset + 3));
  assertEquals(tags.map((t) => t.data), FLV_SAMPLE_TAGS.map((t) => t.data));
});

Deno.test("FlvReader.end() refuses a stream that stops inside the header or a tag", () => {
  for (const cut of [0, 5, 20, 100, FLV_SAMPLE.length - 2]) {
    const reader = new FlvReader();
    reader.push(FLV_SAMPLE.subarray(0, cut));
    const e = assertThrows(() => reader.end(), ProtocolError);
    const where = cut < 9 ? "the FLV header" : "a tag";
    assertEquals(e.message, `Cannot end FLV stream at byte ${cut}: it stops inside ${where}`);
  }
  // Without the last PreviousTagSize, and with nothing after the header, the stream ends cleanly.
  for (const cut of [13, FLV_SAMPLE.length - 4, FLV_SAMPLE.length]) {
    const reader = new FlvReader();
    reader.push(FLV_SAMPLE.subarray(0, cut));
    reader.end();
  }
});

Deno.test("FlvReader stays failed after an error", () => {
  const reader = new FlvReader({ maxTagSize: 10 });
  const first = assertThrows(() => reader.push(FLV_SAMPLE), ProtocolError);
  assertEquals(assertThrows(() => reader.push(new Uint8Array(1)), ProtocolError), first);
  assertEquals(assertThrows(() => reader.end(), ProtocolError), first);
});

Deno.test("readVideoTagHeader() reads frame type, codec and a signed composition time", () => {
  assertEquals(readVideoTagHeader(FLV_SAMPLE_TAGS[3].data), {
    frameType: VideoFrameType.Key,
    codecId: VideoCodecId.Avc,
    avcPacketType: AvcPacketType.Nalu,
    compositionTime: 80,
  });
  assertEquals(readVideoTagHeader(FLV_SAMPLE_TAGS[5].data).compositionTime, -40);
  assertEquals(readVideoTagHeader(hex(`22`)), {
    frameType: VideoFrameType.Inter,
    codecId: VideoCodecId.SorensonH263,
  });
  assertThrows(() => readVideoTagHeader(hex(`17 01`)), ProtocolError, "data is 2 bytes, expected 5 or more");
});

Deno.test("readAudioTagHeader() reads format, rate, size, channels and the AAC packet type", () => {
  assertEquals(readAudioTagHeader(FLV_SAMPLE_TAGS[2].data), {
    soundFormat: SoundFormat.Aac,
    soundRate: 3,
    soundSize: 1,
    soundType: 1,
    aacPacketType: AacPacketType.SequenceHeader,
  });
  assertEquals(readAudioTagHeader(hex(`2e`)), {
    soundFormat: SoundFormat.Mp3,
    soundRate: 3,
    soundSize: 1,
    soundType: 0,
  });
  assertThrows(() => readAudioTagHeader(new Uint8Array(0)), ProtocolError, "data is empty");
});
