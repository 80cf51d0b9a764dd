import { assert, assertEquals, assertStrictEquals, assertThrows } from "../_util/assert.ts";
import { FakePublisher, RecordingLogger } from "../_util/hub_fakes.ts";
import { makeConfig } from "../../src/config/config.ts";
import {
  addressOf,
  hostOf,
  REQUEST_FIELD_MAX_CHARS,
  type SessionCounters,
  type SessionEvent,
  SessionEventType,
  type SessionInit,
  SessionRegistry,
  sessionRequestOf,
} from "../../src/hub/registry.ts";
import { Protocol, Role, zeroByProtocol } from "../../src/hub/session_kind.ts";
import { StreamHub } from "../../src/hub/stream_hub.ts";

/** A registry on a clock the test moves. */
function newRegistry() {
  const clock = { now: 1_000 };
  const registry = new SessionRegistry(new RecordingLogger(), { clock: () => clock.now });
  return { registry, clock };
}

/** An edge's counters the test can change, and the kicks it received. */
function edge(init: Partial<SessionInit> = {}) {
  const counters: Partial<SessionCounters> = { bytesIn: 0, bytesOut: 0 };
  const kicks: string[] = [];
  const session: SessionInit = {
    protocol: Protocol.Rtmp,
    counters: () => counters,
    close: (reason) => kicks.push(reason),
    ...init,
  };
  return { session, counters, kicks };
}

Deno.test("SessionRegistry.open() assigns ids 1, 2, ... and get() finds live sessions", () => {
  const { registry } = newRegistry();
  const a = registry.open(edge().session);
  const b = registry.open(edge({ protocol: Protocol.HttpFlv }).session);
  assertEquals([a.id, b.id], ["1", "2"]);
  assertStrictEquals(registry.get("2"), b);
  assertEquals(registry.get("3"), undefined);
  assertEquals(registry.size, 2);
  assertEquals(a.role, Role.Pending, "role defaults to pending");
});

Deno.test("SessionEntry.snapshot() is plain data with the edge's counters, 0 for the missing ones", () => {
  const { registry, clock } = newRegistry();
  const e = edge({ remote: "10.0.0.7:50312" });
  e.counters.bytesIn = 5000;
  e.counters.lagMs = 120;
  const s = registry.open(e.session);
  clock.now += 2_500;
  e.counters.bytesIn = 9000;
  assertEquals(s.snapshot(), {
    id: "1",
    protocol: Protocol.Rtmp,
    role: Role.Pending,
    remote: "10.0.0.7:50312",
    startedAt: 1_000,
    durationMs: 2_500,
    bytesIn: 9000,
    bytesOut: 0,
    framesSent: 0,
    framesDropped: 0,
    skips: 0,
    lagMs: 120,
    queuedBytes: 0,
  });
});

Deno.test("SessionEntry.snapshot() reads zeros from a counters callback that throws or gives nonsense", () => {
  const { registry } = newRegistry();
  const s = registry.open({
    protocol: Protocol.File,
    counters: () => {
      throw new Error("gone");
    },
  });
  assertEquals(s.snapshot().bytesIn, 0);
  const t = registry.open({
    protocol: Protocol.File,
    counters: () => ({ bytesIn: NaN, bytesOut: Infinity, framesSent: "7" as unknown as number }),
  });
  const snap = t.snapshot();
  assertEquals([snap.bytesIn, snap.bytesOut, snap.framesSent], [0, 0, 0]);
});

Deno.test("SessionRegistry.list() filters by key, protocol and role; setStream() moves a session to a stream", () => {
  const { registry } = newRegistry();
  const pub = registry.open(edge().session);
  const viewer = registry.open(edge({ protocol: Protocol.HttpFlv }).session);
  const other = registry.open(edge({ protocol: Protocol.WsFlv, role: Role.Player, key: "live/b" }).session);
  registry.open(edge().session); // still pending
  pub.setStream(Role.Publisher, "live/a");
  viewer.setStream(Role.Player, "live/a");
  const ids = (f: Parameters<SessionRegistry["list"]>[0]) => registry.list(f).map((s) => s.id);
  assertEquals(ids({}), ["1", "2", "3", "4"]);
  assertEquals(ids({ key: "live/a" }), [pub.id, viewer.id]);
  assertEquals(ids({ role: Role.Player }), [viewer.id, other.id]);
  assertEquals(ids({ key: "live/a", protocol: Protocol.HttpFlv }), [viewer.id]);
  assertEquals(ids({ role: Role.Vod }), []);
  assertEquals(registry.list({ key: "live/b" })[0].key, "live/b");
});

Deno.test("SessionEntry.kick() asks the edge to close; false without a close callback or once ended", () => {
  const { registry } = newRegistry();
  const e = edge();
  const s = registry.open(e.session);
  assertEquals(s.kick("kicked by admin"), true);
  assertEquals(e.kicks, ["kicked by admin"]);
  assertEquals(registry.size, 1, "a kick only asks: the edge ends the entry when it has closed");
  s.end("kicked by admin");
  assertEquals(s.kick("again"), false);
  const quiet = registry.open({ protocol: Protocol.File, counters: () => ({}) });
  assertEquals(quiet.kick("x"), false);
});

Deno.test("SessionEntry.end() removes the session once and folds its final bytes into the totals", () => {
  const { registry } = newRegistry();
  const a = edge();
  const b = edge({ protocol: Protocol.HttpPush });
  const sa = registry.open(a.session);
  const sb = registry.open(b.session);
  a.counters.bytesIn = 100;
  a.counters.bytesOut = 1000;
  b.counters.bytesIn = 7;
  assertEquals(
    [registry.totals().bytesIn, registry.totals().bytesOut],
    [107, 1000],
    "live sessions count now",
  );
  sa.end("peer left");
  a.counters.bytesIn = 999_999; // the edge's counters after the end are not read
  sa.end("again");
  assert(sa.ended);
  assertEquals(registry.get(sa.id), undefined);
  assertEquals(sa.snapshot().bytesIn, 100, "an ended entry keeps its final snapshot");
  const t = registry.totals();
  assertEquals([t.bytesIn, t.bytesOut, t.live, t.opened], [107, 1000, 1, 2]);
  sb.end();
  const after = registry.totals();
  assertEquals([after.bytesIn, after.bytesOut, after.live, after.opened], [107, 1000, 0, 2]);
  assertEquals(registry.list(), []);
});

Deno.test("SessionRegistry.totals() counts live sessions and sessions ever opened per protocol, every protocol present", () => {
  const { registry } = newRegistry();
  const r1 = registry.open(edge().session);
  registry.open(edge().session);
  registry.open(edge({ protocol: Protocol.WsFlv }).session);
  r1.end();
  const t = registry.totals();
  assertEquals(t.sessionsByProtocol, { ...zeroByProtocol(), [Protocol.Rtmp]: 1, [Protocol.WsFlv]: 1 });
  assertEquals(t.openedByProtocol, { ...zeroByProtocol(), [Protocol.Rtmp]: 2, [Protocol.WsFlv]: 1 });
});

Deno.test("SessionRegistry.on() reports open and close (with the reason and final counters); its remover stops it", () => {
  const { registry } = newRegistry();
  const seen: SessionEvent[] = [];
  const off = registry.on((ev) => seen.push(ev));
  const e = edge({ protocol: Protocol.HttpFlv });
  const s = registry.open(e.session);
  e.counters.bytesOut = 4096;
  s.end("peer reset the connection");
  assertEquals(seen.map((ev) => [ev.type, ev.session.id, ev.reason]), [
    [SessionEventType.Open, "1", undefined],
    [SessionEventType.Close, "1", "peer reset the connection"],
  ]);
  assertEquals(seen[1].session.bytesOut, 4096);
  off();
  registry.open(edge().session).end();
  assertEquals(seen.length, 2);
});

Deno.test("SessionRegistry.open() refuses a protocol outside the table and missing counters with TypeError", () => {
  const { registry } = newRegistry();
  assertThrows(() => registry.open({ protocol: "gopher" as Protocol, counters: () => ({}) }), TypeError);
  assertThrows(
    () => registry.open({ protocol: Protocol.Rtmp } as unknown as SessionInit),
    TypeError,
  );
  assertEquals(registry.size, 0);
});

Deno.test("SessionEntry.setStream() after end() changes nothing", () => {
  const { registry } = newRegistry();
  const s = registry.open(edge().session);
  s.end();
  s.setStream(Role.Player, "live/x");
  assertEquals([s.role, s.key], [Role.Pending, undefined]);
});

Deno.test("StreamHub.totals() adds streams ever seen and live now to the registry's totals, which outlive them", () => {
  const hub = new StreamHub(makeConfig({ hub: { reconnectGraceMs: 0 } }).hub, new RecordingLogger());
  const e = edge();
  const session = hub.sessions.open(e.session);
  session.setStream(Role.Publisher, "live/a");
  const p = new FakePublisher();
  const a = hub.publish("live/a", p);
  hub.publish("live/b", new FakePublisher());
  e.counters.bytesIn = 1234;
  assertEquals([hub.totals().streamsSeen, hub.totals().streams], [2, 2]);
  hub.unpublish(a, p); // grace 0: the stream ends
  session.end("publisher left");
  const t = hub.totals();
  assertEquals([t.streamsSeen, t.streams, t.bytesIn, t.live, t.opened], [2, 1, 1234, 0, 1]);
  hub.stop();
});

Deno.test("SessionEntry.setRequest() and end(reason, { status }) put the request and the answer in the snapshot and the close event", () => {
  const { registry } = newRegistry();
  const seen: SessionEvent[] = [];
  registry.on((ev) => seen.push(ev));
  const s = registry.open(edge({ remote: "10.0.0.7:50312" }).session);
  assertEquals(
    [s.snapshot().request, s.snapshot().status],
    [undefined, undefined],
    "none until the edge says",
  );
  s.setRequest({ method: "CONNECT", url: "rtmp://h/live" });
  s.setRequest({
    method: "PLAY",
    url: "rtmp://h/live/cam",
    userAgent: "LNX 9,0,124,2",
    referer: "http://p/",
  });
  s.end("peer closed the connection", { status: 200 });
  s.setStatus(500); // after the end: ignored
  s.setRequest({ method: "PUBLISH", url: "x" });
  const request = {
    method: "PLAY",
    url: "rtmp://h/live/cam",
    userAgent: "LNX 9,0,124,2",
    referer: "http://p/",
  };
  assertEquals([s.snapshot().request, s.snapshot().status], [request, 200]);
  assertEquals(seen[1].type, SessionEventType.Close);
  assertEquals([seen[1].session.request, seen[1].session.status], [request, 200]);
  const snap = s.snapshot();
  snap.request!.url = "changed";
  assertEquals(s.snapshot().request?.url, "rtmp://h/live/cam", "a snapshot is a copy");
});

Deno.test("SessionRegistry.open() takes the request and status when the edge knows them at open", () => {
  const { registry } = newRegistry();
  const s = registry.open(
    edge({ protocol: Protocol.HttpVod, request: { method: "GET", url: "/vod/a.flv" }, status: 206 }).session,
  );
  assertEquals(s.snapshot().request, { method: "GET", url: "/vod/a.flv" });
  assertEquals(s.snapshot().status, 206);
  s.setStatus(200);
  s.end("sent");
  assertEquals(s.snapshot().status, 200, "end() without a status keeps the one set");
});

Deno.test("SessionEntry.setRequest() cuts fields past REQUEST_FIELD_MAX_CHARS; a field that is not a string is a TypeError", () => {
  const { registry } = newRegistry();
  const s = registry.open(edge().session);
  const long = "a".repeat(REQUEST_FIELD_MAX_CHARS + 10);
  s.setRequest({ method: "GET", url: `/${long}`, userAgent: long, referer: long });
  const r = s.snapshot().request!;
  assertEquals(
    [r.url.length, r.userAgent?.length, r.referer?.length],
    [REQUEST_FIELD_MAX_CHARS, REQUEST_FIELD_MAX_CHARS, REQUEST_FIELD_MAX_CHARS],
  );
  const e = assertThrows(
    () => s.setRequest({ method: "GET", url: 7 as unknown as string }),
    TypeError,
  );
  assertEquals(e.message, "Cannot set a session's request: url is number, expected a string");
  assertThrows(
    () => s.setRequest({ method: "GET", url: "/", userAgent: null as unknown as string }),
    TypeError,
  );
});

Deno.test("SessionEntry.setStatus() refuses what is not an HTTP status with RangeError", () => {
  const { registry } = newRegistry();
  const s = registry.open(edge().session);
  for (const bad of [0, 99, 1000, 200.5, NaN]) {
    const e = assertThrows(() => s.setStatus(bad), RangeError);
    assertEquals(e.message, `Cannot set a session's status: ${bad} is not an HTTP status (100-999)`);
  }
  assertThrows(() => registry.open(edge({ status: 42 }).session), RangeError);
  assertEquals(s.snapshot().status, undefined);
});

Deno.test("sessionRequestOf() reads the method, the path and query, User-Agent and Referer of a Request", () => {
  const req = new Request("http://127.0.0.1:8000/live/cam.flv?token=a%20b", {
    headers: { "user-agent": "Lavf/59.27.100", referer: "http://example.test/page" },
  });
  assertEquals(sessionRequestOf(req), {
    method: "GET",
    url: "/live/cam.flv?token=a%20b",
    userAgent: "Lavf/59.27.100",
    referer: "http://example.test/page",
  });
  assertEquals(sessionRequestOf(new Request("http://h/live/cam", { method: "POST" })), {
    method: "POST",
    url: "/live/cam",
  });
  assertEquals(sessionRequestOf(new Request("http://h/live/cam.flv"), "WS").method, "WS");
});

Deno.test("addressOf() writes a network peer as ip:port and hostOf() takes the host back, IPv6 too", () => {
  assertEquals(addressOf({ transport: "tcp", hostname: "10.0.0.1", port: 5000 }), "10.0.0.1:5000");
  assertEquals(addressOf({ transport: "unix", path: "/tmp/s" }), undefined);
  assertEquals(addressOf(undefined), undefined);
  assertEquals(hostOf("10.0.0.1:5000"), "10.0.0.1");
  assertEquals(hostOf("::1:5000"), "::1");
  assertEquals(hostOf("nohost"), "nohost");
});

Deno.test("SessionRegistry masks credentials in a session's request URL and referer (access log, API)", () => {
  const reg = new SessionRegistry(new RecordingLogger());
  const e = reg.open({
    protocol: Protocol.HttpFlv,
    counters: () => ({}),
    request: {
      method: "GET",
      url: "/live/cam.flv?expires=1&sign=abcdef&x=1",
      referer: "https://site/page?token=eyJhbGciOi",
    },
  });
  assertEquals(e.request?.url, "/live/cam.flv?expires=1&sign=***&x=1");
  assertEquals(e.request?.referer, "https://site/page?token=***");
  e.setRequest({ method: "PUBLISH", url: "rtmp://h/live/cam?key=SECRET" });
  assertEquals(e.request?.url, "rtmp://h/live/cam?key=***");
});

Deno.test("SessionRegistry.playerLags() gives each stream's live players' lags, and nothing for publishers or pending sessions", () => {
  const { registry } = newRegistry();
  const pub = edge({ role: Role.Publisher, key: "live/a" });
  pub.counters.lagMs = 999;
  registry.open(pub.session);
  const a1 = edge({ role: Role.Player, key: "live/a" });
  a1.counters.lagMs = 12;
  const a2 = edge({ role: Role.Player, key: "live/a" });
  a2.counters.lagMs = 30;
  const b = edge({ role: Role.Player, key: "live/b" });
  b.counters.lagMs = 7;
  const gone = edge({ role: Role.Player, key: "live/b" });
  for (const e of [a1, a2, b]) registry.open(e.session);
  registry.open(gone.session).end("left");
  registry.open(edge().session); // pending: no role, no key
  assertEquals([...registry.playerLags()], [["live/a", [12, 30]], ["live/b", [7]]]);
});
