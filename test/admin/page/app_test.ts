/**
 * The App against a fake browser: a scripted EventSource, a fetch that
 * answers from a table, frames and timers run by hand.
 */
import { assert, assertEquals } from "../../_util/assert.ts";
import type { ServerView, SnapshotData } from "../../../src/admin/page/api.ts";
import {
  App,
  type AppEnv,
  FEED_CLOSED,
  type FeedMessage,
  type FeedSource,
  type JsonAnswer,
  RECONNECT_MS,
} from "../../../src/admin/page/app.ts";
import type { SampleSeries } from "../../../src/admin/page/series.ts";
import { FeedStatus, type PageState } from "../../../src/admin/page/state.ts";

const T0 = 1_700_000_000_000;

class FakeFeed implements FeedSource {
  readyState = 0;
  onopen: (() => void) | null = null;
  onerror: (() => void) | null = null;
  closed = false;
  listeners = new Map<string, ((ev: FeedMessage) => void)[]>();
  constructor(readonly url: string) {}
  addEventListener(type: string, listener: (ev: FeedMessage) => void): void {
    this.listeners.set(type, [...this.listeners.get(type) ?? [], listener]);
  }
  close(): void {
    this.closed = true;
    this.readyState = FEED_CLOSED;
  }
  /** The server sends `event: type` with `data`. */
  emit(type: string, data: unknown): void {
    const text = typeof data === "string" ? data : JSON.stringify(data);
    for (const l of this.listeners.get(type) ?? []) l({ data: text });
  }
}

class FakeEnv implements AppEnv {
  feeds: FakeFeed[] = [];
  gets: string[] = [];
  answers = new Map<string, JsonAnswer>();
  renders: PageState[] = [];
  frames: (() => void)[] = [];
  timers = new Map<number, { fn: () => void; ms: number }>();
  #nextTimer = 1;
  series: SampleSeries | undefined;

  openFeed(url: string): FeedSource {
    const f = new FakeFeed(url);
    this.feeds.push(f);
    return f;
  }
  getJson(path: string): Promise<JsonAnswer> {
    this.gets.push(path);
    return Promise.resolve(this.answers.get(path) ?? { status: 404, body: { error: "Cannot find it" } });
  }
  render(state: PageState, series: SampleSeries): void {
    this.renders.push(state);
    this.series = series;
  }
  schedule(fn: () => void): void {
    this.frames.push(fn);
  }
  setTimeout(fn: () => void, ms: number): number {
    this.timers.set(this.#nextTimer, { fn, ms });
    return this.#nextTimer++;
  }
  clearTimeout(id: number): void {
    this.timers.delete(id);
  }
  now(): number {
    return T0;
  }
  /** Runs the frames scheduled so far. */
  frame(): void {
    const fns = this.frames;
    this.frames = [];
    for (const f of fns) f();
  }
  /** Runs the timers set so far. */
  fire(): void {
    const ts = [...this.timers.values()];
    this.timers.clear();
    for (const t of ts) t.fn();
  }
  get feed(): FakeFeed {
    return this.feeds[this.feeds.length - 1];
  }
}

const SERVER: ServerView = {
  version: "1",
  startedAt: new Date(T0).toISOString(),
  uptimeMs: 5_000,
  cpu: { userMs: 0, systemMs: 0, percent: 0 },
  memory: { rss: 0, heapUsed: 0, heapTotal: 0, external: 0 },
  connections: { total: 0, byProtocol: {} },
  bandwidth: { inBps: 0, outBps: 0, inTotalBytes: 0, outTotalBytes: 0 },
  streams: { live: 0, seen: 0 },
  listeners: [],
};

function snapshot(i: number): SnapshotData {
  return {
    server: SERVER,
    streams: [],
    clients: [],
    sample: { t: T0 + i * 1000, inBps: i, outBps: 0, viewers: 0, streams: {} },
  };
}

async function started(env = new FakeEnv()): Promise<{ env: FakeEnv; app: App }> {
  const app = new App(env);
  await app.start();
  return { env, app };
}

Deno.test("App.start() opens one feed and fetches the history and the logs once", async () => {
  const { env } = await started();
  assertEquals(env.feeds.map((f) => f.url), ["/api/v1/events"]);
  assertEquals(env.gets.sort(), ["/api/v1/history", "/api/v1/logs"]);
});

Deno.test("App draws once per frame however many events arrive", async () => {
  const { env } = await started();
  env.frame();
  const before = env.renders.length;
  env.feed.onopen!();
  for (let i = 0; i < 5; i++) env.feed.emit("snapshot", snapshot(i));
  assertEquals(env.frames.length, 1, "one frame scheduled");
  env.frame();
  assertEquals(env.renders.length, before + 1);
  assertEquals(env.renders.at(-1)!.feed, FeedStatus.Live);
});

Deno.test("App adds each snapshot's sample to the series and the state", async () => {
  const { env, app } = await started();
  env.feed.emit("snapshot", snapshot(1));
  env.feed.emit("snapshot", snapshot(2));
  assertEquals(app.series.bitrate()[1], [1, 2]);
  assertEquals(app.state.server, SERVER);
  assertEquals(app.state.now, T0 + 5_000);
});

Deno.test("App fills the series from the history and the log list from the logs", async () => {
  const env = new FakeEnv();
  env.answers.set("/api/v1/history", {
    status: 200,
    body: {
      intervalMs: 1000,
      server: { t: [T0, T0 + 1000], inBps: [5, 6], outBps: [0, 0], viewers: [1, 1] },
      streams: {},
    },
  });
  env.answers.set("/api/v1/logs", {
    status: 200,
    body: { logs: [{ at: "x", level: "warn", line: "slow" }] },
  });
  const { app } = await started(env);
  assertEquals(app.series.bitrate()[1], [5, 6]);
  assertEquals(app.state.logs.map((l) => l.line), ["slow"]);
});

Deno.test("App applies stream, session and log events as they come", async () => {
  const { env, app } = await started();
  env.feed.emit("snapshot", {
    ...snapshot(0),
    streams: [{ key: "live/a", state: "live", publisher: { id: "p", since: 0 } }],
  });
  env.feed.emit("unpublish", { key: "live/a", at: new Date(T0).toISOString(), publisherId: "p" });
  assertEquals(app.state.streams[0].state, "grace");
  env.feed.emit("connect", { id: "4", protocol: "rtmp", role: "pending", startedAt: T0 });
  assertEquals(app.state.clients.map((c) => c.id), ["4"]);
  env.feed.emit("close", { id: "4", reason: "kicked" });
  assertEquals(app.state.clients, []);
  env.feed.emit("log", { at: "t", level: "error", line: "boom" });
  assertEquals(app.state.logs.map((l) => l.line), ["boom"]);
});

Deno.test("App drops and counts events whose data is not a JSON object", async () => {
  const { env, app } = await started();
  env.feed.emit("snapshot", "{not json");
  env.feed.emit("log", "[1, 2]");
  env.feed.emit("connect", { no: "id" });
  assertEquals(app.badEvents, 2);
  assertEquals(app.state.clients, []);
});

Deno.test("App shows the feed lost and lets EventSource retry while it is reconnecting", async () => {
  const { env, app } = await started();
  env.feed.onopen!();
  env.feed.readyState = 0; // CONNECTING: EventSource retries by itself
  env.feed.onerror!();
  assertEquals(app.state.feed, FeedStatus.Lost);
  assertEquals([env.feeds.length, env.timers.size], [1, 0]);
});

Deno.test("App reopens a feed EventSource gave up on after RECONNECT_MS, one timer at a time", async () => {
  const env = new FakeEnv();
  env.answers.set("/api/v1/server", { status: 503, body: { error: "Cannot serve: too many clients" } });
  const { app } = await started(env);
  const first = env.feed;
  first.readyState = FEED_CLOSED;
  first.onerror!();
  await Promise.resolve();
  await Promise.resolve();
  assert(first.closed, "the dead feed is closed");
  assertEquals([...env.timers.values()].map((t) => t.ms), [RECONNECT_MS]);
  env.fire();
  assertEquals(env.feeds.length, 2);
  assertEquals(app.state.feed, FeedStatus.Connecting);
  app.stop();
});

Deno.test("App stops retrying and says signed out when the server answers 401", async () => {
  const env = new FakeEnv();
  env.answers.set("/api/v1/server", { status: 401, body: { error: "Cannot read: log in first" } });
  const { app } = await started(env);
  env.feed.readyState = FEED_CLOSED;
  env.feed.onerror!();
  await Promise.resolve();
  await Promise.resolve();
  assertEquals(app.state.feed, FeedStatus.SignedOut);
  assertEquals([env.feeds.length, env.timers.size], [1, 0]);
});

Deno.test("App says signed out when the history fetch answers 401", async () => {
  const env = new FakeEnv();
  env.answers.set("/api/v1/history", { status: 401, body: { error: "Cannot read: log in first" } });
  const { app } = await started(env);
  assertEquals(app.state.feed, FeedStatus.SignedOut);
  assert(env.feed.closed, "the feed is closed");
});

Deno.test("App.stop() closes the feed, clears the retry timer and draws no more", async () => {
  const env = new FakeEnv();
  env.answers.set("/api/v1/server", { status: 200, body: {} });
  const { app } = await started(env);
  env.feed.readyState = FEED_CLOSED;
  env.feed.onerror!();
  await Promise.resolve();
  await Promise.resolve();
  assertEquals(env.timers.size, 1);
  app.stop();
  assertEquals(env.timers.size, 0);
  const n = env.renders.length;
  env.frame();
  assertEquals(env.renders.length, n);
});
