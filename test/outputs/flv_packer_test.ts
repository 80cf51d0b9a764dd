/**
 * FlvPacker: each frame becomes one FLV tag, packed once and shared by every
 * FLV player; flvHeaderFlags: the FLV header's TypeFlags from what a stream
 * has carried.
 */
import { assert, assertEquals, assertStrictEquals } from "../_util/assert.ts";
import { FakePublisher, FakeSink, frames, limits, mediaFrame, RecordingLogger } from "../_util/hub_fakes.ts";
import * as ref from "../_util/flv_pack_ref.ts";
import { hex } from "../fixtures/annotated_hex.ts";
import { makeConfig } from "../../src/config/config.ts";
import { StreamHub } from "../../src/hub/stream_hub.ts";
import { Subscriber } from "../../src/hub/subscriber.ts";
import { FrameKind } from "../../src/media/frame.ts";
import { FLV_PACKED_KEY, flvHeaderFlags, FlvPacker } from "../../src/outputs/flv_packer.ts";

const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

Deno.test("FlvPacker.pack() packs a video frame into one FLV tag: header, payload, PreviousTagSize", () => {
  const payload = hex(`
    17 01 00 00 00          # AVC keyframe, NALU, composition time 0
    65 88 84                # the start of an IDR slice
  `);
  const frame = mediaFrame(FrameKind.Video, 0x01_23_45_67, payload);
  assertEquals(
    new FlvPacker().pack(frame),
    hex(`
      09                    # TagType 9: video
      00 00 08              # DataSize 8
      23 45 67              # Timestamp: the lower 24 bits of 0x01234567 ms
      01                    # TimestampExtended: the upper 8 bits
      00 00 00              # StreamID 0
      17 01 00 00 00 65 88 84 # the frame's payload, byte for byte
      00 00 00 13           # PreviousTagSize 19 (11 + 8)
    `),
  );
});

Deno.test("FlvPacker.pack() gives the same bytes as the TypeScript reference for audio, video and data", () => {
  const cases = [
    frames.metadata(0),
    frames.videoHeader(0),
    frames.audioHeader(0),
    frames.key(40, 3000),
    frames.audio(63, 200),
    frames.inter(80, 900),
  ];
  const packer = new FlvPacker();
  for (const f of cases) {
    assertEquals(
      packer.pack(f),
      ref.packTag(f.kind, f.timestamp, f.payload),
      `kind ${f.kind} at ${f.timestamp}`,
    );
  }
});

Deno.test("FlvPacker.pack() wraps a timestamp past 2^32 ms as the 32-bit FLV field does", () => {
  const frame = mediaFrame(FrameKind.Audio, 0x1_0000_0000 + 5, frames.audio(0).payload);
  const tag = new FlvPacker().pack(frame);
  assertEquals([...tag.subarray(4, 8)], [0, 0, 5, 0], "Timestamp 5, TimestampExtended 0");
});

Deno.test("FlvPacker.pack() packs a frame once and caches the tag on the frame", () => {
  const frame = frames.key(0);
  const a = new FlvPacker().pack(frame);
  const b = new FlvPacker().pack(frame);
  assertStrictEquals(a, b);
  assertStrictEquals(frame.packed[FLV_PACKED_KEY], a);
});

Deno.test("FlvPacker: two subscribers of one stream write the identical Uint8Array for a frame", async () => {
  const hub = new StreamHub({ ...makeConfig().hub, mergeWindowMs: 0 }, new RecordingLogger());
  const stream = hub.publish("live/x", new FakePublisher());
  const sinks = [new FakeSink(), new FakeSink()];
  for (const [i, sink] of sinks.entries()) {
    stream.addSubscriber(new Subscriber(`p${i}`, new FlvPacker(), sink, limits(), new RecordingLogger()));
  }
  const frame = stream.push(FrameKind.Video, 0, frames.key(0, 5000).payload);
  await settle(); // the stream flushes in a microtask (merge window 0)
  const tag = frame.packed[FLV_PACKED_KEY];
  assert(tag !== undefined, "the frame was not packed");
  assertStrictEquals(sinks[0].writes[0], tag, "player 1 writes the cached tag itself");
  assertStrictEquals(sinks[1].writes[0], tag, "player 2 writes the very same array");
  hub.stop();
});

Deno.test("FlvPacker.reset() changes nothing: the next tag is the same after a skip", () => {
  const packer = new FlvPacker();
  const frame = frames.inter(40);
  const before = packer.pack(frame);
  packer.reset();
  assertStrictEquals(packer.pack(frame), before);
});

Deno.test("flvHeaderFlags() sets what the stream has carried, or both while it has carried nothing", () => {
  const cases: [string, { audioFrames: number; videoFrames: number } | undefined, object][] = [
    ["no stream yet", undefined, { audio: true, video: true }],
    ["a stream with no frames yet", { audioFrames: 0, videoFrames: 0 }, { audio: true, video: true }],
    ["audio and video", { audioFrames: 3, videoFrames: 2 }, { audio: true, video: true }],
    ["audio only", { audioFrames: 3, videoFrames: 0 }, { audio: true, video: false }],
    ["video only", { audioFrames: 0, videoFrames: 2 }, { audio: false, video: true }],
  ];
  for (const [what, stats, want] of cases) {
    assertEquals(flvHeaderFlags(stats && { stats }), want, what);
  }
});

Deno.test("FlvPacker with noAudio/noVideo packs the left-out track to no bytes, and the header flags drop it", () => {
  const noAudio = new FlvPacker({ noAudio: true });
  assertEquals(noAudio.pack(frames.audio(10)).length, 0);
  assert(noAudio.pack(frames.inter(40)).length > 0, "video is kept");
  const noVideo = new FlvPacker({ noVideo: true });
  assertEquals(noVideo.pack(frames.key(0, 100)).length, 0);
  assert(noVideo.pack(frames.audio(10)).length > 0, "audio is kept");
  assert(noVideo.pack(frames.metadata(0)).length > 0, "metadata is kept");
  const stats = { audioFrames: 3, videoFrames: 2 };
  assertEquals(flvHeaderFlags({ stats }, { noAudio: true }), { audio: false, video: true });
  assertEquals(flvHeaderFlags(undefined, { noVideo: true }), { audio: true, video: false });
});
