import { assert, assertEquals, assertStrictEquals } from "../_util/assert.ts";
import {
  aacRaw,
  aacSequenceHeader,
  avcInterFrame,
  avcKeyframe,
  avcSequenceHeader,
  concat,
  FakePacker,
  FakePublisher,
  FakeSink,
  limits,
  metadataPayload,
  RecordingLogger,
  settle,
} from "../_util/hub_fakes.ts";
import { FrameKind, type MediaFrame } from "../../src/media/frame.ts";
import { Stream } from "../../src/hub/stream.ts";
import { type StreamEvent, Subscriber, type SubscriberLimits } from "../../src/hub/subscriber.ts";

const BIG = 1 << 30;
const { Audio, Video } = FrameKind;

function newStream(mergeWindowMs = 0): Stream {
  const s = new Stream("live/test", BIG, BIG, mergeWindowMs);
  s.startPublisher(new FakePublisher());
  return s;
}

function newSubscriber(l: Partial<SubscriberLimits> = {}, sink = new FakeSink()) {
  const packer = new FakePacker();
  const sub = new Subscriber("sub", packer, sink, limits(l), new RecordingLogger());
  const events: StreamEvent[] = [];
  const closes: string[] = [];
  sub.onEvent = (ev) => events.push(ev);
  sub.onClose = (reason) => closes.push(reason);
  return { sub, packer, sink, events, closes };
}

/** Pushes video then audio frames at the given raw timestamps, returning the output timestamps. */
function pushVideo(s: Stream, ...raws: number[]): number[] {
  return raws.map((raw) => s.push(Video, raw, avcInterFrame()).timestamp);
}

Deno.test("Stream.push() starts output timestamps at 0 and keeps them in step per kind", () => {
  const s = newStream();
  assertEquals(s.push(Video, 5000, avcKeyframe()).timestamp, 0);
  assertEquals(s.push(Audio, 5010, aacRaw()).timestamp, 10);
  assertEquals(s.push(Video, 5040, avcInterFrame()).timestamp, 40);
  assertEquals(s.push(Audio, 5033, aacRaw()).timestamp, 33);
});

Deno.test("Stream.push() never lets a kind's timestamps go backwards", () => {
  const s = newStream();
  assertEquals(pushVideo(s, 1000, 1040, 1020, 1080), [0, 40, 40, 80]);
});

Deno.test("Stream.push() keeps timestamps monotonic when the publisher's 32-bit clock wraps", () => {
  const s = newStream();
  assertEquals(pushVideo(s, 0xffff_ff00, 0xffff_ff80, 0x0000_0010, 0x0000_0050), [0, 0x80, 0x110, 0x150]);
});

Deno.test("Stream.push() counts a 32-bit wrap once when a frame from before the wrap arrives late (bug: double wrap)", () => {
  const s = newStream();
  const out = [
    s.push(Video, 0xffff_fff0, avcKeyframe()).timestamp,
    s.push(Audio, 0x0000_0005, aacRaw()).timestamp, // after the wrap
    s.push(Video, 0xffff_fff8, avcInterFrame()).timestamp, // late, from before the wrap
    s.push(Audio, 0x0000_001a, aacRaw()).timestamp,
    s.push(Video, 0x0000_0020, avcInterFrame()).timestamp,
  ];
  assertEquals(out, [0, 0x15, 0x08, 0x2a, 0x30]);
});

Deno.test("Stream.push() continues after the last output when a new publisher's timestamps restart low", () => {
  const s = newStream();
  assertEquals(pushVideo(s, 0, 40, 1000), [0, 40, 1000]);
  s.push(Audio, 990, aacRaw());
  s.stopPublisher();
  s.startPublisher(new FakePublisher("second"));
  assertEquals(pushVideo(s, 0, 40), [1001, 1041]);
  assertEquals(s.push(Audio, 10, aacRaw()).timestamp, 1011);
});

Deno.test("Stream.push() continues after the last output when a new publisher's timestamps start high", () => {
  const s = newStream();
  assertEquals(pushVideo(s, 0, 40), [0, 40]);
  s.stopPublisher();
  s.startPublisher(new FakePublisher("second"));
  assertEquals(pushVideo(s, 3_600_000, 3_600_040), [41, 81]);
});

Deno.test("Stream.push() rebases a backward jump of more than 1 s just after the last output", () => {
  const s = newStream();
  assertEquals(pushVideo(s, 10_000, 10_040, 5_000, 5_040), [0, 40, 41, 81]);
  assertEquals(s.push(Audio, 5_050, aacRaw()).timestamp, 91);
});

Deno.test("Stream.push() holds a backward step of up to 1 s at the last timestamp instead of rebasing", () => {
  const s = newStream();
  assertEquals(pushVideo(s, 10_000, 10_500, 9_600, 10_540), [0, 500, 500, 540]);
});

Deno.test("Stream.push() passes the payload through untouched, as the same array", async () => {
  const s = newStream();
  const { sub, packer, sink } = newSubscriber();
  s.addSubscriber(sub);
  const payload = avcKeyframe();
  const copy = payload.slice();
  const frame = s.push(Video, 0, payload);
  assertStrictEquals(frame.payload, payload);
  assertStrictEquals(packer.packed[0].payload, payload);
  await settle();
  assertStrictEquals(sink.writes[0], payload);
  assertEquals(payload, copy);
});

Deno.test("Stream.push() numbers frames and records the previous timestamp per kind", () => {
  const s = newStream();
  const got = [
    s.push(Video, 0, avcKeyframe()),
    s.push(Audio, 5, aacRaw()),
    s.push(Video, 40, avcInterFrame()),
    s.push(Audio, 28, aacRaw()),
    s.push(Video, 80, avcInterFrame()),
  ].map((f) => [f.kind, f.seq, f.prevTimestamp]);
  assertEquals(got, [[Video, 1, -1], [Audio, 1, -1], [Video, 2, 0], [Audio, 2, 5], [Video, 3, 40]]);
});

Deno.test("Stream.push() keeps the newest sequence headers and counts frames and bytes", () => {
  const s = newStream();
  s.push(Video, 0, avcSequenceHeader(8, 1));
  const vh = s.push(Video, 0, avcSequenceHeader(8, 2));
  const ah = s.push(Audio, 0, aacSequenceHeader());
  s.push(Video, 0, avcKeyframe(10));
  assertStrictEquals(s.videoHeader, vh);
  assertStrictEquals(s.audioHeader, ah);
  assertEquals(s.stats.framesIn, 4);
  assertEquals(s.stats.videoFrames, 3);
  assertEquals(s.stats.audioFrames, 1);
  assertEquals(s.stats.bytesIn, 13 + 13 + 4 + 15);
  assert(s.hasVideo());
});

Deno.test("Stream.addSubscriber() sends metadata, video header, audio header, then the GOP from its keyframe", () => {
  const s = newStream();
  s.push(Video, 0, avcKeyframe()); // an older GOP
  s.push(Video, 40, avcInterFrame());
  const ah = s.push(Audio, 0, aacSequenceHeader());
  const vh = s.push(Video, 0, avcSequenceHeader());
  const meta = s.setMetadata(metadataPayload());
  const gop = [
    s.push(Video, 80, avcKeyframe()),
    s.push(Audio, 85, aacRaw()),
    s.push(Video, 120, avcInterFrame()),
  ];
  const { sub, packer, sink } = newSubscriber();
  s.addSubscriber(sub);
  assertEquals(packer.packed, [meta, vh, ah, ...gop]);
  assertEquals(sink.writes.length, 1, "the start is flushed at once, in one write");
  assertEquals(sink.writes[0], concat([meta, vh, ah, ...gop].map((f) => f.payload)));
  assert(s.subscribers.has(sub));
});

Deno.test("Stream.addSubscriber() sends metadata that arrived mid-GOP once (bug: sent again with the GOP)", () => {
  const s = newStream();
  const key = s.push(Video, 0, avcKeyframe());
  const meta = s.setMetadata(metadataPayload(), 20);
  const inter = s.push(Video, 40, avcInterFrame());
  const { sub, packer } = newSubscriber();
  s.addSubscriber(sub);
  assertEquals(packer.packed, [meta, key, inter]);
});

Deno.test("Stream.addSubscriber() does not skip a joiner to a stream older than queueMaxMs (bug: joiners closed as too slow)", () => {
  const s = newStream();
  s.setMetadata(metadataPayload());
  s.push(Video, 0, avcSequenceHeader());
  s.push(Audio, 0, aacSequenceHeader());
  for (let ts = 0; ts < 60_000; ts += 40) {
    s.push(Video, ts, ts % 2000 === 0 ? avcKeyframe() : avcInterFrame());
    s.push(Audio, ts + 3, aacRaw());
  }
  const { sub, closes, packer } = newSubscriber({ queueMaxMs: 3000, maxSkipsPerMinute: 10 });
  s.addSubscriber(sub);
  assertEquals(closes, []);
  assertEquals(sub.stats.skips, 0);
  assertEquals(packer.packed.length, 3 + s.gop.frames.length);
});

Deno.test("Stream.push() flushes once after a synchronous burst: one sink write per subscriber", async () => {
  const s = newStream();
  const a = newSubscriber();
  const b = newSubscriber();
  s.addSubscriber(a.sub);
  s.addSubscriber(b.sub);
  const burst: MediaFrame[] = [];
  burst.push(s.push(Video, 0, avcKeyframe()));
  for (let ts = 40; ts <= 160; ts += 40) {
    burst.push(s.push(Audio, ts - 17, aacRaw()));
    burst.push(s.push(Video, ts, avcInterFrame()));
  }
  assertEquals(a.sink.writes.length, 0, "nothing is written before the microtask");
  await settle();
  const want = concat(burst.map((f) => f.payload));
  for (const { sink, sub } of [a, b]) {
    assertEquals(sink.writes.length, 1);
    assertEquals(sink.writes[0], want);
    assertEquals(sub.stats.writes, 1);
  }
});

Deno.test("Stream.push() with a merge window flushes once when the window ends", async () => {
  const s = newStream(20);
  const { sub, sink } = newSubscriber();
  s.addSubscriber(sub);
  s.push(Video, 0, avcKeyframe());
  s.push(Video, 40, avcInterFrame());
  await settle();
  assertEquals(sink.writes.length, 0);
  await new Promise((resolve) => setTimeout(resolve, 40));
  assertEquals(sink.writes.length, 1);
});

Deno.test({
  name:
    "Stream.end() flushes what the merge window holds and clears its timer (bug: the flush timer outlived the stream)",
  sanitizeOps: true,
  fn: () => {
    const s = newStream(50);
    const { sub, sink, events } = newSubscriber();
    s.addSubscriber(sub);
    s.push(Video, 0, avcKeyframe());
    s.end();
    assertEquals(sink.writes.length, 1, "the held frame goes out before the end");
    assertEquals(events, ["end"]);
  },
});

Deno.test("Stream.stopPublisher() flushes what is queued, keeps players and tells them 'unpublish'", () => {
  const s = newStream();
  const { sub, sink, events } = newSubscriber();
  s.addSubscriber(sub);
  s.push(Video, 0, avcKeyframe());
  s.stopPublisher();
  assertEquals(sink.writes.length, 1);
  assertEquals(events, ["unpublish"]);
  assertEquals(s.state, "grace");
  assertEquals(s.publisher, undefined);
  assertEquals(s.gopFrames().length, 0);
  assert(s.subscribers.has(sub));
});

Deno.test("Stream.startPublisher() tells attached players 'publish'", () => {
  const s = newStream();
  const { sub, events } = newSubscriber();
  s.addSubscriber(sub);
  s.stopPublisher();
  const p = new FakePublisher("second");
  s.startPublisher(p);
  assertEquals(events, ["unpublish", "publish"]);
  assertEquals(s.state, "live");
  assertStrictEquals(s.publisher, p);
  assertEquals(s.stats.publishers, 2);
});

Deno.test("Stream.end() tells players 'end' and forgets them", () => {
  const s = newStream();
  const { sub, events } = newSubscriber();
  s.addSubscriber(sub);
  s.end();
  assertEquals(events, ["end"]);
  assertEquals(s.state, "ended");
  assertEquals(s.subscribers.size, 0);
});

Deno.test("Stream.checkStalls() closes a subscriber whose write is stuck", async () => {
  const s = newStream();
  const { sub, closes } = newSubscriber({ stallTimeoutMs: 100 }, new FakeSink({ stalled: true }));
  s.addSubscriber(sub);
  s.push(Video, 0, avcKeyframe());
  await settle(); // the flush starts the write, which never completes
  s.checkStalls(Date.now() + 1000);
  assertEquals(closes.length, 1);
});

Deno.test("Stream.removeSubscriber() stops delivery to that subscriber", async () => {
  const s = newStream();
  const { sub, sink } = newSubscriber();
  s.addSubscriber(sub);
  s.removeSubscriber(sub);
  s.push(Video, 0, avcKeyframe());
  await settle();
  assertEquals(sink.writes.length, 0);
});

Deno.test("Stream.push() starts the first real frame at 0 when headers stamped 0 came first (bug: off by one)", () => {
  const s = newStream();
  assertEquals(s.push(Video, 0, avcSequenceHeader()).timestamp, 0);
  assertEquals(s.push(Audio, 0, aacSequenceHeader()).timestamp, 0);
  assertEquals(s.push(Video, 20_000_000, avcKeyframe()).timestamp, 0);
  assertEquals(s.push(Video, 20_000_040, avcInterFrame()).timestamp, 40);
});

Deno.test("Stream.push() does not rebase when a mid-stream sequence header is stamped 0", () => {
  const s = newStream();
  pushVideo(s, 50_000, 50_040, 50_080);
  assertEquals(s.push(Video, 0, avcSequenceHeader()).timestamp, 80);
  assertEquals(s.push(Video, 50_120, avcKeyframe()).timestamp, 120);
});
