import { assert, assertEquals, assertMatch, assertStrictEquals, assertThrows } from "../_util/assert.ts";
import {
  aacRaw,
  aacSequenceHeader,
  avcInterFrame,
  avcKeyframe,
  avcSequenceHeader,
  FakePacker,
  FakePublisher,
  FakeSink,
  limits,
  metadataPayload,
  RecordingLogger,
  settle,
} from "../_util/hub_fakes.ts";
import { makeConfig } from "../../src/config/config.ts";
import type { HubConfig } from "../../src/config/config.ts";
import { Emitter, type HubEvent, HubEventType, MAX_LISTENERS } from "../../src/hub/events.ts";
import { StreamHub } from "../../src/hub/stream_hub.ts";
import { Subscriber, type SubscriberLimits } from "../../src/hub/subscriber.ts";
import { FrameKind, type MediaFrame } from "../../src/media/frame.ts";

const KEY = "live/cam1";

/** Deno.test with the op sanitizer on, so a test fails when the hub leaves a timer running. */
function test(name: string, fn: () => void | Promise<void>): void {
  Deno.test({ name, fn, sanitizeOps: true });
}

function newHub(hub: Partial<HubConfig> = {}): { hub: StreamHub; log: RecordingLogger } {
  const log = new RecordingLogger();
  return { hub: new StreamHub(makeConfig({ hub: { mergeWindowMs: 0, ...hub } }).hub, log), log };
}

/** Records the hub's events as "type key publisherId". */
function record(hub: StreamHub): { lines: string[]; events: HubEvent[] } {
  const lines: string[] = [];
  const events: HubEvent[] = [];
  hub.on((ev) => {
    events.push(ev);
    lines.push([ev.type, ev.key, ev.publisherId].filter((x) => x !== undefined).join(" "));
  });
  return { lines, events };
}

function observer(id: string, l: Partial<SubscriberLimits> = {}, sink = new FakeSink()) {
  const packer = new FakePacker();
  const sub = new Subscriber(id, packer, sink, limits(l), new RecordingLogger(), {
    protocol: "recorder",
    observer: true,
  });
  const closes: string[] = [];
  sub.onClose = (reason) => closes.push(reason);
  return { sub, packer, sink, closes };
}

// ---- Emitter

Deno.test("Emitter.emit() calls listeners in the order added; on()'s return value removes one", () => {
  const em = new Emitter<number>("test", new RecordingLogger());
  const got: string[] = [];
  em.on((n) => got.push(`a${n}`));
  const off = em.on((n) => got.push(`b${n}`));
  em.emit(1);
  off();
  off(); // idempotent
  em.emit(2);
  assertEquals(got, ["a1", "b1", "a2"]);
  assertEquals(em.size, 1);
});

Deno.test("Emitter.emit() catches a throwing listener, runs the others and warns once per 10 s with a count", () => {
  const log = new RecordingLogger();
  const em = new Emitter<number>("hub", log);
  const got: number[] = [];
  em.on(() => {
    throw new Error("recorder broke");
  });
  em.on((n) => got.push(n));
  em.emit(1);
  em.emit(2);
  assertEquals(got, [1, 2]);
  const warns = log.lines.filter((l) => l.level === "warn");
  assertEquals(warns.length, 1);
  assertEquals(warns[0].msg, "a hub event listener threw (1 time since the last warning): recorder broke");
});

Deno.test("Emitter.on() past maxListeners throws TypeError with the limit; the same function counts once", () => {
  const em = new Emitter<number>("hub", new RecordingLogger());
  assertEquals(em.maxListeners, MAX_LISTENERS);
  const same = () => {};
  em.on(same);
  em.on(same);
  assertEquals(em.size, 1);
  for (let i = 1; i < MAX_LISTENERS; i++) em.on(() => {});
  const e = assertThrows(() => em.on(() => {}), TypeError);
  assertEquals(
    e.message,
    `Cannot add a hub listener: ${MAX_LISTENERS} listeners already (limit ${MAX_LISTENERS})`,
  );
  assertThrows(() => new Emitter<number>("hub", new RecordingLogger(), 0), RangeError);
});

// ---- StreamHub.on()

test("StreamHub.on() reports publish, unpublish, resume, unpublish, end in order, with keys and publishers", async () => {
  const { hub } = newHub({ reconnectGraceMs: 20 });
  const { lines, events } = record(hub);
  const ended = new Promise<void>((resolve) => hub.on((ev) => ev.type === HubEventType.End && resolve()));
  const first = new FakePublisher("first");
  const s = hub.publish(KEY, first);
  hub.unpublish(s, first);
  const second = new FakePublisher("second");
  assertStrictEquals(hub.publish(KEY, second), s);
  hub.unpublish(s, second);
  await ended;
  assertEquals(lines, [
    `publish ${KEY} first`,
    `unpublish ${KEY} first`,
    `resume ${KEY} second`,
    `unpublish ${KEY} second`,
    `end ${KEY}`,
  ]);
  assert(events.every((ev) => ev.stream === s && typeof ev.at === "number"));
  assertEquals(events.at(-1)?.stream.state, "ended");
  hub.stop();
});

test("StreamHub.on() with reconnectGraceMs 0 reports unpublish then end at once", () => {
  const { hub } = newHub({ reconnectGraceMs: 0 });
  const { lines } = record(hub);
  const p = new FakePublisher("p");
  hub.unpublish(hub.publish(KEY, p), p);
  assertEquals(lines, [`publish ${KEY} p`, `unpublish ${KEY} p`, `end ${KEY}`]);
  hub.stop();
});

test("StreamHub.on() reports a takeover as resume with the newcomer and takenOverFrom, and no unpublish", () => {
  const { hub } = newHub({ publishTakeover: true });
  const { lines, events } = record(hub);
  const old = new FakePublisher("old");
  const s = hub.publish(KEY, old);
  old.onClose = () => hub.unpublish(s, old); // as its session would
  hub.publish(KEY, new FakePublisher("new"));
  assertEquals(lines, [`publish ${KEY} old`, `resume ${KEY} new`]);
  assertEquals(events[1].takenOverFrom, "old");
  hub.stop();
});

test("StreamHub.stop() reports end for every stream", () => {
  const { hub } = newHub();
  const { lines } = record(hub);
  hub.publish("live/a", new FakePublisher("a"));
  hub.publish("live/b", new FakePublisher("b"));
  hub.stop();
  assertEquals(lines, ["publish live/a a", "publish live/b b", "end live/a", "end live/b"]);
});

test("StreamHub.on(): a listener that throws never reaches the publisher; the stream goes on", async () => {
  const { hub, log } = newHub();
  hub.on(() => {
    throw new Error("observer bug");
  });
  const { lines } = record(hub);
  const p = new FakePublisher("p");
  const s = hub.publish(KEY, p);
  const sink = new FakeSink();
  hub.attach(KEY, new Subscriber("viewer", new FakePacker(), sink, limits(), new RecordingLogger()));
  s.push(FrameKind.Video, 0, avcKeyframe());
  await settle();
  assertEquals(sink.writes.length, 1);
  assertEquals(lines, [`publish ${KEY} p`]);
  assertMatch(log.lines.find((l) => l.level === "warn")?.msg ?? "", /listener threw .*observer bug/);
  hub.stop();
});

test("StreamHub.on()'s remover stops the events", () => {
  const { hub } = newHub();
  const got: string[] = [];
  const off = hub.on((ev) => got.push(ev.type));
  hub.publish("live/a", new FakePublisher());
  off();
  hub.publish("live/b", new FakePublisher());
  assertEquals(got, ["publish"]);
  hub.stop();
});

// ---- StreamHub.attach()

test("StreamHub.attach() gets metadata, headers and the GOP at once, then every frame", async () => {
  const { hub } = newHub();
  const s = hub.publish(KEY, new FakePublisher());
  s.push(FrameKind.Video, 0, avcKeyframe()); // an older GOP
  const meta = s.setMetadata(metadataPayload());
  const vh = s.push(FrameKind.Video, 0, avcSequenceHeader());
  const ah = s.push(FrameKind.Audio, 0, aacSequenceHeader());
  const gop = [s.push(FrameKind.Video, 40, avcKeyframe()), s.push(FrameKind.Audio, 45, aacRaw())];
  const { sub, packer, sink } = observer("rec");
  assertStrictEquals(hub.attach(KEY, sub), s);
  assertEquals(packer.packed, [meta, vh, ah, ...gop]);
  const live = [s.push(FrameKind.Video, 80, avcInterFrame()), s.push(FrameKind.Audio, 90, aacRaw())];
  await settle();
  assertEquals(packer.packed, [meta, vh, ah, ...gop, ...live]);
  assertEquals(sink.writes.length, 2, "the start in one write, the live burst in another");
  hub.stop();
});

test("StreamHub.attach() attaches to a stream in grace and gives undefined when there is no stream", () => {
  const { hub } = newHub({ reconnectGraceMs: 10_000 });
  assertEquals(hub.attach(KEY, observer("rec").sub), undefined);
  const p = new FakePublisher();
  const s = hub.publish(KEY, p);
  hub.unpublish(s, p);
  const { sub } = observer("rec2");
  assertStrictEquals(hub.attach(KEY, sub), s);
  assert(s.subscribers.has(sub));
  hub.stop();
});

test("StreamHub.attach() from a publish listener sees the stream from its first frame", async () => {
  const { hub } = newHub();
  const { sub, packer } = observer("rec");
  hub.on((ev) => {
    if (ev.type === HubEventType.Publish) hub.attach(ev.key, sub);
  });
  const s = hub.publish(KEY, new FakePublisher());
  const pushed = [s.push(FrameKind.Video, 0, avcSequenceHeader()), s.push(FrameKind.Video, 0, avcKeyframe())];
  await settle();
  assertEquals(packer.packed, pushed);
  hub.stop();
});

test("StreamHub.attach(): a stalled observer skips and is closed like a slow player; the publisher and a player never wait", async () => {
  const { hub } = newHub();
  const s = hub.publish(KEY, new FakePublisher());
  const slow = observer(
    "slow-recorder",
    { queueMaxBytes: 200, maxSkipsPerMinute: 2 },
    new FakeSink({ stalled: true }),
  );
  hub.attach(KEY, slow.sub);
  const playerSink = new FakeSink();
  const player = new Subscriber("player", new FakePacker(), playerSink, limits(), new RecordingLogger(), {
    protocol: "rtmp",
  });
  hub.attach(KEY, player);

  const pushed: MediaFrame[] = [];
  for (let ts = 0; ts < 4000; ts += 40) {
    pushed.push(s.push(FrameKind.Video, ts, ts % 1000 === 0 ? avcKeyframe() : avcInterFrame()));
    await settle(); // the stream flushes after each frame: the player writes, the observer's write hangs
  }
  assert(slow.sub.stats.skips > 0, "the observer skipped");
  assert(slow.sub.closed, "and was closed as too slow");
  assertMatch(slow.closes[0], /^too slow: /);
  assertEquals(slow.sink.pending, 1, "its one write never completed");
  assertEquals(player.stats.framesSent, pushed.length, "the player got every frame");
  assertEquals(player.stats.framesDropped, 0);
  const snap = s.snapshot();
  assertEquals(snap.viewers, { total: 1, byProtocol: { rtmp: 1 } }, "an observer is not a viewer");
  assertEquals(snap.observers, 1);
  s.checkStalls(Date.now()); // forgets the closed observer nobody detached
  assertEquals([...s.subscribers], [player]);
  assert(s.snapshot().framesDropped >= slow.sub.stats.framesDropped, "its drops stay counted");
  slow.sink.release();
  hub.stop();
});
