import { assert, assertEquals, assertMatch } from "../_util/assert.ts";
import {
  aacRaw,
  aacSequenceHeader,
  avcInterFrame,
  avcKeyframe,
  avcSequenceHeader,
  FakePublisher,
  metadataPayload,
  RecordingLogger,
  settle,
} from "../_util/hub_fakes.ts";
import { makeConfig } from "../../src/config/config.ts";
import type { HubConfig } from "../../src/config/config.ts";
import { FrameKind } from "../../src/media/frame.ts";
import type { Stream } from "../../src/hub/stream.ts";
import { StreamHub } from "../../src/hub/stream_hub.ts";
import { FeedRing, type RingReader, type RingTag } from "../../src/feed/feed_ring.ts";
import { FeedRecorder } from "../../src/feed/feed_recorder.ts";

const KEY = "live/feed";

/** Deno.test with the op and resource sanitizers on: no grace timer, write or file left behind. */
function test(name: string, fn: () => Promise<void>): void {
  Deno.test({ name, fn, sanitizeOps: true, sanitizeResources: true });
}

interface Setup {
  hub: StreamHub;
  ring: FeedRing;
  recorder: FeedRecorder;
  log: RecordingLogger;
}

/** A hub, a ring in a temporary directory and a recorder of KEY (not started); cleaned up after `fn`. */
async function withRecorder(hubConfig: Partial<HubConfig>, fn: (s: Setup) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "sluice-recorder-" });
  const log = new RecordingLogger();
  // No merge window: a stream's frames reach its subscribers in the same turn.
  const hub = new StreamHub(makeConfig({ hub: { mergeWindowMs: 0, ...hubConfig } }).hub, log);
  const ring = await FeedRing.open(`${dir}/feed.ring`, { maxBytes: 1024 * 1024, log });
  const recorder = new FeedRecorder({ hub, key: KEY, ring, log });
  try {
    await fn({ hub, ring, recorder, log });
  } finally {
    recorder.stop();
    hub.stop();
    await ring.close();
    await Deno.remove(dir, { recursive: true });
  }
}

/** What a publisher sends first: metadata and the two sequence headers. */
function sendHeaders(s: Stream, fill = 0x01): void {
  s.setMetadata(metadataPayload(fill));
  s.push(FrameKind.Video, 0, avcSequenceHeader(8, fill));
  s.push(FrameKind.Audio, 0, aacSequenceHeader());
}

/** `ms` of media from raw timestamp `from`: 25 frames/s video, a keyframe each second, audio every 40 ms. */
function sendMedia(s: Stream, from: number, ms: number): void {
  for (let t = 0; t < ms; t += 40) {
    s.push(FrameKind.Audio, from + t, aacRaw(20, t & 0xff));
    s.push(
      FrameKind.Video,
      from + t,
      t % 1_000 === 0 ? avcKeyframe(100, t & 0xff) : avcInterFrame(50, t & 0xff),
    );
  }
}

/** Reads tags until none comes within 50 ms, then closes the reader. */
async function readToHead(reader: RingReader): Promise<RingTag[]> {
  const out: RingTag[] = [];
  for (;;) {
    const next = reader.next();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const idle = new Promise<"idle">((resolve) => timer = setTimeout(() => resolve("idle"), 50));
    const r = await Promise.race([next, idle]);
    clearTimeout(timer);
    if (r === "idle" || r === null) {
      reader.close();
      await next;
      return out;
    }
    out.push(r);
  }
}

function shape(t: RingTag): string {
  if (t.kind === FrameKind.Data) return "meta";
  if (t.sequenceHeader) return t.kind === FrameKind.Video ? "vsh" : "ash";
  if (t.keyframe) return "key";
  return t.kind === FrameKind.Video ? "inter" : "audio";
}

function assertMonotonic(tags: readonly RingTag[]): void {
  for (let i = 1; i < tags.length; i++) {
    assert(
      tags[i].timestamp >= tags[i - 1].timestamp,
      `tag ${i}: ${tags[i].timestamp} after ${tags[i - 1].timestamp}`,
    );
  }
}

test("FeedRecorder writes a published stream into the ring, from its first group start", async () => {
  await withRecorder({}, async ({ hub, ring, recorder }) => {
    recorder.start();
    assertEquals(recorder.recording, false);
    const s = hub.publish(KEY, new FakePublisher());
    assertEquals(recorder.recording, true);
    sendHeaders(s);
    sendMedia(s, 0, 3_000);
    await settle();
    assertEquals(ring.groups.map((g) => g.timestamp), [0, 1_000, 2_000]);
    const tags = await readToHead(ring.reader({ agoMs: 1e9 })!);
    // The audio frame sent just before the first keyframe lies before the first group start.
    assertEquals(tags.slice(0, 6).map(shape), ["meta", "vsh", "ash", "key", "audio", "inter"]);
    assertEquals(tags.length, 3 * 3 + 149); // 3 group starts' headers, and the frames from the first keyframe
    assertEquals(tags.at(-1)!.timestamp, 2_960);
    assertEquals(tags[0].payload, metadataPayload(0x01));
    assertMonotonic(tags);
    assertEquals(s.snapshot().observers, 1);
    assertEquals(s.snapshot().viewers.total, 0);
  });
});

test("FeedRecorder goes on across an unpublish and a resume, with the stream's kept headers", async () => {
  await withRecorder({ reconnectGraceMs: 10_000 }, async ({ hub, ring, recorder }) => {
    recorder.start();
    const first = new FakePublisher("first");
    const s = hub.publish(KEY, first);
    sendHeaders(s);
    sendMedia(s, 0, 2_000);
    await settle();
    hub.unpublish(s, first);
    assertEquals(recorder.recording, true); // still attached through the grace window
    // The publisher comes back; its raw timestamps start at 0 again and it sends no metadata.
    const again = hub.publish(KEY, new FakePublisher("again"));
    s.push(FrameKind.Video, 0, avcSequenceHeader(8, 0x01));
    s.push(FrameKind.Audio, 0, aacSequenceHeader());
    sendMedia(again, 0, 2_000);
    await settle();
    const tags = await readToHead(ring.reader({ agoMs: 1e9 })!);
    assertMonotonic(tags);
    assertEquals(ring.groups.length, 4);
    // The resumed run's first group start still carries metadata (the hub kept it).
    const resumed = ring.reader({ agoMs: 1_900 })!;
    const run2 = await readToHead(resumed);
    assertEquals(run2.slice(0, 4).map(shape), ["meta", "vsh", "ash", "key"]);
    assert(run2[3].timestamp > 1_960, `${run2[3].timestamp}`);
  });
});

test("FeedRecorder goes on across the end of a stream and a new publish, timestamps continuing", async () => {
  await withRecorder({ reconnectGraceMs: 0 }, async ({ hub, ring, recorder }) => {
    recorder.start();
    const first = new FakePublisher("first");
    const s1 = hub.publish(KEY, first);
    sendHeaders(s1);
    sendMedia(s1, 0, 2_000);
    await settle();
    hub.unpublish(s1, first); // grace 0: the stream ends
    assertEquals(recorder.recording, false);
    const s2 = hub.publish(KEY, new FakePublisher("second"));
    assertEquals(recorder.recording, true);
    sendHeaders(s2, 0x02);
    sendMedia(s2, 0, 2_000);
    await settle();
    assertEquals(ring.groups.map((g) => g.timestamp), [0, 1_000, 1_961, 2_961]);
    const tags = await readToHead(ring.reader({ agoMs: 1e9 })!);
    assertMonotonic(tags);
    // The new stream's metadata arrives before its first frame: it takes the ring's current position.
    const newMeta = tags.findIndex((t) => t.kind === FrameKind.Data && t.payload.at(-1) === 0x02);
    assertEquals(tags[newMeta].timestamp, 1_960);
    assertEquals(tags.slice(newMeta + 3, newMeta + 8).map(shape), ["audio", "meta", "vsh", "ash", "key"]);
    assertEquals(tags[newMeta + 3].timestamp, 1_961);
  });
});

test("FeedRecorder.start() on a live stream attaches at once, from the stream's GOP", async () => {
  await withRecorder({}, async ({ hub, ring, recorder }) => {
    const s = hub.publish(KEY, new FakePublisher());
    sendHeaders(s);
    sendMedia(s, 0, 1_500);
    await settle();
    recorder.start();
    assertEquals(recorder.recording, true);
    sendMedia(s, 1_500, 500);
    await settle();
    const tags = await readToHead(ring.reader({ agoMs: 1e9 })!);
    // The GOP cache starts at the keyframe of 1000 ms: the ring's timeline starts there, at 0.
    assertEquals(tags.slice(0, 4).map(shape), ["meta", "vsh", "ash", "key"]);
    assertEquals(tags[3].timestamp, 0);
    assertEquals(tags.at(-1)!.timestamp, 1_980 - 1_000);
    assertMonotonic(tags);
  });
});

test("FeedRecorder.stop() detaches and stops listening", async () => {
  await withRecorder({ reconnectGraceMs: 0 }, async ({ hub, ring, recorder }) => {
    recorder.start();
    const p = new FakePublisher();
    const s = hub.publish(KEY, p);
    sendHeaders(s);
    sendMedia(s, 0, 1_000);
    await settle();
    recorder.stop();
    assertEquals(s.subscribers.size, 0);
    const newest = ring.newestTimestamp;
    sendMedia(s, 1_000, 1_000);
    hub.unpublish(s, p);
    const s2 = hub.publish(KEY, new FakePublisher("second"));
    sendMedia(s2, 0, 1_000);
    await settle();
    assertEquals(ring.newestTimestamp, newest);
    assertEquals(s2.subscribers.size, 0);
    recorder.stop(); // idempotent
  });
});

test("FeedRecorder ignores other streams", async () => {
  await withRecorder({}, async ({ hub, ring, recorder }) => {
    recorder.start();
    const other = hub.publish("live/other", new FakePublisher());
    sendHeaders(other);
    sendMedia(other, 0, 1_000);
    await settle();
    assertEquals(recorder.recording, false);
    assertEquals(ring.newestTimestamp, undefined);
  });
});

test("FeedRecorder logs once and stops recording when its ring closes under it", async () => {
  await withRecorder({}, async ({ hub, ring, recorder, log }) => {
    recorder.start();
    const s = hub.publish(KEY, new FakePublisher());
    sendHeaders(s);
    sendMedia(s, 0, 500);
    await settle();
    await ring.close();
    sendMedia(s, 500, 500);
    await settle();
    assertEquals(recorder.recording, false);
    const warns = log.lines.filter((l) => l.level === "warn").map((l) => l.msg);
    assertEquals(warns.length, 1);
    assertMatch(
      warns[0],
      /^stopped recording live\/feed into .*feed\.ring: write failed: Cannot append to feed ring/,
    );
    assertEquals(s.subscribers.size, 0);
  });
});
