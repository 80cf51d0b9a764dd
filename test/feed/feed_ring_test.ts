import {
  assert,
  assertEquals,
  assertGreater,
  assertGreaterOrEqual,
  assertLess,
  assertMatch,
  assertRejects,
  assertThrows,
} from "../_util/assert.ts";
import {
  aacRaw,
  avcInterFrame,
  avcKeyframe,
  frames,
  mediaFrame,
  RecordingLogger,
} from "../_util/hub_fakes.ts";
import { FrameKind, type MediaFrame } from "../../src/media/frame.ts";
import {
  AUDIO_GROUP_MS,
  FeedRing,
  RING_MIN_BYTES,
  type RingOptions,
  type RingReader,
  type RingTag,
} from "../../src/feed/feed_ring.ts";
import { RingLayout } from "../../src/feed/ring_format.ts";
import { encodeData } from "../../src/rtmp/command.ts";

/** Deno.test with the op and resource sanitizers on: a ring must leave no write, read or file open. */
function test(name: string, fn: () => Promise<void>): void {
  Deno.test({ name, fn, sanitizeOps: true, sanitizeResources: true });
}

/** A temporary directory for the test, removed after it. */
async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "sluice-ring-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** A wall clock that is `base` plus what the test sets. */
function fakeClock(base = 1_700_000_000_000): { now: number; clock: () => number } {
  const c = { now: base, clock: () => c.now };
  return c;
}

function open(path: string, options: Partial<RingOptions> = {}): Promise<FeedRing> {
  return FeedRing.open(path, { maxBytes: 256 * 1024, log: new RecordingLogger(), ...options });
}

/** A video keyframe tag body of `n` bytes (AVC NALU, keyframe) filled with `fill`. */
function keyPayload(n: number, fill: number): Uint8Array {
  const p = new Uint8Array(n).fill(fill);
  p.set(avcKeyframe(0));
  return p;
}

interface AvOptions {
  /** First timestamp (the hub's; a new publish starts at 0). */
  from?: number;
  gopMs?: number;
  keyBytes?: number;
  interBytes?: number;
  audioBytes?: number;
  /** Send metadata and sequence headers first. Default true. */
  headers?: boolean;
}

/** A synthetic A/V stream of `ms` ms: 25 frames/s video with a keyframe every `gopMs`, AAC every 23 ms. */
function av(ms: number, o: AvOptions = {}): MediaFrame[] {
  const from = o.from ?? 0;
  const gopMs = o.gopMs ?? 2_000;
  const out: MediaFrame[] = o.headers === false ? [] : [
    frames.metadata(from),
    frames.videoHeader(from),
    frames.audioHeader(from),
  ];
  let a = 0;
  for (let t = 0; t < ms; t += 40) {
    for (; a * 23 <= t; a++) {
      out.push(mediaFrame(FrameKind.Audio, from + a * 23, aacRaw(o.audioBytes ?? 200, a & 0xff)));
    }
    const key = t % gopMs === 0;
    const v = t / 40;
    out.push(
      mediaFrame(
        FrameKind.Video,
        from + t,
        key ? keyPayload(o.keyBytes ?? 3_000, v & 0xff) : avcInterFrame(o.interBytes ?? 800, v & 0xff),
      ),
    );
  }
  return out;
}

function appendAll(ring: FeedRing, fs: readonly MediaFrame[]): void {
  for (const f of fs) ring.append(f);
}

/** Appends, letting the disk take the bytes every `everyBytes` (as a publisher's pace would). */
async function appendFlushing(
  ring: FeedRing,
  fs: readonly MediaFrame[],
  everyBytes = 32 * 1024,
): Promise<void> {
  let n = 0;
  for (const f of fs) {
    ring.append(f);
    n += f.payload.length;
    if (n >= everyBytes) {
      await ring.flush();
      n = 0;
    }
  }
  await ring.flush();
}

/** Reads tags until none comes within `idleMs`; returns them and the next() still waiting. */
async function readIdle(
  reader: RingReader,
  idleMs = 50,
): Promise<{ tags: RingTag[]; pending: Promise<RingTag | null> }> {
  const tags: RingTag[] = [];
  for (;;) {
    const next = reader.next();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const idle = new Promise<"idle">((resolve) => timer = setTimeout(() => resolve("idle"), idleMs));
    const r = await Promise.race([next, idle]);
    clearTimeout(timer);
    if (r === "idle") return { tags, pending: next };
    if (r === null) return { tags, pending: next };
    tags.push(r);
  }
}

/** Reads tags until none comes within `idleMs`, then closes the reader. */
async function readToHead(reader: RingReader, idleMs = 50): Promise<RingTag[]> {
  const { tags, pending } = await readIdle(reader, idleMs);
  reader.close();
  assertEquals(await pending, null);
  return tags;
}

/** What a group start looks like from a reader: metadata, the two sequence headers, then a keyframe. */
function assertGroupStart(tags: readonly RingTag[], at = 0): void {
  const [meta, vsh, ash, key] = tags.slice(at, at + 4);
  assertEquals(meta.kind, FrameKind.Data);
  assertEquals([vsh.kind, vsh.sequenceHeader], [FrameKind.Video, true]);
  assertEquals([ash.kind, ash.sequenceHeader], [FrameKind.Audio, true]);
  assertEquals([key.kind, key.keyframe], [FrameKind.Video, true]);
  assertEquals(new Set([meta.timestamp, vsh.timestamp, ash.timestamp, key.timestamp]).size, 1);
}

function assertMonotonic(tags: readonly RingTag[]): void {
  for (let i = 1; i < tags.length; i++) {
    assert(
      tags[i].timestamp >= tags[i - 1].timestamp,
      `tag ${i}: ${tags[i].timestamp} after ${tags[i - 1].timestamp}`,
    );
  }
}

test("FeedRing.open() refuses a maxBytes below the minimum, or not a whole number, with a RangeError", async () => {
  await withDir(async (dir) => {
    const e = await assertRejects(() => FeedRing.open(`${dir}/r`, { maxBytes: 17 * 4096 - 1 }), RangeError);
    assertEquals(e.message, `Cannot open feed ring: maxBytes 69631 is below the minimum ${RING_MIN_BYTES}`);
    assertEquals(RING_MIN_BYTES, 17 * 4096);
    await assertRejects(() => FeedRing.open(`${dir}/r`, { maxBytes: NaN }), RangeError, "not a whole number");
    await assertRejects(
      () => FeedRing.open(`${dir}/r`, { maxBytes: RING_MIN_BYTES, maxPendingBytes: 0 }),
      RangeError,
      "maxPendingBytes 0",
    );
    // Nothing was created.
    await assertRejects(() => Deno.stat(`${dir}/r`), Deno.errors.NotFound);
  });
});

test("FeedRing.open() creates a file of one header block that grows as blocks are written", async () => {
  await withDir(async (dir) => {
    const ring = await open(`${dir}/r`);
    assertEquals((await Deno.stat(`${dir}/r`)).size, 4096);
    assertEquals(ring.blockCount, 63);
    assertEquals(ring.newestTimestamp, undefined);
    assertEquals(ring.reader({ agoMs: 0 }), undefined);
    appendAll(ring, av(1_000));
    await ring.flush();
    const size = (await Deno.stat(`${dir}/r`)).size;
    assertGreater(size, 4096);
    assertLess(size, 64 * 1024);
    assertEquals(ring.stats().fileBytes, size);
    await ring.close();
  });
});

test("FeedRing never grows its file beyond maxBytes, however many times it wraps", async () => {
  await withDir(async (dir) => {
    const maxBytes = 256 * 1024 + 1000; // not a whole number of blocks
    const ring = await open(`${dir}/r`, { maxBytes });
    let sizes = 0;
    for (let s = 0; s < 120; s++) {
      appendAll(ring, av(1_000, { from: s * 1_000, headers: s === 0 }));
      await ring.flush();
      const size = (await Deno.stat(`${dir}/r`)).size;
      assert(size <= maxBytes, `${size} bytes after ${s + 1} s`);
      sizes = Math.max(sizes, size);
    }
    assertEquals(sizes, 64 * 4096); // the header block and 63 data blocks
    assertGreaterOrEqual(ring.stats().wraps, 10);
    assertGreater(ring.stats().groups, 0);
    await ring.close();
  });
});

test("FeedRing.reader() gets metadata, sequence headers and the keyframe first, then every tag in order", async () => {
  await withDir(async (dir) => {
    const ring = await open(`${dir}/r`, { maxBytes: 4 * 1024 * 1024 });
    const sent = av(10_000);
    appendAll(ring, sent);
    const tags = await readToHead(ring.reader({ agoMs: 1e9 })!);
    assertGroupStart(tags);
    assertMonotonic(tags);
    assertEquals(tags[0].timestamp, 0);
    // What was sent from the first keyframe on, in order, bytes intact, with the metadata and headers
    // again before every keyframe (the ones sent first, and the audio frame before that keyframe, lie
    // before the first group start).
    const firstKey = sent.findIndex((f) => f.keyframe);
    const expected = sent.slice(firstKey).flatMap((f) => f.keyframe ? [sent[0], sent[1], sent[2], f] : [f]);
    assertEquals(tags.length, expected.length);
    tags.forEach((t, i) => {
      const f = expected[i];
      assertEquals(t.payload, f.payload);
      assertEquals([t.kind, t.keyframe, t.sequenceHeader], [f.kind, f.keyframe, f.sequenceHeader]);
      if (!f.sequenceHeader && f.kind !== FrameKind.Data) assertEquals(t.timestamp, f.timestamp);
    });
    assertEquals(ring.groups.length, 5);
    assertEquals(ring.oldestTimestamp, 0);
    assertEquals(ring.newestTimestamp, 9_960);
    await ring.close();
  });
});

test("FeedRing.reader({agoMs}) starts at the group start at or before newest - agoMs", async () => {
  await withDir(async (dir) => {
    const ring = await open(`${dir}/r`, { maxBytes: 4 * 1024 * 1024 });
    appendAll(ring, av(20_000, { gopMs: 1_000 }));
    const newest = ring.newestTimestamp!;
    for (const agoMs of [0, 900, 5_000, 12_345]) {
      const reader = ring.reader({ agoMs })!;
      const tags = await readToHead(reader);
      assertGroupStart(tags);
      assert(tags[0].timestamp <= newest - agoMs, `agoMs ${agoMs}: starts at ${tags[0].timestamp}`);
      assert(tags[0].timestamp > newest - agoMs - 1_000, `agoMs ${agoMs}: within one GOP`);
    }
    // Before the oldest: clamped to it.
    assertEquals((await readToHead(ring.reader({ agoMs: 1e9 })!))[0].timestamp, 0);
    assertThrows(() => ring.reader({ agoMs: -1 }), RangeError, "agoMs -1");
    await ring.close();
  });
});

test("FeedRing.reader({wallMs}) starts at the newest group start written at or before that time", async () => {
  await withDir(async (dir) => {
    const c = fakeClock();
    const ring = await open(`${dir}/r`, { maxBytes: 4 * 1024 * 1024, clock: c.clock });
    // Written as it plays: the wall clock moves with the media.
    for (const f of av(20_000)) {
      c.now = 1_700_000_000_000 + f.timestamp;
      ring.append(f);
    }
    const at = 1_700_000_000_000 + 9_000;
    const tags = await readToHead(ring.reader({ wallMs: at })!);
    assertGroupStart(tags);
    assertEquals(tags[3].wallMs, 1_700_000_000_000 + 8_000);
    assertEquals(tags[3].timestamp, 8_000);
    assertEquals((await readToHead(ring.reader({ wallMs: 0 })!))[0].timestamp, 0);
    assertEquals(ring.groups[4], { timestamp: 8_000, wallMs: 1_700_000_000_000 + 8_000 });
    await ring.close();
  });
});

test("FeedRing.open() of a closed ring keeps its past readable and its timeline goes on after it", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/r`;
    let ring = await open(path, { maxBytes: 4 * 1024 * 1024 });
    appendAll(ring, av(10_000));
    const before = await readToHead(ring.reader({ agoMs: 1e9 })!);
    await ring.close();

    const log = new RecordingLogger();
    ring = await open(path, { maxBytes: 4 * 1024 * 1024, log });
    assertMatch(
      log.lines.map((l) => l.msg).join("\n"),
      /reopened with \d+ records in 5 groups \(0\.\.9960 ms\)/,
    );
    assertEquals(ring.newestTimestamp, 9_960);
    assertEquals(ring.groups.length, 5);
    assertEquals(await readToHead(ring.reader({ agoMs: 1e9 })!), before);
    // A new publisher's timestamps start at 0 again: the ring goes on 1 ms after its newest.
    appendAll(ring, av(4_000));
    const across = ring.reader({ agoMs: 1e9 })!;
    const after = await readToHead(across);
    assertEquals([across.resyncs, across.skips], [0, 0]); // the rest of the block before the restart is bridged
    assertMonotonic(after);
    const resumed = after.slice(before.length);
    // Its headers are those the ring rebuilt from the file, so they are not written again; its first audio
    // frame comes next.
    assertEquals([resumed[0].kind, resumed[0].timestamp], [FrameKind.Audio, 9_961]);
    assertGroupStart(resumed, resumed.findIndex((t) => t.kind === FrameKind.Data));
    assertEquals(ring.newestTimestamp, 9_961 + 3_960);
    await ring.close();
  });
});

test("FeedRing stores tags bigger than a block across blocks, intact", async () => {
  await withDir(async (dir) => {
    const ring = await open(`${dir}/r`, { maxBytes: 4 * 1024 * 1024 });
    const sent = av(10_000, { gopMs: 1_000, keyBytes: 100_000, interBytes: 9_000 });
    await appendFlushing(ring, sent, 256 * 1024);
    assertEquals(ring.stats().dropped, 0);
    const tags = await readToHead(ring.reader({ agoMs: 1e9 })!);
    const keys = tags.filter((t) => t.keyframe);
    assertEquals(keys.length, 10);
    keys.forEach((k, i) => assertEquals(k.payload, keyPayload(100_000, (i * 25) & 0xff)));
    const media = sent.slice(sent.findIndex((f) => f.keyframe));
    assertEquals(
      tags.filter((t) => !t.sequenceHeader && t.kind !== FrameKind.Data).map((t) => t.payload),
      media.map((f) => f.payload),
    );
    await ring.close();
  });
});

test("RingReader.next() at the head waits for the writer and gets the tag appended next", async () => {
  await withDir(async (dir) => {
    const ring = await open(`${dir}/r`);
    appendAll(ring, av(1_000));
    const reader = ring.reader({ agoMs: 0 })!;
    const { tags, pending: waiting } = await readIdle(reader);
    assertEquals(tags.at(-1)!.timestamp, 960);
    const f = mediaFrame(FrameKind.Video, 1_000, avcInterFrame(10, 0x5a));
    ring.append(f);
    const tag = await waiting;
    assertEquals([tag!.kind, tag!.timestamp, tag!.payload], [FrameKind.Video, 1_000, f.payload]);
    reader.close();
    await ring.close();
  });
});

/** Reads exactly `n` tags (the reader stays open). */
async function readToHeadKeepOpen(reader: RingReader, n: number): Promise<RingTag[]> {
  const out: RingTag[] = [];
  while (out.length < n) out.push((await reader.next())!);
  return out;
}

test("RingReader overtaken by the wrap jumps to the oldest group start and counts a skip", async () => {
  await withDir(async (dir) => {
    const ring = await open(`${dir}/r`);
    appendAll(ring, av(4_000));
    const reader = ring.reader({ agoMs: 1e9 })!;
    await readToHeadKeepOpen(reader, 5);
    // A few laps more while the reader waits.
    for (let s = 4; s < 40; s++) await appendFlushing(ring, av(1_000, { from: s * 1_000, headers: false }));
    const tags = await readToHead(reader);
    assertEquals(reader.skips, 1);
    assertGroupStart(tags);
    assertEquals(tags[0].timestamp, ring.oldestTimestamp);
    assertMonotonic(tags);
    await ring.close();
  });
});

test("RingReader jumps when the wrap overtakes it while it reads a lap behind", async () => {
  await withDir(async (dir) => {
    const ring = await open(`${dir}/r`);
    appendAll(ring, av(2_000));
    const reader = ring.reader({ agoMs: 1e9 })!;
    const got: RingTag[] = [];
    // The writer writes a lap for every few tags read.
    for (let s = 2; s < 30; s++) {
      await appendFlushing(ring, av(1_000, { from: s * 1_000, headers: false }));
      for (let i = 0; i < 3; i++) got.push((await reader.next())!);
    }
    assertGreater(reader.skips, 0);
    assertEquals(ring.stats().dropped, 0);
    assertMonotonic(got);
    reader.close();
    await ring.close();
  });
});

test("FeedRing drops frames past the pending bound until the next keyframe, and counts them", async () => {
  await withDir(async (dir) => {
    const log = new RecordingLogger();
    const ring = await open(`${dir}/r`, { maxBytes: 4 * 1024 * 1024, maxPendingBytes: 64 * 1024, log });
    // Appended in one turn: the disk gets no chance to take anything, as if it were stalled.
    ring.append(frames.videoHeader(0));
    ring.append(mediaFrame(FrameKind.Video, 0, keyPayload(20_000, 1)));
    for (let i = 1; i <= 10; i++) ring.append(mediaFrame(FrameKind.Video, i * 40, avcInterFrame(10_000, i)));
    assertEquals(ring.stats().dropped, 6); // 20 KB + 4 x 10 KB fit under 64 KB
    assertGreater(ring.stats().pendingBytes, 60_000);
    await ring.flush();
    // Still dropping: an inter frame depends on the ones dropped.
    ring.append(mediaFrame(FrameKind.Video, 440, avcInterFrame(100, 11)));
    assertEquals(ring.stats().dropped, 7);
    ring.append(mediaFrame(FrameKind.Video, 480, keyPayload(1_000, 12)));
    ring.append(mediaFrame(FrameKind.Video, 520, avcInterFrame(100, 13)));
    assertEquals(ring.stats().dropped, 7);
    const warns = log.lines.filter((l) => l.level === "warn");
    assertEquals(warns.length, 1);
    assertMatch(
      warns[0].msg,
      /dropped 1 frame since the last warning \(\d+ bytes wait for the disk \(limit 65536\)\)/,
    );
    const tags = await readToHead(ring.reader({ agoMs: 1e9 })!);
    assertEquals(tags.filter((t) => !t.sequenceHeader).map((t) => t.timestamp), [
      0,
      40,
      80,
      120,
      160,
      480,
      520,
    ]);
    await ring.close();
  });
});

test("FeedRing.append() drops a payload above maxRecordBytes and goes on at the next keyframe", async () => {
  await withDir(async (dir) => {
    const ring = await open(`${dir}/r`, { maxBytes: RING_MIN_BYTES });
    assertEquals(ring.maxRecordBytes, 16 * 4096 / 8);
    ring.append(mediaFrame(FrameKind.Video, 0, keyPayload(1_000, 1)));
    ring.append(mediaFrame(FrameKind.Video, 40, keyPayload(9_000, 2)));
    ring.append(mediaFrame(FrameKind.Video, 80, avcInterFrame(10, 3)));
    ring.append(mediaFrame(FrameKind.Video, 120, keyPayload(100, 4)));
    assertEquals(ring.stats().dropped, 2);
    const tags = await readToHead(ring.reader({ agoMs: 1e9 })!);
    assertEquals(tags.map((t) => t.timestamp), [0, 120]);
    await ring.close();
  });
});

test("FeedRing writes a changed sequence header where it arrives, and an unchanged one only in group starts", async () => {
  await withDir(async (dir) => {
    const ring = await open(`${dir}/r`);
    ring.append(frames.videoHeader(0));
    ring.append(frames.key(0));
    ring.append(frames.videoHeader(40)); // the same bytes again
    ring.append(frames.inter(40));
    const changed = mediaFrame(FrameKind.Video, 80, Uint8Array.of(0x17, 0x00, 0, 0, 0, 0x09, 0x09));
    ring.append(changed);
    ring.append(frames.inter(80));
    ring.append(frames.key(120));
    const tags = await readToHead(ring.reader({ agoMs: 1e9 })!);
    assertEquals(
      tags.map((t) => [t.timestamp, t.sequenceHeader ? "header" : t.keyframe ? "key" : "inter"]),
      // A header takes the timeline's current position (as in the hub): the newest frame's, 40.
      [[0, "header"], [0, "key"], [40, "inter"], [40, "header"], [80, "inter"], [120, "header"], [
        120,
        "key",
      ]],
    );
    // The group start at 120 carries the changed header.
    assertEquals(tags[5].payload, changed.payload);
    await ring.close();
  });
});

test("FeedRing gives an audio-only stream a group start every AUDIO_GROUP_MS", async () => {
  await withDir(async (dir) => {
    const ring = await open(`${dir}/r`);
    ring.append(frames.audioHeader(0));
    for (let a = 0; a * 23 < 10_000; a++) ring.append(mediaFrame(FrameKind.Audio, a * 23, aacRaw(100)));
    assertEquals(ring.groups.length, 5);
    const starts = ring.groups.map((g) => g.timestamp);
    for (let i = 1; i < starts.length; i++) {
      assert(starts[i] - starts[i - 1] >= AUDIO_GROUP_MS && starts[i] - starts[i - 1] < AUDIO_GROUP_MS + 23);
    }
    const tags = await readToHead(ring.reader({ agoMs: 3_000 })!);
    assertEquals([tags[0].sequenceHeader, tags[1].kind, tags[1].sequenceHeader], [
      true,
      FrameKind.Audio,
      false,
    ]);
    assertEquals(tags[0].timestamp, starts[3]);
    await ring.close();
  });
});

test("FeedRing.newRun() continues the timeline 1 ms after the newest when a publisher starts again at 0", async () => {
  await withDir(async (dir) => {
    const ring = await open(`${dir}/r`, { maxBytes: 4 * 1024 * 1024 });
    appendAll(ring, av(3_000, { from: 500 }));
    assertEquals(ring.newestTimestamp, 2_960); // the first run starts at 0 whatever the hub said
    ring.newRun();
    appendAll(ring, av(3_000));
    assertEquals(ring.newestTimestamp, 2_961 + 2_960);
    const tags = await readToHead(ring.reader({ agoMs: 1e9 })!);
    assertMonotonic(tags);
    // The new run's group start has the new run's headers (the old ones were forgotten, then sent again).
    const secondRun = ring.reader({ agoMs: 2_960 })!;
    assertGroupStart(await readToHead(secondRun));
    await ring.close();
  });
});

test("FeedRing timestamps never go backwards when audio and video arrive a little out of order", async () => {
  await withDir(async (dir) => {
    const ring = await open(`${dir}/r`);
    ring.append(frames.key(100));
    ring.append(frames.audio(90));
    ring.append(frames.inter(140));
    const tags = await readToHead(ring.reader({ agoMs: 1e9 })!);
    assertEquals(tags.map((t) => t.timestamp), [0, 0, 40]);
    await ring.close();
  });
});

test("FeedRing.close() ends waiting readers with null and makes append() a TypeError", async () => {
  await withDir(async (dir) => {
    const ring = await open(`${dir}/r`);
    appendAll(ring, av(500));
    const reader = ring.reader({ agoMs: 0 })!;
    const { tags, pending } = await readIdle(reader);
    assertGroupStart(tags);
    await ring.close();
    assertEquals(await pending, null);
    assertEquals(await reader.next(), null);
    assertThrows(() => ring.append(frames.key(0)), TypeError, "current state is closed");
    assertThrows(() => ring.reader({ agoMs: 0 }), TypeError, "current state is closed");
    await ring.close(); // idempotent
  });
});

test("RingReader.next() calls must not overlap; close() ends a waiting one with null", async () => {
  await withDir(async (dir) => {
    const ring = await open(`${dir}/r`);
    ring.append(frames.key(0));
    const reader = ring.reader({ agoMs: 0 })!;
    assertEquals((await reader.next())!.keyframe, true);
    const waiting = reader.next();
    await assertRejects(() => reader.next(), TypeError, "has not settled");
    reader.close();
    assertEquals(await waiting, null);
    assertEquals(await reader.next(), null);
    await ring.close();
  });
});

test("FeedRing.append() refuses a kind other than audio, video or data, and a bad timestamp", async () => {
  await withDir(async (dir) => {
    const ring = await open(`${dir}/r`);
    const bad = { ...frames.key(0), kind: 20 as FrameKind };
    assertThrows(() => ring.append(bad), TypeError, "current kind is 20, expected 8, 9 or 18");
    assertThrows(
      () => ring.append({ ...frames.key(0), timestamp: NaN }),
      TypeError,
      "current timestamp is NaN",
    );
    await ring.close();
  });
});

test("FeedRing.open() of a file another writer has open is a TypeError", async () => {
  await withDir(async (dir) => {
    const ring = await open(`${dir}/r`);
    await assertRejects(() => open(`${dir}/r`), TypeError, "open by another writer");
    await ring.close();
    await (await open(`${dir}/r`)).close();
  });
});

test("FeedRing.open() refuses a file that is not a ring and leaves it as it was", async () => {
  await withDir(async (dir) => {
    const text = new TextEncoder().encode("precious notes, not a ring\n");
    await Deno.writeFile(`${dir}/notes.txt`, text);
    const e = await assertRejects(
      () => open(`${dir}/notes.txt`),
      TypeError,
      "current file is not a feed ring",
    );
    assertMatch(e.message, /it starts 0x70726563, not "SLRB"/);
    assertEquals(await Deno.readFile(`${dir}/notes.txt`), text);
  });
});

test("FeedRing.open() starts afresh, with a warning, on a ring made for another maxBytes", async () => {
  await withDir(async (dir) => {
    let ring = await open(`${dir}/r`, { maxBytes: 256 * 1024 });
    appendAll(ring, av(2_000));
    await ring.close();
    const log = new RecordingLogger();
    ring = await open(`${dir}/r`, { maxBytes: 128 * 1024, log });
    assertEquals(log.lines.filter((l) => l.level === "warn").map((l) => l.msg), [
      `feed ring ${dir}/r: the file was made for 262144 bytes, not 131072; starting afresh`,
    ]);
    assertEquals(ring.groups.length, 0);
    assertEquals((await Deno.stat(`${dir}/r`)).size, RingLayout.BlockSize);
    await ring.close();
  });
});

test("FeedRing.stats() counts bytes written, groups and wraps", async () => {
  await withDir(async (dir) => {
    const ring = await open(`${dir}/r`);
    assertEquals(ring.stats(), {
      bytesWritten: 0,
      fileBytes: 4096,
      groups: 0,
      dropped: 0,
      wraps: 0,
      pendingBytes: 0,
    });
    appendAll(ring, av(4_000));
    assertGreater(ring.stats().pendingBytes, 0);
    await ring.flush();
    const s = ring.stats();
    assertEquals(s.pendingBytes, 0);
    assertEquals(s.groups, 2);
    assertEquals(s.bytesWritten, s.fileBytes - 4096);
    await ring.close();
  });
});

test("FeedRing keeps onMetaData as metadata and writes other data frames as they come", async () => {
  await withDir(async (dir) => {
    const ring = await open(`${dir}/r`);
    const meta = mediaFrame(FrameKind.Data, 0, encodeData("onMetaData", { width: 640, height: 360 }));
    const cue = mediaFrame(FrameKind.Data, 0, encodeData("onCuePoint", { name: "c" }));
    ring.append(meta);
    ring.append(frames.key(0));
    ring.append(cue);
    ring.append(meta); // the same metadata again: not written again
    ring.append(cue); // data other than metadata is written each time
    ring.append(frames.key(40));
    const tags = await readToHead(ring.reader({ agoMs: 1e9 })!);
    assertEquals(tags.map((t) => t.payload), [
      meta.payload,
      frames.key(0).payload,
      cue.payload,
      cue.payload,
      meta.payload, // the group start of 40 carries it
      frames.key(40).payload,
    ]);
    await ring.close();
  });
});

test("FeedRing.open() warns of a damaged record mid-file; readers resync at the next block and go on", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/r`;
    let ring = await open(path, { maxBytes: 4 * 1024 * 1024 });
    appendAll(ring, av(10_000));
    const before = await readToHead(ring.reader({ agoMs: 1e9 })!);
    await ring.close();
    // One byte flipped in the middle of the file: inside some record's body.
    const file = await Deno.open(path, { read: true, write: true });
    const at = Math.floor((await file.stat()).size / 2);
    const b = new Uint8Array(1);
    await file.seek(at, Deno.SeekMode.Start);
    await file.read(b);
    await file.seek(at, Deno.SeekMode.Start);
    await file.write(Uint8Array.of(b[0] ^ 0xff));
    file.close();

    const log = new RecordingLogger();
    ring = await open(path, { maxBytes: 4 * 1024 * 1024, log });
    const warns = log.lines.filter((l) => l.level === "warn").map((l) => l.msg);
    assertEquals(warns.length, 1);
    const lost = Number(
      warns[0].match(/^feed ring .*: (\d+) records? lost to damage, 0 damaged blocks$/)![1],
    );
    assertGreater(lost, 0);
    const reader = ring.reader({ agoMs: 1e9 })!;
    const tags = await readToHead(reader);
    assertEquals(reader.resyncs, 1);
    assertMonotonic(tags);
    assertEquals(tags.at(-1)!.timestamp, 9_960);
    // What the resync lost is what the scan said, less than a block's worth.
    assertEquals(tags.length, before.length - lost);
    assertLess(lost, 30);
    await ring.close();
  });
});
