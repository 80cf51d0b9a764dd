/**
 * `GET /health` and `GET /api/v1/streams` as pure functions of the server's
 * state: a real StreamHub with fake publishers behind a context.
 */
import { assert, assertEquals, assertGreaterOrEqual } from "../_util/assert.ts";
import { FakePacker, FakePublisher, FakeSink, frames, limits, RecordingLogger } from "../_util/hub_fakes.ts";
import { makeConfig } from "../../src/config/config.ts";
import type { HttpContext } from "../../src/http/context.ts";
import { serveHealth, serveStreams } from "../../src/http/health.ts";
import { StreamHub } from "../../src/hub/stream_hub.ts";
import { Subscriber } from "../../src/hub/subscriber.ts";

/** Runs `fn` with a context around a fresh hub (merge window 0); stops the hub afterwards. */
async function withCtx(fn: (ctx: HttpContext) => Promise<void>, startedAt = Date.now()): Promise<void> {
  const config = makeConfig();
  const log = new RecordingLogger();
  const hub = new StreamHub({ ...config.hub, mergeWindowMs: 0 }, log);
  try {
    await fn({ hub, config, log, startedAt });
  } finally {
    hub.stop();
  }
}

Deno.test("serveHealth() answers 200 JSON with status ok, uptime, stream count and memory", async () => {
  await withCtx(async (ctx) => {
    const res = serveHealth(ctx);
    assertEquals(res.status, 200);
    assertEquals(res.headers.get("content-type"), "application/json; charset=utf-8");
    assertEquals(res.headers.get("access-control-allow-origin"), "*");
    const body = await res.json();
    assertEquals(body.status, "ok");
    assertEquals(body.streams, 0);
    assertGreaterOrEqual(body.uptimeMs, 5_000, "started 5 s before the call");
    assertEquals(Object.keys(body.memory).sort(), ["external", "heapTotal", "heapUsed", "rss"]);
    for (const v of Object.values(body.memory)) assert(typeof v === "number" && v >= 0, `memory ${v}`);
  }, Date.now() - 5_000);
});

Deno.test("serveHealth() counts the hub's streams", async () => {
  await withCtx(async (ctx) => {
    ctx.hub.publish("live/a", new FakePublisher("pub a"));
    ctx.hub.publish("live/b", new FakePublisher("pub b"));
    assertEquals((await serveHealth(ctx).json()).streams, 2);
  });
});

Deno.test("serveStreams() answers 200 JSON with an empty list when nothing is published", async () => {
  await withCtx(async (ctx) => {
    const res = serveStreams(ctx);
    assertEquals(res.status, 200);
    assertEquals(res.headers.get("content-type"), "application/json; charset=utf-8");
    assertEquals(await res.json(), { streams: [] });
  });
});

Deno.test("serveStreams() lists each stream with its key, state, publisher, players and counters", async () => {
  await withCtx(async (ctx) => {
    const stream = ctx.hub.publish("live/cam", new FakePublisher("rtmp 10.0.0.1:5000"));
    const f = frames.key(0, 100);
    stream.push(f.kind, f.timestamp, f.payload);
    const { streams } = await serveStreams(ctx).json();
    assertEquals(streams.length, 1);
    const s = streams[0];
    assertEquals([s.key, s.state, s.publisher, s.players], ["live/cam", "live", "rtmp 10.0.0.1:5000", 0]);
    assertEquals([s.framesIn, s.videoFrames, s.audioFrames], [1, 1, 0]);
    assertEquals(s.bytesIn, f.payload.length);
    for (const k of Object.keys(stream.stats)) assert(k in s, `counter ${k} listed`);
  });
});

Deno.test("serveStreams() counts a stream's players", async () => {
  await withCtx(async (ctx) => {
    ctx.hub.publish("live/cam", new FakePublisher());
    for (const id of ["p1", "p2"]) {
      const sub = new Subscriber(id, new FakePacker(), new FakeSink(), limits(), ctx.log);
      assert(ctx.hub.attach("live/cam", sub), "attached");
    }
    const { streams } = await serveStreams(ctx).json();
    assertEquals(streams[0].players, 2);
  });
});

Deno.test("serveStreams() shows a stream in grace with a null publisher", async () => {
  await withCtx(async (ctx) => {
    const publisher = new FakePublisher();
    const stream = ctx.hub.publish("live/cam", publisher);
    ctx.hub.unpublish(stream, publisher);
    const { streams } = await serveStreams(ctx).json();
    assertEquals(
      streams.map((s: { key: string; state: string; publisher: unknown }) => [s.key, s.state, s.publisher]),
      [
        ["live/cam", "grace", null],
      ],
    );
  });
});
