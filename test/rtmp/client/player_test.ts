import { assert, assertEquals, assertLess, assertMatch, assertRejects } from "../../_util/assert.ts";
import {
  EVENT_TIMEOUT_MS,
  publishAndPlay,
  readMedia,
  readUntil,
  sessionOf,
  stopAll,
  test,
  waitFor,
} from "../../_util/live.ts";
import { ProtocolError } from "../../../src/errors.ts";
import { FakeServer, video } from "../../_util/fake_rtmp_server.ts";
import { RtmpClient } from "../../../src/rtmp/client/client.ts";
import { StatusCode } from "../../../src/rtmp/command.ts";

test("Player.read() rejects with the ProtocolError that closed the connection", async () => {
  const server = new FakeServer();
  const client = await RtmpClient.connect(server.url);
  const player = await client.play();
  // A type 3 chunk header on chunk stream 9, which has had no header yet (5.3.1.2.4).
  await server.write(Uint8Array.of(0xc9, 1, 2, 3));
  await readUntil(player, (ev) => ev.type === "status", "Play.Start");
  await assertRejects(() => player.read(EVENT_TIMEOUT_MS), ProtocolError, "no previous header");
  assertMatch(client.closeReason, /^protocol error: /);
  assert(client.error instanceof ProtocolError);
  await server.close();
});

test("Player.read() returns undefined once the server closed and every event was read", async () => {
  const server = new FakeServer();
  const client = await RtmpClient.connect(server.url);
  const player = await client.play();
  await server.send(video(player.streamId, 0, Uint8Array.of(0x27, 0x01, 0, 0, 0, 1)));
  await server.until(() => player.stats.video === 1, "the frame at the player");
  server.conn!.close();
  assertEquals(await client.done, "closed by the server");
  const events = [];
  for await (const ev of player) events.push(ev.type);
  assertEquals(events, ["status", "media"]);
  await server.close();
});

test("Player.pauseReading() stops reading the socket until resumeReading()", async () => {
  const { server, pub, player } = await publishAndPlay(() => []);
  try {
    await readUntil(player, (ev) => ev.type === "status" && ev.code === StatusCode.PlayStart, "Play.Start");
    player.pauseReading();
    // Each frame is bigger than one socket read (96 KiB), so a read already under way takes at most one.
    const frames = 3;
    const payloads = Array.from({ length: frames }, (_, i) => new Uint8Array(100_000).fill(i + 1));
    payloads.forEach((p, i) => p.set([i === 0 ? 0x17 : 0x27, 0x01, 0, 0, 0]));
    for (const [i, p] of payloads.entries()) await pub.sendVideo(i * 40, p);
    const sub = sessionOf(server, player.client.localAddr)?.subscriber;
    assert(sub, "the player's session on the server");
    const total = payloads.reduce((n, p) => n + p.length, 0);
    await waitFor(() => sub.stats.bytesSent >= total, "the server writing every frame");
    const seen = player.stats.video;
    player.resumeReading();
    const got = await readMedia(player, frames);
    assertLess(seen, 2, "at most the frame of the read under way arrived while paused");
    assertEquals(got.map((m) => m.payload), payloads);
  } finally {
    await stopAll(server, pub, player);
  }
});
