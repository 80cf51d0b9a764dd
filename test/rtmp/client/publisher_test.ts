import { assertEquals } from "../../_util/assert.ts";
import { publishAndPlay, readMedia, stopAll, test } from "../../_util/live.ts";
import { FrameKind } from "../../../src/media/frame.ts";
import { EcmaArray } from "../../../src/amf/amf0.ts";
import { FakeServer } from "../../_util/fake_rtmp_server.ts";
import { RtmpClient } from "../../../src/rtmp/client/client.ts";
import { decodeData } from "../../../src/rtmp/command.ts";
import { ChunkStreamId, MessageType } from "../../../src/rtmp/message.ts";
import { chunkedLength } from "../../../src/wasm/chunk_writer.ts";

test("Publisher.sendFrames() uses a delta header after the first message of a chunk stream", async () => {
  const server = new FakeServer();
  const client = await RtmpClient.connect(server.url);
  const pub = await client.publish();
  const before = server.messages.length;
  const p = new Uint8Array(100).fill(7);
  await pub.sendFrames([
    { kind: FrameKind.Video, timestamp: 1000, payload: p },
    { kind: FrameKind.Video, timestamp: 1040, payload: p },
    { kind: FrameKind.Video, timestamp: 1080, payload: p },
  ]);
  await server.until(() => server.messages.length === before + 3, "three video messages");
  const got = server.messages.slice(before);
  assertEquals(got.map((m) => m.timestamp), [1000, 1040, 1080]);
  const bytes = server.bytesAt[before + 2] - server.bytesAt[before - 1];
  const full = chunkedLength(100, 4096, ChunkStreamId.Video, "full", false);
  const delta = chunkedLength(100, 4096, ChunkStreamId.Video, "delta", false);
  assertEquals(bytes, full + 2 * delta, "one type 0 header, then two type 1 headers");
  await pub.close();
  await server.close();
});

test("Publisher.sendVideo() carries timestamps across the 2^32 wrap with extended timestamps", async () => {
  const server = new FakeServer();
  const client = await RtmpClient.connect(server.url);
  const pub = await client.publish();
  const before = server.messages.length;
  const stamps = [0xffffff00, 0xffffff28, 0xffffff50, 0x100000000 + 0x10, 0x100000000 + 0x38];
  for (const ts of stamps) await pub.sendVideo(ts, new Uint8Array(5000).fill(ts & 0xff));
  await server.until(() => server.messages.length === before + stamps.length, "five video messages");
  assertEquals(server.messages.slice(before).map((m) => m.timestamp), stamps.map((t) => t % 0x100000000));
  await pub.close();
  await server.close();
});

test("Publisher.sendMetadata() sends @setDataFrame onMetaData with an ECMA array", async () => {
  const server = new FakeServer();
  const client = await RtmpClient.connect(server.url);
  const pub = await client.publish();
  await pub.sendMetadata({ width: 640, height: 360 });
  await server.until(() => server.messages.some((m) => m.typeId === MessageType.DataAmf0), "the metadata");
  const msg = server.messages.find((m) => m.typeId === MessageType.DataAmf0)!;
  const data = decodeData(msg);
  assertEquals([data.setDataFrame, data.name], [true, "onMetaData"]);
  assertEquals(data.args, [new EcmaArray({ width: 640, height: 360 })]);
  await pub.close();
  await server.close();
});

test("Publisher.sendVideo() delivers a 300 KB keyframe through Sluice intact", async () => {
  const { server, pub, player } = await publishAndPlay(() => []);
  try {
    const big = new Uint8Array(300_000);
    big.set([0x17, 0x01, 0, 0, 0]);
    for (let i = 5; i < big.length; i++) big[i] = (i * 7) & 0xff;
    await pub.sendVideo(0, big);
    const [m] = await readMedia(player, 1);
    assertEquals(m.payload, big);
  } finally {
    await stopAll(server, pub, player);
  }
});
