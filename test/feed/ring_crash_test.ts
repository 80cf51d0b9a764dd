/**
 * FeedRing survives `kill -9`: a child process (_ring_writer_child.ts)
 * appends tags as fast as it can and is killed with SIGKILL, again and again,
 * each time with the ring reopened and read back whole. Every tag the child
 * said was written must come back intact, in order, with timestamps that never
 * go back, and the file must stay within its bound. One round also tears the
 * newest block by hand, as a write cut short by a crash would.
 *
 * @module
 */
import { assert, assertEquals, assertGreater } from "../_util/assert.ts";
import { RecordingLogger } from "../_util/hub_fakes.ts";
import { FeedRing, type RingTag } from "../../src/feed/feed_ring.ts";
import { decodeBlockHeader, RingLayout } from "../../src/feed/ring_format.ts";
import { FrameKind } from "../../src/media/frame.ts";
import { ringTestFrame } from "./_ring_writer_child.ts";

const BS = RingLayout.BlockSize;
const MAX_BYTES = 1024 * 1024;
/** Tags a child must have written before it is killed. */
const TAGS_PER_ROUND = 3_000;
const ROUNDS = 5;

/** The tag number in a payload read back, after checking the rest of its bytes. */
function tagNumber(t: RingTag): number {
  const n = new DataView(t.payload.buffer, t.payload.byteOffset).getUint32(5);
  const want = ringTestFrame(n, 0).payload;
  assertEquals(t.payload.length, want.length, `tag ${n}: length`);
  for (let i = 0; i < want.length; i++) {
    if (t.payload[i] !== want[i]) throw new Error(`tag ${n}: byte ${i} is ${t.payload[i]}, not ${want[i]}`);
  }
  return n;
}

/** Runs a child from tag `first` until it has printed at least `first + count`; kills it; returns the last count printed. */
async function runAndKill(path: string, dir: string, first: number, count: number): Promise<number> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      `--allow-read=${dir}`,
      `--allow-write=${dir}`,
      new URL("./_ring_writer_child.ts", import.meta.url).pathname,
      path,
      String(MAX_BYTES),
      String(first),
    ],
    cwd: new URL("../../", import.meta.url).pathname,
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  let printed = first;
  let text = "";
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  try {
    while (printed < first + count) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`the writer child ended early, after ${printed - first} tags`);
      text += value;
      const lines = text.split("\n");
      text = lines.pop()!;
      if (lines.length > 0) printed = Number(lines.at(-1));
    }
    child.kill("SIGKILL");
    // Lines printed before the kill landed count too.
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
      const lines = text.split("\n");
      text = lines.pop()!;
      if (lines.length > 0) printed = Number(lines.at(-1));
    }
  } finally {
    reader.releaseLock();
    await child.stdout.cancel().catch(() => {});
  }
  const status = await child.status;
  assertEquals(status.signal, "SIGKILL");
  return printed;
}

/** Reads the whole ring (no writer) from its oldest group start; checks every tag; returns their numbers. */
async function readBack(ring: FeedRing): Promise<number[]> {
  const reader = ring.reader({ agoMs: Number.MAX_SAFE_INTEGER })!;
  assert(reader, "the ring has a group start");
  const numbers: number[] = [];
  let last = -1;
  let newest = -1;
  for (;;) {
    // At the head the reader waits for a writer that will not come: that is the end.
    const next = reader.next();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const idle = new Promise<"idle">((resolve) => timer = setTimeout(() => resolve("idle"), 100));
    const t = await Promise.race([next, idle]);
    clearTimeout(timer);
    if (t === "idle" || t === null) {
      reader.close();
      await next;
      break;
    }
    assert(t.timestamp >= last, `timestamp ${t.timestamp} after ${last}`);
    last = newest = t.timestamp;
    if (t.sequenceHeader) continue;
    assert(t.kind !== FrameKind.Data, "no data in this stream");
    numbers.push(tagNumber(t));
  }
  assertEquals(newest, ring.newestTimestamp);
  assertEquals([reader.skips, reader.resyncs], [0, 0]);
  return numbers;
}

/** Zeroes the second half of the newest block's record bytes, as a write cut short by a crash leaves it. */
async function tearNewestBlock(path: string): Promise<void> {
  const file = await Deno.open(path, { read: true, write: true });
  try {
    const size = (await file.stat()).size;
    const bytes = new Uint8Array(size);
    await file.seek(0, Deno.SeekMode.Start);
    for (let got = 0; got < size;) got += (await file.read(bytes.subarray(got)))!;
    let newest = -1, at = -1;
    for (let pos = BS; pos + RingLayout.BlockHeaderSize <= size; pos += BS) {
      const h = decodeBlockHeader(bytes, pos);
      if (h && h.seq > newest) [newest, at] = [h.seq, pos];
    }
    const from = at + BS / 2;
    const to = Math.min(at + BS, size);
    await file.seek(from, Deno.SeekMode.Start);
    await file.write(new Uint8Array(to - from));
  } finally {
    file.close();
  }
}

Deno.test({
  name: "FeedRing keeps every tag written before a kill -9, across repeated kills and restarts",
  sanitizeOps: true,
  sanitizeResources: true,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "sluice-ring-crash-" });
    const path = `${dir}/feed.ring`;
    try {
      let next = 0;
      let lastNewest = -1;
      for (let round = 0; round <= ROUNDS; round++) {
        const printed = await runAndKill(path, dir, next, TAGS_PER_ROUND);
        if (round === ROUNDS) await tearNewestBlock(path);
        assert((await Deno.stat(path)).size <= MAX_BYTES, `file within ${MAX_BYTES} bytes`);

        const log = new RecordingLogger();
        const ring = await FeedRing.open(path, { maxBytes: MAX_BYTES, log });
        try {
          // A torn tail is what a crash leaves: not damage.
          assertEquals(log.lines.filter((l) => l.level !== "info"), []);
          assertGreater(ring.groups.length, 0);
          assert(ring.newestTimestamp! > lastNewest, "the timeline went on across the restart");
          lastNewest = ring.newestTimestamp!;
          const numbers = await readBack(ring);
          // In order, none missing between the oldest kept and the newest.
          for (let i = 1; i < numbers.length; i++) {
            assertEquals(numbers[i], numbers[i - 1] + 1, `after tag ${numbers[i - 1]}`);
          }
          const newest = numbers.at(-1)!;
          // Every tag the child said it had written is there (but what the hand-made tear took).
          if (round < ROUNDS) assert(newest >= printed - 1, `newest tag ${newest}, child printed ${printed}`);
          else {assert(
              newest >= printed - 1 - 100,
              `newest tag ${newest} after the tear, child printed ${printed}`,
            );}
          assertGreater(numbers.length, 100);
          next = newest + 1;
        } finally {
          await ring.close();
        }
        assert((await Deno.stat(path)).size <= MAX_BYTES);
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
