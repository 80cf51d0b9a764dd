import { assert, assertEquals } from "../_util/assert.ts";
import { FakeContainer } from "../_util/fake_container.ts";
import {
  aacRaw,
  aacSequenceHeader,
  avcInterFrame,
  avcKeyframe,
  avcSequenceHeader,
  FakePublisher,
  RecordingLogger,
  settle,
} from "../_util/hub_fakes.ts";
import { makeConfig } from "../../src/config/config.ts";
import { StreamHub } from "../../src/hub/stream_hub.ts";
import type { Stream } from "../../src/hub/stream.ts";
import { FrameKind } from "../../src/media/frame.ts";
import { HlsStream } from "../../src/hls/hls_stream.ts";

const KEY = "live/cam";

function setup(hubOverrides = {}) {
  const log = new RecordingLogger();
  const hub = new StreamHub(makeConfig({ hub: { mergeWindowMs: 0, ...hubOverrides } }).hub, log);
  const containers: FakeContainer[] = [];
  const hls = new HlsStream({
    hub,
    key: KEY,
    container: "fmp4",
    log,
    makeContainer: (kind) => {
      const c = new FakeContainer(kind);
      containers.push(c);
      return c;
    },
  });
  return { hub, hls, log, containers };
}

/** Headers, then `ms` of 25 fps video with a keyframe each second and audio every 40 ms, from `from`. */
function send(s: Stream, from: number, ms: number, headers = true): void {
  if (headers) {
    s.push(FrameKind.Video, from, avcSequenceHeader());
    s.push(FrameKind.Audio, from, aacSequenceHeader());
  }
  for (let t = 0; t < ms; t += 40) {
    s.push(FrameKind.Video, from + t, t % 1000 === 0 ? avcKeyframe(100) : avcInterFrame(50));
    s.push(FrameKind.Audio, from + t, aacRaw(20));
  }
}

Deno.test("HlsStream.start() attaches nothing and says false when the stream is not live", () => {
  const { hub, hls } = setup();
  assertEquals(hls.start(), false);
  assertEquals(hls.live, false);
  hub.stop();
});

Deno.test("HlsStream.start() takes the GOP cache at once as an observer (not a viewer) and segments it", async () => {
  const { hub, hls, containers } = setup();
  const s = hub.publish(KEY, new FakePublisher());
  send(s, 0, 3000);
  assert(hls.start());
  await settle();
  // The attach delivered the sequence headers and the GOP from the newest keyframe (at 2 s).
  assertEquals(containers[0].configured.length >= 2, true);
  assert(hls.segmenter.stats.framesIn > 0, "frames from the GOP cache");
  send(s, 3000, 3000, false);
  await settle();
  const snap = hls.segmenter.snapshot();
  assert(snap.segments.length >= 1, `a complete segment: ${JSON.stringify(snap.segments.length)}`);
  const stream = s.snapshot();
  assertEquals([stream.viewers.total, stream.observers], [0, 1]);
  hls.stop("test over");
  assertEquals(hub.get(KEY)!.snapshot().observers, 0);
  assert(hls.segmenter.ended, "stop() ends the playlist");
  hub.stop();
});

Deno.test("HlsStream marks a discontinuity when the publisher comes back and ends with the stream", async () => {
  const { hub, hls } = setup({ reconnectGraceMs: 10_000 });
  const first = new FakePublisher("first");
  let s = hub.publish(KEY, first);
  send(s, 0, 3000);
  assert(hls.start());
  send(s, 3000, 2000, false);
  await settle();
  hub.unpublish(s, first);
  const second = new FakePublisher("second");
  s = hub.publish(KEY, second);
  send(s, 0, 3000);
  await settle();
  const snap = hls.segmenter.snapshot();
  assert(
    [...snap.segments, ...(snap.open ? [snap.open] : [])].some((seg) => seg.discontinuity),
    "a segment after the reconnect is marked EXT-X-DISCONTINUITY",
  );
  hub.unpublish(s, second);
  hub.stop();
  await settle();
  assert(hls.closed, "the stream's end closes it");
  assert(hls.segmenter.ended);
});

/** Frames every 40 ms from `from` to `until`: a keyframe first when `key`, then inter frames. */
function gop(s: Stream, from: number, until: number, headers = false, key = true): void {
  if (headers) {
    s.push(FrameKind.Video, from, avcSequenceHeader());
    s.push(FrameKind.Audio, from, aacSequenceHeader());
  }
  for (let t = from; t < until; t += 40) {
    s.push(FrameKind.Video, t, key && t === from ? avcKeyframe(100) : avcInterFrame(50));
    s.push(FrameKind.Audio, t, aacRaw(20));
  }
}

Deno.test("HlsStream started on a GOP cache of half a target or more lists a complete segment at the next live frame", async () => {
  const { hub, hls } = setup();
  const s = hub.publish(KEY, new FakePublisher());
  gop(s, 0, 1400, true); // the GOP cache: 1.4 s since its keyframe
  assert(hls.start());
  await settle();
  assertEquals(hls.segmenter.snapshot().segments.length, 0);
  gop(s, 1400, 1440, false, false);
  await settle();
  const snap = hls.segmenter.snapshot();
  assertEquals(snap.segments.length, 1, "complete before the next keyframe");
  assert(snap.segments[0].independent, "it starts at the cached keyframe");
  hls.stop("test over");
  hub.stop();
});

Deno.test("HlsStream started on a young GOP cache lets the first segment grow to the next keyframe", async () => {
  const { hub, hls } = setup();
  const s = hub.publish(KEY, new FakePublisher());
  gop(s, 0, 600, true); // 0.6 s: a player starting on it would stall
  assert(hls.start());
  await settle();
  gop(s, 600, 640, false, false);
  await settle();
  assertEquals(hls.segmenter.snapshot().segments.length, 0);
  gop(s, 640, 2000, false, false);
  gop(s, 2000, 2040); // the next keyframe ends it
  await settle();
  assertEquals(hls.segmenter.snapshot().segments.map((x) => x.independent), [true]);
  hls.stop("test over");
  hub.stop();
});

Deno.test("HlsStream dates the GOP cache burst by its age, so PROGRAM-DATE-TIME keeps to the ingest clock", async () => {
  const log = new RecordingLogger();
  const hub = new StreamHub(makeConfig({ hub: { mergeWindowMs: 0 } }).hub, log);
  const now = 10_000_000;
  const hls = new HlsStream({
    hub,
    key: KEY,
    container: "fmp4",
    log,
    now: () => now,
    makeContainer: (kind) => new FakeContainer(kind),
  });
  const s = hub.publish(KEY, new FakePublisher());
  send(s, 0, 1600); // the GOP from the keyframe at 1.0 s to the newest frame at 1.56 s
  assert(hls.start());
  await settle();
  const open = hls.segmenter.snapshot().open!;
  assertEquals(
    open.programDateTimeMs,
    now - 560,
    "the cached keyframe is 560 ms older than the newest frame",
  );
  hls.stop("test over");
  hub.stop();
});
