import { assert, assertEquals, assertMatch, assertStrictEquals } from "../_util/assert.ts";
import { FakePublisher, frames, RecordingLogger } from "../_util/hub_fakes.ts";
import type { FeedConfig } from "../../src/config/config.ts";
import { makeConfig } from "../../src/config/config.ts";
import { Feeds } from "../../src/feed/feeds.ts";
import { StreamHub } from "../../src/hub/stream_hub.ts";

function feed(over: Partial<FeedConfig>): FeedConfig {
  return { key: "feed/a", fileMaxSize: 17 * 4096 * 4, catchUp: false, acl: [], ...over };
}

async function withFeeds(
  fn: (dir: string, hub: StreamHub, log: RecordingLogger) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "sluice_feeds_" });
  const log = new RecordingLogger();
  const hub = new StreamHub({ ...makeConfig().hub, mergeWindowMs: 0 }, log);
  try {
    await fn(dir, hub, log);
  } finally {
    hub.stop();
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("Feeds.start() opens each feed's ring and records its stream whether or not anyone plays", async () => {
  await withFeeds(async (dir, hub, log) => {
    const feeds = new Feeds([feed({ file: `${dir}/a.ring`, push: "/a.ffm" }), feed({ key: "feed/b" })], {
      hub,
      log,
    });
    await feeds.start();
    assert(feeds.ring("feed/a"), "feed/a has a ring");
    assertEquals(feeds.ring("feed/b"), undefined, "feed/b has no file");
    assertEquals(feeds.byPush("/a.ffm")?.key, "feed/a");
    assertEquals(feeds.byPush("/b.ffm"), undefined);
    const stream = hub.publish("feed/a", new FakePublisher());
    for (const f of [frames.videoHeader(0), frames.key(0, 500), frames.inter(40), frames.key(1000, 500)]) {
      stream.push(f.kind, f.timestamp, f.payload);
    }
    await new Promise((r) => setTimeout(r, 20));
    await feeds.ring("feed/a")!.flush();
    const status = feeds.status();
    assertEquals(status.map((s) => [s.name, s.key, s.receiving, s.path, s.file]), [
      ["a.ffm", "feed/a", true, "/a.ffm", `${dir}/a.ring`],
      ["feed/b", "feed/b", false, undefined, undefined],
    ]);
    assert((status[0].sizeBytes ?? 0) > 0, "the ring file has bytes");
    assertEquals(status[0].spanMs, 1000, "the ring spans the two keyframes");
    assertMatch(log.lines.map((l) => l.msg).join("\n"), /recording feed\/a into .*a\.ring/);
    await feeds.stop();
    assertEquals(feeds.ring("feed/a"), undefined, "stopped: no ring");
  });
});

Deno.test("Feeds.update() keeps an unchanged feed's ring, reopens a changed one and closes a removed one", async () => {
  await withFeeds(async (dir, hub, log) => {
    const a = feed({ file: `${dir}/a.ring` });
    const b = feed({ key: "feed/b", file: `${dir}/b.ring` });
    const feeds = new Feeds([a, b], { hub, log });
    await feeds.start();
    const ringA = feeds.ring("feed/a")!;
    const ringB = feeds.ring("feed/b")!;
    await feeds.update([{ ...a, catchUp: true, push: "/a.ffm" }, { ...b, file: `${dir}/b2.ring` }]);
    assertStrictEquals(feeds.ring("feed/a"), ringA, "only catchUp and push changed: the same ring");
    assertEquals(feeds.catchUp("feed/a"), true);
    assertEquals(feeds.byPush("/a.ffm")?.key, "feed/a");
    assert(feeds.ring("feed/b") !== ringB && ringB.closed, "a new file: the old ring is closed");
    await feeds.update([]);
    assert(ringA.closed, "removed: closed");
    assertEquals(feeds.ring("feed/a"), undefined);
    await feeds.stop();
  });
});

Deno.test("Feeds logs a ring that cannot be opened once, and the feed runs without it", async () => {
  await withFeeds(async (dir, hub, log) => {
    const feeds = new Feeds([feed({ file: `${dir}/missing-dir/a.ring` })], { hub, log });
    await feeds.start();
    assertEquals(feeds.ring("feed/a"), undefined);
    assertMatch(
      log.lines.map((l) => l.msg).join("\n"),
      /Cannot record feed feed\/a into .*missing-dir\/a\.ring: .*; it plays live only/,
    );
    await feeds.stop();
  });
});
