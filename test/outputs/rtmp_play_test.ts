/**
 * RtmpPacker: frames become RTMP chunks, a full (type 0) header for the first
 * frame of a kind and after any break, a delta (type 1) header for the next
 * frame of the same kind; the bytes are cached on the frame per (stream id,
 * chunk size, header form) and shared by every player with that key. What a
 * player receives is checked by decoding it with the WASM ChunkReader, as a
 * player would.
 */
import { concatBytes } from "../../src/bytes.ts";
import { FrameKind, type MediaFrame } from "../../src/media/frame.ts";
import { ChunkStreamId, MessageType, type RtmpMessage } from "../../src/rtmp/message.ts";
import { RtmpPacker } from "../../src/outputs/rtmp_play.ts";
import { ChunkReader } from "../../src/wasm/chunk_reader.ts";
import { assert, assertEquals, assertStrictEquals } from "../_util/assert.ts";
import {
  aacRaw,
  aacSequenceHeader,
  avcInterFrame,
  avcKeyframe,
  avcSequenceHeader,
  mediaFrame,
  metadataPayload,
} from "../_util/hub_fakes.ts";
import { hex } from "../fixtures/annotated_hex.ts";
import { Stream } from "../../src/hub/stream.ts";
import { Subscriber } from "../../src/hub/subscriber.ts";
import { FakePublisher, FakeSink, limits, RecordingLogger, settle } from "../_util/hub_fakes.ts";

const CHUNK_SIZE = 4096;

/** A Set Chunk Size message (RTMP 1.0 5.4.1) to 4096, as a session sends it before media. */
const SET_CHUNK_SIZE_4096 = hex(`
  02                        # fmt 0, chunk stream 2 (protocol control)
  00 00 00                  # timestamp 0
  00 00 04                  # message length 4
  01                        # type 1: Set Chunk Size
  00 00 00 00               # message stream id 0 (little-endian)
  00 00 10 00               # chunk size 4096
`);

/** The messages a player gets from `packets`, decoded by a fresh ChunkReader told the packer's chunk size. */
function decode(packets: Uint8Array[], chunkSize = CHUNK_SIZE): RtmpMessage[] {
  const reader = new ChunkReader();
  if (chunkSize === CHUNK_SIZE) {
    assertEquals(reader.push(SET_CHUNK_SIZE_4096).map((m) => m.typeId), [MessageType.SetChunkSize]);
    assertEquals(reader.chunkSize, CHUNK_SIZE);
  } else {
    assertEquals(chunkSize, 128, "the reader's default chunk size");
  }
  return reader.push(concatBytes(packets));
}

/** The fmt bits (5.3.1.1) of a packed message's first chunk: 0 full header, 1 delta header. */
function headerType(packed: Uint8Array): number {
  return packed[0] >> 6;
}

/** Frames of one kind as a stream numbers them: seq 1, 2, ... with each one's previous timestamp. */
function run(kind: FrameKind, payload: () => Uint8Array, timestamps: number[]): MediaFrame[] {
  return timestamps.map((ts, i) => mediaFrame(kind, ts, payload(), i + 1, i === 0 ? -1 : timestamps[i - 1]));
}

Deno.test("RtmpPacker.pack() sends the first frame with a full (type 0) header on the video chunk stream", () => {
  const frame = mediaFrame(FrameKind.Video, 40, avcKeyframe(3), 1, -1);
  assertEquals(
    new RtmpPacker(1, CHUNK_SIZE).pack(frame),
    hex(`
      06                    # fmt 0 (full header), chunk stream 6 (video)
      00 00 28              # timestamp 40
      00 00 08              # message length 8
      09                    # type 9: video
      01 00 00 00           # message stream id 1 (little-endian)
      17 01 00 00 00        # AVC keyframe, NALU, composition time 0
      65 65 65              # the frame's body
    `),
  );
});

Deno.test("RtmpPacker.pack() sends the next frame of the same kind with a delta (type 1) header", () => {
  const [first, second] = run(FrameKind.Video, () => avcInterFrame(3), [40, 73]);
  const packer = new RtmpPacker(1, CHUNK_SIZE);
  packer.pack(first);
  assertEquals(
    packer.pack(second),
    hex(`
      46                    # fmt 1 (delta header), chunk stream 6 (video)
      00 00 21              # timestamp delta 33 (73 - 40)
      00 00 08              # message length 8
      09                    # type 9: video (the stream id is the previous message's)
      27 01 00 00 00        # AVC inter frame, NALU, composition time 0
      41 41 41              # the frame's body
    `),
  );
});

Deno.test("RtmpPacker.pack() output decodes to each frame's kind, stream id, absolute timestamp and payload", () => {
  const video = run(FrameKind.Video, () => avcInterFrame(20), [0, 40, 80]);
  const packer = new RtmpPacker(7, CHUNK_SIZE);
  const packets = video.map((f) => packer.pack(f));
  assertEquals(packets.map(headerType), [0, 1, 1]);
  assertEquals(
    decode(packets),
    video.map((f) => ({
      csid: ChunkStreamId.Video,
      typeId: MessageType.Video,
      streamId: 7,
      timestamp: f.timestamp,
      payload: f.payload,
    })),
  );
});

Deno.test("RtmpPacker.pack() puts audio on chunk stream 4 as type 8, video on 6 as type 9, data on 5 as type 18", () => {
  const packer = new RtmpPacker(1, CHUNK_SIZE);
  const got = decode([
    packer.pack(mediaFrame(FrameKind.Data, 0, metadataPayload(), 1, -1)),
    packer.pack(mediaFrame(FrameKind.Audio, 0, aacSequenceHeader(), 1, -1)),
    packer.pack(mediaFrame(FrameKind.Video, 0, avcSequenceHeader(), 1, -1)),
  ]);
  assertEquals(got.map((m) => [m.csid, m.typeId, m.streamId]), [
    [ChunkStreamId.Data, MessageType.DataAmf0, 1],
    [ChunkStreamId.Audio, MessageType.Audio, 1],
    [ChunkStreamId.Video, MessageType.Video, 1],
  ]);
});

Deno.test("RtmpPacker.pack() keeps one delta chain per kind: audio between two video frames does not break it", () => {
  const video = run(FrameKind.Video, () => avcInterFrame(4), [0, 40]);
  const audio = run(FrameKind.Audio, () => aacRaw(4), [10, 33]);
  const packer = new RtmpPacker(1, CHUNK_SIZE);
  const packets = [
    packer.pack(video[0]),
    packer.pack(audio[0]),
    packer.pack(video[1]),
    packer.pack(audio[1]),
  ];
  assertEquals(packets.map(headerType), [0, 0, 1, 1]);
  assertEquals(decode(packets).map((m) => [m.typeId, m.timestamp]), [[9, 0], [8, 10], [9, 40], [8, 33]]);
});

Deno.test("RtmpPacker.pack() goes back to a full header after a gap in seq (frames skipped)", () => {
  const video = run(FrameKind.Video, () => avcInterFrame(4), [0, 40, 80, 120]);
  const packer = new RtmpPacker(1, CHUNK_SIZE);
  const sent = [video[0], video[2], video[3]]; // video[1] skipped
  const packets = sent.map((f) => packer.pack(f));
  assertEquals(packets.map(headerType), [0, 0, 1]);
  assertEquals(decode(packets).map((m) => m.timestamp), [0, 80, 120]);
});

Deno.test("RtmpPacker.pack() sends a full header for a frame with no previous timestamp, whatever its seq", () => {
  const packer = new RtmpPacker(1, CHUNK_SIZE);
  // seq 1 follows the packer's starting point (0), but the stream had no earlier frame to be relative to.
  assertEquals(headerType(packer.pack(mediaFrame(FrameKind.Audio, 5, aacRaw(), 1, -1))), 0);
  assertEquals(headerType(packer.pack(mediaFrame(FrameKind.Audio, 9, aacRaw(), 2, -1))), 0);
  assertEquals(headerType(packer.pack(mediaFrame(FrameKind.Audio, 12, aacRaw(), 3, 9))), 1);
});

Deno.test("RtmpPacker.pack() splits a payload longer than the chunk size into type 3 continuation chunks", () => {
  const frame = mediaFrame(FrameKind.Video, 0, avcKeyframe(295), 1, -1); // 300 bytes: 128 + 128 + 44
  const packed = new RtmpPacker(1, 128).pack(frame);
  assertEquals(packed.length, 12 + 300 + 2, "one 12-byte header, two 1-byte continuation headers");
  assertEquals(packed[12 + 128], 0xc6, "fmt 3, chunk stream 6");
  assertEquals(packed[12 + 128 + 1 + 128], 0xc6, "fmt 3, chunk stream 6");
  assertEquals(decode([packed], 128).map((m) => m.payload), [frame.payload]);
});

Deno.test("RtmpPacker.pack() caches the bytes on the frame and a second packer with the same stream id and chunk size reuses them", () => {
  const frame = mediaFrame(FrameKind.Video, 0, avcKeyframe(), 1, -1);
  const a = new RtmpPacker(1, CHUNK_SIZE);
  const b = new RtmpPacker(1, CHUNK_SIZE);
  const fromA = a.pack(frame);
  assertEquals(Object.keys(frame.packed), ["rtmp:1:4096:full"]);
  assertStrictEquals(frame.packed["rtmp:1:4096:full"], fromA);
  assertStrictEquals(b.pack(frame), fromA, "the very same array: packed once, written to both players");
});

Deno.test("RtmpPacker.pack() caches full and delta forms apart, so a late joiner gets a full header for the same frame", () => {
  const [first, second] = run(FrameKind.Video, () => avcInterFrame(4), [0, 40]);
  const early = new RtmpPacker(1, CHUNK_SIZE);
  early.pack(first);
  const delta = early.pack(second);
  const full = new RtmpPacker(1, CHUNK_SIZE).pack(second);
  assertEquals(headerType(delta), 1);
  assertEquals(headerType(full), 0);
  assertEquals(Object.keys(second.packed).sort(), ["rtmp:1:4096:delta", "rtmp:1:4096:full"]);
  assertEquals(decode([full]).map((m) => m.timestamp), [40], "the full form stands alone");
});

Deno.test("RtmpPacker.pack() gives another stream id or chunk size bytes of their own", () => {
  const frame = mediaFrame(FrameKind.Video, 0, avcKeyframe(200), 1, -1);
  const one = new RtmpPacker(1, CHUNK_SIZE).pack(frame);
  const two = new RtmpPacker(2, CHUNK_SIZE).pack(frame);
  const small = new RtmpPacker(1, 128).pack(frame);
  assert(one !== two && one !== small && two !== small, "three different arrays");
  assertEquals(Object.keys(frame.packed).sort(), ["rtmp:1:128:full", "rtmp:1:4096:full", "rtmp:2:4096:full"]);
  assertEquals(decode([one])[0].streamId, 1);
  assertEquals(decode([two])[0].streamId, 2);
  assertEquals(decode([small], 128)[0].payload, frame.payload);
});

Deno.test("RtmpPacker.pack() with receiveAudio false drops audio frames but still sends the audio sequence header", () => {
  const packer = new RtmpPacker(1, CHUNK_SIZE);
  packer.audio = false;
  const header = mediaFrame(FrameKind.Audio, 0, aacSequenceHeader(), 1, -1);
  const raw = mediaFrame(FrameKind.Audio, 23, aacRaw(), 2, 0);
  const video = mediaFrame(FrameKind.Video, 0, avcKeyframe(), 1, -1);
  assert(packer.pack(header).length > 0, "the sequence header goes out");
  assertEquals(packer.pack(raw), new Uint8Array(0));
  assertEquals(Object.keys(raw.packed), [], "nothing packed or cached for a dropped frame");
  assert(packer.pack(video).length > 0, "video is not affected");
});

Deno.test("RtmpPacker.pack() with receiveVideo false drops key and inter frames but sends the sequence header and data", () => {
  const packer = new RtmpPacker(1, CHUNK_SIZE);
  packer.video = false;
  assertEquals(packer.pack(mediaFrame(FrameKind.Video, 0, avcKeyframe(), 1, -1)), new Uint8Array(0));
  assertEquals(packer.pack(mediaFrame(FrameKind.Video, 40, avcInterFrame(), 2, 0)), new Uint8Array(0));
  const header = packer.pack(mediaFrame(FrameKind.Video, 80, avcSequenceHeader(), 3, 40));
  const data = packer.pack(mediaFrame(FrameKind.Data, 80, metadataPayload(), 1, -1));
  const audio = packer.pack(mediaFrame(FrameKind.Audio, 80, aacRaw(), 1, -1));
  assertEquals(decode([header, data, audio]).map((m) => m.typeId), [9, 18, 8]);
  assertEquals(headerType(header), 0, "after dropped frames the sequence header has a full header");
});

Deno.test("RtmpPacker.pack() sends a full header for the first frame after receiveVideo is turned back on", () => {
  const video = run(FrameKind.Video, () => avcInterFrame(4), [0, 40, 80]);
  const packer = new RtmpPacker(1, CHUNK_SIZE);
  const first = packer.pack(video[0]);
  packer.video = false;
  assertEquals(packer.pack(video[1]).length, 0);
  packer.video = true;
  const third = packer.pack(video[2]);
  assertEquals(headerType(third), 0);
  assertEquals(decode([first, third]).map((m) => m.timestamp), [0, 80]);
});

Deno.test("RtmpPacker.reset() makes the next frame of every kind go out with a full header", () => {
  const video = run(FrameKind.Video, () => avcInterFrame(4), [0, 40, 80]);
  const audio = run(FrameKind.Audio, () => aacRaw(4), [0, 23, 46]);
  const data = run(FrameKind.Data, () => metadataPayload(), [0, 1000, 2000]);
  const packer = new RtmpPacker(1, CHUNK_SIZE);
  for (const f of [video[0], video[1], audio[0], audio[1], data[0], data[1]]) packer.pack(f);
  packer.reset();
  assertEquals([video[2], audio[2], data[2]].map((f) => headerType(packer.pack(f))), [0, 0, 0]);
  // Without the reset the same frames would have gone out as deltas.
  const again = new RtmpPacker(1, CHUNK_SIZE);
  for (const f of [video[0], video[1], audio[0], audio[1], data[0], data[1]]) again.pack(f);
  assertEquals([video[2], audio[2], data[2]].map((f) => headerType(again.pack(f))), [1, 1, 1]);
});

// ---- players of one stream in step share bytes (Stream's groups), out of step pack their own

/** A stream with `n` RTMP players on message stream 1 at 4096; each player's sink. */
function rtmpPlayers(
  n: number,
): { stream: Stream; sinks: FakeSink[]; subs: Subscriber[]; packers: RtmpPacker[] } {
  const stream = new Stream("live/x", 1 << 30, 1 << 30, 0);
  stream.startPublisher(new FakePublisher());
  const sinks: FakeSink[] = [], subs: Subscriber[] = [], packers: RtmpPacker[] = [];
  for (let i = 0; i < n; i++) {
    const packer = new RtmpPacker(1, CHUNK_SIZE);
    const sink = new FakeSink();
    const sub = new Subscriber(`p${i}`, packer, sink, limits(), new RecordingLogger());
    stream.addSubscriber(sub);
    sinks.push(sink);
    subs.push(sub);
    packers.push(packer);
  }
  return { stream, sinks, subs, packers };
}

/** Pushes audio and video frames (a keyframe every 10th video), a flush per macrotask; `each` runs before each flush. */
async function publish(
  stream: Stream,
  flushes: number,
  each: (i: number) => void = () => {},
): Promise<MediaFrame[]> {
  const sent: MediaFrame[] = [];
  for (let i = 0; i < flushes; i++) {
    each(i);
    sent.push(stream.push(FrameKind.Audio, i * 40 + 3, aacRaw(4)));
    sent.push(stream.push(FrameKind.Video, i * 40, i % 10 === 0 ? avcKeyframe(4) : avcInterFrame(4)));
    await settle();
  }
  return sent;
}

Deno.test("RtmpPacker in a Stream: players falling out of step and back decode every message with its frame's timestamp", async () => {
  const { stream, sinks, subs } = rtmpPlayers(3);
  stream.setMetadata(metadataPayload());
  stream.push(FrameKind.Video, 0, avcSequenceHeader());
  stream.push(FrameKind.Audio, 0, aacSequenceHeader());
  // Player 1 stalls for two flushes every five (it leaves the group and rejoins); 2 stalls once, long.
  const sent = await publish(stream, 40, (i) => {
    sinks[1].stalled = i % 5 === 1 || i % 5 === 2;
    if (i % 5 === 3) sinks[1].release();
    if (i === 12) sinks[2].stalled = true;
    if (i === 20) sinks[2].release();
  });
  sinks[1].release();
  await settle();
  for (const [i, sink] of sinks.entries()) {
    const msgs = decode(sink.writes).filter((m) => m.typeId !== MessageType.DataAmf0);
    const media = msgs.filter((m) => m.payload[1] !== 0); // not the sequence headers
    assertEquals(media.length, 80, `player ${i} got every frame`);
    const byKind = (kind: number) => media.filter((m) => m.typeId === kind).map((m) => m.timestamp);
    assertEquals(
      byKind(MessageType.Audio),
      sent.filter((f) => f.kind === FrameKind.Audio).map((f) => f.timestamp),
    );
    assertEquals(
      byKind(MessageType.Video),
      sent.filter((f) => f.kind === FrameKind.Video).map((f) => f.timestamp),
    );
    assert(subs[i].following, `player ${i} is back in step`);
  }
  // In step, the three got the very same arrays for the last flush.
  assertStrictEquals(sinks[1].writes.at(-1), sinks[0].writes.at(-1));
  assertStrictEquals(sinks[2].writes.at(-1), sinks[0].writes.at(-1));
});

Deno.test("RtmpPacker in a Stream: a player that turns video off leaves its group and gets audio only", async () => {
  const { stream, sinks, subs, packers } = rtmpPlayers(2);
  stream.push(FrameKind.Video, 0, avcKeyframe(4));
  await settle();
  await publish(stream, 2);
  assert(subs[1].following);
  packers[1].video = false;
  const sent = await publish(stream, 3);
  assert(!subs[1].following);
  const later = decode(sinks[1].writes).slice(-3);
  assertEquals(later.map((m) => m.typeId), [MessageType.Audio, MessageType.Audio, MessageType.Audio]);
  assertEquals(
    later.map((m) => m.timestamp),
    sent.filter((f) => f.kind === FrameKind.Audio).map((f) => f.timestamp),
  );
  assert(subs[0].following);
  assertEquals(decode(sinks[0].writes).slice(-6).map((m) => m.timestamp), sent.map((f) => f.timestamp));
});
