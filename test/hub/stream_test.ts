import { assert, assertEquals, assertStrictEquals } from "../_util/assert.ts";
import {
  AAC_LC_48K_STEREO_HEADER,
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
  X264_MAIN_640X360_AVC_HEADER,
} from "../_util/hub_fakes.ts";
import { PPS_BASELINE, SPS_MAIN_POC1_576I } from "../fixtures/nal_fixtures.ts";
import { buildAvcConfig } from "../../src/media/avc.ts";
import { FrameKind, type MediaFrame } from "../../src/media/frame.ts";
import { MERGE_FULL_AT, MERGE_GROW_FROM, mergeWindowFor, Stream } from "../../src/hub/stream.ts";
import { type StreamEvent, Subscriber, type SubscriberLimits } from "../../src/hub/subscriber.ts";

const BIG = 1 << 30;
const { Audio, Video } = FrameKind;

function newStream(mergeWindowMs = 0): Stream {
  const s = new Stream("live/test", BIG, BIG, mergeWindowMs);
  s.startPublisher(new FakePublisher());
  return s;
}

function newSubscriber(l: Partial<SubscriberLimits> = {}, sink = new FakeSink(), shareKey?: string) {
  const packer = new FakePacker(undefined, shareKey);
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

// ---- snapshot()

/** A stream on a clock the test moves, created at `clock.now`. */
function clockedStream(start = 10_000, publisher = new FakePublisher()) {
  const clock = { now: start };
  const s = new Stream("live/cam1", BIG, BIG, 0, { clock: () => clock.now });
  s.startPublisher(publisher);
  return { s, clock };
}

Deno.test("Stream.snapshot() reads codec, profile, level, size and frame rate from a real x264 SPS, and the AAC config", () => {
  const s = newStream();
  s.push(Video, 0, X264_MAIN_640X360_AVC_HEADER);
  s.push(Audio, 0, AAC_LC_48K_STEREO_HEADER);
  s.push(Video, 0, avcKeyframe());
  const snap = s.snapshot();
  assertEquals(snap.video, {
    codec: "H.264",
    profile: "Main",
    level: "3",
    width: 640,
    height: 360,
    frameRate: 30,
  });
  assertEquals(snap.audio, { codec: "AAC", sampleRate: 48000, channels: 2, profile: "LC" });
  assertStrictEquals(s.snapshot().video?.width, 640, "and again, from the parse cached for that header");
});

Deno.test("Stream.snapshot() measures the frame rate from video timestamps when the SPS has no VUI timing", () => {
  const s = newStream();
  const record = buildAvcConfig({ sps: [SPS_MAIN_POC1_576I], pps: [PPS_BASELINE] });
  s.push(Video, 0, concat([Uint8Array.of(0x17, 0, 0, 0, 0), record]));
  assertEquals(s.snapshot().video?.frameRate, undefined, "no frames yet: nothing to measure");
  for (let ts = 0; ts < 2000; ts += 40) s.push(Video, ts, ts === 0 ? avcKeyframe() : avcInterFrame());
  assertEquals(s.snapshot().video, {
    codec: "H.264",
    profile: "Main",
    level: "3",
    width: 704,
    height: 576,
    frameRate: 25,
  });
});

Deno.test("Stream.snapshot() without sequence headers names the codecs from the latest frames", () => {
  const s = newStream();
  s.push(Audio, 0, Uint8Array.of(0x2f, 0xff, 0xfb)); // MP3, 44 kHz, 16-bit, stereo
  assertEquals(s.snapshot().audio, { codec: "MP3", sampleRate: 44100, channels: 2 });
  assertEquals(s.snapshot().video, null);
  s.push(Video, 0, avcKeyframe());
  assertEquals(s.snapshot().video, { codec: "H.264" });
});

Deno.test("Stream.snapshot() gives bitrates in bits/s over the last 5 complete seconds, fewer for a young stream", () => {
  const { s, clock } = clockedStream(10_000);
  for (let sec = 10; sec < 15; sec++) {
    clock.now = sec * 1000 + 500;
    s.push(Video, sec * 1000, avcInterFrame(995)); // 1000 bytes
    s.push(Audio, sec * 1000, aacRaw(98)); // 100 bytes
  }
  clock.now = 15_500;
  s.push(Video, 15_000, avcInterFrame(9995)); // in the current second: not counted yet
  assertEquals(s.snapshot(15_900).bitrate, { video: 8000, audio: 800 });
  assertEquals(s.snapshot(12_000).bitrate, { video: 8000, audio: 800 }, "2 s old: over 2 seconds");
  assertEquals(s.snapshot(16_000).bitrate, { video: (4 * 8000 + 80_000) / 5, audio: 640 });
  assertEquals(s.snapshot(10_400).bitrate, { video: 0, audio: 0 }, "no complete second yet");
  assertEquals(s.snapshot(30_000).bitrate, { video: 0, audio: 0 }, "nothing within the window");
});

Deno.test("Stream.snapshot() gives the newest complete GOP's video frames and duration, the current one before that", () => {
  const s = newStream();
  assertEquals(s.snapshot().gop, { frames: 0, durationMs: 0 });
  s.push(Video, 0, avcKeyframe());
  for (let ts = 40; ts < 1000; ts += 40) {
    s.push(Video, ts, avcInterFrame());
    s.push(Audio, ts, aacRaw()); // audio frames are not GOP frames
  }
  assertEquals(s.snapshot().gop, { frames: 25, durationMs: 960 }, "the GOP so far");
  s.push(Video, 1000, avcKeyframe());
  s.push(Video, 1040, avcInterFrame());
  assertEquals(s.snapshot().gop, { frames: 25, durationMs: 1000 });
});

Deno.test("Stream.snapshot() counts viewers by their Subscriber's protocol and observers apart", () => {
  const s = newStream();
  const make = (id: string, options: { protocol?: string; observer?: boolean }) =>
    new Subscriber(id, new FakePacker(), new FakeSink(), limits(), new RecordingLogger(), options);
  s.addSubscriber(make("a", { protocol: "rtmp" }));
  s.addSubscriber(make("b", { protocol: "rtmp" }));
  s.addSubscriber(make("c", { protocol: "http-flv" }));
  s.addSubscriber(make("d", {}));
  s.addSubscriber(make("rec", { protocol: "recorder", observer: true }));
  const snap = s.snapshot();
  assertEquals(snap.viewers, { total: 4, byProtocol: { rtmp: 2, "http-flv": 1, unknown: 1 } });
  assertEquals(snap.observers, 1);
});

Deno.test("Stream.snapshot() keeps counting the frames a slow subscriber dropped after it left", async () => {
  const s = newStream();
  const { sub, sink } = newSubscriber({ queueMaxBytes: 100 }, new FakeSink({ stalled: true }));
  s.addSubscriber(sub);
  s.push(Video, 0, avcKeyframe());
  await settle(); // its first write hangs
  for (let ts = 40; sub.stats.skips === 0; ts += 40) s.push(Video, ts, avcInterFrame());
  const dropped = sub.stats.framesDropped;
  assert(dropped > 0);
  assertEquals(s.snapshot().framesDropped, dropped);
  s.removeSubscriber(sub);
  s.removeSubscriber(sub); // twice: still counted once
  assertEquals(s.snapshot().framesDropped, dropped);
  s.end();
  assertEquals(s.snapshot().framesDropped, dropped);
  sink.release();
});

Deno.test("Stream.bytesOut counts the bytes written to attached subscribers and to those that left", async () => {
  const s = newStream();
  const a = newSubscriber();
  const b = newSubscriber();
  s.addSubscriber(a.sub);
  s.addSubscriber(b.sub);
  assertEquals(s.bytesOut, 0);
  const key = avcKeyframe(10); // 15 bytes
  s.push(Video, 0, key);
  await settle();
  assertEquals(s.bytesOut, 2 * key.length);
  s.removeSubscriber(a.sub);
  s.removeSubscriber(a.sub); // twice: still counted once
  assertEquals(s.bytesOut, 2 * key.length, "a's bytes outlive its removal");
  const inter = avcInterFrame(20); // 25 bytes
  s.push(Video, 40, inter);
  await settle();
  assertEquals(s.bytesOut, 2 * key.length + inter.length);
  s.end();
  assertEquals(s.bytesOut, 2 * key.length + inter.length, "b's bytes outlive the end");
});

Deno.test("Stream.snapshot() gives key, app, name, state, the publisher with its labels, counters and uptime", () => {
  const publisher = new FakePublisher("rtmp 10.0.0.1:5000", { protocol: "rtmp", remote: "10.0.0.1:5000" });
  const { s, clock } = clockedStream(10_000, publisher);
  s.push(Video, 0, avcKeyframe(10)); // 15 bytes
  clock.now = 12_500;
  const snap = s.snapshot();
  assertEquals(
    [snap.key, snap.app, snap.name, snap.state, snap.uptimeMs, snap.framesIn, snap.bytesIn, snap.publishers],
    ["live/cam1", "live", "cam1", "live", 2_500, 1, 15, 1],
  );
  assertEquals(snap.publisher, {
    id: "rtmp 10.0.0.1:5000",
    protocol: "rtmp",
    remote: "10.0.0.1:5000",
    since: 10_000,
  });
  s.stopPublisher();
  assertEquals([s.snapshot().publisher, s.snapshot().state], [null, "grace"]);
  clock.now = 13_000;
  s.startPublisher(new FakePublisher("file"));
  assertEquals(s.snapshot().publisher, { id: "file", since: 13_000 });
  assertEquals(s.snapshot().publishers, 2);
  assertEquals(JSON.parse(JSON.stringify(s.snapshot())).key, "live/cam1", "plain data: survives JSON");
});

Deno.test("Stream.checkStalls() forgets a subscriber that closed itself and was not removed", () => {
  const s = newStream();
  const { sub } = newSubscriber();
  s.addSubscriber(sub);
  sub.close("write failed: gone");
  s.checkStalls(Date.now());
  assertEquals(s.subscribers.size, 0);
});

Deno.test("Stream.snapshot() counts externalViewers (HLS viewers) beside its subscribers, by protocol", () => {
  const stream = new Stream("live/cam", BIG, BIG, 0);
  stream.externalViewers.set("hls", 3);
  const snap = stream.snapshot();
  assertEquals(snap.viewers.total, 3);
  assertEquals(snap.viewers.byProtocol, { hls: 3 });
});

Deno.test("Stream.newest: the newest timestamp pushed and the clock when it was pushed; older frames leave it", () => {
  const { s, clock } = clockedStream();
  assertEquals(s.newest, { timestamp: -1, at: 0 });
  s.push(Video, 0, avcKeyframe());
  clock.now += 40;
  s.push(Video, 40, avcInterFrame());
  assertEquals(s.newest, { timestamp: 40, at: 10_040 });
  clock.now += 10;
  s.push(Audio, 30, aacRaw()); // behind the newest: the newest stays
  assertEquals(s.newest, { timestamp: 40, at: 10_040 });
});

Deno.test("mergeWindowFor(): the configured window up to 200 subscribers, growing to the max at 800", () => {
  assertEquals(mergeWindowFor(1, 50, 100), 50, "a lone player keeps its window");
  assertEquals(mergeWindowFor(MERGE_GROW_FROM, 50, 100), 50);
  assertEquals(mergeWindowFor(500, 50, 100), 75);
  assertEquals(mergeWindowFor(MERGE_FULL_AT, 50, 100), 100);
  assertEquals(mergeWindowFor(5_000, 50, 100), 100);
  assertEquals(mergeWindowFor(5_000, 50, 20), 50, "a max below the window never narrows it");
  assertEquals(mergeWindowFor(5_000, 0, 0), 0, "0 and 0: every publisher read is flushed at once");
});

// ---- in-step subscribers share each flush's bytes

/** A keyframe, then `n` more flushes of an audio and a video frame each, one flush per macrotask. */
async function playFlushes(s: Stream, n: number, from = 0): Promise<MediaFrame[][]> {
  const flushes: MediaFrame[][] = [];
  for (let i = 0; i < n; i++) {
    const ts = from + i * 40;
    flushes.push([s.push(Audio, ts + 20, aacRaw()), s.push(Video, ts + 40, avcInterFrame())]);
    await settle();
  }
  return flushes;
}

Deno.test("Stream: players in step share one buffer per flush, packed once for all of them", async () => {
  const s = newStream();
  s.push(Video, 0, avcKeyframe());
  const players = [1, 2, 3].map(() => newSubscriber({}, new FakeSink(), "fake"));
  for (const p of players) s.addSubscriber(p.sub);
  await settle(); // each writes its own start (the keyframe); from the next flush on they are in step
  const flushes = await playFlushes(s, 3, 0);
  for (let f = 0; f < 3; f++) {
    const written = players.map((p) => p.sink.writes[1 + f]);
    assertEquals(written[0], concat(flushes[f].map((x) => x.payload)));
    assertStrictEquals(written[1], written[0], "the very same array");
    assertStrictEquals(written[2], written[0], "the very same array");
  }
  const packs = players.map((p) => p.packer.packed.length);
  assertEquals(packs.reduce((a, b) => a + b, 0), 3 + 3 * 2, "the start once each, then each flush once");
  for (const p of players) {
    assert(p.sub.following);
    assertEquals(p.sub.stats.framesSent, 1 + 3 * 2);
    assertEquals(p.sub.stats.framesQueued, 1 + 3 * 2);
    assertEquals(p.sub.stats.writes, 4);
  }
});

Deno.test("Stream: a player still writing when the next flush comes leaves the group and meets its own bounds; the others get every frame", async () => {
  const s = newStream();
  s.push(Video, 0, avcKeyframe());
  const slowSink = new FakeSink();
  const slow = newSubscriber({ queueMaxBytes: 60 }, slowSink, "fake");
  const fast = newSubscriber({ queueMaxBytes: 60 }, new FakeSink(), "fake");
  s.addSubscriber(slow.sub);
  s.addSubscriber(fast.sub);
  await settle();
  await playFlushes(s, 1, 0);
  assert(slow.sub.following && fast.sub.following);
  slowSink.stalled = true;
  const later = await playFlushes(s, 4, 40); // 13-byte frames: past 60 bytes the slow one skips
  assert(!slow.sub.following, "it left the group at the first flush it was still writing");
  assert(slow.sub.stats.skips >= 1, "its own queue's bound made it skip");
  assert(fast.sub.following);
  assertEquals(fast.sub.stats.framesSent, 1 + 2 + later.length * 2);
  assertEquals(fast.sub.stats.skips, 0);
  assertEquals(
    concat(fast.sink.writes.slice(2)),
    concat(later.flat().map((f) => f.payload)),
    "every frame, in order",
  );
  // Once it keeps up again it rejoins: the writes it gets are the group's arrays.
  slowSink.release();
  await settle();
  s.push(Video, 200, avcKeyframe()); // its skip waits for a keyframe: the GOP is over its bound
  await settle();
  await playFlushes(s, 3, 200);
  assert(slow.sub.following, "back in step");
  assertStrictEquals(
    slowSink.writes[slowSink.writes.length - 1],
    fast.sink.writes[fast.sink.writes.length - 1],
  );
});

Deno.test("Stream: a group member's packer is caught up to the stream's newest frames before it packs or leaves", async () => {
  const s = newStream();
  const key = s.push(Video, 0, avcKeyframe());
  const p = newSubscriber({}, new FakeSink(), "fake");
  s.addSubscriber(p.sub);
  await settle();
  const [[audio, video]] = await playFlushes(s, 1, 0);
  assertEquals(p.packer.caughtUps[0].video, key, "before the first shared batch: its own last frame");
  const [[, video2]] = await playFlushes(s, 1, 40);
  assertStrictEquals(p.packer.caughtUps[1].audio, audio);
  assertStrictEquals(p.packer.caughtUps[1].video, video);
  assert(video2.seq > video.seq);
});

Deno.test("Stream: a player whose packer has no share key, or that waits for a keyframe, keeps its own queue", async () => {
  const s = newStream();
  s.push(Video, 0, avcKeyframe());
  const own = newSubscriber();
  s.addSubscriber(own.sub);
  await settle();
  await playFlushes(s, 2);
  assert(!own.sub.following);
  assertEquals(own.sub.stats.framesSent, 5);
});

Deno.test("Stream: an in-step player's lag counts the frames waiting in the stream's merge window", async () => {
  const s = newStream(1000);
  s.push(Video, 0, avcKeyframe());
  const p = newSubscriber({}, new FakeSink(), "fake");
  s.addSubscriber(p.sub);
  await settle();
  s.push(Video, 40, avcInterFrame());
  s.stopPublisher(); // flushes: the player now follows, and everything it was given is written
  await settle();
  assert(p.sub.following);
  assertEquals(p.sub.lagMs, 0);
  s.startPublisher(new FakePublisher("again"));
  s.push(Video, 80, avcInterFrame());
  assert(p.sub.lagMs > 0, "a frame waits in the window");
  s.end();
});

Deno.test("Stream.removeSubscriber() takes an in-step player out of its group: it gets nothing more", async () => {
  const s = newStream();
  s.push(Video, 0, avcKeyframe());
  const a = newSubscriber({}, new FakeSink(), "fake");
  const b = newSubscriber({}, new FakeSink(), "fake");
  s.addSubscriber(a.sub);
  s.addSubscriber(b.sub);
  await settle();
  await playFlushes(s, 1);
  s.removeSubscriber(a.sub);
  const before = a.sink.writes.length;
  await playFlushes(s, 2, 40);
  assertEquals(a.sink.writes.length, before);
  assertEquals(b.sub.stats.framesSent, 1 + 2 + 4);
});

Deno.test("Stream.addSubscriber(): a later joiner writes the earlier joiner's start as the same array, then only what came since", async () => {
  const s = newStream();
  const start = [
    s.push(Video, 0, avcKeyframe()),
    s.push(Audio, 20, aacRaw()),
    s.push(Video, 40, avcInterFrame()),
  ];
  const a = newSubscriber();
  s.addSubscriber(a.sub);
  await settle();
  const later = s.push(Video, 80, avcInterFrame());
  await settle();
  const b = newSubscriber();
  s.addSubscriber(b.sub);
  await settle();
  assertStrictEquals(b.sink.writes[0], a.sink.writes[0], "the shared start");
  assertEquals(b.sink.writes[0], concat(start.map((f) => f.payload)));
  assertEquals(
    concat(b.sink.writes),
    concat([...start, later].map((f) => f.payload)),
    "then the rest, in order",
  );
  assertEquals(b.sub.stats.framesSent, 4);
  assertEquals(b.sub.lagMs, 0);
});

Deno.test("Subscriber.ownBytes counts its queue and its own write under way, not its group's shared batch", async () => {
  const s = newStream();
  s.push(Video, 0, avcKeyframe());
  const sink = new FakeSink();
  const p = newSubscriber({}, sink, "fake");
  s.addSubscriber(p.sub);
  await settle();
  sink.stalled = true;
  const [[audio, video]] = await playFlushes(s, 1);
  assert(p.sub.following && p.sub.writing, "a shared batch is being written");
  assertEquals(p.sub.ownBytes, 0);
  const [[audio2, video2]] = await playFlushes(s, 1, 40); // still writing: it takes this batch itself
  assert(!p.sub.following);
  assertEquals(p.sub.ownBytes, audio2.payload.length + video2.payload.length);
  sink.release();
  await settle();
  assert(audio.payload.length + video.payload.length > 0);
  assertEquals(p.sub.ownBytes, 0);
});
