/**
 * The route table seen from outside: each kind of URL, sent through
 * makeRouter as a pure `Request -> Response` call, reaches the handler that
 * answers it (told apart by what each handler answers), and what no route
 * takes gets the router's 404.
 */
import { assertEquals, assertMatch } from "../_util/assert.ts";
import { FakePublisher, RecordingLogger } from "../_util/hub_fakes.ts";
import { type ConfigOverrides, makeConfig } from "../../src/config/config.ts";
import type { HttpContext } from "../../src/http/context.ts";
import { makeRouter, makeRoutes } from "../../src/http/routes.ts";
import { StreamHub } from "../../src/hub/stream_hub.ts";

const BASE = "http://sluice.test";

/** Runs `fn` with a router over a fresh hub (players never wait: `hub.playWaitMs` 0); stops the hub. */
async function withRouter(
  fn: (handle: (req: Request) => Promise<Response>, ctx: HttpContext) => Promise<void> | void,
  overrides: ConfigOverrides = {},
): Promise<void> {
  const config = makeConfig({ ...overrides, hub: { playWaitMs: 0, ...overrides.hub } });
  const log = new RecordingLogger();
  const ctx: HttpContext = {
    hub: new StreamHub({ ...config.hub, mergeWindowMs: 0 }, log),
    config,
    log,
    startedAt: Date.now(),
  };
  const router = makeRouter(ctx);
  try {
    await fn(async (req) => await router(req), ctx);
  } finally {
    ctx.hub.stop();
  }
}

function req(path: string, init: RequestInit = {}): Request {
  return new Request(BASE + path, init);
}

/**
 * A request that asks to upgrade to a WebSocket, without the Sec-WebSocket-Key an upgrade needs: the
 * router takes it as an upgrade, and a handler that tries Deno.upgradeWebSocket() answers 400 (no socket
 * is ever made).
 */
function wsReq(path: string): Request {
  return req(path, { headers: { upgrade: "websocket", connection: "Upgrade" } });
}

/** The `error` of a JSON error answer. */
async function errorOf(res: Response): Promise<string> {
  assertEquals(res.headers.get("content-type"), "application/json; charset=utf-8");
  return (await res.json()).error;
}

Deno.test("makeRouter() answers GET /health with 200 JSON status ok", async () => {
  await withRouter(async (handle) => {
    for (const path of ["/health"]) {
      const res = await handle(req(path));
      assertEquals(res.status, 200, path);
      assertEquals(res.headers.get("content-type"), "application/json; charset=utf-8");
      const body = await res.json();
      assertEquals(body.status, "ok", path);
      assertEquals(body.streams, 0, path);
    }
  });
});

Deno.test("makeRouter() answers HEAD /health with 200", async () => {
  await withRouter(async (handle) => {
    const res = await handle(req("/health", { method: "HEAD" }));
    assertEquals(res.status, 200);
    await res.body?.cancel();
  });
});

Deno.test("makeRouter() sends GET /vod/{path}.flv to VOD, which answers 404 naming VOD off when it is", async () => {
  await withRouter(async (handle) => {
    const res = await handle(req("/vod/x.flv"));
    assertEquals(res.status, 404);
    assertEquals(
      await errorOf(res),
      "Cannot GET /vod/x.flv: VOD is off (start the server with --vod-root DIR)",
    );
    const deep = await handle(req("/vod/a/b/c.flv", { method: "HEAD" }));
    assertEquals(deep.status, 404);
    assertMatch(await errorOf(deep), /^Cannot HEAD \/vod\/a\/b\/c\.flv: VOD is off/);
  });
});

Deno.test("makeRouter() sends the configured VOD app's paths to VOD and others to live play", async () => {
  const root = await Deno.makeTempDir({ prefix: "sluice_routes_" });
  try {
    await withRouter(async (handle) => {
      const vod = await handle(req("/files/x.flv"));
      assertEquals(vod.status, 404);
      assertEquals(await errorOf(vod), "Cannot GET /files/x.flv: no such file");
      const live = await handle(req("/vod/x.flv"));
      assertEquals(live.status, 404);
      assertEquals(await errorOf(live), "Cannot play vod/x: it is not published");
    }, { vod: { root, app: "files" } });
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("makeRouter() sends GET /live/cam.flv to HTTP-FLV play: 404 JSON with no publisher and no wait", async () => {
  await withRouter(async (handle) => {
    const res = await handle(req("/live/cam.flv"));
    assertEquals(res.status, 404);
    assertEquals(await errorOf(res), "Cannot play live/cam: it is not published");
    const head = await handle(req("/live/cam.flv", { method: "HEAD" }));
    assertEquals(head.status, 404);
    await head.body?.cancel();
  });
});

Deno.test("makeRouter() sends HEAD /live/cam.flv of a live stream to HTTP-FLV play: 200 video/x-flv", async () => {
  await withRouter(async (handle, ctx) => {
    ctx.hub.publish("live/cam", new FakePublisher());
    const res = await handle(req("/live/cam.flv", { method: "HEAD" }));
    assertEquals(res.status, 200);
    assertEquals(res.headers.get("content-type"), "video/x-flv");
    await res.body?.cancel();
  });
});

Deno.test("makeRouter() sends POST and PUT /live/cam[.flv] to HTTP push, which answers a bad body 400", async () => {
  await withRouter(async (handle, ctx) => {
    for (const [method, path] of [["POST", "/live/cam"], ["PUT", "/live/cam2.flv"]]) {
      const res = await handle(req(path, { method, body: "not an FLV stream" }));
      assertEquals(res.status, 400, `${method} ${path}`);
      assertMatch(await errorOf(res), /^Cannot read FLV header: /);
    }
    assertEquals(ctx.hub.get("live/cam")?.state, "grace", "the push published live/cam");
    assertEquals(ctx.hub.get("live/cam2")?.state, "grace", "the .flv is not part of the name");
  });
});

Deno.test("makeRouter() sends a WebSocket upgrade to /live/cam.flv to WebSocket-FLV play", async () => {
  await withRouter(async (handle, ctx) => {
    const none = await handle(wsReq("/live/cam.flv"));
    assertEquals(none.status, 404);
    assertEquals(await errorOf(none), "Cannot play live/cam: it is not published");
    ctx.hub.publish("live/cam", new FakePublisher());
    // A live stream gets as far as the upgrade, which fails without a Sec-WebSocket-Key.
    const live = await handle(wsReq("/live/cam.flv"));
    assertEquals(live.status, 400);
    assertMatch(await errorOf(live), /^Cannot play live\/cam over a WebSocket: /);
    assertEquals(ctx.hub.get("live/cam")?.subscribers.size, 0, "the player left");
  });
});

Deno.test("makeRouter() sends a WebSocket upgrade to /live/cam to WebSocket push", async () => {
  await withRouter(async (handle) => {
    const res = await handle(wsReq("/live/cam"));
    assertEquals(res.status, 400);
    assertMatch(await errorOf(res), /^Cannot publish live\/cam over WebSocket: /);
  });
});

Deno.test("makeRouter() answers GET /live/cam without .flv with 404 no such route", async () => {
  await withRouter(async (handle) => {
    const res = await handle(req("/live/cam"));
    assertEquals(res.status, 404);
    assertEquals(await errorOf(res), "Cannot GET /live/cam: no such route");
  });
});

Deno.test("makeRouter() answers DELETE /live/cam.flv with 404 no such route", async () => {
  await withRouter(async (handle) => {
    const res = await handle(req("/live/cam.flv", { method: "DELETE" }));
    assertEquals(res.status, 404);
    assertEquals(await errorOf(res), "Cannot DELETE /live/cam.flv: no such route");
  });
});

Deno.test("makeRouter() answers paths outside the table with 404 no such route", async () => {
  await withRouter(async (handle) => {
    for (const path of ["/", "/live", "/live/", "/a/b/c.flv", "/live/c%20am.flv", "/api/v1/streams/x"]) {
      const res = await handle(req(path));
      assertEquals(res.status, 404, path);
      assertMatch(await errorOf(res), /: no such route$/, path);
    }
  });
});

Deno.test("makeRouter() answers OPTIONS on any route with the 204 preflight", async () => {
  await withRouter(async (handle) => {
    for (const path of ["/health", "/live/cam.flv", "/live/cam", "/vod/x.flv", "/nothing"]) {
      const res = await handle(req(path, { method: "OPTIONS" }));
      assertEquals(res.status, 204, path);
      assertEquals(res.headers.get("access-control-allow-methods"), "GET, HEAD, POST, PUT, OPTIONS");
    }
  });
});

Deno.test("makeRoutes() without admin routes lists health, configured paths, VOD, HTTP-TS, WebSocket play, WebSocket push, HTTP-FLV play, push", async () => {
  await withRouter((_handle, ctx) => {
    assertEquals(makeRoutes(ctx).map((r) => r.methods.join(",")), [
      "GET,HEAD",
      "GET,HEAD,POST,PUT,WS",
      "GET,HEAD",
      "GET,HEAD", // HTTP-TS (the HLS routes need an HlsService in the context)
      "WS",
      "WS",
      "GET,HEAD",
      "POST,PUT",
    ]);
  });
});
