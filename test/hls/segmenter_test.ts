import {
  assert,
  assertEquals,
  assertGreaterOrEqual,
  assertLess,
  assertStrictEquals,
  assertThrows,
} from "../_util/assert.ts";
import {
  decodeRecords,
  FakeContainer,
  type SyntheticOptions,
  syntheticStream,
  type Timed,
  WALL_START,
} from "../_util/fake_container.ts";
import { avcSequenceHeader, frames, mediaFrame } from "../_util/hub_fakes.ts";
import { flvFrames } from "../_util/flv_frames.ts";
import { haveTools, makeSource, probePackets } from "../_util/media.ts";
import { FrameKind } from "../../src/media/frame.ts";
import {
  Segmenter,
  type SegmenterChange,
  type SegmenterOptions,
  type SegmenterSnapshot,
  type SegmentSnapshot,
} from "../../src/hls/segmenter.ts";

function feed(s: Segmenter, items: Timed[]): Segmenter {
  for (const { frame, wall } of items) s.push(frame, wall);
  return s;
}

function segment(
  o: SyntheticOptions,
  options: SegmenterOptions = {},
  container = new FakeContainer(),
): Segmenter {
  return feed(new Segmenter(container, options), syntheticStream(o));
}

/** Every listed segment of a snapshot and the open one. */
function everySegment(snap: SegmenterSnapshot): SegmentSnapshot[] {
  return snap.open ? [...snap.segments, snap.open] : [...snap.segments];
}

/** Part durations checked against the target and the 85% floor (rfc8216bis 4.4.4.9). */
function assertPartDurations(snap: SegmenterSnapshot) {
  const target = snap.partTargetMs;
  for (const seg of everySegment(snap)) {
    const complete = seg !== snap.open;
    seg.parts.forEach((p, i) => {
      assert(p.durationMs <= target, `msn ${seg.msn} part ${i} lasts ${p.durationMs} ms > ${target}`);
      const last = complete ? i === seg.parts.length - 1 : false;
      if (!p.independent && !last) {
        assertGreaterOrEqual(
          p.durationMs,
          0.85 * target,
          `msn ${seg.msn} part ${i} lasts ${p.durationMs} ms`,
        );
      }
    });
    const sum = seg.parts.reduce((n, p) => n + p.durationMs, 0);
    assertEquals(sum, seg.durationMs, `msn ${seg.msn}: parts add up to the segment`);
  }
}

Deno.test("Segmenter.push() starts the first segment at a keyframe and drops the frames before it", () => {
  const s = new Segmenter(new FakeContainer(), { hasVideo: true });
  s.push(frames.videoHeader(0), WALL_START);
  s.push(frames.audio(0), WALL_START);
  s.push(frames.inter(0), WALL_START);
  s.push(frames.audio(23), WALL_START + 23);
  s.push(frames.key(40), WALL_START + 40);
  s.push(frames.audio(46), WALL_START + 46);
  assertEquals(s.stats.framesDropped, 3);
  s.end();
  const snap = s.snapshot();
  assertEquals(snap.segments.length, 1);
  const recs = decodeRecords(s.segment(0)!);
  assertEquals(recs[0].segmentStart, true);
  assertEquals(recs.flatMap((r) => r.frames.map((f) => [f.kind, f.timestamp, f.keyframe])), [
    [FrameKind.Video, 40, true],
    [FrameKind.Audio, 46, false],
  ]);
});

Deno.test("Segmenter.push() cuts 25 fps video with 2 s GOPs at every keyframe into 2 s segments", () => {
  const s = segment({ seconds: 13 });
  const snap = s.snapshot();
  assertEquals(snap.segments.map((x) => x.msn), [0, 1, 2, 3, 4, 5]);
  assertEquals(snap.segments.map((x) => x.durationMs), [2000, 2000, 2000, 2000, 2000, 2000]);
  assertEquals(snap.targetDurationS, 2);
  for (const seg of snap.segments) {
    const recs = decodeRecords(s.segment(seg.msn)!);
    const video = recs.flatMap((r) => r.frames).filter((f) => f.kind === FrameKind.Video);
    assertEquals(video[0].keyframe, true, `msn ${seg.msn} starts at a keyframe`);
    assertEquals(video[0].timestamp, seg.msn * 2000);
    assertEquals(video.filter((f) => f.keyframe).length, 1);
    assertEquals(video.length, 50);
    assertEquals(seg.independent, true);
    assertEquals(seg.parts[0].independent, true);
  }
  assertPartDurations(snap);
  assertEquals(s.stats.partOverruns, 0);
});

Deno.test("Segmenter.push() follows a 5 s GOP and raises TARGETDURATION to 5", () => {
  const s = segment({ seconds: 21, gopMs: 5000 });
  const snap = s.snapshot();
  assertEquals(snap.segments.map((x) => x.durationMs), [5000, 5000, 5000, 5000]);
  assertEquals(snap.targetDurationS, 5);
  assertEquals(s.stats.forcedCuts, 0);
  assertPartDurations(snap);
});

Deno.test("Segmenter.push() cuts an audio-only stream by duration at audio frames, every part independent", () => {
  const s = segment({ seconds: 12, fps: 0 });
  const snap = s.snapshot();
  // The first second of audio is dropped while waiting for a sign of video (audioOnlyAfterMs).
  assertEquals(s.stats.framesDropped, 44);
  assert(snap.segments.length >= 4);
  for (const seg of snap.segments) {
    assertGreaterOrEqual(seg.durationMs, 1990);
    assertLess(seg.durationMs, 2030);
    assert(seg.parts.every((p) => p.independent));
    const recs = decodeRecords(s.segment(seg.msn)!);
    assert(recs.flatMap((r) => r.frames).every((f) => f.kind === FrameKind.Audio));
  }
  assertPartDurations(snap);
});

Deno.test("Segmenter.push() with hasVideo false takes audio at once and ignores video", () => {
  const s = segment({ seconds: 4.5 }, { hasVideo: false });
  const snap = s.snapshot();
  assertEquals(snap.segments[0].parts[0].independent, true);
  const recs = decodeRecords(s.segment(0)!);
  assertEquals(recs[0].frames[0].timestamp, 0);
  assert(recs.flatMap((r) => r.frames).every((f) => f.kind === FrameKind.Audio));
});

Deno.test("Segmenter.push() keeps parts within the part target and above 85% of it for 25 and 50 fps, audio, video", () => {
  const cases: [string, SyntheticOptions, SegmenterOptions][] = [
    ["25 fps + AAC", { seconds: 11 }, {}],
    ["50 fps + AAC", { seconds: 11, fps: 50 }, {}],
    ["25 fps video only", { seconds: 11, audio: false }, {}],
    ["50 fps video only", { seconds: 11, fps: 50, audio: false }, {}],
    ["AAC only", { seconds: 11, fps: 0 }, {}],
    ["25 fps + AAC, 200 ms parts", { seconds: 11 }, { partTargetMs: 200 }],
    ["50 fps + AAC, 500 ms parts", { seconds: 11, fps: 50 }, { partTargetMs: 500 }],
  ];
  for (const [what, o, opts] of cases) {
    const s = segment(o, opts);
    const snap = s.snapshot();
    assert(snap.segments.length >= 4, what);
    try {
      assertPartDurations(snap);
    } catch (e) {
      throw new Error(`${what}: ${(e as Error).message}`);
    }
    assertEquals(s.stats.partOverruns, 0, what);
  }
});

Deno.test("Segmenter.segment() is its parts' bytes concatenated, and every frame is packed once in order", () => {
  const items = syntheticStream({ seconds: 9 });
  const s = feed(new Segmenter(new FakeContainer(), { windowSegments: 10 }), items);
  s.end();
  const snap = s.snapshot();
  const seen: [number, number][] = [];
  for (const seg of snap.segments) {
    const bytes = s.segment(seg.msn)!;
    const parts = seg.parts.map((p) => s.part(seg.msn, p.index)!);
    assertEquals(bytes, Uint8Array.from(parts.flatMap((p) => [...p])));
    const recs = decodeRecords(bytes);
    assertEquals(recs.length, seg.parts.length);
    recs.forEach((r, i) => assertEquals(r.segmentStart, i === 0));
    for (const r of recs) for (const f of r.frames) seen.push([f.kind, f.seq]);
  }
  // The audio frame at 0 comes before the keyframe at 0 and is dropped; everything after it goes in.
  const media = items.map((x) => x.frame).filter((f) => !f.sequenceHeader).slice(1);
  assertEquals(s.stats.framesDropped, 1);
  assertEquals(seen, media.map((f) => [f.kind, f.seq] as [number, number]));
});

Deno.test("Segmenter.push() packs each part with the timestamp of the frame that starts the next one", () => {
  const s = segment({ seconds: 5 });
  const snap = s.snapshot();
  const recs = snap.segments.flatMap((seg) => decodeRecords(s.segment(seg.msn)!));
  for (let i = 0; i + 1 < recs.length; i++) {
    assertEquals(recs[i].nextTimestamp, recs[i + 1].frames[0].timestamp);
  }
});

Deno.test("Segmenter.push() lists windowSegments segments, numbered from 0, and keeps evicted ones for a while", () => {
  const s = segment({ seconds: 31 }, { windowSegments: 6 });
  const snap = s.snapshot();
  assertEquals(snap.segments.map((x) => x.msn), [9, 10, 11, 12, 13, 14]);
  assertEquals(snap.mediaSequence, 9);
  assertEquals(snap.open?.msn, 15);
  // RFC 8216 6.2.2: an evicted segment stays for its duration plus the playlist's (2 + 14 s here):
  // msn k is evicted at (k + 7) x 2 s, when msn k + 6 completes, and dropped 16 s later.
  assert(s.segment(8) !== undefined && s.part(8, 0) !== undefined, "msn 8 evicted 0.9 s ago is still there");
  assert(s.segment(1) !== undefined, "msn 1 evicted 15 s ago is still there");
  assert(s.segment(0) === undefined, "msn 0 evicted 17 s ago is gone");
  assert(s.segment(15) === undefined, "the open segment is not complete");
  assert(s.part(15, 0) !== undefined, "the open segment's parts are there");
  assert(s.segment(99) === undefined);
});

Deno.test("Segmenter.push() drops retained, then listed, segments past maxBytes", () => {
  const s = segment({ seconds: 31, frameBytes: 4000 }, {
    maxBytes: 1024 * 1024,
    maxSegmentBytes: 256 * 1024,
  });
  assert(s.stats.evictedForBytes > 0);
  assert(s.stats.bytesHeld <= 1024 * 1024 + 256 * 1024, `holds ${s.stats.bytesHeld}`);
  const snap = s.snapshot();
  assert(snap.segments.length >= 1 && snap.segments.length < 6, `${snap.segments.length} listed`);
});

Deno.test("Segmenter.push() dates each segment from the wall clock of its first frame", () => {
  const s = segment({ seconds: 9, wallStartMs: WALL_START + 500 });
  assertEquals(s.snapshot().segments.map((x) => x.programDateTimeMs - WALL_START), [500, 2500, 4500, 6500]);
});

Deno.test("Segmenter.push() never dates a segment before the previous one's end (a burst at one wall clock)", () => {
  const items = syntheticStream({ seconds: 9 }).map((x) => ({ ...x, wall: WALL_START }));
  const s = feed(new Segmenter(new FakeContainer()), items);
  assertEquals(s.snapshot().segments.map((x) => x.programDateTimeMs - WALL_START), [0, 2000, 4000, 6000]);
});

Deno.test("Segmenter.push() packs the open part before a changed sequence header, then starts a discontinuous segment at the next keyframe", () => {
  const container = new FakeContainer();
  const s = new Segmenter(container);
  feed(s, syntheticStream({ seconds: 3 }));
  container.calls.length = 0;
  s.push(mediaFrame(FrameKind.Video, 3000, avcSequenceHeader(8, 7)), WALL_START + 3000);
  assertEquals(container.calls, ["pack", "configure"]);
  // The next frames: inter frames are dropped until the keyframe.
  feed(
    s,
    syntheticStream({ seconds: 1.5, startMs: 3000, gopMs: 1000, headers: false, audio: false }),
  );
  const snap = s.snapshot();
  assertEquals(snap.segments.map((x) => [x.msn, x.discontinuity]), [[0, false], [1, false]]);
  assertEquals(snap.open?.discontinuity, true);
  assertEquals(snap.open?.msn, 2);
  const first = decodeRecords(s.part(2, 0)!)[0].frames[0];
  assertEquals([first.keyframe, first.timestamp], [true, 3000]);
});

Deno.test("Segmenter.push() keeps one segment going when a sequence header repeats unchanged", () => {
  const container = new FakeContainer();
  const s = new Segmenter(container);
  feed(s, syntheticStream({ seconds: 1 }));
  const parts = s.stats.parts;
  s.push(frames.videoHeader(1000), WALL_START + 1000);
  assertEquals(s.stats.parts, parts, "no part packed early");
  assertEquals(s.snapshot().open?.msn, 0);
});

Deno.test("Segmenter.discontinuity() ends the open segment and marks the next; DISCONTINUITY-SEQUENCE counts evicted ones", () => {
  const s = new Segmenter(new FakeContainer(), { windowSegments: 3 });
  feed(s, syntheticStream({ seconds: 5 }));
  s.discontinuity();
  let snap = s.snapshot();
  assertEquals(snap.open, undefined);
  assertEquals(snap.segments.at(-1)?.msn, 2);
  assertPartDurations(snap);
  // The publisher resumes: timestamps continue just after the last frame.
  const resumed = syntheticStream({
    seconds: 14,
    startMs: 5001,
    wallStartMs: WALL_START + 9000,
    headers: false,
  });
  feed(s, resumed.filter((x) => x.frame.timestamp < 6500));
  snap = s.snapshot();
  assertEquals(snap.open?.msn, 3);
  assertEquals(snap.open?.discontinuity, true);
  assertEquals(snap.discontinuitySequence, 0);
  feed(s, resumed.filter((x) => x.frame.timestamp >= 6500));
  snap = s.snapshot();
  assert(!snap.segments.some((x) => x.msn === 3), "msn 3 evicted");
  assertEquals(snap.discontinuitySequence, 1);
});

Deno.test("Segmenter.push() cuts at maxSegmentMs when no keyframe comes and marks the segment not independent", () => {
  const s = segment({ seconds: 25, gopMs: 20000 }, { maxSegmentMs: 4000 });
  const snap = s.snapshot();
  assertEquals(snap.segments.map((x) => x.durationMs), [4000, 4000, 4000, 4000, 4000, 4000]);
  assertEquals(snap.segments.map((x) => x.independent), [true, false, false, false, false, true]);
  assertEquals(snap.segments[1].parts[0].independent, false);
  assertEquals(s.stats.forcedCuts, 5, "at 4, 8, 12, 16 and 24 s");
  assertEquals(snap.targetDurationS, 4);
});

Deno.test("Segmenter.init() gives a new version when configure changes it and keeps the old one while a segment needs it", () => {
  const s = new Segmenter(new FakeContainer("fmp4"), { windowSegments: 2 });
  assertEquals(s.init(), undefined);
  feed(s, syntheticStream({ seconds: 4.5 }));
  const v1 = s.init()!;
  // Video then audio config: two versions before any media.
  assertEquals(v1.version, 2);
  assertEquals(s.snapshot().segments.map((x) => x.initVersion), [2, 2]);
  s.push(mediaFrame(FrameKind.Video, 4500, avcSequenceHeader(8, 9)), WALL_START + 4500);
  feed(s, syntheticStream({ seconds: 1.5, startMs: 4500, headers: false, audio: false }));
  const v2 = s.init()!;
  assertEquals(v2.version, 3);
  assertEquals(s.init(2)?.bytes, v1.bytes);
  assertEquals(s.snapshot().open?.initVersion, 3);
  assertEquals(s.snapshot().open?.discontinuity, true);
  assertEquals(new Segmenter(new FakeContainer("ts")).init(), undefined);
});

Deno.test("Segmenter.onChange() tells each new part and segment with the newest part; nextChange() resolves", async () => {
  const s = new Segmenter(new FakeContainer(), { maxListeners: 2 });
  const seen: SegmenterChange[] = [];
  const off = s.onChange((c) => seen.push(c));
  const next = s.nextChange();
  feed(s, syntheticStream({ seconds: 2.1 }));
  assertEquals(await next, seen[0]);
  assertEquals(seen[0], { type: "part", lastMsn: 0, lastPart: 0 });
  assertEquals(seen.at(-1)?.type, "segment");
  assertEquals(seen.at(-1)?.lastMsn, 0);
  assertEquals(seen.filter((c) => c.type === "part").length, s.stats.parts - 1);
  s.onChange(() => {});
  assertThrows(() => s.onChange(() => {}), TypeError, "limit 2");
  off();
  const n = seen.length;
  s.end();
  assertEquals(seen.length, n);
});

Deno.test("Segmenter.snapshot() is one object until the next change", () => {
  const items = syntheticStream({ seconds: 4 });
  const s = feed(new Segmenter(new FakeContainer()), items.filter((x) => x.frame.timestamp < 3000));
  const before = s.snapshot();
  assertStrictEquals(s.snapshot(), before);
  const parts = s.stats.parts;
  for (const { frame, wall } of items.filter((x) => x.frame.timestamp >= 3000)) {
    s.push(frame, wall);
    if (s.stats.parts > parts) break;
    assertStrictEquals(s.snapshot(), before, "the same until a part is added");
  }
  assert(s.snapshot() !== before);
  assertEquals(s.snapshot().open?.parts.length, before.open!.parts.length + 1);
});

Deno.test("Segmenter.end() completes the open segment and refuses more frames", () => {
  const s = segment({ seconds: 3 });
  s.end();
  const snap = s.snapshot();
  assertEquals(snap.ended, true);
  assertEquals(snap.open, undefined);
  assertEquals(snap.nextPart, undefined);
  assertEquals(snap.segments.map((x) => x.msn), [0, 1]);
  assertPartDurations(snap);
  assertThrows(
    () => s.push(frames.key(4000), WALL_START),
    TypeError,
    "Cannot push a frame: current segmenter has ended",
  );
});

Deno.test("new Segmenter() refuses options out of range", () => {
  assertThrows(
    () => new Segmenter(new FakeContainer(), { partTargetMs: 100 }),
    RangeError,
    "Cannot create Segmenter: partTargetMs is 100, expected an integer from 200 to 500",
  );
  assertThrows(() => new Segmenter(new FakeContainer(), { windowSegments: 0 }), RangeError, "windowSegments");
  assertThrows(
    () => new Segmenter(new FakeContainer(), { targetDurationMs: 2000.5 }),
    RangeError,
    "targetDurationMs",
  );
  assertThrows(
    () => new Segmenter(new FakeContainer(), { maxSegmentMs: 1500, targetDurationMs: 2000 }),
    RangeError,
    "maxSegmentMs",
  );
});

Deno.test("Segmenter.push() turns to video with a discontinuity when video shows up in an audio-only stream", () => {
  const s = segment({ seconds: 5, fps: 0 });
  assertEquals(s.snapshot().open?.parts[0].independent, true);
  feed(s, syntheticStream({ seconds: 1.5, startMs: 5000, wallStartMs: WALL_START + 5000 }));
  const snap = s.snapshot();
  const video = snap.open!;
  assertEquals(video.discontinuity, true);
  const first = decodeRecords(s.part(video.msn, 0)!)[0].frames[0];
  assertEquals([first.kind, first.keyframe], [FrameKind.Video, true]);
});

Deno.test({
  name:
    "Segmenter.push() cuts an ffmpeg FLV (25 fps, 2 s GOP, B-frames, AAC) at its keyframes with every frame once",
  ignore: !haveTools("ffmpeg", "ffprobe"),
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      const path = await makeSource(`${dir}/src.flv`, { seconds: 13, bframes: 2 });
      const items = flvFrames(await Deno.readFile(path));
      const packets = await probePackets(path);
      const keyTimes = packets.filter((p) => p.type === "video" && p.keyframe).map((p) => p.dts);
      const s = new Segmenter(new FakeContainer(), { windowSegments: 10 });
      for (const f of items) s.push(f, WALL_START + f.timestamp);
      s.end();
      const snap = s.snapshot();
      const starts: number[] = [];
      const seen: [number, number][] = [];
      for (const seg of snap.segments) {
        const all = decodeRecords(s.segment(seg.msn)!).flatMap((r) => r.frames);
        const v = all.find((f) => f.kind === FrameKind.Video)!;
        assertEquals(v.keyframe, true);
        starts.push(v.timestamp);
        for (const f of all) seen.push([f.kind, f.seq]);
      }
      assertEquals(starts, keyTimes);
      const media = items.filter((f) => f.kind !== FrameKind.Data && !f.sequenceHeader);
      // Nothing before the first keyframe is dropped: the file starts with one.
      assertEquals(s.stats.framesDropped, media.findIndex((f) => f.keyframe));
      const kept = media.slice(s.stats.framesDropped);
      assertEquals(seen, kept.map((f) => [f.kind, f.seq] as [number, number]));
      // ffprobe's video packets are the coded frames (AVCPacketType 1; ffmpeg's end-of-sequence tag is none).
      const coded = kept.filter((f) => f.kind === FrameKind.Video && f.payload[1] === 1);
      assertEquals(packets.filter((p) => p.type === "video").length, coded.length);
      assertPartDurations(snap);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("Segmenter.cutAtNextFrame() ends the open segment at the next frame; the next one is not independent", () => {
  const all = syntheticStream({ seconds: 2.4 });
  const burst = all.filter((t) => t.frame.timestamp < 1200);
  const seg = feed(new Segmenter(new FakeContainer("fmp4")), burst);
  assertEquals(seg.snapshot().segments.length, 0);
  seg.cutAtNextFrame();
  feed(seg, [all[burst.length]]);
  const snap = seg.snapshot();
  assertEquals(snap.segments.length, 1, "the burst's segment is complete at the next frame");
  assert(snap.segments[0].independent);
  assertEquals(snap.open?.independent, false, "the segment after it starts without a keyframe");
  assertEquals(seg.stats.forcedCuts, 1);
});

Deno.test("Segmenter: the segment after a forced cut ends at its first keyframe, however short", () => {
  const all = syntheticStream({ seconds: 4.4 });
  const burst = all.filter((t) => t.frame.timestamp < 1200);
  const seg = feed(new Segmenter(new FakeContainer("fmp4")), burst);
  seg.cutAtNextFrame();
  feed(seg, all.slice(burst.length).filter((t) => t.frame.timestamp <= 2000));
  const snap = seg.snapshot();
  assertEquals(snap.segments.length, 2, "the burst's segment and the one cut at the 2 s keyframe");
  assertEquals(snap.segments[1].independent, false);
  assertLess(snap.segments[1].durationMs, 1000);
  assertEquals(snap.open?.independent, true);
  assertEquals(snap.targetDurationS, 2, "no segment longer than the target");
});
