/**
 * `GET /health` as a pure function of the server's
 * state: a real StreamHub with fake publishers behind a context.
 */
import { assert, assertEquals, assertGreaterOrEqual } from "../_util/assert.ts";
import { FakePublisher, RecordingLogger } from "../_util/hub_fakes.ts";
import { makeConfig } from "../../src/config/config.ts";
import type { HttpContext } from "../../src/http/context.ts";
import { serveHealth } from "../../src/http/health.ts";
import { StreamHub } from "../../src/hub/stream_hub.ts";

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
