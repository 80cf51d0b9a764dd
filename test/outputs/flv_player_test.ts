/**
 * FlvPlayer against a fake transport whose writes the test completes: FLV
 * tags out, the end after the last write when the stream ends, unsubscribing
 * when the peer goes, and one logged close reason.
 */
import { assert, assertEquals, assertMatch, assertStrictEquals } from "../_util/assert.ts";
import { concat, FakePublisher, frames, RecordingLogger } from "../_util/hub_fakes.ts";
import { type ConfigOverrides, makeConfig } from "../../src/config/config.ts";
import type { HttpContext } from "../../src/http/context.ts";
import { Protocol } from "../../src/hub/session_kind.ts";
import { StreamHub } from "../../src/hub/stream_hub.ts";
import { FlvReader } from "../../src/media/flv.ts";
import { FLV_PACKED_KEY } from "../../src/outputs/flv_packer.ts";
import { FlvPlayer, type FlvTransport, playerId } from "../../src/outputs/flv_player.ts";
import { flvFileHeader } from "../../src/wasm/flv_pack.ts";

function test(name: string, fn: () => Promise<void>): void {
  Deno.test({ name, fn, sanitizeOps: true, sanitizeResources: true });
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

/** Records writes; each stays pending until release(). */
class FakeTransport implements FlvTransport {
  readonly writes: Uint8Array[] = [];
  readonly ends: string[] = [];
  #pending: (() => void)[] = [];

  write(bytes: Uint8Array): Promise<void> {
    this.writes.push(bytes);
    return new Promise((resolve) => this.#pending.push(resolve));
  }

  end(reason: string): void {
    this.ends.push(reason);
  }

  /** Completes every pending write. */
  release(): void {
    for (const r of this.#pending.splice(0)) r();
  }
}

function setup(overrides: ConfigOverrides = {}) {
  const config = makeConfig({ ...overrides, hub: { playWaitMs: 0, reconnectGraceMs: 0, ...overrides.hub } });
  const log = new RecordingLogger();
  const hub = new StreamHub({ ...config.hub, mergeWindowMs: 0 }, log);
  const ctx: HttpContext = { hub, config, log, startedAt: 0 };
  const transport = new FakeTransport();
  const player = new FlvPlayer("http-flv test", "live/x", ctx, transport, Protocol.HttpFlv);
  const closes = () => log.lines.filter((l) => l.msg.startsWith("closed:")).map((l) => l.msg);
  return { hub, log, transport, player, closes };
}

test("FlvPlayer.play() attaches a subscriber that writes the stream's frames as shared FLV tags", async () => {
  const { hub, transport, player } = setup();
  const publisher = new FakePublisher();
  const stream = hub.publish("live/x", publisher);
  stream.push(frames.videoHeader(0).kind, 0, frames.videoHeader(0).payload);
  stream.push(frames.key(0).kind, 0, frames.key(0).payload);
  await player.play();
  assertEquals(stream.subscribers.size, 1);
  transport.release();
  await tick();
  const live = stream.push(frames.inter(40).kind, 40, frames.inter(40).payload);
  await tick();
  assertStrictEquals(transport.writes.at(-1), live.packed[FLV_PACKED_KEY], "a live frame's shared tag");
  const reader = new FlvReader();
  const tags = reader.push(concat([flvFileHeader({ audio: false, video: true }), ...transport.writes]));
  assertEquals(tags.map((t) => t.timestamp), [0, 0, 40]);
  hub.unpublish(stream, publisher);
  transport.release();
  await tick();
});

test("FlvPlayer ends the transport after its last write is taken when the stream ends", async () => {
  const { hub, transport, player, closes } = setup();
  const publisher = new FakePublisher();
  const stream = hub.publish("live/x", publisher);
  stream.push(frames.key(0).kind, 0, frames.key(0).payload);
  await player.play(); // the first write (the start) is pending
  stream.push(frames.inter(40).kind, 40, frames.inter(40).payload); // queued behind it
  await tick();
  hub.unpublish(stream, publisher); // no grace: the stream ends
  assertEquals(transport.ends, [], "not while bytes are still on their way");
  transport.release(); // the start is taken; the subscriber writes the queued frame
  await tick();
  assertEquals(transport.writes.length, 2);
  assertEquals(transport.ends, [], "not while the last write is pending");
  transport.release();
  await tick();
  assertEquals(transport.ends, ["stream live/x ended"]);
  assertEquals(closes(), ["closed: stream live/x ended"]);
});

test("FlvPlayer.peerGone() unsubscribes at once and logs the reason once", async () => {
  const { hub, transport, player, closes } = setup();
  const stream = hub.publish("live/x", new FakePublisher());
  await player.play();
  player.peerGone();
  player.peerGone();
  assertEquals(stream.subscribers.size, 0);
  assert(player.subscriber.closed);
  assertEquals(closes(), ["closed: player left"]);
  transport.release();
  hub.stop();
});

test("FlvPlayer: a subscriber that closes itself (stalled) ends the transport with its reason", async () => {
  const { hub, transport, player, closes } = setup({ player: { stallTimeoutMs: 1_000 } });
  const stream = hub.publish("live/x", new FakePublisher());
  stream.push(frames.key(0).kind, 0, frames.key(0).payload);
  await player.play(); // its write stays pending
  stream.checkStalls(Date.now() + 5_000);
  assertEquals(stream.subscribers.size, 0);
  assertEquals(transport.ends.length, 1);
  assertMatch(transport.ends[0], /^stalled: no write progress/);
  assertEquals(closes().length, 1);
  transport.release();
  hub.stop();
});

test("FlvPlayer.play() rejects and closes the player when nobody publishes (playWaitMs 0)", async () => {
  const { transport, player, closes } = setup();
  let error: unknown;
  await player.play().catch((e) => error = e);
  assert(error instanceof Error && error.name === "StreamNotFoundError", `got ${error}`);
  assert(player.closed);
  assertEquals(transport.ends.length, 1);
  assertMatch(closes()[0], /^closed: play refused: Cannot play live\/x/);
});

test("playerId() names a player by its peer's address, else by a counter", () => {
  assertEquals(
    playerId("ws-flv", { transport: "tcp", hostname: "10.0.0.7", port: 5000 }),
    "ws-flv 10.0.0.7:5000",
  );
  assertMatch(playerId("http-flv", undefined), /^http-flv #\d+$/);
  return Promise.resolve();
});
