/**
 * HTTP-FLV play as pure `Request -> Response` calls through makeRouter, with
 * an in-process hub fed by a fake publisher: status and headers, the body's
 * FLV (header, metadata, sequence headers, GOP, live tags), waiting for a
 * publisher, the stream's end, a peer that leaves, and backpressure.
 */
import {
  assert,
  assertEquals,
  assertGreaterOrEqual,
  assertMatch,
  assertStrictEquals,
} from "../_util/assert.ts";
import { FakePublisher, frames, RecordingLogger } from "../_util/hub_fakes.ts";
import { type ConfigOverrides, makeConfig } from "../../src/config/config.ts";
import type { HttpContext } from "../../src/http/context.ts";
import { makeRouter } from "../../src/http/routes.ts";
import type { Stream } from "../../src/hub/stream.ts";
import { StreamHub } from "../../src/hub/stream_hub.ts";
import type { Subscriber } from "../../src/hub/subscriber.ts";
import type { MediaFrame } from "../../src/media/frame.ts";
import { FlvReader, type FlvTag, TagType } from "../../src/media/flv.ts";
import { FLV_PACKED_KEY } from "../../src/outputs/flv_packer.ts";

const KEY = "live/x";
const URL_X = "http://sluice.test/live/x.flv";
/** Every wait in these tests ends by this deadline instead of hanging (nothing asserts on time). */
const WAIT_MS = 5_000;

/** Deno.test with the op and resource sanitizers: a test must leave no timer or stream behind. */
function test(name: string, fn: () => Promise<void>): void {
  Deno.test({ name, fn, sanitizeOps: true, sanitizeResources: true });
}

interface Setup {
  hub: StreamHub;
  log: RecordingLogger;
  handle: (req: Request) => Promise<Response>;
}

/** A router over a fresh hub (merge window 0: each publisher push is flushed in a microtask). */
function setup(overrides: ConfigOverrides = {}): Setup {
  const config = makeConfig({ ...overrides, hub: { playWaitMs: 0, ...overrides.hub } });
  const log = new RecordingLogger();
  const hub = new StreamHub({ ...config.hub, mergeWindowMs: 0 }, log);
  const ctx: HttpContext = { hub, config, log, startedAt: Date.now() };
  const router = makeRouter(ctx);
  return { hub, log, handle: async (req) => await router(req) };
}

/** Publishes KEY with metadata, both sequence headers and a GOP (keyframe, audio, inter frame). */
function publishWithGop(hub: StreamHub, opts: { audio?: boolean; video?: boolean } = {}): Stream {
  const stream = hub.publish(KEY, new FakePublisher());
  const { audio = true, video = true } = opts;
  stream.setMetadata(frames.metadata(0).payload);
  if (video) push(stream, frames.videoHeader(0));
  if (audio) push(stream, frames.audioHeader(0));
  if (video) push(stream, frames.key(0, 2000));
  if (audio) push(stream, frames.audio(10));
  if (video) push(stream, frames.inter(40));
  return stream;
}

function push(stream: Stream, f: MediaFrame): MediaFrame {
  return stream.push(f.kind, f.timestamp, f.payload);
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

/** Reads a response body as FLV, chunk by chunk. */
class BodyReader {
  readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  readonly flv = new FlvReader();
  readonly chunks: Uint8Array[] = [];
  readonly tags: FlvTag[] = [];
  done = false;

  constructor(res: Response) {
    assert(res.body, "the response has no body");
    this.reader = res.body.getReader();
  }

  /** Reads until `n` tags in all have arrived. */
  async tagsUntil(n: number): Promise<FlvTag[]> {
    while (this.tags.length < n) {
      if (!await this.next()) throw new Error(`Cannot read tag ${this.tags.length + 1}: the body ended`);
    }
    return this.tags;
  }

  /** Reads one chunk; false at the end of the body. */
  async next(): Promise<boolean> {
    const { value, done } = await bounded(this.reader.read(), "the next body chunk");
    if (done) {
      this.done = true;
      this.flv.end();
      return false;
    }
    this.chunks.push(value);
    this.tags.push(...this.flv.push(value));
    return true;
  }

  /** Reads to the end of the body. */
  async toEnd(): Promise<void> {
    while (await this.next());
  }
}

/** The one subscriber attached to `stream`. */
function onlySubscriber(stream: Stream): Subscriber {
  assertEquals(stream.subscribers.size, 1, "subscribers attached");
  return [...stream.subscribers][0];
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

test("GET /live/x.flv answers 404 JSON at once when the stream is not published and playWaitMs is 0", async () => {
  const { handle } = setup();
  const res = await handle(new Request(URL_X));
  assertEquals(res.status, 404);
  assertEquals(res.headers.get("content-type"), "application/json; charset=utf-8");
  assertEquals(res.headers.get("access-control-allow-origin"), "*");
  assertMatch((await res.json()).error, /^Cannot play live\/x: it is not published$/);
});

test("GET /live/x.flv of a live stream answers 200 video/x-flv, CORS open, no-cache, no content-length", async () => {
  const { hub, handle } = setup();
  publishWithGop(hub);
  const res = await handle(new Request(URL_X));
  assertEquals(res.status, 200);
  assertEquals(res.headers.get("content-type"), "video/x-flv");
  assertEquals(res.headers.get("access-control-allow-origin"), "*");
  assertMatch(res.headers.get("cache-control") ?? "", /no-cache/);
  assertEquals(res.headers.get("content-length"), null);
  await res.body?.cancel();
  hub.stop();
});

test("GET /live/x.flv body is the FLV header, then metadata, sequence headers, the GOP and live tags", async () => {
  const { hub, handle } = setup();
  const stream = publishWithGop(hub);
  const body = new BodyReader(await handle(new Request(URL_X)));
  await body.tagsUntil(6);
  assertEquals(body.flv.header, { version: 1, audio: true, video: true, dataOffset: 9 });
  assertEquals(
    [...body.chunks[0]],
    [0x46, 0x4c, 0x56, 1, 0x05, 0, 0, 0, 9, 0, 0, 0, 0],
    "first chunk: the FLV header (audio and video) and PreviousTagSize0",
  );
  const described = body.tags.map((t) => {
    const f = [...stream.gop.frames, stream.metadata, stream.videoHeader, stream.audioHeader].find((f) =>
      f && f.kind === t.type && f.timestamp === t.timestamp && f.payload.length === t.data.length
    );
    return `${t.type}@${t.timestamp}${f?.sequenceHeader ? " header" : ""}${f?.keyframe ? " key" : ""}`;
  });
  assertEquals(described, [
    "18@0",
    "9@0 header",
    "8@0 header",
    "9@0 key",
    "8@10",
    "9@40",
  ]);
  assertEquals(body.tags[3].data, stream.gop.frames[0].payload, "the keyframe's payload, byte for byte");

  const live = push(stream, frames.inter(80, 700));
  await body.tagsUntil(7);
  assertEquals(body.tags[6].data, live.payload, "a live frame follows the GOP");
  await body.reader.cancel();
  hub.stop();
});

test("GET /live/x.flv of an audio-only stream sets TypeFlagsAudio only", async () => {
  const { hub, handle } = setup();
  publishWithGop(hub, { video: false });
  const body = new BodyReader(await handle(new Request(URL_X)));
  await body.tagsUntil(1);
  assertEquals(body.flv.header?.audio, true);
  assertEquals(body.flv.header?.video, false);
  await body.reader.cancel();
  hub.stop();
});

test("GET /live/x.flv: two players receive the very same array for a live frame (packed once)", async () => {
  const { hub, handle } = setup();
  const stream = publishWithGop(hub);
  const a = new BodyReader(await handle(new Request(URL_X)));
  const b = new BodyReader(await handle(new Request(URL_X)));
  await a.tagsUntil(6);
  await b.tagsUntil(6);
  const live = push(stream, frames.inter(80, 700));
  await a.tagsUntil(7);
  await b.tagsUntil(7);
  const tag = live.packed[FLV_PACKED_KEY];
  assertStrictEquals(a.chunks.at(-1), tag);
  assertStrictEquals(b.chunks.at(-1), tag);
  await a.reader.cancel();
  await b.reader.cancel();
  hub.stop();
});

test("GET /live/x.flv: cancelling the body (the peer closed) unsubscribes at once and logs why", async () => {
  const { hub, log, handle } = setup();
  const stream = publishWithGop(hub);
  const body = new BodyReader(await handle(new Request(URL_X)));
  await body.tagsUntil(6);
  const sub = onlySubscriber(stream);
  await body.reader.cancel();
  assertEquals(stream.subscribers.size, 0, "the player left the stream");
  assert(sub.closed, "the subscriber is closed");
  assertEquals(log.lines.filter((l) => l.msg.startsWith("closed:")).map((l) => l.msg), [
    "closed: player left",
  ]);
  hub.stop();
});

test("HEAD /live/x.flv answers the headers and an empty body without subscribing", async () => {
  const { hub, handle } = setup();
  const stream = publishWithGop(hub);
  const res = await handle(new Request(URL_X, { method: "HEAD" }));
  assertEquals(res.status, 200);
  assertEquals(res.headers.get("content-type"), "video/x-flv");
  assertEquals(res.headers.get("access-control-allow-origin"), "*");
  assertEquals((await res.bytes()).length, 0);
  assertEquals(stream.subscribers.size, 0);
  hub.stop();
});

test("HEAD /live/x.flv of a stream not published answers 404 without waiting for a publisher", async () => {
  const { handle } = setup({ hub: { playWaitMs: 30_000 } });
  const res = await handle(new Request(URL_X, { method: "HEAD" }));
  assertEquals(res.status, 404);
  await res.body?.cancel();
});

test("GET /live/x.flv waits for a publisher (playWaitMs), then plays with both header flags set", async () => {
  const { hub, handle } = setup({ hub: { playWaitMs: 30_000 } });
  const pending = handle(new Request(URL_X));
  await tick();
  const stream = publishWithGop(hub, { audio: false }); // the header was decided before: both flags
  const body = new BodyReader(await bounded(pending, "the response"));
  await body.tagsUntil(4);
  assertEquals(body.flv.header?.audio, true);
  assertEquals(body.flv.header?.video, true);
  assertEquals(body.tags.map((t) => t.type), [
    TagType.ScriptData,
    TagType.Video,
    TagType.Video,
    TagType.Video,
  ]);
  assertEquals(stream.subscribers.size, 1);
  await body.reader.cancel();
  hub.stop();
});

test("GET /live/x.flv answers 404 JSON when no publisher comes within playWaitMs", async () => {
  const { handle } = setup({ hub: { playWaitMs: 30 } });
  const res = await bounded(handle(new Request(URL_X)), "the response");
  assertEquals(res.status, 404);
  assertEquals((await res.json()).error, "Cannot play live/x: no publisher within 30 ms");
});

test("GET /live/x.flv: the peer leaving while it waits for a publisher ends the wait at once", async () => {
  const { hub, log, handle } = setup({ hub: { playWaitMs: 30_000 } });
  const peer = new AbortController();
  const pending = handle(new Request(URL_X, { signal: peer.signal }));
  await tick();
  peer.abort();
  const res = await bounded(pending, "the response"); // the 30 s wait timer is gone (op sanitizer)
  assertEquals(res.status, 404);
  await res.body?.cancel();
  assert(log.lines.some((l) => l.msg === "closed: player left"), "the close reason is logged");
  const stream = publishWithGop(hub);
  assertEquals(stream.subscribers.size, 0, "a publisher arriving later finds no player");
  hub.stop();
});

test("GET /live/x.flv: the body ends after the last queued tag when the stream ends", async () => {
  const { hub, log, handle } = setup({ hub: { reconnectGraceMs: 0 } });
  const publisher = new FakePublisher();
  const stream = hub.publish(KEY, publisher);
  push(stream, frames.videoHeader(0));
  push(stream, frames.key(0));
  const body = new BodyReader(await handle(new Request(URL_X)));
  await body.tagsUntil(2);
  push(stream, frames.inter(40));
  push(stream, frames.inter(80));
  hub.unpublish(stream, publisher); // no grace: the stream ends now
  await body.toEnd();
  assertEquals(body.tags.map((t) => t.timestamp), [0, 0, 40, 80]);
  assert(log.lines.some((l) => l.msg === "closed: stream live/x ended"), "the close reason is logged");
});

test("GET /live/x.flv: a returning publisher continues the same body with its new sequence headers", async () => {
  const { hub, handle } = setup({ hub: { reconnectGraceMs: 10_000 } });
  const first = new FakePublisher("first");
  const stream = hub.publish(KEY, first);
  push(stream, frames.videoHeader(0));
  push(stream, frames.key(0));
  const body = new BodyReader(await handle(new Request(URL_X)));
  await body.tagsUntil(2);
  hub.unpublish(stream, first);
  assertStrictEquals(hub.publish(KEY, new FakePublisher("second")), stream);
  push(stream, frames.videoHeader(0));
  push(stream, frames.key(0));
  await body.tagsUntil(4);
  assertEquals(body.tags.map((t) => t.type), [TagType.Video, TagType.Video, TagType.Video, TagType.Video]);
  assert(!body.done, "the body goes on");
  await body.reader.cancel();
  hub.stop();
});

test("GET /live/x.flv: a player that does not read holds back its writes and skips to a keyframe", async () => {
  const { hub, handle } = setup({ player: { queueMaxBytes: 64 * 1024, maxSkipsPerMinute: 100 } });
  const stream = publishWithGop(hub);
  const res = await handle(new Request(URL_X)); // its body is never read
  const sub = onlySubscriber(stream);
  for (let i = 1; i <= 100; i++) {
    push(stream, i % 25 === 0 ? frames.key(i * 40, 8000) : frames.inter(i * 40, 4000));
    await tick();
  }
  // ~400 KB published: the first write (the player's start) still waits in the body, and the frames since
  // wait in the subscriber's queue, which skipped to a keyframe when it grew past its bound.
  assertEquals(sub.stats.writes, 0, "writes completed to a body nobody reads");
  assertGreaterOrEqual(sub.stats.skips, 1);
  assert(sub.queuedBytes <= 64 * 1024 + 8100, `the player's queue holds ${sub.queuedBytes} bytes`);
  assert(!sub.closed, "a slow player is skipped, not closed, while under its skip limit");
  await res.body?.cancel();
  hub.stop();
});

test("GET /live/x.flv: a stalled player is closed and its body ends", async () => {
  const { hub, log, handle } = setup({ player: { stallTimeoutMs: 1_000 } });
  const stream = publishWithGop(hub);
  const body = new BodyReader(await handle(new Request(URL_X)));
  const sub = onlySubscriber(stream);
  push(stream, frames.inter(80)); // a second write, left pending: nobody reads
  await tick();
  stream.checkStalls(Date.now() + 5_000);
  assert(sub.closed, "the stalled subscriber is closed");
  assertEquals(stream.subscribers.size, 0);
  await body.toEnd(); // what was queued, then the end
  assert(body.tags.length >= 6, "the tags queued before the stall still arrive");
  assertMatch(log.lines.find((l) => l.msg.startsWith("closed:"))?.msg ?? "", /^closed: stalled/);
  hub.stop();
});
