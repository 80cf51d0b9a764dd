/**
 * VodPacer over FLV files in memory (a cursor on `bytesSource`) with a fake
 * play (it keeps every batch, and says when the loop is no longer current):
 * batches in file order, the batch cap, the play's filter, the clock set by
 * the first audio/video frame, a stop while waiting or while sending moving
 * the cursor back to the first tag not sent, the end at a malformed tag, and
 * postpone(). Leads are a minute (every tag due at once) or a tag is ten
 * minutes away (the loop waits until stopped): nothing depends on timing.
 * Deno's op sanitizer (on by default) holds that a loop leaves no timer
 * behind.
 */
import { assert, assertEquals } from "../_util/assert.ts";
import {
  aacRaw,
  aacSequenceHeader,
  avcInterFrame,
  avcKeyframe,
  avcSequenceHeader,
} from "../_util/hub_fakes.ts";
import { concatBytes } from "../../src/bytes.ts";
import { type FlvTag, TagType } from "../../src/media/flv.ts";
import { bytesSource, FlvTagCursor } from "../../src/media/flv_index.ts";
import {
  MAX_BATCH_BYTES,
  nextTag,
  type PacedRun,
  type PaceHooks,
  PaceResult,
  postpone,
  VodPacer,
} from "../../src/vod/vod_pacer.ts";
import { flvFileHeader, type FlvTagInput, packTags } from "../../src/wasm/flv_pack.ts";

/** A lead longer than any test file: every tag is due at once. */
const ALL_AT_ONCE_MS = 60_000;
/** Every wait for a batch ends by this deadline instead of hanging (nothing asserts on time). */
const WAIT_MS = 5_000;
/** The FLV file header (9 bytes) and PreviousTagSize0 (4): where the first tag starts. */
const FIRST_TAG_OFFSET = 13;

/** A run from the first tag of an FLV file of `tags` (then `tail`) in memory. */
function run(tags: readonly FlvTagInput[], tail = new Uint8Array(0)): PacedRun {
  const file = concatBytes([flvFileHeader({ audio: true, video: true }), packTags(tags), tail]);
  return { cursor: new FlvTagCursor(bytesSource(file), FIRST_TAG_OFFSET) };
}

/** A play that keeps what it is sent; `stop()` makes the loop no longer current. */
function fakePlay(keep: (tag: FlvTag) => boolean = () => true) {
  const batches: FlvTag[][] = [];
  let current = true;
  let onSend: (() => void) | undefined;
  const hooks: PaceHooks = {
    current: () => current,
    keep,
    send(batch) {
      batches.push(batch);
      onSend?.();
      return Promise.resolve();
    },
  };
  return {
    hooks,
    batches,
    /** Timestamps of each batch. */
    times: () => batches.map((b) => b.map((t) => t.timestamp)),
    stop: () => void (current = false),
    /** Calls `fn` on every send (after the batch is kept). */
    onSend: (fn: () => void) => void (onSend = fn),
    /** Resolves when `n` batches were sent. */
    sent(n: number): Promise<void> {
      return new Promise((resolve, reject) => {
        const deadline = setTimeout(() => reject(new Error(`timed out waiting for ${n} batches`)), WAIT_MS);
        const check = () => {
          if (batches.length < n) return;
          clearTimeout(deadline);
          resolve();
        };
        onSend = check;
        check();
      });
    },
  };
}

/** A video frame of `size` bytes after its 5-byte header (too large for the fakes' spread). */
function bigFrame(keyframe: boolean, size: number): Uint8Array {
  return concatBytes([keyframe ? avcKeyframe(0) : avcInterFrame(0), new Uint8Array(size)]);
}

/** Sequence headers stamped 0, then video every 40 ms and audio between, from `fromMs`. */
function clip(fromMs: number, frames: number): FlvTagInput[] {
  const tags: FlvTagInput[] = [
    { type: TagType.ScriptData, timestamp: 0, data: Uint8Array.of(2, 0, 0) },
    { type: TagType.Video, timestamp: 0, data: avcSequenceHeader() },
    { type: TagType.Audio, timestamp: 0, data: aacSequenceHeader() },
  ];
  for (let i = 0; i < frames; i++) {
    const t = fromMs + 40 * i;
    tags.push({ type: TagType.Video, timestamp: t, data: i === 0 ? avcKeyframe() : avcInterFrame() });
    tags.push({ type: TagType.Audio, timestamp: t + 20, data: aacRaw() });
  }
  return tags;
}

Deno.test("VodPacer.pace() sends the tags due together in one batch, in file order, and ends at the file's end", async () => {
  const r = run(clip(5_000, 3));
  const play = fakePlay();
  assertEquals(await new VodPacer(ALL_AT_ONCE_MS).pace(r, play.hooks), PaceResult.End);
  assertEquals(play.times(), [[0, 0, 0, 5_000, 5_020, 5_040, 5_060, 5_080, 5_100]]);
  assertEquals(play.batches[0].map((t) => t.type).slice(0, 3), [
    TagType.ScriptData,
    TagType.Video,
    TagType.Audio,
  ]);
  assertEquals(r.tsBase, 5_000, "the first audio/video frame sets the clock, not the headers stamped 0");
  assert(r.clockBase !== undefined);
});

Deno.test("VodPacer.pace() writes a batch once it holds MAX_BATCH_BYTES", async () => {
  const tags: FlvTagInput[] = [0, 40, 80, 120, 160].map((t) => ({
    type: TagType.Video,
    timestamp: t,
    data: bigFrame(t === 0, MAX_BATCH_BYTES / 2),
  }));
  const play = fakePlay();
  assertEquals(await new VodPacer(ALL_AT_ONCE_MS).pace(run(tags), play.hooks), PaceResult.End);
  assertEquals(play.times(), [[0, 40], [80, 120], [160]]);
});

Deno.test("VodPacer.pace() leaves what keep() refuses unsent and off the clock", async () => {
  const r = run(clip(1_000, 2));
  const play = fakePlay((tag) => tag.type !== TagType.ScriptData && tag.timestamp !== 1_000);
  assertEquals(await new VodPacer(ALL_AT_ONCE_MS).pace(r, play.hooks), PaceResult.End);
  assertEquals(play.times(), [[0, 0, 1_020, 1_040, 1_060]]);
  assertEquals(r.tsBase, 1_020, "the first frame kept sets the clock");
});

Deno.test("VodPacer.pace() waits for a tag past the lead; a stop then moves the cursor back to it, and the next loop sends it", async () => {
  const tags: FlvTagInput[] = [
    ...clip(0, 1),
    { type: TagType.Video, timestamp: 600_000, data: avcKeyframe(8, 0x66) }, // ten minutes on
  ];
  const r = run(tags);
  const pacer = new VodPacer(0);
  const play = fakePlay();
  const paced = pacer.pace(r, play.hooks);
  await play.sent(1);
  assertEquals(play.times(), [[0, 0, 0, 0, 20]], "what is due now, before the wait");
  play.stop();
  pacer.interrupt();
  assertEquals(await paced, PaceResult.Stopped);
  const at = r.cursor.offset;
  assertEquals((await nextTag(r.cursor))?.timestamp, 600_000, "the cursor is at the tag not sent");
  r.cursor.moveTo(at);
  const again = fakePlay();
  // The run keeps its clock: with a longer lead the tag is due at once.
  assertEquals(await new VodPacer(1_000_000).pace(r, again.hooks), PaceResult.End);
  assertEquals(again.times(), [[600_000]]);
});

Deno.test("VodPacer.pace() stopped during a send keeps the tags after that batch for the next loop", async () => {
  const big = bigFrame(false, MAX_BATCH_BYTES);
  const tags: FlvTagInput[] = [
    { type: TagType.Video, timestamp: 0, data: bigFrame(true, MAX_BATCH_BYTES) },
    { type: TagType.Video, timestamp: 40, data: big },
    { type: TagType.Video, timestamp: 80, data: big },
  ];
  const r = run(tags);
  const play = fakePlay();
  play.onSend(() => play.stop()); // a command comes while the first batch is written
  assertEquals(await new VodPacer(ALL_AT_ONCE_MS).pace(r, play.hooks), PaceResult.Stopped);
  assertEquals(play.times(), [[0]]);
  const next = fakePlay();
  assertEquals(await new VodPacer(ALL_AT_ONCE_MS).pace(r, next.hooks), PaceResult.End);
  assertEquals(next.times(), [[40], [80]], "no tag lost, none sent twice");
});

Deno.test("VodPacer.pace() ends at a malformed tag after sending the ones before it; nextTag() reads it as the end", async () => {
  // A tag header with TagType 7: not audio, video or script data.
  const bad = Uint8Array.of(7, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0xff, 0, 0, 0, 12);
  const r = run(clip(0, 1), bad);
  const play = fakePlay();
  assertEquals(await new VodPacer(ALL_AT_ONCE_MS).pace(r, play.hooks), PaceResult.End);
  assertEquals(play.times(), [[0, 0, 0, 0, 20]]);
  assertEquals(await nextTag(r.cursor), undefined);
});

Deno.test("VodPacer.pace() sends nothing for a loop that is not current, and keeps the cursor", async () => {
  const r = run(clip(0, 1));
  const play = fakePlay();
  play.stop();
  assertEquals(await new VodPacer(ALL_AT_ONCE_MS).pace(r, play.hooks), PaceResult.Stopped);
  assertEquals([play.batches.length, r.cursor.offset], [0, FIRST_TAG_OFFSET]);
});

Deno.test("postpone() moves a run's schedule on by the time paused, and nothing before its first frame", () => {
  const r: PacedRun = { cursor: new FlvTagCursor(bytesSource(new Uint8Array(0)), 0) };
  postpone(r, 500);
  assertEquals(r.clockBase, undefined);
  r.clockBase = 1_000;
  postpone(r, 500);
  assertEquals(r.clockBase, 1_500);
});
