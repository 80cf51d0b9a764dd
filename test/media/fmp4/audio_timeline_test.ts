import { AAC_FRAME_SAMPLES, AUDIO_GAP_MS, AudioTimeline } from "../../../src/media/fmp4/audio_timeline.ts";
import { assertEquals, assertThrows } from "../../_util/assert.ts";

/** Millisecond stamps of AAC frames at 44.1 kHz as FLV carries them: the exact times, rounded. */
function stamps(count: number, firstSample = 0, rate = 44100): number[] {
  return Array.from({ length: count }, (_, i) => Math.round(((firstSample + i * 1024) * 1000) / rate));
}

Deno.test("AudioTimeline.next() counts 1024 samples a frame whatever the ms rounding says", () => {
  const t = new AudioTimeline(44100);
  const times = stamps(500).map((ms) => t.next(ms));
  assertEquals(times, Array.from({ length: 500 }, (_, i) => i * AAC_FRAME_SAMPLES));
  assertEquals(t.expected, 500 * AAC_FRAME_SAMPLES);
});

Deno.test("AudioTimeline.next() starts at the first frame's hub timestamp in samples", () => {
  const t = new AudioTimeline(48000);
  assertEquals(t.next(57), 2736, "57 ms at 48 kHz");
  assertEquals(t.next(78), 2736 + 1024);
});

Deno.test("AudioTimeline.next() jumps to the hub timestamp at a gap over AUDIO_GAP_MS, not below", () => {
  const t = new AudioTimeline(44100);
  t.next(0);
  // One frame lost: 46 ms instead of 23, within the threshold, so the count goes on.
  assertEquals(t.next(46), 1024);
  // Hub time now runs AUDIO_GAP_MS + 5 ms ahead of the count: a gap.
  const countMs = (2 * 1024 * 1000) / 44100;
  const hubMs = Math.round(countMs + AUDIO_GAP_MS + 5);
  assertEquals(t.next(hubMs), Math.round((hubMs * 44100) / 1000));
});

Deno.test("AudioTimeline.next() never moves back when the hub timestamps fall behind the count", () => {
  const t = new AudioTimeline(44100);
  t.next(1000);
  assertEquals(t.next(500), t.samplesAt(1000) + 1024);
});

Deno.test("AudioTimeline counts frames of another length (HE-AAC: 2048 output samples)", () => {
  const t = new AudioTimeline(48000, 2048);
  assertEquals([t.next(0), t.next(43), t.next(85)], [0, 2048, 4096]);
});

Deno.test("new AudioTimeline() throws RangeError for a rate or frame length that is not a positive integer", () => {
  assertThrows(() => new AudioTimeline(0), RangeError, "current sample rate 0");
  assertThrows(() => new AudioTimeline(44100, 0.5), RangeError, "current frame length 0.5");
});
