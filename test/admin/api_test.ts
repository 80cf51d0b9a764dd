/**
 * The admin JSON API as pure `Request -> Response` calls over a real
 * StreamHub (fake publishers and sinks behind it) and a History sampled by
 * hand: the shapes of the contract, the URLs built from the request's host,
 * kick and stop really closing connections, and the errors (400, 404, 405, 409).
 */
import { assert, assertEquals, assertMatch } from "../_util/assert.ts";
import { FakePacker, FakePublisher, FakeSink, frames, limits, RecordingLogger } from "../_util/hub_fakes.ts";
import { makeConfig } from "../../src/config/config.ts";
import {
  AdminCloseReason,
  kickClient,
  portsOf,
  serveClients,
  serveFeeds,
  serveHistory,
  serveLogs,
  serveServer,
  serveStream,
  serveStreams,
  serveTranscodes,
  stopStream,
  streamView,
} from "../../src/admin/api.ts";
import type { AdminContext, AdminListener } from "../../src/admin/context.ts";
import { History } from "../../src/admin/history.ts";
import { Protocol, Role } from "../../src/hub/session_kind.ts";
import { StreamHub } from "../../src/hub/stream_hub.ts";
import { type StreamEvent, Subscriber } from "../../src/hub/subscriber.ts";
import { Logger, setLogSink } from "../../src/log.ts";
import { VERSION } from "../../src/version.ts";

const BASE = "http://media.example:8000";

/** Deno.test with the op and resource sanitizers. */
function test(name: string, fn: () => void | Promise<void>): void {
  Deno.test({ name, fn, sanitizeOps: true, sanitizeResources: true });
}

const LISTENERS: AdminListener[] = [
  { protocol: "rtmp", host: "0.0.0.0", port: 1935 },
  { protocol: "http", host: "0.0.0.0", port: 8000 },
];

/** Runs `fn` with a context around a fresh hub (merge window 0, grace 10 s); stops the hub afterwards. */
async function withCtx(
  fn: (ctx: AdminContext & { hub: StreamHub }) => void | Promise<void>,
  listeners: AdminListener[] = LISTENERS,
): Promise<void> {
  const log = new RecordingLogger();
  const hub = new StreamHub({ ...makeConfig().hub, mergeWindowMs: 0, reconnectGraceMs: 10_000 }, log);
  const history = new History(hub, { log });
  try {
    await fn({
      hub,
      history,
      log,
      startedAt: Date.now() - 5_000,
      listeners: () => listeners,
      sseMaxClients: 32,
      sseMaxBacklogBytes: 1 << 20,
    });
  } finally {
    history.stop();
    hub.stop();
  }
}

function get(path: string, method = "GET"): Request {
  return new Request(`${BASE}${path}`, { method });
}

function post(path: string): Request {
  return get(path, "POST");
}

/** A player subscriber of `key` on the hub, with the events its stream sent it. */
function attachPlayer(hub: StreamHub, key: string, protocol: string = Protocol.HttpFlv) {
  const events: StreamEvent[] = [];
  const sub = new Subscriber(`p ${protocol}`, new FakePacker(), new FakeSink(), limits(), new Logger(), {
    protocol,
  });
  sub.onEvent = (ev) => events.push(ev);
  assert(hub.attach(key, sub), `attached to ${key}`);
  return { sub, events };
}

/** Asserts a JSON error answer: status, content type and a "Cannot ..." message; returns the message. */
async function assertError(res: Response, status: number, includes: string): Promise<string> {
  assertEquals(res.status, status);
  assertEquals(res.headers.get("content-type"), "application/json; charset=utf-8");
  const body = await res.json();
  assertEquals(Object.keys(body), ["error"]);
  assertMatch(body.error, /^Cannot /);
  assert(!body.error.endsWith("."), "no final period");
  assert(body.error.includes(includes), `${body.error} includes ${includes}`);
  return body.error;
}

// ---------------------------------------------------------------------------------------------
// GET /api/v1/server

test("serveServer() answers the server's version, start, uptime, memory, connections, streams and listeners", async () => {
  await withCtx(async (ctx) => {
    ctx.hub.publish("live/cam", new FakePublisher());
    const entry = ctx.hub.sessions.open({ protocol: Protocol.Rtmp, counters: () => ({ bytesIn: 300 }) });
    const res = serveServer(ctx, get("/api/v1/server"));
    assertEquals(res.status, 200);
    assertEquals(res.headers.get("cache-control"), "no-store");
    assertEquals(res.headers.get("access-control-allow-origin"), "*");
    const body = await res.json();
    assertEquals(
      Object.keys(body).sort(),
      [
        "bandwidth",
        "connections",
        "cpu",
        "listeners",
        "memory",
        "startedAt",
        "streams",
        "uptimeMs",
        "version",
      ],
    );
    assertEquals(body.version, VERSION);
    assertEquals(body.startedAt, new Date(ctx.startedAt).toISOString());
    assert(body.uptimeMs >= 5_000, `uptime ${body.uptimeMs}`);
    assertEquals(Object.keys(body.memory).sort(), ["external", "heapTotal", "heapUsed", "rss"]);
    assertEquals(body.connections.total, 1);
    assertEquals(body.connections.byProtocol.rtmp, 1);
    assertEquals(body.connections.byProtocol["http-flv"], 0);
    assertEquals(body.bandwidth, { inBps: 0, outBps: 0, inTotalBytes: 300, outTotalBytes: 0 });
    assertEquals(body.streams, { live: 1, seen: 1 });
    assertEquals(body.listeners, LISTENERS);
    assertEquals(body.cpu, { userMs: 0, systemMs: 0, percent: 0 }, "no sample yet");
    entry.end();
  });
});

test("serveServer() lists the RTSP listener with its UDP range, and no UDP range on the others", async () => {
  const listeners: AdminListener[] = [
    ...LISTENERS,
    { protocol: "rtsp", host: "0.0.0.0", port: 8554, udpPorts: { first: 8000, last: 8999 } },
  ];
  await withCtx(async (ctx) => {
    const body = await serveServer(ctx, get("/api/v1/server")).json();
    assertEquals(body.listeners, [
      { protocol: "rtmp", host: "0.0.0.0", port: 1935 },
      { protocol: "http", host: "0.0.0.0", port: 8000 },
      { protocol: "rtsp", host: "0.0.0.0", port: 8554, udpPorts: { first: 8000, last: 8999 } },
    ]);
  }, listeners);
});

test("serveServer() takes CPU and bits per second from the sampler's latest tick", async () => {
  await withCtx(async (ctx) => {
    let bytesIn = 0;
    const entry = ctx.hub.sessions.open({ protocol: Protocol.Rtmp, counters: () => ({ bytesIn }) });
    let now = Date.now();
    const history = new History(ctx.hub, { clock: () => now, log: ctx.log });
    history.sample();
    bytesIn = 125_000;
    now += 1_000;
    const tick = history.sample();
    const body = await serveServer({ ...ctx, history }, get("/api/v1/server")).json();
    assertEquals(body.bandwidth.inBps, 1_000_000, "125 kB in a second");
    assertEquals(body.cpu, tick.cpu);
    assert(body.cpu.userMs > 0, "the process has used some CPU");
    entry.end();
  });
});

test("serveServer() answers 405 with allow to a POST", async () => {
  await withCtx(async (ctx) => {
    const res = serveServer(ctx, post("/api/v1/server"));
    assertEquals(res.headers.get("allow"), "GET, HEAD");
    await assertError(res, 405, "Cannot POST /api/v1/server");
  });
});

// ---------------------------------------------------------------------------------------------
// GET /api/v1/streams, /api/v1/streams/{app}/{name}

test("serveStreams() answers an empty list when nothing is published", async () => {
  await withCtx(async (ctx) => {
    assertEquals(await serveStreams(ctx, get("/api/v1/streams")).json(), { streams: [] });
  });
});

test("serveStreams() lists every snapshot field plus players and URLs for the request's host", async () => {
  await withCtx(async (ctx) => {
    const stream = ctx.hub.publish(
      "live/cam",
      new FakePublisher("rtmp 10.0.0.1:5000", { protocol: Protocol.Rtmp, remote: "10.0.0.1:5000" }),
    );
    const f = frames.key(0, 100);
    stream.push(f.kind, f.timestamp, f.payload);
    attachPlayer(ctx.hub, "live/cam", Protocol.HttpFlv);
    attachPlayer(ctx.hub, "live/cam", Protocol.Rtmp);
    const { streams } = await serveStreams(ctx, get("/api/v1/streams")).json();
    assertEquals(streams.length, 1);
    const v = streams[0];
    const snapshot = JSON.parse(JSON.stringify(stream.snapshot()));
    for (const k of Object.keys(snapshot)) {
      assert(k in v, `field ${k}`);
      // Read a moment apart: the time and the bitrates (per second, at a second's edge) may differ.
      if (k !== "uptimeMs" && k !== "bitrate") assertEquals(v[k], snapshot[k], `field ${k}`);
    }
    assertEquals(v.players, 2);
    assertEquals(v.viewers, { total: 2, byProtocol: { "http-flv": 1, rtmp: 1 } });
    assertEquals(v.publisher.id, "rtmp 10.0.0.1:5000");
    assertEquals(v.playUrls, {
      rtmp: "rtmp://media.example:1935/live/cam",
      httpFlv: "http://media.example:8000/live/cam.flv",
      wsFlv: "ws://media.example:8000/live/cam.flv",
    });
    assertEquals(v.publishUrls, {
      rtmp: "rtmp://media.example:1935/live/cam",
      http: "http://media.example:8000/live/cam",
    });
  });
});

test("serveStream() answers one stream's view, and 404 for a name not published", async () => {
  await withCtx(async (ctx) => {
    ctx.hub.publish("live/cam", new FakePublisher());
    const res = serveStream(ctx, get("/api/v1/streams/live/cam"), "live", "cam");
    assertEquals(res.status, 200);
    const v = await res.json();
    assertEquals([v.key, v.app, v.name, v.state, v.players], ["live/cam", "live", "cam", "live", 0]);
    await assertError(
      serveStream(ctx, get("/api/v1/streams/live/nope"), "live", "nope"),
      404,
      "Cannot show stream live/nope: no such stream",
    );
    await assertError(serveStream(ctx, get("/api/v1/streams/live/"), "live", ""), 400, "must not be empty");
  });
});

test("streamView() builds the URLs from the host name without the request's port, IPv6 in brackets", () => {
  const snapshot = { key: "live/cam", viewers: { total: 3, byProtocol: {} } } as Parameters<
    typeof streamView
  >[0];
  const v = streamView(snapshot, new Request("http://[::1]:9999/admin/"), { rtmp: 1935, http: 8000 });
  assertEquals(v.playUrls.rtmp, "rtmp://[::1]:1935/live/cam");
  assertEquals(v.playUrls.httpFlv, "http://[::1]:8000/live/cam.flv");
  assertEquals(v.players, 3);
});

test("streamView() gives null URLs for a protocol with no listener", async () => {
  await withCtx(async (ctx) => {
    ctx.hub.publish("live/cam", new FakePublisher());
    const { streams } = await serveStreams(ctx, get("/api/v1/streams")).json();
    assertEquals(streams[0].playUrls, {
      rtmp: null,
      httpFlv: "http://media.example:8000/live/cam.flv",
      wsFlv: "ws://media.example:8000/live/cam.flv",
    });
    assertEquals(streams[0].publishUrls.rtmp, null);
  }, [{ protocol: "http", host: "127.0.0.1", port: 8000 }]);
});

test("portsOf() takes the first listener of each protocol", () => {
  assertEquals(portsOf([]), {});
  assertEquals(
    portsOf([
      { protocol: "http", host: "a", port: 1 },
      { protocol: "rtmp", host: "a", port: 2 },
      { protocol: "http", host: "b", port: 3 },
    ]),
    { http: 1, rtmp: 2 },
  );
});

// ---------------------------------------------------------------------------------------------
// GET /api/v1/clients

test("serveClients() lists every session's snapshot, and ?stream= only that stream's", async () => {
  await withCtx(async (ctx) => {
    const a = ctx.hub.sessions.open({
      protocol: Protocol.Rtmp,
      role: Role.Publisher,
      key: "live/a",
      remote: "10.0.0.1:5000",
      counters: () => ({ bytesIn: 10 }),
    });
    const b = ctx.hub.sessions.open({
      protocol: Protocol.HttpFlv,
      role: Role.Player,
      key: "live/b",
      counters: () => ({ bytesOut: 20, lagMs: 7 }),
    });
    const all = await serveClients(ctx, get("/api/v1/clients")).json();
    assertEquals(all.clients.map((c: { id: string }) => c.id), [a.id, b.id]);
    const first = all.clients[0];
    assertEquals(
      Object.keys(first).sort(),
      [
        "bytesIn",
        "bytesOut",
        "durationMs",
        "framesDropped",
        "framesSent",
        "id",
        "key",
        "lagMs",
        "protocol",
        "queuedBytes",
        "remote",
        "role",
        "skips",
        "startedAt",
      ],
    );
    assertEquals([first.protocol, first.role, first.remote, first.bytesIn], [
      "rtmp",
      "publisher",
      "10.0.0.1:5000",
      10,
    ]);
    const onlyB = await serveClients(ctx, get("/api/v1/clients?stream=live/b")).json();
    assertEquals(onlyB.clients.map((c: { id: string; lagMs: number }) => [c.id, c.lagMs]), [[b.id, 7]]);
    a.end();
    b.end();
  });
});

test("serveClients() answers 400 to a ?stream= that is not app/name", async () => {
  await withCtx(async (ctx) => {
    await assertError(
      serveClients(ctx, get("/api/v1/clients?stream=cam")),
      400,
      'stream "cam" is not app/name',
    );
    await assertError(serveClients(ctx, get("/api/v1/clients?stream=")), 400, "is not app/name");
  });
});

// ---------------------------------------------------------------------------------------------
// POST /api/v1/clients/{id}/kick

test("kickClient() closes the session's connection with the admin's reason and answers { kicked }", async () => {
  await withCtx(async (ctx) => {
    const closes: string[] = [];
    const entry = ctx.hub.sessions.open({
      protocol: Protocol.Rtmp,
      counters: () => ({}),
      close: (reason) => {
        closes.push(reason);
        entry.end(reason); // as an edge does once its socket is closed
      },
    });
    const res = kickClient(ctx, post(`/api/v1/clients/${entry.id}/kick`), entry.id);
    assertEquals(res.status, 200);
    assertEquals(await res.json(), { kicked: entry.id });
    assertEquals(closes, [AdminCloseReason.Kicked]);
    assertEquals(ctx.hub.sessions.get(entry.id), undefined, "gone from the registry");
    await assertError(
      kickClient(ctx, post(`/api/v1/clients/${entry.id}/kick`), entry.id),
      404,
      `Cannot kick client ${entry.id}: no such client`,
    );
  });
});

test("kickClient() answers 404 for an unknown id, 400 for a malformed one, 405 to a GET", async () => {
  await withCtx(async (ctx) => {
    await assertError(kickClient(ctx, post("/api/v1/clients/999/kick"), "999"), 404, "no such client");
    await assertError(kickClient(ctx, post("/api/v1/clients/x/kick"), "x"), 400, "not a session id");
    await assertError(kickClient(ctx, get("/api/v1/clients/1/kick"), "1"), 405, "allowed POST");
  });
});

test("kickClient() answers 409 when the session's edge gave no way to close it", async () => {
  await withCtx(async (ctx) => {
    const entry = ctx.hub.sessions.open({ protocol: Protocol.File, counters: () => ({}) });
    await assertError(
      kickClient(ctx, post(`/api/v1/clients/${entry.id}/kick`), entry.id),
      409,
      "no way to close",
    );
    entry.end();
  });
});

// ---------------------------------------------------------------------------------------------
// POST /api/v1/streams/{app}/{name}/stop

test("stopStream() closes the publisher, whose players get the usual unpublish", async () => {
  await withCtx(async (ctx) => {
    const publisher = new FakePublisher("rtmp 10.0.0.1:5000");
    const stream = ctx.hub.publish("live/cam", publisher);
    publisher.onClose = () => ctx.hub.unpublish(stream, publisher); // as the RTMP session does
    const { events } = attachPlayer(ctx.hub, "live/cam");
    const res = stopStream(ctx, post("/api/v1/streams/live/cam/stop"), "live", "cam");
    assertEquals(res.status, 200);
    assertEquals(await res.json(), { stopped: "live/cam" });
    assertEquals(publisher.closes, [AdminCloseReason.Stopped]);
    assertEquals(events, ["unpublish"]);
    assertEquals(stream.state, "grace");
    await assertError(
      stopStream(ctx, post("/api/v1/streams/live/cam/stop"), "live", "cam"),
      404,
      "Cannot stop stream live/cam: it has no publisher",
    );
  });
});

test("stopStream() answers 404 for a stream not published, 405 to a GET", async () => {
  await withCtx(async (ctx) => {
    await assertError(
      stopStream(ctx, post("/api/v1/streams/live/x/stop"), "live", "x"),
      404,
      "Cannot stop stream live/x: no such stream",
    );
    await assertError(stopStream(ctx, get("/api/v1/streams/live/x/stop"), "live", "x"), 405, "allowed POST");
  });
});

// ---------------------------------------------------------------------------------------------
// GET /api/v1/history, /api/v1/logs

test("serveHistory() answers the sampler's rings", async () => {
  await withCtx(async (ctx) => {
    ctx.hub.publish("live/cam", new FakePublisher());
    ctx.history.sample();
    const body = await serveHistory(ctx, get("/api/v1/history")).json();
    assertEquals(body, JSON.parse(JSON.stringify(ctx.history.toJSON())));
    assertEquals(body.intervalMs, 1_000);
    assertEquals(body.server.t.length, 1);
    assertEquals(Object.keys(body.streams), ["live/cam"]);
  });
});

test("serveLogs() answers the newest warnings and errors with their time and level", async () => {
  await withCtx(async (ctx) => {
    const tag = `api ${crypto.randomUUID()}`;
    const prev = setLogSink(() => {});
    try {
      const l = new Logger().child(tag);
      l.warn("disk almost full");
      l.info("not listed");
      l.error("disk full");
    } finally {
      setLogSink(prev);
    }
    const { logs } = await serveLogs(ctx, get("/api/v1/logs")).json();
    const mine = logs.filter((e: { line: string }) => e.line.includes(tag));
    assertEquals(mine.map((e: { level: string; line: string }) => [e.level, e.line]), [
      ["warn", `[${tag}] disk almost full`],
      ["error", `[${tag}] disk full`],
    ]);
    assertMatch(mine[0].at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });
});

test("serveHistory() and serveLogs() answer 405 to a POST", async () => {
  await withCtx(async (ctx) => {
    await assertError(serveHistory(ctx, post("/api/v1/history")), 405, "allowed GET, HEAD");
    await assertError(serveLogs(ctx, post("/api/v1/logs")), 405, "allowed GET, HEAD");
  });
});

test("serveFeeds() and serveTranscodes() list what the context gives, in its order, and [] when it gives nothing", async () => {
  await withCtx(async (ctx) => {
    assertEquals(await serveFeeds(ctx, get("/api/v1/feeds")).json(), { feeds: [] });
    assertEquals(await serveTranscodes(ctx, get("/api/v1/transcodes")).json(), { transcodes: [] });
    const feeds = [
      { name: "feed1.ffm", path: "/feed1.ffm", key: "feed/feed1", receiving: true, sizeBytes: 4096 },
      { name: "live/cam", key: "live/cam", receiving: false },
    ];
    const transcodes = [
      { key: "live/small", from: "live/cam", state: "running", pid: 4242, restarts: 1 },
      { key: "live/audio", from: "live/cam", state: "failed", restarts: 0, error: "Cannot run transcode" },
    ];
    const full = { ...ctx, feeds: () => feeds, transcodes: () => transcodes };
    const res = serveFeeds(full, get("/api/v1/feeds"));
    assertEquals(res.headers.get("cache-control"), "no-store");
    assertEquals(await res.json(), { feeds });
    assertEquals(await serveTranscodes(full, get("/api/v1/transcodes")).json(), { transcodes });
    assertEquals(serveFeeds(full, get("/api/v1/feeds", "HEAD")).status, 200);
  });
});

test("serveFeeds() and serveTranscodes() answer 405 to a POST", async () => {
  await withCtx(async (ctx) => {
    await assertError(serveFeeds(ctx, post("/api/v1/feeds")), 405, "allowed GET, HEAD");
    await assertError(serveTranscodes(ctx, post("/api/v1/transcodes")), 405, "allowed GET, HEAD");
  });
});
