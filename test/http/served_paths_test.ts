/**
 * The configured paths of one segment through makeRouter: a feed's push path, a stream's path (live,
 * file, status), its address rules, and what each refuses. Real clients on these paths are in
 * test/e2e/ffserver_test.ts.
 */
import { assertEquals, assertMatch } from "../_util/assert.ts";
import { FakePublisher, frames, RecordingLogger } from "../_util/hub_fakes.ts";
import { makeConfig, type StreamConfig } from "../../src/config/config.ts";
import type { HttpContext } from "../../src/http/context.ts";
import { makeRouter } from "../../src/http/routes.ts";
import { StreamHub } from "../../src/hub/stream_hub.ts";

const BASE = "http://sluice.test";
const LOOPBACK: Deno.NetAddr = { transport: "tcp", hostname: "127.0.0.1", port: 40000 };
const OTHER: Deno.NetAddr = { transport: "tcp", hostname: "10.9.8.7", port: 40000 };

function stream(over: Partial<StreamConfig>): StreamConfig {
  return {
    path: "/live.flv",
    key: "feed/feed1",
    format: "flv",
    prerollMs: 0,
    noAudio: false,
    noVideo: false,
    maxTimeMs: 0,
    acl: [],
    ...over,
  };
}

async function withRouter(
  streams: StreamConfig[],
  fn: (handle: (req: Request, peer?: Deno.NetAddr) => Promise<Response>, ctx: HttpContext) => Promise<void>,
): Promise<void> {
  const config = makeConfig({ hub: { playWaitMs: 0 }, streams });
  const log = new RecordingLogger();
  const hub = new StreamHub({ ...config.hub, mergeWindowMs: 0 }, log);
  const ctx: HttpContext = {
    hub,
    config,
    log,
    startedAt: Date.now(),
    feeds: {
      ring: () => undefined,
      catchUp: () => false,
      byPush: (path) => path === "/feed1.ffm" ? { key: "feed/feed1" } : undefined,
    },
  };
  const router = makeRouter(ctx);
  const info = (peer: Deno.NetAddr) => ({ remoteAddr: peer, completed: Promise.resolve() });
  try {
    await fn(async (req, peer = LOOPBACK) => await router(req, info(peer)), ctx);
  } finally {
    hub.stop();
  }
}

const errorOf = async (res: Response) => (await res.json()).error as string;

Deno.test("a configured stream path plays its key over HTTP-FLV; an unknown one-segment path is a 404", async () => {
  await withRouter([stream({})], async (handle, ctx) => {
    const s = ctx.hub.publish("feed/feed1", new FakePublisher());
    for (const f of [frames.videoHeader(0), frames.key(0, 100)]) s.push(f.kind, f.timestamp, f.payload);
    const res = await handle(new Request(`${BASE}/live.flv`));
    assertEquals(res.status, 200);
    assertEquals(res.headers.get("content-type"), "video/x-flv");
    assertEquals(ctx.hub.sessions.list().find((e) => e.role === "player")?.key, "feed/feed1");
    await res.body?.cancel();
    const none = await handle(new Request(`${BASE}/other.flv`));
    assertEquals(none.status, 404);
    assertEquals(await errorOf(none), "Cannot GET /other.flv: no such route");
  });
});

Deno.test("a stream path of format rtp is a 404 over HTTP that names its RTSP URL", async () => {
  await withRouter([stream({ path: "/live.sdp", format: "rtp" })], async (handle, ctx) => {
    const res = await handle(new Request(`${BASE}/live.sdp`));
    assertEquals(res.status, 404);
    assertEquals(
      await errorOf(res),
      `Cannot GET /live.sdp: it is served over RTSP (rtsp://HOST:${ctx.config.rtsp.port}/live.sdp)`,
    );
  });
});

Deno.test("a stream path's address rules refuse others with 403 naming the address, before the gate", async () => {
  await withRouter([stream({ acl: ["allow 127.0.0.1"] })], async (handle) => {
    const res = await handle(new Request(`${BASE}/live.flv`), OTHER);
    assertEquals(res.status, 403);
    assertEquals(
      await errorOf(res),
      "Cannot play /live.flv: address 10.9.8.7 is not allowed (no rule allows it)",
    );
    const ok = await handle(new Request(`${BASE}/live.flv`), LOOPBACK);
    assertEquals(ok.status, 404, "allowed through to the play, which has no publisher");
  });
});

Deno.test("a feed's push path takes POST and PUT as a push to its key, and refuses GET with 405", async () => {
  await withRouter([], async (handle, ctx) => {
    const get = await handle(new Request(`${BASE}/feed1.ffm`));
    assertEquals(get.status, 405);
    assertMatch(await errorOf(get), /push path of feed feed\/feed1/);
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(new Uint8Array([0x46, 0x4c, 0x56, 1, 5, 0, 0, 0, 9, 0, 0, 0, 0]));
      },
    });
    const push = handle(new Request(`${BASE}/feed1.ffm`, { method: "POST", body }));
    for (let i = 0; i < 100 && !ctx.hub.get("feed/feed1"); i++) await new Promise((r) => setTimeout(r, 10));
    assertEquals(ctx.hub.get("feed/feed1")?.state, "live");
    const pusher = ctx.hub.sessions.list().find((e) => e.role === "publisher")!;
    ctx.hub.sessions.get(pusher.id)?.kick("test over");
    await push;
  });
});

Deno.test("a stream path refuses POST with 405; a file stream without read access says which flag", async () => {
  await withRouter(
    [stream({}), stream({ path: "/test.flv", key: undefined, file: "/nonexistent/test.flv" })],
    async (handle) => {
      const post = await handle(new Request(`${BASE}/live.flv`, { method: "POST", body: "x" }));
      assertEquals(post.status, 405);
      const file = await handle(new Request(`${BASE}/test.flv`));
      // The tests run with -A: read access is granted, and the file does not exist.
      assertEquals(file.status, 404);
      assertEquals(await errorOf(file), "Cannot GET /test.flv: no such file");
    },
  );
});
