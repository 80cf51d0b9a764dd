import {
  assert,
  assertEquals,
  assertMatch,
  assertRejects,
  assertStrictEquals,
  assertThrows,
} from "../_util/assert.ts";
import {
  aacSequenceHeader,
  avcKeyframe,
  avcSequenceHeader,
  FakePacker,
  FakePublisher,
  FakeSink,
  limits,
  RecordingLogger,
  settle,
} from "../_util/hub_fakes.ts";
import { makeConfig } from "../../src/config/config.ts";
import type { HubConfig } from "../../src/config/config.ts";
import { StreamBusyError, StreamNotFoundError } from "../../src/errors.ts";
import { FrameKind } from "../../src/media/frame.ts";
import { allowAll } from "../../src/hub/admission.ts";
import { DEFAULT_ADMISSION_TIMEOUT_MS, StreamHub } from "../../src/hub/stream_hub.ts";
import { type StreamEvent, Subscriber } from "../../src/hub/subscriber.ts";

const KEY = "live/test";

/**
 * Deno.test with the op sanitizer on (Deno 2.9 leaves it off by default), so a
 * test fails when the hub leaves a wait, grace or stall timer running.
 */
function test(name: string, fn: () => void | Promise<void>): void {
  Deno.test({ name, fn, sanitizeOps: true });
}

function newHub(hub: Partial<HubConfig> = {}): { hub: StreamHub; log: RecordingLogger } {
  const log = new RecordingLogger();
  return { hub: new StreamHub(makeConfig({ hub }).hub, log), log };
}

function newSubscriber(id = "sub") {
  const packer = new FakePacker();
  const sink = new FakeSink();
  const sub = new Subscriber(id, packer, sink, limits(), new RecordingLogger());
  const events: StreamEvent[] = [];
  sub.onEvent = (ev) => events.push(ev);
  return { sub, packer, sink, events };
}

/** Settles `p` into its value or its error, so a rejection is never left unhandled. */
function outcome<T>(p: Promise<T>): Promise<T | Error> {
  return p.then((v) => v, (e: Error) => e);
}

test("StreamHub.publish() creates the stream and makes the publisher its own", () => {
  const { hub } = newHub();
  const p = new FakePublisher();
  const s = hub.publish(KEY, p);
  assertStrictEquals(hub.get(KEY), s);
  assertEquals(hub.streams(), [s]);
  assertStrictEquals(s.publisher, p);
  assertEquals(s.state, "live");
  hub.stop();
});

test("StreamHub.publish() refuses a second publisher with StreamBusyError carrying the path", () => {
  const { hub } = newHub();
  const first = new FakePublisher("first");
  const s = hub.publish(KEY, first);
  const e = assertThrows(() => hub.publish(KEY, new FakePublisher("second")), StreamBusyError);
  assertEquals(e.path, KEY);
  assertStrictEquals(s.publisher, first);
  assertEquals(first.closes, []);
  hub.stop();
});

test("StreamHub.publish() with publishTakeover closes the old publisher with a reason and lets the newcomer publish", () => {
  const { hub } = newHub({ publishTakeover: true });
  const old = new FakePublisher("old");
  const s = hub.publish(KEY, old);
  old.onClose = () => hub.unpublish(s, old); // as its session would, once closed
  const { sub, events } = newSubscriber();
  hub.play(KEY, sub);
  const newcomer = new FakePublisher("newcomer");
  assertStrictEquals(hub.publish(KEY, newcomer), s);
  assertEquals(old.closes, ["taken over by newcomer"]);
  assertStrictEquals(s.publisher, newcomer);
  assertEquals(s.state, "live");
  assertEquals(events, ["unpublish", "publish"]);
  assert(s.subscribers.has(sub));
  hub.stop();
});

test("StreamHub.play() of a live stream attaches at once and queues its headers", async () => {
  const { hub } = newHub();
  const s = hub.publish(KEY, new FakePublisher());
  s.push(FrameKind.Video, 0, avcSequenceHeader());
  s.push(FrameKind.Audio, 0, aacSequenceHeader());
  s.push(FrameKind.Video, 0, avcKeyframe());
  const { sub, packer } = newSubscriber();
  assertStrictEquals(await hub.play(KEY, sub), s);
  assert(s.subscribers.has(sub));
  assertEquals(packer.packed.length, 3);
  hub.stop();
});

test("StreamHub.play() of a missing stream with playWaitMs 0 rejects with StreamNotFoundError at once", async () => {
  const { hub } = newHub({ playWaitMs: 0 });
  const e = await assertRejects(() => hub.play(KEY, newSubscriber().sub), StreamNotFoundError);
  assertEquals(e.path, KEY);
  hub.stop();
});

test("StreamHub.play() waits for a publisher and attaches the subscriber when one arrives", async () => {
  const { hub } = newHub({ playWaitMs: 10_000 });
  const a = newSubscriber("a");
  const b = newSubscriber("b");
  const pa = hub.play(KEY, a.sub);
  const pb = hub.play(KEY, b.sub);
  await settle();
  assertEquals(hub.get(KEY), undefined);
  const s = hub.publish(KEY, new FakePublisher());
  assertStrictEquals(await pa, s);
  assertStrictEquals(await pb, s);
  assert(s.subscribers.has(a.sub));
  assert(s.subscribers.has(b.sub));
  hub.stop();
});

test("StreamHub.play() rejects with StreamNotFoundError when no publisher comes within playWaitMs", async () => {
  const { hub } = newHub({ playWaitMs: 50 });
  const e = await assertRejects(() => hub.play(KEY, newSubscriber().sub), StreamNotFoundError);
  assertEquals(e.path, KEY);
  const s = hub.publish(KEY, new FakePublisher());
  assertEquals(s.subscribers.size, 0, "a timed-out player is not attached later");
  hub.stop();
});

test("StreamHub.unpublish() keeps players attached through the grace window and a returning publisher continues", () => {
  const { hub } = newHub({ reconnectGraceMs: 10_000 });
  const first = new FakePublisher("first");
  const s = hub.publish(KEY, first);
  const { sub, events } = newSubscriber();
  hub.play(KEY, sub);
  hub.unpublish(s, first);
  assertEquals(s.state, "grace");
  assertStrictEquals(hub.get(KEY), s);
  assert(s.subscribers.has(sub));
  assertEquals(events, ["unpublish"]);

  assertStrictEquals(hub.publish(KEY, new FakePublisher("second")), s);
  assertEquals(events, ["unpublish", "publish"]);
  assertEquals(s.state, "live");
  hub.stop();
});

test("StreamHub.play() of a stream in grace attaches at once", async () => {
  const { hub } = newHub({ reconnectGraceMs: 10_000, playWaitMs: 0 });
  const p = new FakePublisher();
  const s = hub.publish(KEY, p);
  hub.unpublish(s, p);
  const { sub } = newSubscriber();
  assertStrictEquals(await hub.play(KEY, sub), s);
  assert(s.subscribers.has(sub));
  hub.stop();
});

test("StreamHub.unpublish() ends the stream when the grace window passes: players get 'end'", async () => {
  const { hub, log } = newHub({ reconnectGraceMs: 20 });
  const p = new FakePublisher();
  const s = hub.publish(KEY, p);
  const { sub, events } = newSubscriber();
  const ended = new Promise<void>((resolve) => {
    sub.onEvent = (ev) => {
      events.push(ev);
      if (ev === "end") resolve();
    };
  });
  hub.play(KEY, sub);
  hub.unpublish(s, p);
  await ended;
  assertEquals(events, ["unpublish", "end"]);
  assertEquals(hub.get(KEY), undefined);
  assertEquals(s.state, "ended");
  assertEquals(s.subscribers.size, 0);
  assertMatch(log.lines.map((l) => l.msg).join("\n"), /stream live\/test ended/);
  hub.stop();
});

test("StreamHub.unpublish() with reconnectGraceMs 0 ends the stream at once", () => {
  const { hub } = newHub({ reconnectGraceMs: 0 });
  const p = new FakePublisher();
  const s = hub.publish(KEY, p);
  const { sub, events } = newSubscriber();
  hub.play(KEY, sub);
  hub.unpublish(s, p);
  assertEquals(events, ["unpublish", "end"]);
  assertEquals(hub.get(KEY), undefined);
  hub.stop();
});

test("StreamHub.unpublish() by a publisher that no longer owns the stream changes nothing", () => {
  const { hub } = newHub();
  const s = hub.publish(KEY, new FakePublisher("owner"));
  hub.unpublish(s, new FakePublisher("stranger"));
  assertEquals(s.state, "live");
  assertStrictEquals(hub.get(KEY), s);
  hub.stop();
});

test("StreamHub.leave() detaches an attached subscriber", () => {
  const { hub } = newHub();
  const s = hub.publish(KEY, new FakePublisher());
  const { sub } = newSubscriber();
  hub.play(KEY, sub);
  hub.leave(KEY, sub);
  assertEquals(s.subscribers.size, 0);
  hub.stop();
});

test("StreamHub.leave() removes a waiting subscriber: its play() rejects and a later publisher does not attach it", async () => {
  const { hub } = newHub({ playWaitMs: 10_000 });
  const a = newSubscriber("a");
  const b = newSubscriber("b");
  const pa = outcome(hub.play(KEY, a.sub));
  const pb = hub.play(KEY, b.sub);
  hub.leave(KEY, a.sub);
  const e = await pa;
  assert(e instanceof StreamNotFoundError);
  const s = hub.publish(KEY, new FakePublisher());
  assertStrictEquals(await pb, s);
  assertEquals([...s.subscribers], [b.sub]);
  hub.stop();
});

test("StreamHub.stop() rejects waiting players, closes publishers and ends streams", async () => {
  const { hub } = newHub({ playWaitMs: 10_000 });
  hub.start();
  const p = new FakePublisher();
  const s = hub.publish(KEY, p);
  const { sub, events } = newSubscriber();
  hub.play(KEY, sub);
  const waiting = outcome(hub.play("live/other", newSubscriber("w").sub));
  hub.stop();
  assert((await waiting) instanceof StreamNotFoundError);
  assertEquals(p.closes, ["server stopping"]);
  assertEquals(events, ["end"]);
  assertEquals(s.state, "ended");
  assertEquals(hub.streams(), []);
});

test("StreamHub.stop() leaves no grace timer when a publisher's close() unpublishes at once (bug: timer leaked)", () => {
  const { hub } = newHub({ reconnectGraceMs: 10_000 });
  const p = new FakePublisher();
  const s = hub.publish(KEY, p);
  p.onClose = () => hub.unpublish(s, p);
  hub.stop();
  assertEquals(hub.streams(), []);
  // The op sanitizer fails this test if a grace timer was left running.
});

test("StreamHub.stop() leaves no grace timer when a publisher unpublishes after it (bug: timer leaked)", async () => {
  const { hub } = newHub({ reconnectGraceMs: 10_000 });
  const p = new FakePublisher();
  const s = hub.publish(KEY, p);
  p.onClose = () => queueMicrotask(() => hub.unpublish(s, p)); // a session's read loop ending later
  hub.stop();
  await settle();
  assertEquals(hub.streams(), []);
  assertEquals(s.state, "ended");
});

test("StreamHub.start() and stop() may each be called twice", () => {
  const { hub } = newHub();
  hub.start();
  hub.start();
  hub.stop();
  hub.stop();
});

test("StreamHub(config, log) without options allows everything, waits 5 s for a policy and has a registry", async () => {
  const { hub } = newHub();
  assertStrictEquals(hub.admission, allowAll);
  assertEquals(hub.admissionTimeoutMs, DEFAULT_ADMISSION_TIMEOUT_MS);
  assertEquals(DEFAULT_ADMISSION_TIMEOUT_MS, 5_000);
  assertEquals(hub.sessions.size, 0);
  assertEquals(hub.totals().streamsSeen, 0);
  hub.stop();
  await settle();
});

test("StreamHub.publish() gives new streams the hub's clock: snapshots measure uptime on it", () => {
  const clock = { now: 50_000 };
  const hub = new StreamHub(makeConfig().hub, new RecordingLogger(), { clock: () => clock.now });
  const s = hub.publish(KEY, new FakePublisher("p", { protocol: "rtmp" }));
  clock.now = 53_000;
  const snap = s.snapshot();
  assertEquals([snap.uptimeMs, snap.publisher?.since, snap.publisher?.protocol], [3_000, 50_000, "rtmp"]);
  hub.stop();
});
