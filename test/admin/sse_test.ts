/**
 * `GET /api/v1/events` as a pure `Request -> Response` call whose body is
 * read as a browser's fetch would: the first events, snapshots on ticks
 * (encoded once and shared by the clients of one host), hub, registry and log
 * events in order, the client bound (503), the backlog bound (the client is
 * dropped), and a cancelled body leaving no client, listener or timer behind.
 */
import { assert, assertEquals, assertMatch, assertRejects, assertStrictEquals } from "../_util/assert.ts";
import { FakePublisher, RecordingLogger } from "../_util/hub_fakes.ts";
import { makeConfig } from "../../src/config/config.ts";
import type { AdminContext, AdminHub, AdminListener } from "../../src/admin/context.ts";
import { History, type HistoryTick } from "../../src/admin/history.ts";
import {
  DEFAULT_SSE_MAX_BACKLOG_BYTES,
  DEFAULT_SSE_MAX_CLIENTS,
  encodeEvent,
  serveEvents,
  SSE_RETRY_MS,
  sseClients,
  SseEvent,
} from "../../src/admin/sse.ts";
import type { HubEvent } from "../../src/hub/events.ts";
import type { SessionEvent } from "../../src/hub/registry.ts";
import { Protocol } from "../../src/hub/session_kind.ts";
import { StreamHub } from "../../src/hub/stream_hub.ts";
import { Logger, onLog, setLogSink } from "../../src/log.ts";

/** Every wait ends by this deadline instead of hanging. */
const WAIT_MS = 5_000;
const URL_EVENTS = "http://media.example:8000/api/v1/events";
const LISTENERS: AdminListener[] = [
  { protocol: "rtmp", host: "0.0.0.0", port: 1935 },
  { protocol: "http", host: "0.0.0.0", port: 8000 },
];

/** Deno.test with the op and resource sanitizers: no timer (the keep-alive) may outlive a test. */
function test(name: string, fn: () => Promise<void>): void {
  Deno.test({ name, fn, sanitizeOps: true, sanitizeResources: true });
}

/** Rejects after WAIT_MS (the timer is cleared when `p` settles first). */
async function bounded<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Cannot see ${what}: not within ${WAIT_MS} ms`)), WAIT_MS);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** One parsed block of the stream. */
interface Block {
  event?: string;
  data?: unknown;
  retry?: number;
  comment?: string;
}

/** Reads a text/event-stream body block by block, keeping the raw chunks. */
class SseReader {
  readonly chunks: Uint8Array[] = [];
  #reader: ReadableStreamDefaultReader<Uint8Array>;
  #decoder = new TextDecoder();
  #buf = "";

  constructor(res: Response) {
    assert(res.body, "a body");
    this.#reader = res.body.getReader();
  }

  /** The next block (event, retry or comment). */
  async next(): Promise<Block> {
    for (;;) {
      const end = this.#buf.indexOf("\n\n");
      if (end >= 0) {
        const text = this.#buf.slice(0, end);
        this.#buf = this.#buf.slice(end + 2);
        return parse(text);
      }
      const { value, done } = await bounded(this.#reader.read(), "the next event");
      if (done) throw new Error("Cannot read an event: the stream ended");
      this.chunks.push(value);
      this.#buf += this.#decoder.decode(value, { stream: true });
    }
  }

  /** The next block that is an event. */
  async event(): Promise<{ event: string; data: Record<string, unknown> }> {
    for (;;) {
      const b = await this.next();
      if (b.event !== undefined) return { event: b.event, data: b.data as Record<string, unknown> };
    }
  }

  /** The next events' names, `n` of them. */
  async events(n: number): Promise<{ event: string; data: Record<string, unknown> }[]> {
    const out = [];
    for (let i = 0; i < n; i++) out.push(await this.event());
    return out;
  }

  /** Goes away, as a closed browser tab does. */
  cancel(): Promise<void> {
    return this.#reader.cancel();
  }
}

function parse(text: string): Block {
  const b: Block = {};
  for (const line of text.split("\n")) {
    if (line.startsWith(":")) b.comment = line.slice(1).trim();
    else if (line.startsWith("event: ")) b.event = line.slice(7);
    else if (line.startsWith("data: ")) b.data = JSON.parse(line.slice(6));
    else if (line.startsWith("retry: ")) b.retry = Number(line.slice(7));
    else throw new Error(`Cannot parse an SSE line: ${line}`);
  }
  return b;
}

/** A hub that counts the listeners added to it and to its registry and not yet removed. */
function counting(hub: StreamHub): { hub: AdminHub; live: { hub: number; sessions: number } } {
  const live = { hub: 0, sessions: 0 };
  const track = <E>(what: "hub" | "sessions", on: (l: (ev: E) => void) => () => void) => {
    return (l: (ev: E) => void) => {
      const off = on(l);
      live[what]++;
      let done = false;
      return () => {
        if (!done) live[what]--;
        done = true;
        off();
      };
    };
  };
  return {
    live,
    hub: {
      streams: () => hub.streams(),
      get: (key) => hub.get(key),
      totals: () => hub.totals(),
      on: track<HubEvent>("hub", (l) => hub.on(l)),
      sessions: {
        list: (f) => hub.sessions.list(f),
        get: (id) => hub.sessions.get(id),
        on: track<SessionEvent>("sessions", (l) => hub.sessions.on(l)),
      },
    },
  };
}

/** A History that counts its tick listeners. */
class CountingHistory extends History {
  tickListeners = 0;
  override onTick(listener: (tick: HistoryTick) => void): () => void {
    const off = super.onTick(listener);
    this.tickListeners++;
    let done = false;
    return () => {
      if (!done) this.tickListeners--;
      done = true;
      off();
    };
  }
}

interface Setup {
  ctx: AdminContext;
  hub: StreamHub;
  history: CountingHistory;
  log: RecordingLogger;
  live: { hub: number; sessions: number };
}

/** A context around a fresh hub (grace 0: unpublish ends the stream); stops everything afterwards. */
async function withCtx(
  fn: (s: Setup) => Promise<void>,
  bounds: { sseMaxClients?: number; sseMaxBacklogBytes?: number } = {},
): Promise<void> {
  const log = new RecordingLogger();
  const hub = new StreamHub({ ...makeConfig().hub, mergeWindowMs: 0, reconnectGraceMs: 0 }, log);
  const history = new CountingHistory(hub, { log });
  const { hub: adminHub, live } = counting(hub);
  const ctx: AdminContext = {
    hub: adminHub,
    history,
    log,
    startedAt: Date.now(),
    listeners: () => LISTENERS,
    sseMaxClients: bounds.sseMaxClients ?? DEFAULT_SSE_MAX_CLIENTS,
    sseMaxBacklogBytes: bounds.sseMaxBacklogBytes ?? DEFAULT_SSE_MAX_BACKLOG_BYTES,
  };
  try {
    await fn({ ctx, hub, history, log, live });
  } finally {
    history.stop();
    hub.stop();
  }
}

function open(ctx: AdminContext, url = URL_EVENTS): SseReader {
  const res = serveEvents(ctx, new Request(url));
  assertEquals(res.status, 200);
  return new SseReader(res);
}

/** Logs through a real Logger without printing. */
function quietly(fn: () => void): void {
  const prev = setLogSink(() => {});
  try {
    fn();
  } finally {
    setLogSink(prev);
  }
}

test("serveEvents() answers text/event-stream, not cached, open to any origin", async () => {
  await withCtx(async ({ ctx }) => {
    const res = serveEvents(ctx, new Request(URL_EVENTS));
    assertEquals(res.status, 200);
    assertEquals(res.headers.get("content-type"), "text/event-stream; charset=utf-8");
    assertEquals(res.headers.get("cache-control"), "no-cache, no-store");
    assertEquals(res.headers.get("access-control-allow-origin"), "*");
    await res.body!.cancel();
    assertEquals(sseClients(ctx), 0);
  });
});

test("serveEvents() sends retry first, then the latest snapshot at once", async () => {
  await withCtx(async ({ ctx, hub, history }) => {
    hub.publish("live/cam", new FakePublisher("rtmp 10.0.0.1:5000"));
    const tick = history.sample();
    const r = open(ctx);
    assertEquals(await r.next(), { retry: SSE_RETRY_MS });
    const { event, data } = await r.event();
    assertEquals(event, SseEvent.Snapshot);
    assertEquals(Object.keys(data).sort(), ["clients", "sample", "server", "streams"]);
    assertEquals(data.sample, JSON.parse(JSON.stringify(tick.sample)));
    const streams = data.streams as { key: string; players: number; playUrls: { rtmp: string } }[];
    assertEquals(streams.map((s) => [s.key, s.players]), [["live/cam", 0]]);
    assertEquals(
      streams[0].playUrls.rtmp,
      "rtmp://media.example:1935/live/cam",
      "URLs for the request's host",
    );
    const server = data.server as { streams: { live: number }; listeners: unknown };
    assertEquals(server.streams.live, 1);
    assertEquals(server.listeners, LISTENERS);
    await r.cancel();
  });
});

test("serveEvents() sends a snapshot on every tick, encoded once for every client of the same host", async () => {
  await withCtx(async ({ ctx, history }) => {
    const a = open(ctx);
    const b = open(ctx);
    const c = open(ctx, "http://other.example:8000/api/v1/events");
    for (const r of [a, b, c]) assertEquals((await r.next()).retry, SSE_RETRY_MS, "no tick yet: no snapshot");
    history.sample();
    const [ea, eb, ec] = [await a.event(), await b.event(), await c.event()];
    for (const e of [ea, eb, ec]) assertEquals(e.event, SseEvent.Snapshot);
    assertStrictEquals(a.chunks.at(-1), b.chunks.at(-1), "the very same bytes");
    assert(a.chunks.at(-1) !== c.chunks.at(-1), "another host's URLs differ");
    history.sample();
    assertEquals((await a.event()).event, SseEvent.Snapshot);
    await Promise.all([a.cancel(), b.cancel(), c.cancel()]);
  });
});

test("serveEvents() sends publish, unpublish and end in order, with key, ISO time and publisher", async () => {
  await withCtx(async ({ ctx, hub }) => {
    const r = open(ctx);
    const publisher = new FakePublisher("rtmp 10.0.0.1:5000");
    const stream = hub.publish("live/cam", publisher);
    hub.unpublish(stream, publisher); // grace 0: ends at once
    const got = await r.events(3);
    assertEquals(got.map((e) => e.event), [SseEvent.Publish, SseEvent.Unpublish, SseEvent.End]);
    assertEquals(got[0].data.key, "live/cam");
    assertEquals(got[0].data.publisherId, "rtmp 10.0.0.1:5000");
    assertEquals("publisherId" in got[2].data, false, "end has no publisher");
    for (const e of got) assertMatch(e.data.at as string, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    await r.cancel();
  });
});

test("serveEvents() sends connect and close with the session's snapshot, close with its reason", async () => {
  await withCtx(async ({ ctx, hub }) => {
    const r = open(ctx);
    const entry = hub.sessions.open({
      protocol: Protocol.Rtmp,
      remote: "10.0.0.2:6000",
      counters: () => ({ bytesIn: 42 }),
    });
    entry.end("peer closed the connection");
    const [connect, close] = await r.events(2);
    assertEquals(connect.event, SseEvent.Connect);
    assertEquals([connect.data.id, connect.data.protocol, connect.data.remote], [
      entry.id,
      "rtmp",
      "10.0.0.2:6000",
    ]);
    assertEquals(close.event, SseEvent.Close);
    assertEquals([close.data.id, close.data.bytesIn, close.data.reason], [
      entry.id,
      42,
      "peer closed the connection",
    ]);
    await r.cancel();
  });
});

test("serveEvents() sends a log event for each warning and error, not for info", async () => {
  await withCtx(async ({ ctx }) => {
    const r = open(ctx);
    quietly(() => {
      const l = new Logger().child("sse test");
      l.info("not sent");
      l.warn("slow player");
      l.error("listener failed");
    });
    const got = await r.events(2);
    assertEquals(got.map((e) => [e.event, e.data.level, e.data.line]), [
      [SseEvent.Log, "warn", "[sse test] slow player"],
      [SseEvent.Log, "error", "[sse test] listener failed"],
    ]);
    await r.cancel();
  });
});

test("serveEvents() takes at most sseMaxClients clients: one more gets 503 JSON, room again after one goes", async () => {
  await withCtx(async ({ ctx }) => {
    const a = open(ctx);
    const b = open(ctx);
    assertEquals(sseClients(ctx), 2);
    const refused = serveEvents(ctx, new Request(URL_EVENTS));
    assertEquals(refused.status, 503);
    assertEquals(refused.headers.get("content-type"), "application/json; charset=utf-8");
    assertEquals(await refused.json(), {
      error: "Cannot open an event stream: 2 clients already (limit 2)",
    });
    await a.cancel();
    assertEquals(sseClients(ctx), 1);
    const c = open(ctx);
    await Promise.all([b.cancel(), c.cancel()]);
  }, { sseMaxClients: 2 });
});

test("serveEvents() drops a client whose unsent bytes would pass sseMaxBacklogBytes, and only that one", async () => {
  await withCtx(async ({ ctx, log, hub }) => {
    const slow = serveEvents(ctx, new Request(URL_EVENTS)); // never read
    const fast = open(ctx);
    await fast.next(); // retry
    for (let i = 0; i < 20; i++) {
      hub.sessions.open({ protocol: Protocol.Rtmp, counters: () => ({}) }).end("x".repeat(200));
      await fast.events(2); // connect, close: read as they come
    }
    assertEquals(sseClients(ctx), 1, "the slow client is gone");
    const reader = slow.body!.getReader();
    await assertRejects(
      async () => {
        for (;;) if ((await reader.read()).done) return;
      },
      Error,
      "Cannot keep up",
    );
    const dropped = log.lines.filter((l) => l.msg.includes("dropped"));
    assertEquals(dropped.length, 1, "logged once");
    assertMatch(dropped[0].msg, /more than 4096 bytes unsent/);
    await fast.cancel();
  }, { sseMaxBacklogBytes: 4096 });
});

test("serveEvents() removes the client when its body is cancelled; the last one removes every listener and timer", async () => {
  await withCtx(async ({ ctx, history, live }) => {
    const logBefore = countLogListenersFree();
    const a = open(ctx);
    const b = open(ctx);
    assertEquals([history.tickListeners, live.hub, live.sessions], [1, 1, 1], "one set for every client");
    assertEquals(countLogListenersFree(), logBefore - 1, "one log listener");
    await a.cancel();
    assertEquals(sseClients(ctx), 1);
    assertEquals([history.tickListeners, live.hub, live.sessions], [1, 1, 1]);
    await b.cancel();
    assertEquals(sseClients(ctx), 0);
    assertEquals([history.tickListeners, live.hub, live.sessions], [0, 0, 0]);
    assertEquals(countLogListenersFree(), logBefore);
    // The sanitizers then check that the keep-alive interval was cleared.
  });
});

test("serveEvents() answers HEAD with headers and no client, and 405 to a POST", async () => {
  await withCtx(async ({ ctx }) => {
    const head = serveEvents(ctx, new Request(URL_EVENTS, { method: "HEAD" }));
    assertEquals([head.status, head.body, sseClients(ctx)], [200, null, 0]);
    const post = serveEvents(ctx, new Request(URL_EVENTS, { method: "POST" }));
    assertEquals(post.status, 405);
    assertEquals(post.headers.get("allow"), "GET, HEAD");
    assertMatch((await post.json()).error, /^Cannot POST \/api\/v1\/events/);
  });
});

test("encodeEvent() writes one event line and one data line of JSON, then a blank line", async () => {
  const text = new TextDecoder().decode(encodeEvent(SseEvent.Log, { line: "a\nb" }));
  assertEquals(text, 'event: log\ndata: {"line":"a\\nb"}\n\n');
  await Promise.resolve();
});

/** How many more onLog() listeners fit now (the bound less those added), found by adding them. */
function countLogListenersFree(): number {
  const offs: (() => void)[] = [];
  try {
    for (;;) offs.push(onLog(() => {}));
  } catch {
    return offs.length;
  } finally {
    for (const off of offs) off();
  }
}
