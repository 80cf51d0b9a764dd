import { assert, assertEquals, assertMatch, assertStrictEquals } from "../_util/assert.ts";
import {
  concat,
  FakePacker,
  FakeSink,
  FakeSource,
  frames,
  limits,
  RecordingLogger,
  settle,
} from "../_util/hub_fakes.ts";
import { FrameKind, type MediaFrame } from "../../src/media/frame.ts";
import { Subscriber, type SubscriberLimits } from "../../src/hub/subscriber.ts";

interface Setup {
  sub: Subscriber;
  packer: FakePacker;
  sink: FakeSink;
  source: FakeSource;
  log: RecordingLogger;
  closes: string[];
}

function setup(
  opts: { limits?: Partial<SubscriberLimits>; sink?: FakeSink; packer?: FakePacker; source?: FakeSource } =
    {},
): Setup {
  const packer = opts.packer ?? new FakePacker();
  const sink = opts.sink ?? new FakeSink();
  const source = opts.source ?? new FakeSource();
  const log = new RecordingLogger();
  const sub = new Subscriber("test-1", packer, sink, limits(opts.limits), log);
  const closes: string[] = [];
  sub.onClose = (reason) => closes.push(reason);
  sub.attach(source);
  return { sub, packer, sink, source, log, closes };
}

function payloads(fs: readonly MediaFrame[]): Uint8Array {
  return concat(fs.map((f) => f.payload));
}

/** The frames packed since the packer's last reset(). */
function packedSinceReset(packer: FakePacker): MediaFrame[] {
  return packer.packed.slice(packer.resetAt[packer.resetAt.length - 1]);
}

/** The first video frame that is not a sequence header. */
function firstVideo(fs: readonly MediaFrame[]): MediaFrame | undefined {
  return fs.find((f) => f.kind === FrameKind.Video && !f.sequenceHeader);
}

Deno.test("Subscriber.flush() writes everything queued by several send() calls in one sink write", async () => {
  const { sub, sink } = setup();
  const fs = [frames.metadata(0), frames.videoHeader(0), frames.key(0), frames.audio(10), frames.inter(40)];
  for (const f of fs) sub.send(f);
  assertEquals(sink.writes.length, 0, "send() alone must not write");
  sub.flush();
  assertEquals(sink.writes.length, 1);
  assertEquals(sink.writes[0], payloads(fs));
  await settle();
  assertEquals(sub.stats.writes, 1);
  assertEquals(sub.stats.framesSent, fs.length);
  assertEquals(sub.stats.bytesSent, payloads(fs).length);
  assertEquals(sub.queuedBytes, 0);
  assert(sub.firstWriteAt > 0);
});

Deno.test("Subscriber.flush() shares one concatenated write among players that queued the same packed bytes", () => {
  const a = setup();
  const b = setup();
  const fs = [frames.key(0), frames.audio(10), frames.inter(40)];
  for (const f of fs) {
    a.sub.send(f);
    b.sub.send(f);
  }
  a.sub.flush();
  b.sub.flush();
  assertEquals(a.sink.writes[0], payloads(fs));
  assertStrictEquals(b.sink.writes[0], a.sink.writes[0], "players in step must write the very same array");
  // A player whose queue differs gets its own buffer.
  const c = setup();
  for (const f of [fs[0], fs[1]]) c.sub.send(f);
  c.sub.flush();
  assertEquals(c.sink.writes[0], payloads([fs[0], fs[1]]));
  assert(c.sink.writes[0] !== a.sink.writes[0]);
});

Deno.test("Subscriber.flush() hands a lone frame's packed bytes to the sink without a copy", () => {
  const { sub, sink } = setup();
  const f = frames.key(0);
  sub.send(f);
  sub.flush();
  assertStrictEquals(sink.writes[0], f.payload);
});

Deno.test("Subscriber.send() queues the bytes the Packer returns", () => {
  const { sub, sink, packer } = setup({ packer: new FakePacker(0xee) });
  const f = frames.audio(0);
  sub.send(f);
  sub.flush();
  assertEquals(sink.writes[0], concat([Uint8Array.of(0xee), f.payload]));
  assertStrictEquals(packer.packed[0], f);
});

Deno.test("Subscriber.flush() sends frames queued during a pending write in one write once it completes", async () => {
  const { sub, sink } = setup({ sink: new FakeSink({ stalled: true }) });
  const first = frames.key(0);
  sub.send(first);
  sub.flush();
  const later = [frames.audio(10), frames.inter(40), frames.audio(33)];
  for (const f of later) {
    sub.send(f);
    sub.flush(); // a write is under way: no second write yet
  }
  assertEquals(sink.writes.length, 1);
  assertEquals(sub.queuedBytes, payloads(later).length);
  sink.release();
  await settle();
  assertEquals(sink.writes.length, 2);
  assertEquals(sink.writes[1], payloads(later));
  assertEquals(sub.stats.framesSent, 4);
  assertEquals(sub.stats.writes, 2);
});

Deno.test("Subscriber.flush() does nothing when the queue is empty", () => {
  const { sub, sink } = setup();
  sub.flush();
  assertEquals(sink.writes.length, 0);
});

Deno.test("Subscriber.send() past queueMaxBytes drops the queue but its headers and metadata, and restarts at the GOP", async () => {
  const sink = new FakeSink({ stalled: true });
  const { sub, packer, source, closes } = setup({ sink, limits: { queueMaxBytes: 100 } });
  sub.send(frames.key(0));
  sub.flush(); // write 1 stays pending: everything below queues up

  const header = frames.videoHeader(40);
  const meta = frames.metadata(40);
  sub.send(frames.inter(40)); // 13 bytes
  sub.send(header); // 13 bytes, kept through the skip
  sub.send(meta); // 15 bytes, kept through the skip
  const gop = [frames.key(1000), frames.audio(1010), frames.inter(1040)];
  source.gop = gop;
  let dropped = 1;
  for (let ts = 80; sub.stats.skips === 0; ts += 40) {
    sub.send(frames.inter(ts));
    dropped++;
  }
  assertEquals(sub.stats.skips, 1);
  assertEquals(sub.stats.framesDropped, dropped);
  assertEquals(packer.resets, 1);
  assertEquals(packedSinceReset(packer), [header, meta, ...gop]);
  assertEquals(sub.queuedBytes, payloads([header, meta, ...gop]).length);
  assertEquals(closes, []);

  sink.release();
  await settle();
  assertEquals(sink.writes.length, 2);
  assertEquals(sink.writes[1], payloads([header, meta, ...gop]));
});

Deno.test("Subscriber.send() past queueMaxMs skips so that the first video frame sent after it is a keyframe", async () => {
  const sink = new FakeSink({ stalled: true });
  const { sub, packer, source } = setup({ sink, limits: { queueMaxMs: 1000 } });
  sub.send(frames.key(0));
  sub.flush();
  const gop = [frames.key(1000), frames.audio(1001), frames.inter(1040), frames.audio(1024)];
  for (let ts = 40; ts < 1040; ts += 40) {
    sub.send(frames.inter(ts));
    sub.send(frames.audio(ts + 1));
  }
  assertEquals(sub.stats.skips, 0, "1000 ms of queued media is within the bound");
  source.gop = gop;
  sub.send(frames.inter(1080));
  assertEquals(sub.stats.skips, 1);
  assertEquals(packer.resets, 1);
  const after = packedSinceReset(packer);
  assertEquals(after, gop);
  assertEquals(firstVideo(after)?.keyframe, true);

  sink.release();
  await settle();
  assertEquals(sink.writes[1], payloads(gop));
});

Deno.test("Subscriber.send() after a skip with a GOP too long for the queue waits for the next keyframe", async () => {
  const sink = new FakeSink({ stalled: true });
  const { sub, packer, source } = setup({ sink, limits: { queueMaxBytes: 100 } });
  sub.send(frames.key(0));
  sub.flush();
  source.gop = [frames.key(0, 60), frames.inter(40)]; // 65 + 13 bytes: over half the queue bound
  for (let ts = 40; sub.stats.skips === 0; ts += 40) sub.send(frames.inter(ts));
  assertEquals(packedSinceReset(packer), [], "nothing from the long GOP is queued");
  const droppedAtSkip = sub.stats.framesDropped;

  sub.send(frames.inter(400));
  sub.send(frames.audio(410));
  assertEquals(
    sub.stats.framesDropped,
    droppedAtSkip + 2,
    "inter and audio frames are dropped while waiting",
  );
  const header = frames.audioHeader(420);
  const meta = frames.metadata(420);
  const key = frames.key(440);
  const next = [frames.audio(450), frames.inter(480)];
  sub.send(header);
  sub.send(meta);
  sub.send(key);
  for (const f of next) sub.send(f);
  assertEquals(sub.stats.framesDropped, droppedAtSkip + 2);
  assertEquals(packedSinceReset(packer), [header, meta, key, ...next]);

  sink.release();
  await settle();
  assertEquals(sink.writes[1], payloads([header, meta, key, ...next]));
});

Deno.test("Subscriber.send() after a skip on an audio-only stream goes on with the next audio frame", () => {
  const sink = new FakeSink({ stalled: true });
  const { sub, packer } = setup({ sink, limits: { queueMaxBytes: 50 }, source: new FakeSource([], false) });
  sub.send(frames.audio(0));
  sub.flush();
  for (let ts = 23; sub.stats.skips === 0; ts += 23) sub.send(frames.audio(ts));
  assertEquals(sub.queuedBytes, 0);
  const next = frames.audio(1000);
  sub.send(next);
  assertEquals(packedSinceReset(packer), [next]);
});

Deno.test("Subscriber.send() does not skip a joiner whose headers are older than queueMaxMs (bug: joiners skipped at once)", () => {
  // A stream 50 s in: the joiner's queue starts with metadata and headers stamped 0, then the GOP.
  const { sub, closes } = setup({ limits: { queueMaxMs: 3000, maxSkipsPerMinute: 2 } });
  sub.send(frames.metadata(0));
  sub.send(frames.videoHeader(0));
  sub.send(frames.audioHeader(0));
  sub.send(frames.key(50_000));
  for (let ts = 50_040; ts < 52_000; ts += 40) {
    sub.send(frames.inter(ts));
    sub.send(frames.audio(ts + 3));
  }
  assertEquals(sub.stats.skips, 0);
  assertEquals(sub.stats.framesDropped, 0);
  assertEquals(closes, []);
});

Deno.test("Subscriber.send() does not skip for media held before a flush, only behind a write under way (bug: a publisher's burst in the merge window skipped fast players)", async () => {
  // A publisher 10x faster than real time: 2 s of media arrive within one 50 ms merge window.
  const { sub, sink, closes } = setup({ limits: { queueMaxMs: 500, maxSkipsPerMinute: 1 } });
  sub.send(frames.key(0));
  for (let ts = 40; ts <= 2000; ts += 40) sub.send(frames.inter(ts));
  assertEquals(sub.stats.skips, 0, "nothing was offered to the player yet");
  sub.flush();
  await settle();
  assertEquals(sink.writes.length, 1, "one write with all of it");
  assertEquals(sub.stats.framesSent, 51);

  sink.stalled = true;
  sub.send(frames.inter(2040));
  sub.flush();
  for (let ts = 2080; ts <= 2600; ts += 40) sub.send(frames.inter(ts));
  assertEquals(sub.stats.skips, 1, "behind a pending write, 500 ms of media is too much");
  assertEquals(closes, []);
  sink.release();
});

Deno.test("Subscriber.send() skipping more than maxSkipsPerMinute times closes the subscriber with the limit in the reason", () => {
  const sink = new FakeSink({ stalled: true });
  const { sub, closes } = setup({
    sink,
    limits: { queueMaxBytes: 30, maxSkipsPerMinute: 2 },
    source: new FakeSource([], false),
  });
  sub.send(frames.audio(0));
  sub.flush();
  let ts = 0;
  while (!sub.closed && ts < 10_000) sub.send(frames.audio(ts += 23));
  assert(sub.closed);
  assertEquals(sub.stats.skips, 3);
  assertEquals(closes.length, 1);
  assertEquals(closes[0], sub.closeReason);
  assertMatch(closes[0], /too slow/);
  assertMatch(closes[0], /3 times in a minute \(limit 2\)/);
  assertEquals(sub.queuedBytes, 0);
});

Deno.test("Subscriber warns about skips at most once per 10 s, with the frames dropped", () => {
  const sink = new FakeSink({ stalled: true });
  const { sub, log } = setup({ sink, limits: { queueMaxBytes: 30 }, source: new FakeSource([], false) });
  sub.send(frames.audio(0));
  sub.flush();
  let ts = 0;
  while (sub.stats.skips < 3) sub.send(frames.audio(ts += 23));
  const warns = log.lines.filter((l) => l.level === "warn");
  assertEquals(warns.length, 1);
  assertMatch(warns[0].msg, /slow player test-1: .*\d+ frames dropped/);
});

Deno.test("Subscriber.stats counts a header kept through a skip as queued once", async () => {
  const sink = new FakeSink({ stalled: true });
  const { sub, source } = setup({ sink, limits: { queueMaxBytes: 100 } });
  sub.send(frames.key(0));
  sub.flush();
  sub.send(frames.videoHeader(20));
  source.gop = [frames.key(40)];
  for (let ts = 40; sub.stats.skips === 0; ts += 40) sub.send(frames.inter(ts));
  sink.release();
  await settle();
  assertEquals(sub.queuedBytes, 0);
  // Every queued frame was either sent or dropped; the GOP frame re-queued by the skip was queued anew.
  assertEquals(sub.stats.framesQueued, sub.stats.framesSent + sub.stats.framesDropped);
});

Deno.test("Subscriber.checkStall() closes a subscriber whose write has been pending longer than stallTimeoutMs", () => {
  const sink = new FakeSink({ stalled: true });
  const { sub, closes } = setup({ sink, limits: { stallTimeoutMs: 5000 } });
  sub.send(frames.key(0));
  sub.flush();
  const now = Date.now();
  sub.checkStall(now + 1000);
  assertEquals(sub.closed, false);
  sub.checkStall(now + 6000);
  assert(sub.closed);
  assertEquals(closes.length, 1);
  assertMatch(closes[0], /^stalled: no write progress for \d+ ms \(limit 5000\)$/);
});

Deno.test("Subscriber.checkStall() leaves an idle subscriber open however late it is called", async () => {
  const { sub } = setup({ limits: { stallTimeoutMs: 5000 } });
  sub.send(frames.key(0));
  sub.flush();
  await settle(); // the write completed
  sub.checkStall(Date.now() + 60_000);
  assertEquals(sub.closed, false);
});

Deno.test("Subscriber closes with 'write failed' when the sink rejects", async () => {
  const { sub, closes } = setup({ sink: new FakeSink({ failWith: new Error("connection reset") }) });
  sub.send(frames.key(0));
  sub.flush();
  await settle();
  assert(sub.closed);
  assertEquals(closes, ["write failed: connection reset"]);
  assertEquals(sub.stats.writes, 0);
});

Deno.test("Subscriber.onClose is called exactly once however many ways it closes", async () => {
  const sink = new FakeSink({ stalled: true });
  const { sub, closes } = setup({ sink, limits: { stallTimeoutMs: 10 } });
  sub.send(frames.key(0));
  sub.flush();
  sub.checkStall(Date.now() + 1000);
  sub.close("player left");
  sink.fail(new Error("broken pipe"));
  await settle();
  assertEquals(closes.length, 1);
  assertMatch(closes[0], /^stalled/);
  assertMatch(sub.closeReason, /^stalled/);
});

Deno.test("Subscriber.close() drops the queue and ignores later send() and flush()", () => {
  const sink = new FakeSink();
  const { sub, packer } = setup({ sink });
  sub.send(frames.key(0));
  sub.close("player left");
  assertEquals(sub.queuedBytes, 0);
  sub.send(frames.inter(40));
  sub.flush();
  assertEquals(sink.writes.length, 0);
  assertEquals(packer.packed.length, 1);
});

Deno.test("Subscriber's options label its protocol (default 'unknown') and mark observers (default not)", () => {
  const plain = new Subscriber("p", new FakePacker(), new FakeSink(), limits(), new RecordingLogger());
  assertEquals([plain.protocol, plain.observer], ["unknown", false]);
  const rec = new Subscriber("r", new FakePacker(), new FakeSink(), limits(), new RecordingLogger(), {
    protocol: "http-flv",
    observer: true,
  });
  assertEquals([rec.protocol, rec.observer], ["http-flv", true]);
});

Deno.test("Subscriber.lagMs is the media time from the last frame written to the newest queued, 0 when caught up", async () => {
  const sink = new FakeSink({ stalled: true });
  const { sub } = setup({ sink });
  assertEquals(sub.lagMs, 0, "nothing queued");
  sub.send(frames.key(0));
  sub.flush(); // write 1 (up to 0) hangs
  for (let ts = 40; ts <= 1000; ts += 40) sub.send(frames.inter(ts));
  sub.send(frames.metadata(5000)); // data frames are not media time
  assertEquals(sub.lagMs, 1000, "nothing written yet: from the first frame queued");
  sink.release();
  sink.stalled = true; // write 2 (up to 1000) starts and hangs
  await settle();
  assertEquals(sink.pending, 1);
  assertEquals(sub.lagMs, 1000, "write 1 done (up to 0), write 2 under way");
  sub.send(frames.inter(1040));
  assertEquals(sub.lagMs, 1040);
  sink.release();
  sink.stalled = true; // write 3 (1040) starts and hangs
  await settle();
  assertEquals(sub.lagMs, 40, "write 2 done: 1000 written, 1040 in flight");
  sink.release();
  await settle();
  assertEquals(sub.lagMs, 0, "everything written");
});

Deno.test("Subscriber.lagMs still counts from the last frame written after a skip, and is 0 once closed", () => {
  const sink = new FakeSink({ stalled: true });
  const { sub, source } = setup({ sink, limits: { queueMaxBytes: 100 } });
  sub.send(frames.key(0));
  sub.flush();
  source.gop = [frames.key(80)]; // the newest keyframe, older than the newest frame (as in a stream)
  let ts = 40;
  for (; sub.stats.skips === 0; ts += 40) sub.send(frames.inter(ts));
  assertEquals(sub.lagMs, ts - 40, "the dropped frames' media time still counts");
  sub.close("player left");
  assertEquals(sub.lagMs, 0);
});

Deno.test("Subscriber.onIdle, once set, runs when a write completes with nothing queued, not while more waits", async () => {
  const sink = new FakeSink({ stalled: true });
  const { sub } = setup({ sink });
  let idle = 0;
  sub.send(frames.key(0));
  sub.flush(); // write 1 pending
  sub.send(frames.inter(40)); // queued behind it
  sub.onIdle = () => idle++;
  sink.release(); // write 1 done: write 2 starts at once, so not idle yet
  await settle();
  assertEquals(sink.writes.length, 2);
  assertEquals(idle, 1, "idle once, after write 2 (write 1 had more queued behind it)");
  assertEquals(sub.writing, false);
  assertEquals(sub.queuedBytes, 0);
});
