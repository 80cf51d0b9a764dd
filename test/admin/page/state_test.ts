import { assertEquals, assertStrictEquals } from "../../_util/assert.ts";
import type { ServerView, SessionSnapshot, SnapshotData, StreamView } from "../../../src/admin/page/api.ts";
import {
  ActionType,
  FeedStatus,
  initialState,
  MAX_LOG_LINES,
  type PageState,
  reduce,
} from "../../../src/admin/page/state.ts";

function stream(key: string, over: Partial<StreamView> = {}): StreamView {
  const [app, name] = key.split("/");
  return {
    key,
    app,
    name,
    state: "live",
    publisher: { id: "rtmp 10.0.0.1:5000", protocol: "rtmp", remote: "10.0.0.1:5000", since: 1_000 },
    video: null,
    audio: null,
    bitrate: { video: 0, audio: 0 },
    gop: { frames: 0, durationMs: 0 },
    uptimeMs: 0,
    viewers: { total: 0, byProtocol: {} },
    observers: 0,
    framesDropped: 0,
    framesIn: 0,
    bytesIn: 0,
    publishers: 1,
    players: 0,
    playUrls: { rtmp: null, httpFlv: null, wsFlv: null },
    publishUrls: { rtmp: null, http: null },
    ...over,
  };
}

function client(id: string, over: Partial<SessionSnapshot> = {}): SessionSnapshot {
  return {
    id,
    protocol: "rtmp",
    role: "player",
    startedAt: 0,
    durationMs: 0,
    bytesIn: 0,
    bytesOut: 0,
    framesSent: 0,
    framesDropped: 0,
    skips: 0,
    lagMs: 0,
    queuedBytes: 0,
    ...over,
  };
}

const SERVER: ServerView = {
  version: "1.0.0",
  startedAt: "2024-05-01T00:00:00.000Z",
  uptimeMs: 60_000,
  cpu: { userMs: 0, systemMs: 0, percent: 0 },
  memory: { rss: 0, heapUsed: 0, heapTotal: 0, external: 0 },
  connections: { total: 0, byProtocol: {} },
  bandwidth: { inBps: 0, outBps: 0, inTotalBytes: 0, outTotalBytes: 0 },
  streams: { live: 0, seen: 0 },
  listeners: [],
};

function snapshot(streams: StreamView[], clients: SessionSnapshot[]): SnapshotData {
  return { server: SERVER, streams, clients, sample: { t: 0, inBps: 0, outBps: 0, viewers: 0, streams: {} } };
}

/** A stream event's `at`: ISO 8601, as the feed sends it. */
const AT = "2024-05-01T00:01:00.000Z";

function withSnapshot(streams: StreamView[], clients: SessionSnapshot[] = []): PageState {
  return reduce(initialState(0), { type: ActionType.Snapshot, data: snapshot(streams, clients) });
}

Deno.test("reduce() takes a snapshot's server, streams by key and clients by numeric id", () => {
  const s = withSnapshot([stream("live/b"), stream("live/a")], [client("10"), client("9")]);
  assertEquals(s.feed, FeedStatus.Live);
  assertStrictEquals(s.server, SERVER);
  assertEquals(s.streams.map((x) => x.key), ["live/a", "live/b"]);
  assertEquals(s.clients.map((c) => c.id), ["9", "10"]);
});

Deno.test("reduce() sets now to the server's clock at the snapshot", () => {
  assertEquals(withSnapshot([]).now, Date.UTC(2024, 4, 1) + 60_000);
});

Deno.test("reduce() marks a stream in grace on unpublish and drops it on end", () => {
  let s = withSnapshot([stream("live/a"), stream("live/b")]);
  s = reduce(s, { type: ActionType.StreamEvent, event: "unpublish", data: { key: "live/a", at: AT } });
  assertEquals([s.streams[0].state, s.streams[0].publisher], ["grace", null]);
  s = reduce(s, { type: ActionType.StreamEvent, event: "resume", data: { key: "live/a", at: AT } });
  assertEquals(s.streams[0].state, "live");
  s = reduce(s, { type: ActionType.StreamEvent, event: "end", data: { key: "live/b", at: AT } });
  assertEquals(s.streams.map((x) => x.key), ["live/a"]);
});

Deno.test("reduce() leaves the state as it is on publish (the next snapshot brings the stream)", () => {
  const s = withSnapshot([]);
  assertStrictEquals(
    reduce(s, { type: ActionType.StreamEvent, event: "publish", data: { key: "live/new", at: AT } }),
    s,
  );
});

Deno.test("reduce() adds a client on connect (once) and removes it on close", () => {
  let s = withSnapshot([], [client("1")]);
  s = reduce(s, { type: ActionType.Connect, data: client("3") });
  s = reduce(s, { type: ActionType.Connect, data: client("3") });
  assertEquals(s.clients.map((c) => c.id), ["1", "3"]);
  s = reduce(s, { type: ActionType.Close, data: { ...client("1"), reason: "kicked" } });
  assertEquals(s.clients.map((c) => c.id), ["3"]);
});

Deno.test("reduce() keeps the newest MAX_LOG_LINES log lines", () => {
  let s = initialState(0);
  for (let i = 0; i < MAX_LOG_LINES + 5; i++) {
    s = reduce(s, { type: ActionType.Log, data: { at: `t${i}`, level: "warn", line: `line ${i}` } });
  }
  assertEquals(s.logs.length, MAX_LOG_LINES);
  assertEquals(s.logs[0].line, "line 5");
  assertEquals(s.logs[MAX_LOG_LINES - 1].line, `line ${MAX_LOG_LINES + 4}`);
});

Deno.test("reduce() puts fetched logs before lines the feed brought, without doubles", () => {
  let s = reduce(initialState(0), { type: ActionType.Log, data: { at: "t2", level: "error", line: "b" } });
  s = reduce(s, {
    type: ActionType.Logs,
    data: [{ at: "t1", level: "warn", line: "a" }, { at: "t2", level: "error", line: "b" }],
  });
  assertEquals(s.logs.map((l) => l.line), ["a", "b"]);
});

Deno.test("reduce() returns the same state for a feed status, preview or filter that did not change", () => {
  const s = initialState(0);
  assertStrictEquals(reduce(s, { type: ActionType.Feed, status: FeedStatus.Connecting }), s);
  assertStrictEquals(reduce(s, { type: ActionType.Preview, key: null }), s);
  assertStrictEquals(reduce(s, { type: ActionType.Filter, text: "" }), s);
  assertEquals(reduce(s, { type: ActionType.Feed, status: FeedStatus.Lost }).feed, FeedStatus.Lost);
  assertEquals(reduce(s, { type: ActionType.Preview, key: "live/a" }).previewKey, "live/a");
  assertEquals(reduce(s, { type: ActionType.Filter, text: "rtmp" }).clientFilter, "rtmp");
});
