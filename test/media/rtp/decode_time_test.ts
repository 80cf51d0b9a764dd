import { assert, assertEquals } from "../../_util/assert.ts";
import { DecodeTimer, MAX_OFFSET_MS, START_FRAMES, type Timed } from "../../../src/media/rtp/decode_time.ts";

/** Every picture of `ptsFrames` (presentation times in frame periods of 40 ms, decode order), timed. */
function timeAll(ptsFrames: number[]): { pts: number[]; out: Timed<number>[] } {
  const t = new DecodeTimer<number>();
  const pts = ptsFrames.map((f) => 1_000 + f * 40);
  const out: Timed<number>[] = [];
  pts.forEach((p, i) => out.push(...t.push(p, i)));
  out.push(...t.flush());
  return { pts, out };
}

function checkExact(pts: number[], out: Timed<number>[]): void {
  assertEquals(out.map((o) => o.item), pts.map((_, i) => i), "every picture, in decode order");
  let last = -Infinity;
  for (const o of out) {
    assert(o.placed, `picture ${o.item} placed`);
    assert(o.dts > last, `decode times rise: ${o.dts} after ${last}`);
    last = o.dts;
    assert(o.offset >= 0 && o.offset <= MAX_OFFSET_MS);
    assertEquals(o.dts + o.offset, pts[o.item], `picture ${o.item} keeps its presentation time`);
  }
}

/** Decode order of groups of `b` B-frames (I P B B ... P B B ...), `n` pictures. */
function ipbb(b: number, n: number): number[] {
  const order = [0];
  for (let p = b + 1; order.length < n; p += b + 1) {
    order.push(p);
    for (let k = p - b; k < p; k++) order.push(k);
  }
  return order.slice(0, n);
}

Deno.test("decode time: without B-frames it is the presentation time, offset 0", () => {
  const { pts, out } = timeAll(Array.from({ length: 50 }, (_, i) => i));
  checkExact(pts, out);
  assert(out.every((o) => o.offset === 0 && o.dts === pts[o.item]));
});

Deno.test("decode time: the first pictures are held, then each goes out at once", () => {
  const t = new DecodeTimer<number>();
  for (let i = 0; i < START_FRAMES - 1; i++) assertEquals(t.push(i * 40, i), []);
  assertEquals(t.held, START_FRAMES - 1);
  assertEquals(t.push((START_FRAMES - 1) * 40, START_FRAMES - 1).length, START_FRAMES);
  assertEquals(t.push(START_FRAMES * 40, START_FRAMES).length, 1);
  assertEquals(t.held, 0);
});

Deno.test("decode time: I P B B and I P B B B groups keep every presentation time from the first picture", () => {
  for (const b of [1, 2, 3]) {
    for (const n of [START_FRAMES - 1, START_FRAMES, START_FRAMES + 1, 200]) {
      const { pts, out } = timeAll(ipbb(b, n));
      checkExact(pts, out);
    }
  }
});

Deno.test("decode time: a B-pyramid (I P B b b, steps of two periods) is timed exactly", () => {
  const order = [0];
  for (let p = 4; order.length < 200; p += 4) order.push(p, p - 2, p - 3, p - 1);
  const { pts, out } = timeAll(order);
  checkExact(pts, out);
  const t = new DecodeTimer<number>();
  order.slice(0, 40).forEach((f, i) => t.push(f * 40, i));
  assertEquals(t.period, 40, "the period is the least gap of the sorted times, not of consecutive steps");
});

Deno.test("decode time: a picture before the last decode time is not placed; the offset is capped", () => {
  const t = new DecodeTimer<number>();
  for (let i = 0; i < START_FRAMES; i++) t.push(i * 40, i);
  const [far] = t.push(10_000, 99);
  assertEquals(far.offset, MAX_OFFSET_MS);
  assertEquals(far.dts, 10_000 - MAX_OFFSET_MS);
  const [back] = t.push(500, 100);
  assertEquals(back.placed, false, "a presentation time before the last decode time cannot be kept");
  assertEquals(back.dts, 10_000 - MAX_OFFSET_MS + 1);
});
