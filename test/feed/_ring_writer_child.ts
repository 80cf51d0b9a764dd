/**
 * The child of ring_crash_test.ts: opens a ring and appends tags to it for
 * ever, as a publisher would, until it is killed. It starts as a new publisher
 * does (sequence headers, then media from timestamp 0); after each batch it
 * waits until the ring has written the batch to the kernel and prints how
 * many tags it has appended so far, one number per line: every tag counted in
 * a line printed must survive a `kill -9`.
 *
 * Usage: `deno run --allow-read=DIR --allow-write=DIR _ring_writer_child.ts PATH MAX_BYTES FIRST`
 * (FIRST: the number of the first tag, so the numbers go on across children).
 *
 * Each tag carries its number (`ringTestFrame`), so the test can tell which
 * tags came back and that their bytes are intact.
 *
 * @module
 */
import { FeedRing, type RingFrame } from "../../src/feed/feed_ring.ts";
import { setLogLevel } from "../../src/log.ts";
import { FrameKind } from "../../src/media/frame.ts";

/** The AVC and AAC sequence headers a child sends first (FLV tag bodies: 0x17 0x00 ..., 0xAF 0x00 ...). */
export const RING_TEST_HEADERS: readonly RingFrame[] = [
  {
    kind: FrameKind.Video,
    timestamp: 0,
    payload: Uint8Array.of(0x17, 0x00, 0, 0, 0, 0x01, 0x64, 0x00, 0x1f),
    keyframe: false,
    sequenceHeader: true,
  },
  {
    kind: FrameKind.Audio,
    timestamp: 0,
    payload: Uint8Array.of(0xaf, 0x00, 0x12, 0x10),
    keyframe: false,
    sequenceHeader: true,
  },
];

/**
 * Tag `n` of the test stream, at timestamp `ts` ms as its publisher gives it: a video keyframe every 25th
 * tag (many over 4 KB, spanning blocks), inter frames and audio between. The payload carries `n` at bytes
 * 5..8 and is otherwise a pattern of `n`, so a tag read back can be checked.
 */
export function ringTestFrame(n: number, ts: number): RingFrame {
  const keyframe = n % 25 === 0;
  const audio = !keyframe && n % 3 === 0;
  const size = keyframe ? 2_000 + (n * 131) % 9_000 : audio ? 50 + n % 300 : 100 + (n * 17) % 2_500;
  const p = new Uint8Array(size);
  p[0] = audio ? 0xaf : keyframe ? 0x17 : 0x27; // AAC; AVC key; AVC inter
  p[1] = 0x01; // AAC raw; AVC NALU
  new DataView(p.buffer).setUint32(5, n);
  for (let i = 9; i < size; i++) p[i] = (n + i) & 0xff;
  return {
    kind: audio ? FrameKind.Audio : FrameKind.Video,
    timestamp: ts,
    payload: p,
    keyframe,
    sequenceHeader: false,
  };
}

if (import.meta.main) {
  setLogLevel("warn");
  const [path, maxBytesArg, firstArg] = Deno.args;
  const ring = await FeedRing.open(path, { maxBytes: Number(maxBytesArg) });
  const first = Number(firstArg);
  const encoder = new TextEncoder();
  for (const h of RING_TEST_HEADERS) ring.append(h);
  for (let n = first;;) {
    for (let i = 0; i < 25; i++, n++) ring.append(ringTestFrame(n, (n - first) * 10));
    await ring.flush();
    await Deno.stdout.write(encoder.encode(`${n}\n`));
  }
}
