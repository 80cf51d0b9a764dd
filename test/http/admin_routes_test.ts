/**
 * The admin routes through the real router, guard and handlers, as pure
 * `Request -> Response` calls: which paths exist, that the guard stands in
 * front of each (a non-loopback peer is refused without a credential and
 * served with one), that the login routes are open, and the answers' forms.
 */
import { assert, assertEquals, assertMatch } from "../_util/assert.ts";
import { FakePublisher, frames, RecordingLogger } from "../_util/hub_fakes.ts";
import { type ConfigOverrides, makeConfig } from "../../src/config/config.ts";
import { AdminGuard } from "../../src/admin/auth.ts";
import type { AdminContext } from "../../src/admin/context.ts";
import { History } from "../../src/admin/history.ts";
import { MetricsCollector } from "../../src/admin/metrics.ts";
import { makeRouter } from "../../src/http/routes.ts";
import { StreamHub } from "../../src/hub/stream_hub.ts";
import { FrameKind } from "../../src/media/frame.ts";

const LOOPBACK: Deno.NetAddr = { transport: "tcp", hostname: "127.0.0.1", port: 40000 };
const REMOTE: Deno.NetAddr = { transport: "tcp", hostname: "203.0.113.9", port: 40000 };
const TOKEN = "test-token-0123456789abcdef";

type Handle = (req: Request, remote?: Deno.NetAddr) => Promise<Response>;

async function withRoutes(fn: (handle: Handle, hub: StreamHub) => Promise<void>, o: ConfigOverrides = {}) {
  const config = makeConfig(o);
  const log = new RecordingLogger();
  const hub = new StreamHub({ ...config.hub, mergeWindowMs: 0 }, log);
  const history = new History(hub, { log });
  const metrics = new MetricsCollector(hub);
  const admin: AdminContext = {
    hub,
    history,
    log,
    startedAt: Date.now(),
    listeners: () => [{ protocol: "rtmp", host: "0.0.0.0", port: 1935 }, {
      protocol: "http",
      host: "0.0.0.0",
      port: 8000,
    }],
    sseMaxClients: 4,
    sseMaxBacklogBytes: 1 << 20,
  };
  const router = makeRouter({ hub, config, log, startedAt: Date.now() }, {
    admin,
    metrics,
    gate: new AdminGuard(config.admin, log),
  });
  const handle: Handle = async (req, remote = LOOPBACK) =>
    await router(req, { remoteAddr: remote, completed: Promise.resolve() } as Deno.ServeHandlerInfo);
  try {
    await fn(handle, hub);
  } finally {
    history.stop();
    metrics.stop();
    hub.stop();
  }
}

const get = (path: string, headers: HeadersInit = {}) =>
  new Request(`http://localhost:8000${path}`, { headers: { host: "localhost:8000", ...headers } });

Deno.test("admin routes answer the API, metrics and page to a loopback peer when no credential is set", async () => {
  await withRoutes(async (handle, hub) => {
    hub.publish("live/cam", new FakePublisher()).push(FrameKind.Video, 0, frames.key(0, 100).payload);
    const server = await handle(get("/api/v1/server"));
    assertEquals(server.status, 200);
    assertEquals(typeof (await server.json()).version, "string");
    const streams = await (await handle(get("/api/v1/streams"))).json();
    assertEquals(streams.streams.map((s: { key: string }) => s.key), ["live/cam"]);
    assertEquals(streams.streams[0].playUrls.rtmp, "rtmp://localhost:1935/live/cam");
    const one = await handle(get("/api/v1/streams/live/cam"));
    assertEquals((await one.json()).key, "live/cam");
    assertEquals((await handle(get("/api/v1/streams/live/none"))).status, 404);
    assertEquals((await (await handle(get("/api/v1/clients"))).json()).clients, []);
    const metrics = await handle(get("/metrics"));
    assertMatch(metrics.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
    assertMatch(await metrics.text(), /sluice_stream_received_bytes_total\{app="live",stream="cam"\} \d+/);
    const page = await handle(get("/admin/"));
    assertEquals(page.status, 200);
    assertMatch(page.headers.get("content-type") ?? "", /text\/html/);
    await page.body?.cancel();
    assertEquals((await handle(get("/admin"))).headers.get("location"), "/admin/");
  });
});

Deno.test("admin routes refuse a non-loopback peer without a credential, for every admin path", async () => {
  await withRoutes(async (handle) => {
    for (
      const path of ["/api/v1/server", "/api/v1/streams", "/api/v1/clients", "/api/v1/events", "/metrics"]
    ) {
      const res = await handle(get(path), REMOTE);
      assertEquals(res.status, 403, path);
      assertMatch((await res.json()).error, /credential|token|password/i, path);
    }
    const page = await handle(get("/admin/"), REMOTE);
    assert(page.status === 403 || page.status === 303, `/admin/ answered ${page.status}`);
    await page.body?.cancel();
    const landing = await handle(get("/"), REMOTE);
    assertEquals(landing.status, 200, "the landing page itself is open");
    assert(!(await landing.text()).includes("data-stream"), "the landing page listed streams to a stranger");
  });
});

Deno.test("admin routes serve a non-loopback peer with the bearer token, and refuse a wrong one with 401", async () => {
  await withRoutes(async (handle) => {
    const ok = await handle(get("/api/v1/server", { authorization: `Bearer ${TOKEN}` }), REMOTE);
    assertEquals(ok.status, 200);
    await ok.body?.cancel();
    const wrong = await handle(
      get("/api/v1/server", { authorization: "Bearer nope-nope-nope-nope" }),
      REMOTE,
    );
    assertEquals(wrong.status, 401);
    await wrong.body?.cancel();
    const none = await handle(get("/api/v1/server"), REMOTE);
    assertEquals(none.status, 401);
    await none.body?.cancel();
  }, { admin: { token: TOKEN } });
});

Deno.test("admin routes keep the login page open and answer unknown API paths and wrong methods in JSON", async () => {
  await withRoutes(async (handle) => {
    const login = await handle(get("/admin/login"), REMOTE);
    assertEquals(login.status, 200);
    assertMatch(await login.text(), /<form/);
    const unknown = await handle(get("/api/v1/nothing"));
    assertEquals(unknown.status, 404);
    assertMatch((await unknown.json()).error, /no such route/);
    const post = await handle(
      new Request("http://localhost:8000/api/v1/streams", {
        method: "POST",
        headers: { host: "localhost:8000", origin: "http://localhost:8000" },
      }),
    );
    assertEquals(post.status, 405);
    await post.body?.cancel();
  });
});

Deno.test("admin routes: the stream stop route disconnects the publisher", async () => {
  await withRoutes(async (handle, hub) => {
    const pub = new FakePublisher();
    hub.publish("live/cam", pub);
    const res = await handle(
      new Request("http://localhost:8000/api/v1/streams/live/cam/stop", {
        method: "POST",
        headers: { host: "localhost:8000", origin: "http://localhost:8000" },
      }),
    );
    assertEquals(res.status, 200);
    assertEquals(await res.json(), { stopped: "live/cam" });
    assertEquals(pub.closes.length, 1, "the publisher was not closed");
  });
});
