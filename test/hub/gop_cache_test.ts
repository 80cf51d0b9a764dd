import { assertEquals, assertStrictEquals } from "../_util/assert.ts";
import { frames } from "../_util/hub_fakes.ts";
import { GopCache } from "../../src/hub/gop_cache.ts";

const BIG = 1 << 30;

Deno.test("GopCache.push() keeps nothing before the first keyframe", () => {
  const gop = new GopCache(BIG, BIG);
  gop.push(frames.inter(0));
  gop.push(frames.audio(10));
  assertEquals(gop.frames.length, 0);
  assertEquals(gop.bytes, 0);
});

Deno.test("GopCache.push() starts the GOP at a keyframe and keeps audio and video after it", () => {
  const gop = new GopCache(BIG, BIG);
  const k = frames.key(0), a = frames.audio(10), i = frames.inter(40);
  gop.push(frames.inter(-40));
  gop.push(k);
  gop.push(a);
  gop.push(i);
  assertEquals(gop.frames.length, 3);
  assertStrictEquals(gop.frames[0], k);
  assertStrictEquals(gop.frames[1], a);
  assertStrictEquals(gop.frames[2], i);
  assertEquals(gop.bytes, k.payload.length + a.payload.length + i.payload.length);
  assertEquals(gop.durationMs, 40);
});

Deno.test("GopCache.push() drops the old GOP when a new keyframe arrives", () => {
  const gop = new GopCache(BIG, BIG);
  gop.push(frames.key(0));
  gop.push(frames.inter(40));
  const k2 = frames.key(80);
  gop.push(k2);
  assertEquals(gop.frames.length, 1);
  assertStrictEquals(gop.frames[0], k2);
  assertEquals(gop.bytes, k2.payload.length);
  assertEquals(gop.durationMs, 0);
});

Deno.test("GopCache.push() does not keep sequence headers", () => {
  const gop = new GopCache(BIG, BIG);
  gop.push(frames.videoHeader(0));
  gop.push(frames.audioHeader(0));
  assertEquals(gop.frames.length, 0);
  gop.push(frames.key(0));
  gop.push(frames.videoHeader(20));
  gop.push(frames.audioHeader(20));
  assertEquals(gop.frames.length, 1);
  assertEquals(gop.frames[0].keyframe, true);
});

Deno.test("GopCache.push() does not keep metadata (the stream sends it before the GOP)", () => {
  const gop = new GopCache(BIG, BIG);
  gop.push(frames.key(0));
  gop.push(frames.metadata(10));
  gop.push(frames.inter(40));
  assertEquals(gop.frames.map((f) => f.kind), [frames.key(0).kind, frames.inter(0).kind]);
});

Deno.test("GopCache.push() clears the cache when its bytes pass maxBytes, then waits for a keyframe", () => {
  const k = frames.key(0, 100);
  const gop = new GopCache(k.payload.length + 50, BIG);
  gop.push(k);
  gop.push(frames.inter(40, 20));
  assertEquals(gop.frames.length, 2);
  gop.push(frames.inter(80, 40)); // past the bound
  assertEquals(gop.frames.length, 0);
  assertEquals(gop.bytes, 0);
  gop.push(frames.inter(120, 1)); // not a keyframe: still waiting
  assertEquals(gop.frames.length, 0);
  gop.push(frames.key(160));
  assertEquals(gop.frames.length, 1);
});

Deno.test("GopCache.push() clears the cache when its duration passes maxMs", () => {
  const gop = new GopCache(BIG, 1000);
  gop.push(frames.key(0));
  gop.push(frames.inter(1000)); // exactly at the bound: kept
  assertEquals(gop.frames.length, 2);
  assertEquals(gop.durationMs, 1000);
  gop.push(frames.inter(1040));
  assertEquals(gop.frames.length, 0);
  assertEquals(gop.durationMs, 0);
});

Deno.test("GopCache.push() drops a keyframe that alone is larger than maxBytes", () => {
  const gop = new GopCache(10, BIG);
  gop.push(frames.key(0, 100));
  gop.push(frames.inter(40, 1));
  assertEquals(gop.frames.length, 0);
});

Deno.test("GopCache.clear() empties the frames and the byte count", () => {
  const gop = new GopCache(BIG, BIG);
  gop.push(frames.key(0));
  gop.push(frames.audio(10));
  gop.clear();
  assertEquals(gop.frames.length, 0);
  assertEquals(gop.bytes, 0);
});
